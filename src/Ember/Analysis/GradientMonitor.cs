using Ember.Nn;

namespace Ember.Analysis;

/// <summary>
/// Records per-layer gradient norms ‖∇W‖₂ and their ratio to the weight norm ‖W‖₂ after each backward pass, and
/// reports layers whose gradients vanish (ratio below 1e-5 by default: the notes' 003 symptom of deep sigmoid nets,
/// where input-side layers stop learning) or explode (ratio above 10, or non-finite).
/// <code>
/// var monitor = new GradientMonitor(model);
/// loss.Backward(); monitor.Record(); optimizer.Step();
/// Console.WriteLine(monitor.Report());
/// </code>
/// </summary>
public sealed class GradientMonitor
{
    readonly List<(string Name, Parameter Parameter)> tracked;
    readonly List<IReadOnlyList<LayerGradient>> history = new();

    /// <summary>
    /// Tracks the parameters of <paramref name="model"/> that <paramref name="include"/> accepts; by default the
    /// weights of rank ≥ 2 (conv and linear weights: biases and norm scales say little about depth).
    /// </summary>
    public GradientMonitor(Module model, Func<string, Parameter, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        include ??= (_, p) => p.Rank >= 2;
        tracked = model.NamedParameters().Where(np => include(np.Name, np.Parameter)).ToList();
        if (tracked.Count == 0) throw new ArgumentException($"GradientMonitor: {model.GetType().Name} has no parameters matching the filter");
    }

    /// <summary>Names of the tracked parameters, input side first.</summary>
    public IReadOnlyList<string> Names => tracked.Select(t => t.Name).ToList();

    /// <summary>Every recorded step.</summary>
    public IReadOnlyList<IReadOnlyList<LayerGradient>> History => history;

    /// <summary>The current gradients of the tracked parameters (call after backward); also returned.</summary>
    public IReadOnlyList<LayerGradient> Record()
    {
        var step = Snapshot(tracked);
        history.Add(step);
        return step;
    }

    /// <summary>The gradients of <paramref name="model"/>'s rank ≥ 2 parameters right now, without keeping history.</summary>
    public static IReadOnlyList<LayerGradient> Snapshot(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Snapshot(model.NamedParameters().Where(np => np.Parameter.Rank >= 2).ToList());
    }

    static List<LayerGradient> Snapshot(List<(string Name, Parameter Parameter)> parameters)
    {
        var result = new List<LayerGradient>(parameters.Count);
        using (Torch.NoGrad())
            foreach (var (name, p) in parameters)
            {
                double g = p.Grad is null ? double.NaN : Norm(p.Grad);
                result.Add(new LayerGradient(name, g, Norm(p)));
            }
        return result;
    }

    static double Norm(Tensor t)
    {
        // float64 accumulation: vanishing gradients near 1e-20 square to 1e-40, below float32's normal range.
        return t.To(DType.Float64).Square().Sum().Sqrt().Item();
    }

    /// <summary>Summaries over all recorded steps with the given thresholds on ‖grad‖/‖weight‖.</summary>
    public GradientReport Report(double vanishingRatio = 1e-5, double explodingRatio = 10)
    {
        if (history.Count == 0) throw new InvalidOperationException("GradientMonitor.Report: no steps recorded; call Record() after backward");
        var layers = new List<LayerGradientSummary>();
        for (int i = 0; i < tracked.Count; i++)
        {
            var values = history.Select(h => h[i]).ToList();
            var present = values.Where(v => !double.IsNaN(v.GradNorm)).ToList();
            if (present.Count == 0) { layers.Add(new LayerGradientSummary(tracked[i].Name, double.NaN, double.NaN, double.NaN, double.NaN, GradientFlag.Missing)); continue; }
            double meanG = present.Average(v => v.GradNorm), meanR = present.Average(v => v.Ratio);
            double minR = present.Min(v => v.Ratio), maxR = present.Max(v => v.Ratio);
            var flag = !double.IsFinite(meanR) || meanR > explodingRatio ? GradientFlag.Exploding
                : meanR < vanishingRatio ? GradientFlag.Vanishing : GradientFlag.Ok;
            layers.Add(new LayerGradientSummary(tracked[i].Name, meanG, meanR, minR, maxR, flag));
        }
        return new GradientReport(layers, history.Count, vanishingRatio, explodingRatio);
    }
}
