using System.Globalization;
using System.Text;

namespace Ember.Tuning;

/// <summary>
/// evolve.csv: header <c>generation,fitness,&lt;metrics…&gt;,&lt;hyper-parameters…&gt;</c>, one row per trial. Numbers are
/// written round-trip ("R"), so reading the file back gives bit-identical values, which is what lets a resumed run
/// continue exactly as an uninterrupted one.
/// </summary>
static class EvolveCsv
{
    internal static string Header(IReadOnlyList<string> metrics, SearchSpace space)
        => string.Join(",", new[] { "generation", "fitness" }.Concat(metrics).Concat(space.Names));

    internal static string Row(EvolveRecord r, IReadOnlyList<string> metrics, SearchSpace space)
    {
        var sb = new StringBuilder();
        sb.Append(r.Generation.ToString(CultureInfo.InvariantCulture)).Append(',').Append(F(r.Fitness));
        foreach (var m in metrics) sb.Append(',').Append(F(r.Metrics[m]));
        foreach (var p in space) sb.Append(',').Append(F(r.Values[p.Name]));
        return sb.ToString();
    }

    internal static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Reads a file; returns the metric names and the rows (fitness recomputed under <paramref name="fitness"/>).</summary>
    internal static (List<string> Metrics, List<EvolveRecord> Rows) Read(string path, SearchSpace space, Fitness fitness)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        var metrics = new List<string>();
        var rows = new List<EvolveRecord>();
        if (lines.Length == 0) return (metrics, rows);
        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        int np = space.Count;
        if (header.Length < 2 + np || header[0] != "generation" || header[1] != "fitness")
            throw new FormatException($"evolve.csv ({path}): expected header 'generation,fitness,<metrics>,{string.Join(",", space.Names)}', got '{lines[0]}'");
        var tail = header[^np..];
        if (!tail.SequenceEqual(space.Names))
            throw new FormatException($"evolve.csv ({path}): its hyper-parameter columns [{string.Join(", ", tail)}] do not match the search space [{string.Join(", ", space.Names)}]");
        metrics.AddRange(header[2..^np]);
        for (int li = 1; li < lines.Length; li++)
        {
            var cells = lines[li].Split(',');
            if (cells.Length != header.Length)
                throw new FormatException($"evolve.csv ({path}) line {li + 1}: expected {header.Length} values, got {cells.Length}");
            double P(int c) => double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new FormatException($"evolve.csv ({path}) line {li + 1}, column '{header[c]}': not a number: '{cells[c]}'");
            if (!int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int gen))
                throw new FormatException($"evolve.csv ({path}) line {li + 1}: generation is not an integer: '{cells[0]}'");
            var m = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int j = 0; j < metrics.Count; j++) m[metrics[j]] = P(2 + j);
            var h = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int j = 0; j < np; j++) h[space[j].Name] = P(2 + metrics.Count + j);
            rows.Add(new EvolveRecord(gen, fitness.Evaluate(m), m, h));
        }
        return (metrics, rows);
    }
}
