using System.Numerics;
using System.Runtime.Intrinsics;
using static Ember.Kernels.Operators.VectorMath;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay (torch.optim.SGD):
/// g ← ±∇ + λθ; b ← g on the first step, else μb + (1 − τ)g; d ← g + μb (Nesterov) or b; θ ← θ − lr·d.
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
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> buffer, bool firstStep, SgdOptions o)
        where T : IFloatingPointIeee754<T>
    {
        T wd = Cast<T>(o.WeightDecay), mu = Cast<T>(o.Momentum), keep = Cast<T>(1 - o.Dampening), step = Cast<T>(-o.LearningRate);
        bool decay = o.WeightDecay != 0, momentum = o.Momentum != 0;
        int i = 0;
        if (Vectorized<T>())
        {
            Vector512<T> vwd = Vector512.Create(wd), vmu = Vector512.Create(mu), vkeep = Vector512.Create(keep), vstep = Vector512.Create(step);
            for (; i <= param.Length - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                Vector512<T> g = Load<T>(grad, i), p = Load<T>(param, i);
                if (o.Maximize) g = -g;
                if (decay) g = FusedMultiplyAdd(p, vwd, g);
                if (momentum)
                {
                    Vector512<T> b = firstStep ? g : FusedMultiplyAdd(g, vkeep, Load<T>(buffer, i) * vmu);
                    Store(b, buffer, i);
                    g = o.Nesterov ? FusedMultiplyAdd(b, vmu, g) : b;
                }
                Store(FusedMultiplyAdd(g, vstep, p), param, i);
            }
        }
        for (; i < param.Length; i++)
        {
            T g = o.Maximize ? -grad[i] : grad[i];
            if (decay) g = AddScaled(g, param[i], wd);
            if (momentum)
            {
                buffer[i] = firstStep ? g : AddScaled(buffer[i] * mu, g, keep);
                g = o.Nesterov ? AddScaled(g, buffer[i], mu) : buffer[i];
            }
            param[i] = AddScaled(param[i], g, step);
        }
    }
}
