using System.Globalization;
using System.Text;

namespace Ember.Analysis;

/// <summary>Per-layer gradient summaries over <paramref name="Steps"/> recorded steps, input side first.</summary>
/// <param name="Layers">One summary per tracked parameter, in model order.</param>
/// <param name="Steps">Number of recorded steps.</param>
/// <param name="VanishingRatio">Threshold below which a layer is flagged vanishing.</param>
/// <param name="ExplodingRatio">Threshold above which a layer is flagged exploding.</param>
public sealed record GradientReport(IReadOnlyList<LayerGradientSummary> Layers, int Steps, double VanishingRatio, double ExplodingRatio)
{
    /// <summary>Mean ‖grad‖ of the first (input-side) layer over that of the last: ≪ 1 means gradients vanish on the way back.</summary>
    public double FirstToLastGradNorm => Layers.Count == 0 ? double.NaN : Layers[0].MeanGradNorm / Layers[^1].MeanGradNorm;

    /// <summary>Layers that are not <see cref="GradientFlag.Ok"/>.</summary>
    public IEnumerable<LayerGradientSummary> Flagged => Layers.Where(l => l.Flag != GradientFlag.Ok);

    /// <inheritdoc/>
    public override string ToString()
    {
        int w = Math.Max(5, Layers.Count == 0 ? 0 : Layers.Max(l => l.Name.Length));
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Gradients over {Steps} step(s); vanishing below {VanishingRatio:G3}, exploding above {ExplodingRatio:G3} (‖grad‖/‖weight‖)");
        sb.AppendLine($"{"Layer".PadRight(w)}  {"‖grad‖",11}  {"‖grad‖/‖w‖",11}  {"min",11}  {"max",11}  flag");
        foreach (var l in Layers)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{l.Name.PadRight(w)}  {l.MeanGradNorm,11:0.000E+00}  {l.MeanRatio,11:0.000E+00}  {l.MinRatio,11:0.000E+00}  {l.MaxRatio,11:0.000E+00}  {(l.Flag == GradientFlag.Ok ? "" : l.Flag.ToString())}"));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"first/last layer ‖grad‖ = {FirstToLastGradNorm:0.000E+00}"));
        return sb.ToString();
    }
}
