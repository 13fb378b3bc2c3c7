using System.Numerics;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// NAdam (torch.optim.NAdam), Adam with Nesterov momentum: μₜ = β₁(1 − ½·0.96^(tψ)), Πₜ = Πₜ₋₁μₜ;
/// θ ← θ − lr(1 − μₜ)/(1 − Πₜ)·g/d − lr·μₜ₊₁/(1 − Πₜμₜ₊₁)·m/d with d = √(v/(1 − β₂ᵗ)) + ε.
/// </summary>
public sealed class NAdam : Optimizer<NAdamOptions, NAdamState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="NAdamOptions()"/>).</summary>
    public NAdam(IEnumerable<Tensor> parameters, NAdamOptions? options = null)
        : this([new ParamGroup<NAdamOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public NAdam(IEnumerable<ParamGroup<NAdamOptions>> paramGroups, NAdamOptions? defaults = null)
        : base(paramGroups, defaults ?? new NAdamOptions()) { }

    /// <inheritdoc/>
    public override string Name => "NAdam";

    /// <inheritdoc/>
    protected override NAdamState CreateState(Tensor parameter, NAdamOptions options)
        => new() { ExpAvg = Torch.ZerosLike(parameter), ExpAvgSq = Torch.ZerosLike(parameter) };

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, NAdamState state, NAdamOptions o)
    {
        state.Step++;
        double step = state.Step;
        double mu = o.Betas.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, step * o.MomentumDecay));
        double muNext = o.Betas.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, (step + 1) * o.MomentumDecay));
        state.MuProduct *= (float)mu;
        var k = new NAdamScalars(o.LearningRate, o.Betas.Beta1, o.Betas.Beta2, o.Eps, o.WeightDecay, o.DecoupledWeightDecay, o.Maximize,
            state.Step, mu, muNext, state.MuProduct);
        if (parameter.DType == DType.Float32)
            Rule(parameter.Span<float>(), grad.Span<float>(), state.ExpAvg.Span<float>(), state.ExpAvgSq.Span<float>(), k);
        else
            Rule(parameter.Span<double>(), grad.Span<double>(), state.ExpAvg.Span<double>(), state.ExpAvgSq.Span<double>(), k);
    }

    /// <summary>The hyper-parameters of one NAdam step: μₜ, μₜ₊₁ and the product Πₜ (already including μₜ).</summary>
    public readonly record struct NAdamScalars(double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay,
        bool Decoupled, bool Maximize, long Step, double Mu, double MuNext, double MuProduct);

    /// <summary>The NAdam update of one parameter in place.</summary>
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> expAvg, Span<T> expAvgSq, NAdamScalars k)
        where T : IFloatingPointIeee754<T>
    {
        double lr = k.LearningRate;
        T bc2 = Cast<T>(1 - Math.Pow(k.Beta2, k.Step));
        T w1 = Cast<T>(1 - k.Beta1), oneMinusW1 = T.One - w1, b2 = Cast<T>(k.Beta2), w2 = Cast<T>(1 - k.Beta2), eps = Cast<T>(k.Eps);
        T wd = Cast<T>(k.WeightDecay), decay = Cast<T>(1 - lr * k.WeightDecay);
        T gradCoef = Cast<T>(-lr * (1.0 - k.Mu) / (1.0 - k.MuProduct));
        T avgCoef = Cast<T>(-lr * k.MuNext / (1.0 - k.MuProduct * k.MuNext));
        bool hasDecay = k.WeightDecay != 0;
        for (int i = 0; i < param.Length; i++)
        {
            T g = k.Maximize ? -grad[i] : grad[i];
            if (hasDecay)
            {
                if (k.Decoupled) param[i] *= decay;
                else g = AddScaled(g, param[i], wd);
            }
            expAvg[i] = Lerp(expAvg[i], g, w1, oneMinusW1);
            expAvgSq[i] = expAvgSq[i] * b2 + w2 * g * g;
            T denom = T.Sqrt(expAvgSq[i] / bc2) + eps;
            param[i] += gradCoef * g / denom;
            param[i] += avgCoef * expAvg[i] / denom;
        }
    }
}
