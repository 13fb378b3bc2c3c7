using System.Numerics;
using System.Runtime.Intrinsics;
using static Ember.Kernels.Operators.VectorMath;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// Adam (torch.optim.Adam), with L2 weight decay, AMSGrad and maximize: g ← ±∇ + λθ; m ← lerp(m, g, 1 − β₁);
/// v ← β₂v + (1 − β₂)g²; θ ← θ − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε), in PyTorch's order of operations.
/// </summary>
public sealed class Adam : Optimizer<AdamOptions, AdamState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="AdamOptions()"/>).</summary>
    public Adam(IEnumerable<Tensor> parameters, AdamOptions? options = null)
        : this([new ParamGroup<AdamOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public Adam(IEnumerable<ParamGroup<AdamOptions>> paramGroups, AdamOptions? defaults = null)
        : base(paramGroups, defaults ?? new AdamOptions()) { }

    /// <inheritdoc/>
    public override string Name => "Adam";

    /// <inheritdoc/>
    protected override AdamState CreateState(Tensor parameter, AdamOptions options) => AdamState.Create(parameter, options.Amsgrad);

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, AdamState state, AdamOptions o)
        => Apply(parameter, grad, state, o.LearningRate, o.Betas, o.Eps, o.WeightDecay, decoupled: false, o.Amsgrad, o.Maximize);

    internal static void Apply(Tensor parameter, Tensor grad, AdamState state, double lr, (double Beta1, double Beta2) betas,
        double eps, double weightDecay, bool decoupled, bool amsgrad, bool maximize)
    {
        if (amsgrad && state.MaxExpAvgSq == null) state.MaxExpAvgSq = Torch.ZerosLike(parameter);
        state.Step++;
        var k = new AdamScalars(lr, betas.Beta1, betas.Beta2, eps, weightDecay, decoupled, amsgrad, maximize, state.Step);
        if (parameter.DType == DType.Float32)
            Rule(parameter.Span<float>(), grad.Span<float>(), state.ExpAvg.Span<float>(), state.ExpAvgSq.Span<float>(), SpanOf<float>(state.MaxExpAvgSq), k);
        else
            Rule(parameter.Span<double>(), grad.Span<double>(), state.ExpAvg.Span<double>(), state.ExpAvgSq.Span<double>(), SpanOf<double>(state.MaxExpAvgSq), k);
    }

    /// <summary>The hyper-parameters of one Adam step; <see cref="Step"/> counts from 1.</summary>
    public readonly record struct AdamScalars(double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay,
        bool Decoupled, bool Amsgrad, bool Maximize, long Step);

    /// <summary>The Adam/AdamW update of one parameter in place (the bias corrections are computed in float64, as PyTorch's Python floats).</summary>
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq, AdamScalars k)
        where T : IFloatingPointIeee754<T>
    {
        double biasCorrection1 = 1 - Math.Pow(k.Beta1, k.Step);
        double biasCorrection2 = 1 - Math.Pow(k.Beta2, k.Step);
        double stepSize = k.LearningRate / biasCorrection1;
        T bc2Sqrt = Cast<T>(Math.Sqrt(biasCorrection2));
        T w1 = Cast<T>(1 - k.Beta1), oneMinusW1 = T.One - w1;
        T b2 = Cast<T>(k.Beta2), w2 = Cast<T>(1 - k.Beta2), eps = Cast<T>(k.Eps), negStep = Cast<T>(-stepSize);
        T wd = Cast<T>(k.WeightDecay), decay = Cast<T>(1 - k.LearningRate * k.WeightDecay);
        bool hasDecay = k.WeightDecay != 0;
        int i = 0;
        // AMSGrad's running maximum stays on the scalar path (T.Max's NaN and signed-zero rules).
        if (Vectorized<T>() && !k.Amsgrad)
        {
            Vector512<T> vwd = Vector512.Create(wd), vdecay = Vector512.Create(decay), vb2 = Vector512.Create(b2), vw2 = Vector512.Create(w2);
            Vector512<T> vbc2 = Vector512.Create(bc2Sqrt), veps = Vector512.Create(eps), vstep = Vector512.Create(negStep);
            for (; i <= param.Length - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> g = Load<T>(grad, i), p = Load<T>(param, i);
                if (k.Maximize) g = -g;
                if (hasDecay)
                {
                    if (k.Decoupled) p *= vdecay;
                    else g = FusedMultiplyAdd(p, vwd, g);
                }
                Vector512<T> m = Lerp(Load<T>(expAvg, i), g, w1, oneMinusW1);
                Vector512<T> v = Load<T>(expAvgSq, i) * vb2 + vw2 * g * g;
                Store(m, expAvg, i);
                Store(v, expAvgSq, i);
                Vector512<T> denom = Vector512.Sqrt(v) / vbc2 + veps;
                Store(p + vstep * m / denom, param, i);
            }
        }
        for (; i < param.Length; i++)
        {
            T g = k.Maximize ? -grad[i] : grad[i];
            if (hasDecay)
            {
                if (k.Decoupled) param[i] *= decay;
                else g = AddScaled(g, param[i], wd);
            }
            expAvg[i] = Lerp(expAvg[i], g, w1, oneMinusW1);
            expAvgSq[i] = expAvgSq[i] * b2 + w2 * g * g;
            T v = expAvgSq[i];
            if (k.Amsgrad) v = maxExpAvgSq[i] = T.Max(maxExpAvgSq[i], v);
            T denom = T.Sqrt(v) / bc2Sqrt + eps;
            param[i] += negStep * expAvg[i] / denom;
        }
    }
}
