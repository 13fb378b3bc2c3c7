using Ember.Nn;

namespace Ember.Training.Amp;

/// <summary>
/// Dynamic loss scaling for float16 training (torch.amp.GradScaler): the loss is multiplied by a scale before backward
/// so small gradients survive float16; gradients are unscaled before clipping and the step; a step whose gradients hold
/// Inf/NaN is skipped and the scale backs off; after <see cref="GrowthInterval"/> good steps in a row the scale grows.
/// Usage per step: <c>Scale(loss).Backward(); Unscale(params); clip; Step(optimizer.Step, params); Update();</c>
/// </summary>
public sealed class GradScaler
{
    bool? foundInf; // null until the current step's gradients were unscaled

    /// <summary>A scaler with PyTorch's defaults (init 2¹⁶, growth ×2 every 2000 good steps, backoff ×0.5).</summary>
    public GradScaler(double initScale = 65536, double growthFactor = 2, double backoffFactor = 0.5, int growthInterval = 2000, bool enabled = true)
    {
        if (initScale <= 0) throw new ArgumentOutOfRangeException(nameof(initScale), initScale, "GradScaler: init_scale must be positive");
        if (growthFactor <= 1) throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "GradScaler: growth_factor must be > 1");
        if (backoffFactor is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "GradScaler: backoff_factor must be in (0, 1)");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), growthInterval, "GradScaler: growth_interval must be at least 1");
        currentScale = initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
        Enabled = enabled;
    }

    double currentScale;
    /// <summary>The current scale.</summary>
    public double CurrentScale => currentScale;
    /// <summary>Multiplier after <see cref="GrowthInterval"/> good steps.</summary>
    public double GrowthFactor { get; }
    /// <summary>Multiplier after a skipped step.</summary>
    public double BackoffFactor { get; }
    /// <summary>Good steps in a row before the scale grows.</summary>
    public int GrowthInterval { get; }
    /// <summary>When false every method is a pass-through.</summary>
    public bool Enabled { get; }
    /// <summary>Good steps since the last change of scale.</summary>
    public int GrowthTracker { get; private set; }
    /// <summary>Steps skipped in a row (Inf/NaN gradients); 0 after a good step.</summary>
    public int ConsecutiveSkippedSteps { get; private set; }

    /// <summary>
    /// Skipped steps in a row after which a non-finite loss counts as divergence: by then the scale has backed off by
    /// 2²⁵ (from 2¹⁶ to 2⁻⁹), far below anything float16 gradients need, so more skipping cannot recover the run.
    /// </summary>
    public const int DivergenceSkipLimit = 25;

    /// <summary>
    /// Whether a non-finite loss means the run diverged rather than a transient float16 overflow that skipping the step
    /// handles: true when the scaler is disabled, when a parameter is itself Inf/NaN (no later step can repair it), or
    /// after <see cref="DivergenceSkipLimit"/> skipped steps in a row.
    /// </summary>
    public bool HasDiverged(IEnumerable<Parameter> parameters)
    {
        if (!Enabled || ConsecutiveSkippedSteps >= DivergenceSkipLimit) return true;
        using (Torch.NoGrad())
            foreach (var p in parameters)
                if (p.DType.IsFloatingPoint() && p.Detach().IsFinite().LogicalNot().Sum().Item() > 0) return true;
        return false;
    }

    /// <summary>loss × scale.</summary>
    public Tensor Scale(Tensor loss) => !Enabled ? loss
        // PyTorch's scale is a float32 tensor, so a half loss is scaled in float32 (65536·loss would overflow float16)
        : loss.DType.IsReducedFloat() ? loss.To(DType.Float32) * currentScale : loss * currentScale;

    /// <summary>Divides every gradient by the scale (once per step) and records whether any is non-finite.</summary>
    public bool Unscale(IEnumerable<Parameter> parameters)
    {
        if (!Enabled) return false;
        if (foundInf is bool already) return already;
        bool inf = false;
        using (Torch.NoGrad())
            foreach (var p in parameters)
            {
                if (p.Grad is null) continue;
                p.Grad.MulInPlace(1.0 / currentScale);
                if (!inf && p.Grad.IsFinite().LogicalNot().Sum().Item() > 0) inf = true;
            }
        foundInf = inf;
        return inf;
    }

    /// <summary>Unscales if needed, then runs <paramref name="step"/> unless a gradient was Inf/NaN. Returns whether it stepped.</summary>
    public bool Step(Action step, IEnumerable<Parameter> parameters)
    {
        if (!Enabled) { step(); return true; }
        if (Unscale(parameters)) return false;
        step();
        return true;
    }

    /// <summary>Adjusts the scale for the next step: back off after a skipped step, grow after enough good ones.</summary>
    public void Update()
    {
        if (!Enabled) return;
        if (foundInf is null) throw new InvalidOperationException("GradScaler.Update: no gradients were unscaled this step; call Unscale or Step first");
        if (foundInf.Value) { currentScale *= BackoffFactor; GrowthTracker = 0; ConsecutiveSkippedSteps++; }
        else
        {
            ConsecutiveSkippedSteps = 0;
            if (++GrowthTracker == GrowthInterval) { currentScale *= GrowthFactor; GrowthTracker = 0; }
        }
        foundInf = null;
    }

    /// <summary>Scale and growth tracker, for checkpoints.</summary>
    public (double Scale, int GrowthTracker) StateDict() => (currentScale, GrowthTracker);

    /// <summary>Restores <see cref="StateDict"/>.</summary>
    public void LoadStateDict((double Scale, int GrowthTracker) state) { currentScale = state.Scale; GrowthTracker = state.GrowthTracker; foundInf = null; }
}
