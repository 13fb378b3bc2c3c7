using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay (torch.optim.SGD):
/// g ← ±∇ + λθ; b ← g on the first step, else μb + (1 − τ)g; d ← g + μb (Nesterov) or b; θ ← θ − lr·d.
/// With <see cref="SgdMomentumForm.Velocity"/> the same rule runs on −lr·g with a unit step, which is the notes' v ← μv − lr·g,
/// θ ← θ + v (the buffer then holds v = −lr·b).
/// </summary>
public sealed class Sgd : Optimizer<SgdOptions, SgdState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="SgdOptions()"/>).</summary>
    public Sgd(IEnumerable<Tensor> parameters, SgdOptions? options = null)
        : this([new ParamGroup<SgdOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public Sgd(IEnumerable<ParamGroup<SgdOptions>> paramGroups, SgdOptions? defaults = null)
        : base(paramGroups, defaults ?? new SgdOptions()) { }

    /// <inheritdoc/>
    public override string Name => "SGD";

    /// <inheritdoc/>
    protected override SgdState CreateState(Tensor parameter, SgdOptions options) => new();

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, SgdState state, SgdOptions o)
    {
        bool first = false;
        if (o.Momentum != 0 && state.MomentumBuffer == null)
        {
            state.MomentumBuffer = Torch.EmptyLike(parameter);
            first = true;
        }
        if (parameter.DType == DType.Float32)
            Rule(parameter.Span<float>(), grad.Span<float>(), SpanOf<float>(state.MomentumBuffer), first, o);
        else
            Rule(parameter.Span<double>(), grad.Span<double>(), SpanOf<double>(state.MomentumBuffer), first, o);
    }

    /// <summary>The SGD update of one parameter in place; <paramref name="buffer"/> is empty without momentum.</summary>
    public static unsafe void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> buffer, bool firstStep, SgdOptions o)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T wd = Cast<T>(o.WeightDecay), mu = Cast<T>(o.Momentum), keep = Cast<T>(1 - o.Dampening), step = Cast<T>(-o.LearningRate);
        bool decay = o.WeightDecay != 0, momentum = o.Momentum != 0;
        // Velocity form: scale the gradient by −lr before it enters the buffer, then step by one (an FMA by 1 is an exact add).
        bool velocity = momentum && o.MomentumForm == SgdMomentumForm.Velocity;
        T gradScale = velocity ? step : T.One;
        if (velocity) step = T.One;
        if (grad.Length < param.Length || (momentum && buffer.Length < param.Length))
            throw new ArgumentException($"SGD: {param.Length} parameters, {grad.Length} gradients, {buffer.Length} momentum values");
        int i = 0;
        if (Vectorized<T>())
            fixed (T* p = param) fixed (T* g = grad) fixed (T* b = buffer)
            {
                var k = new Scalars<T>(wd, mu, keep, step, gradScale, decay, momentum, firstStep, o.Nesterov, o.Maximize, velocity);
                i = SimdPath.Width switch
                {
                    SimdWidth.Vector512 => VectorBody<Simd512<T>, T>(p, g, b, param.Length, k),
                    SimdWidth.Vector256 => VectorBody<Simd256<T>, T>(p, g, b, param.Length, k),
                    _ => VectorBody<Simd128<T>, T>(p, g, b, param.Length, k),
                };
            }
        for (; i < param.Length; i++)
        {
            T g = o.Maximize ? -grad[i] : grad[i];
            if (decay) g = AddScaled(g, param[i], wd);
            if (velocity) g *= gradScale;
            if (momentum)
            {
                buffer[i] = firstStep ? g : AddScaled(buffer[i] * mu, g, keep);
                g = o.Nesterov ? AddScaled(g, buffer[i], mu) : buffer[i];
            }
            param[i] = AddScaled(param[i], g, step);
        }
    }

    readonly record struct Scalars<T>(T WeightDecay, T Momentum, T Keep, T Step, T GradScale, bool Decay, bool HasMomentum, bool FirstStep, bool Nesterov, bool Maximize, bool Velocity);

    // The whole vectors of the rule above, lane for lane the same roundings; returns how many elements it did.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per range: a tier-0/OSR loop would run slow
    static unsafe int VectorBody<TVec, T>(T* param, T* grad, T* buffer, int n, Scalars<T> k)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        TVec vwd = TVec.Create(k.WeightDecay), vmu = TVec.Create(k.Momentum), vkeep = TVec.Create(k.Keep), vstep = TVec.Create(k.Step);
        TVec vscale = TVec.Create(k.GradScale);
        int i = 0;
        for (; i <= n - TVec.Count; i += TVec.Count)
        {
            TVec g = TVec.Load(grad + i), p = TVec.Load(param + i);
            if (k.Maximize) g = -g;
            if (k.Decay) g = TVec.FusedMultiplyAdd(p, vwd, g);
            if (k.Velocity) g *= vscale;
            if (k.HasMomentum)
            {
                TVec b = k.FirstStep ? g : TVec.FusedMultiplyAdd(g, vkeep, TVec.Load(buffer + i) * vmu);
                b.Store(buffer + i);
                g = k.Nesterov ? TVec.FusedMultiplyAdd(b, vmu, g) : b;
            }
            TVec.FusedMultiplyAdd(g, vstep, p).Store(param + i);
        }
        return i;
    }
}
