using System.Globalization;
using System.Text;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Analysis;

/// <summary>
/// Counts parameters and operations of a model by running one forward pass with hooks on its leaf modules, like
/// thop's <c>profile(model, (x,))</c>. The model runs in eval mode without gradients; each module's training flag is
/// restored afterwards. Operations between modules (a residual <c>y + identity</c>, a functional call) are not
/// counted, as in thop.
/// </summary>
public static class Profiler
{
    /// <summary>Profiles <paramref name="model"/> on <paramref name="input"/>; <paramref name="convention"/> picks what tables show.</summary>
    public static ProfileReport Profile(Module model, Tensor input, OpsConvention convention = OpsConvention.Macs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var named = model.NamedModules().ToList();
        var modes = named.Select(n => (n.Module, n.Module.Training)).ToList();
        var rows = new List<LayerProfile>();
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var uncounted = new List<string>();
        var handles = new List<IDisposable>();
        // MultiheadAttention projects with its own weights functionally and is called through Forward(q, k, v), so no
        // hook of its own fires; its out_proj is always called, so thop's whole-attention rule is charged there.
        var attentionOf = new Dictionary<Module, (string Path, MultiheadAttention Mha)>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in named)
            if (m is MultiheadAttention mha) attentionOf[mha.OutProj] = (path, mha);
        try
        {
            foreach (var (path, m) in named)
            {
                if (m.Children().Any() || attentionOf.ContainsKey(m)) continue;
                string shown = path.Length == 0 ? m.GetType().Name : path;
                handles.Add(m.RegisterForwardHook((mod, x, y) =>
                {
                    var (macs, rule) = OpCounter.Count(mod, x, y);
                    if (rule == "none" && !uncounted.Contains(mod.GetType().Name)) uncounted.Add(mod.GetType().Name);
                    long parameters = seen.Add(mod) ? mod.ParameterCount() : 0;
                    rows.Add(new LayerProfile(shown, mod.GetType().Name, y.Shape, parameters, macs, rule));
                    return null;
                }));
            }
            foreach (var (outProj, (path, mha)) in attentionOf)
            {
                handles.Add(outProj.RegisterForwardHook((_, x, y) =>
                {
                    // out_proj sees [L, N, E] ([N, L, E] batch-first, [L, E] unbatched) and returns the attention layer's
                    // output shape. Self-attention is assumed: S = L (the only form a single-tensor call can take).
                    bool nFirst = mha.BatchFirst && x.Rank == 3;
                    long l = x.Size(nFirst ? 1 : 0), n = x.Rank == 3 ? x.Size(nFirst ? 0 : 1) : 1;
                    long macs = OpCounter.MultiheadAttention(n, l, l, mha.EmbedDim, mha.NumHeads);
                    long parameters = seen.Add(mha) ? mha.ParameterCount() : 0;
                    rows.Add(new LayerProfile(path, nameof(MultiheadAttention), y.Shape, parameters, macs, "attention"));
                    return null;
                }));
            }
            model.Eval();
            using (Torch.NoGrad()) model.Call(input);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
            // Parents first: Train(mode) recurses, so each later (child) call fixes that child's own flag.
            foreach (var (m, training) in modes) m.Train(training);
        }
        return new ProfileReport(model.GetType().Name, input.Shape, rows, rows.Sum(r => r.Macs), model.ParameterCount(), convention, uncounted);
    }

    /// <summary>
    /// The report as a table: path, type, output shape, parameters, operations (in the report's convention), one row
    /// per counted call, then the totals in K/M/G units and a line saying which convention is shown.
    /// Markdown gives a GitHub table; otherwise aligned plain text for the console.
    /// </summary>
    public static string FormatTable(ProfileReport report, bool markdown = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        string opsHeader = report.Convention == OpsConvention.Macs ? "MACs" : "FLOPs";
        string[] header = ["#", "Layer", "Type", "Output shape", "Params", opsHeader];
        var rows = new List<string[]>();
        int i = 0;
        foreach (var l in report.Layers)
        {
            long ops = report.Convention == OpsConvention.Macs ? l.Macs : l.Flops;
            rows.Add([(i++).ToString(CultureInfo.InvariantCulture), l.Path, l.Type, l.OutputShape.ToString(),
                Units.Format(l.Parameters), Units.Format(ops)]);
        }
        rows.Add(["", "Total", "", "", Units.Format(report.TotalParameters), Units.Format(report.TotalOps)]);
        bool[] rightAligned = [true, false, false, false, true, true];
        var sb = new StringBuilder();
        if (markdown)
        {
            sb.Append("| ").AppendJoin(" | ", header).AppendLine(" |");
            sb.Append('|').AppendJoin('|', rightAligned.Select(r => r ? "---:" : "---")).AppendLine("|");
            foreach (var r in rows) sb.Append("| ").AppendJoin(" | ", r.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
            sb.AppendLine();
        }
        else
        {
            var widths = header.Select((h, c) => Math.Max(h.Length, rows.Max(r => r[c].Length))).ToArray();
            string Line(string[] cells) => string.Join("  ", cells.Select((s, c) => rightAligned[c] ? s.PadLeft(widths[c]) : s.PadRight(widths[c]))).TrimEnd();
            sb.AppendLine(Line(header));
            sb.AppendLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
            for (int r = 0; r < rows.Count; r++)
            {
                if (r == rows.Count - 1) sb.AppendLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
                sb.AppendLine(Line(rows[r]));
            }
        }
        sb.AppendLine(Summary(report));
        if (report.UncountedTypes.Count > 0)
            sb.AppendLine($"No counting rule (counted as 0, as thop does): {string.Join(", ", report.UncountedTypes)}");
        return sb.ToString();
    }

    /// <summary>One line: the totals, exact and in units, and the convention shown.</summary>
    public static string Summary(ProfileReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        string conv = report.Convention == OpsConvention.Macs
            ? "MACs (multiply-accumulates, thop's convention; FLOPs ≈ 2 × MACs)"
            : "FLOPs (= 2 × MACs; thop reports MACs)";
        return string.Create(CultureInfo.InvariantCulture,
            $"{report.ModelType} at {report.InputShape}: {Units.Format(report.TotalOps)} {(report.Convention == OpsConvention.Macs ? "MACs" : "FLOPs")} ({report.TotalOps:N0}), {Units.Format(report.TotalParameters)} parameters ({report.TotalParameters:N0}); operations shown as {conv}");
    }
}
