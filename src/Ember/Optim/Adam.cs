using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
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
    public static unsafe void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq, AdamScalars k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (grad.Length < param.Length || expAvg.Length < param.Length || expAvgSq.Length < param.Length || (k.Amsgrad && maxExpAvgSq.Length < param.Length))
            throw new ArgumentException($"Adam: {param.Length} parameters, {grad.Length} gradients, {expAvg.Length}/{expAvgSq.Length}/{maxExpAvgSq.Length} state values");
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
            var s = new VectorScalars<T>(wd, decay, w1, oneMinusW1, b2, w2, bc2Sqrt, eps, negStep);
            fixed (T* p = param) fixed (T* g = grad) fixed (T* m = expAvg) fixed (T* v = expAvgSq)
                i = SimdPath.Width switch
                {
                    SimdWidth.Vector512 => VectorBody<Simd512<T>, T>(p, g, m, v, param.Length, s, k),
                    SimdWidth.Vector256 => VectorBody<Simd256<T>, T>(p, g, m, v, param.Length, s, k),
                    _ => VectorBody<Simd128<T>, T>(p, g, m, v, param.Length, s, k),
                };
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

    readonly record struct VectorScalars<T>(T WeightDecay, T Decay, T W1, T OneMinusW1, T Beta2, T W2, T Bc2Sqrt, T Eps, T NegStep);

    // The whole vectors of the rule above (without AMSGrad), lane for lane the same roundings; returns how many elements it did.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per range: a tier-0/OSR loop would run slow
    static unsafe int VectorBody<TVec, T>(T* param, T* grad, T* expAvg, T* expAvgSq, int n, VectorScalars<T> s, AdamScalars k)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        TVec vwd = TVec.Create(s.WeightDecay), vdecay = TVec.Create(s.Decay), vb2 = TVec.Create(s.Beta2), vw2 = TVec.Create(s.W2);
        TVec vbc2 = TVec.Create(s.Bc2Sqrt), veps = TVec.Create(s.Eps), vstep = TVec.Create(s.NegStep);
        bool hasDecay = k.WeightDecay != 0;
        int i = 0;
        for (; i <= n - TVec.Count; i += TVec.Count)
        {
            TVec g = TVec.Load(grad + i), p = TVec.Load(param + i);
            if (k.Maximize) g = -g;
            if (hasDecay)
            {
                if (k.Decoupled) p *= vdecay;
                else g = TVec.FusedMultiplyAdd(p, vwd, g);
            }
            TVec m = Lerp(TVec.Load(expAvg + i), g, s.W1, s.OneMinusW1);
            TVec v = TVec.Load(expAvgSq + i) * vb2 + vw2 * g * g;
            m.Store(expAvg + i);
            v.Store(expAvgSq + i);
            TVec denom = TVec.Sqrt(v) / vbc2 + veps;
            (p + vstep * m / denom).Store(param + i);
        }
        return i;
    }
}
