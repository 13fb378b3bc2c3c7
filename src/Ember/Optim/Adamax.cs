using System.Numerics;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// Adamax (torch.optim.Adamax), Adam with the infinity norm: m ← lerp(m, g, 1 − β₁); u ← max(β₂u, |g| + ε);
/// θ ← θ − (lr / (1 − β₁ᵗ))·m / u.
/// </summary>
public sealed class Adamax : Optimizer<AdamaxOptions, AdamaxState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="AdamaxOptions()"/>).</summary>
    public Adamax(IEnumerable<Tensor> parameters, AdamaxOptions? options = null)
        : this([new ParamGroup<AdamaxOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public Adamax(IEnumerable<ParamGroup<AdamaxOptions>> paramGroups, AdamaxOptions? defaults = null)
        : base(paramGroups, defaults ?? new AdamaxOptions()) { }

    /// <inheritdoc/>
    public override string Name => "Adamax";

    /// <inheritdoc/>
    protected override AdamaxState CreateState(Tensor parameter, AdamaxOptions options)
        => new() { ExpAvg = Torch.ZerosLike(parameter), ExpInf = Torch.ZerosLike(parameter) };

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, AdamaxState state, AdamaxOptions o)
    {
        state.Step++;
        if (parameter.DType == DType.Float32)
            Rule(parameter.Span<float>(), grad.Span<float>(), state.ExpAvg.Span<float>(), state.ExpInf.Span<float>(), state.Step, o);
        else
            Rule(parameter.Span<double>(), grad.Span<double>(), state.ExpAvg.Span<double>(), state.ExpInf.Span<double>(), state.Step, o);
    }

    /// <summary>The Adamax update of one parameter in place; <paramref name="step"/> counts from 1.</summary>
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> expAvg, Span<T> expInf, long step, AdamaxOptions o)
        where T : IFloatingPointIeee754<T>
    {
        double clr = o.LearningRate / (1 - Math.Pow(o.Betas.Beta1, step));
        T w1 = Cast<T>(1 - o.Betas.Beta1), oneMinusW1 = T.One - w1, b2 = Cast<T>(o.Betas.Beta2);
        T eps = Cast<T>(o.Eps), wd = Cast<T>(o.WeightDecay), negClr = Cast<T>(-clr);
        bool decay = o.WeightDecay != 0;
        for (int i = 0; i < param.Length; i++)
        {
            T g = o.Maximize ? -grad[i] : grad[i];
            if (decay) g = AddScaled(g, param[i], wd);
            expAvg[i] = Lerp(expAvg[i], g, w1, oneMinusW1);
            expInf[i] = T.Max(expInf[i] * b2, T.Abs(g) + eps);
            param[i] += negClr * expAvg[i] / expInf[i];
        }
    }
}
