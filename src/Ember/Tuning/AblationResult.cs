using System.Globalization;
using System.Text;

namespace Ember.Tuning;

/// <summary>
/// The outcome of an ablation study: every run, and the table the notes (003, 消融实验) describe — one row per variant
/// (A (baseline), A+B, A+C, A+B+C (final)), each chosen metric as mean ± std over the seeds with its change from the
/// baseline — as Markdown and CSV text, plus the bar-plot data.
/// </summary>
public sealed class AblationResult
{
    internal AblationResult(IReadOnlyList<AblationRow> rows, IReadOnlyList<AblationRun> runs, IReadOnlyList<string> metrics, IReadOnlyList<long> seeds, int decimals)
    {
        Rows = rows; Runs = runs; MetricNames = metrics; Seeds = seeds; Decimals = decimals;
    }

    /// <summary>One row per variant, baseline first, the full combination last.</summary>
    public IReadOnlyList<AblationRow> Rows { get; }

    /// <summary>Every (variant, seed) run in the order they ran.</summary>
    public IReadOnlyList<AblationRun> Runs { get; }

    /// <summary>The metrics of the table, in column order.</summary>
    public IReadOnlyList<string> MetricNames { get; }

    /// <summary>The seeds each variant ran with.</summary>
    public IReadOnlyList<long> Seeds { get; }

    /// <summary>Decimals used by <see cref="ToMarkdown"/>.</summary>
    public int Decimals { get; }

    /// <summary>The row of the variant called <paramref name="name"/>.</summary>
    public AblationRow this[string name] => Rows.FirstOrDefault(r => r.Variant.Name == name)
        ?? throw new KeyNotFoundException($"ablation: no variant '{name}'; rows: {string.Join(", ", Rows.Select(r => r.Variant.Name))}");

    /// <summary>
    /// The table in Markdown: a "mean ± std" column and a "Δ" column per metric; the baseline and full rows are marked
    /// "(baseline)" and "(final)" as in the notes; a footnote gives the seeds.
    /// </summary>
    public string ToMarkdown()
    {
        string fmt = "F" + Decimals.ToString(CultureInfo.InvariantCulture);
        string N(double v) => v.ToString(fmt, CultureInfo.InvariantCulture);
        var sb = new StringBuilder("| Variant |");
        foreach (var m in MetricNames) sb.Append(' ').Append(m).Append(" |").Append(" Δ ").Append(m).Append(" |");
        sb.Append("\n|---|");
        foreach (var _ in MetricNames) sb.Append("---:|---:|");
        sb.Append('\n');
        foreach (var row in Rows)
        {
            var v = row.Variant;
            sb.Append("| ").Append(v.Name).Append(v.IsBaseline ? " (baseline)" : v.IsFull ? " (final)" : "").Append(" |");
            foreach (var m in MetricNames)
            {
                var s = row.Metrics[m];
                sb.Append(' ').Append(N(s.Mean));
                if (!double.IsNaN(s.Std)) sb.Append(" ± ").Append(N(s.Std));
                sb.Append(" | ").Append(v.IsBaseline ? "—" : (s.Delta >= 0 ? "+" : "") + N(s.Delta)).Append(" |");
            }
            sb.Append('\n');
        }
        sb.Append('\n').Append(CultureInfo.InvariantCulture,
            $"Mean ± sample std over {Seeds.Count} seed{(Seeds.Count == 1 ? "" : "s")} ({string.Join(", ", Seeds)}); Δ is the change of the mean from the baseline.\n");
        return sb.ToString();
    }

    /// <summary>
    /// The table as CSV, full precision: <c>variant,components,seeds,&lt;m&gt;_mean,&lt;m&gt;_std,&lt;m&gt;_delta,…</c>
    /// (components joined by '+', empty for the baseline).
    /// </summary>
    public string ToCsv()
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("variant,components,seeds");
        foreach (var m in MetricNames) sb.Append(',').Append(m).Append("_mean,").Append(m).Append("_std,").Append(m).Append("_delta");
        sb.Append('\n');
        foreach (var row in Rows)
        {
            sb.Append(row.Variant.Name).Append(',').Append(string.Join("+", row.Variant.Components)).Append(',').Append(Seeds.Count);
            foreach (var m in MetricNames)
            {
                var s = row.Metrics[m];
                sb.Append(',').Append(F(s.Mean)).Append(',').Append(F(s.Std)).Append(',').Append(F(s.Delta));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The bar-plot data of one metric: a bar per variant in row order.</summary>
    public AblationBarSeries BarSeries(string metric)
    {
        if (!MetricNames.Contains(metric)) throw new KeyNotFoundException($"ablation: metric '{metric}' is not in the table; metrics: {string.Join(", ", MetricNames)}");
        return new AblationBarSeries(metric,
            Rows.Select(r => r.Variant.Name).ToArray(),
            Rows.Select(r => r.Metrics[metric].Mean).ToArray(),
            Rows.Select(r => r.Metrics[metric].Std).ToArray(),
            Rows.Select(r => r.Metrics[metric].Delta).ToArray());
    }

    /// <summary>The bar-plot data of every metric, in column order.</summary>
    public IReadOnlyList<AblationBarSeries> BarSeries() => MetricNames.Select(BarSeries).ToList();
}
