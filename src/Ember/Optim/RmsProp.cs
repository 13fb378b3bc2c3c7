using System.Numerics;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// RMSprop (torch.optim.RMSprop): v ← αv + (1 − α)g²; centered: ḡ ← lerp(ḡ, g, 1 − α), a = √(v − ḡ²), else a = √v;
/// with momentum b ← μb + g/(a + ε), θ ← θ − lr·b; without, θ ← θ − lr·g/(a + ε).
/// </summary>
public sealed class RmsProp : Optimizer<RmsPropOptions, RmsPropState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="RmsPropOptions()"/>).</summary>
    public RmsProp(IEnumerable<Tensor> parameters, RmsPropOptions? options = null)
        : this([new ParamGroup<RmsPropOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public RmsProp(IEnumerable<ParamGroup<RmsPropOptions>> paramGroups, RmsPropOptions? defaults = null)
        : base(paramGroups, defaults ?? new RmsPropOptions()) { }

    /// <inheritdoc/>
    public override string Name => "RMSprop";

    /// <inheritdoc/>
    protected override RmsPropState CreateState(Tensor parameter, RmsPropOptions options) => new()
    {
        SquareAvg = Torch.ZerosLike(parameter),
        MomentumBuffer = options.Momentum > 0 ? Torch.ZerosLike(parameter) : null,
        GradAvg = options.Centered ? Torch.ZerosLike(parameter) : null,
    };

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, RmsPropState state, RmsPropOptions o)
    {
        // Options may change between steps (a scheduler cycling momentum): create what is missing, as PyTorch's lazy init would not.
        if (o.Momentum > 0) state.MomentumBuffer ??= Torch.ZerosLike(parameter);
        if (o.Centered) state.GradAvg ??= Torch.ZerosLike(parameter);
        state.Step++;
        if (parameter.DType == DType.Float32)
            Rule(parameter.Span<float>(), grad.Span<float>(), state.SquareAvg.Span<float>(), SpanOf<float>(state.MomentumBuffer), SpanOf<float>(state.GradAvg), o);
        else
            Rule(parameter.Span<double>(), grad.Span<double>(), state.SquareAvg.Span<double>(), SpanOf<double>(state.MomentumBuffer), SpanOf<double>(state.GradAvg), o);
    }

    /// <summary>The RMSprop update of one parameter in place; the buffers are empty when their option is off.</summary>
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> squareAvg, Span<T> momentumBuffer, Span<T> gradAvg, RmsPropOptions o)
        where T : IFloatingPointIeee754<T>
    {
        T alpha = Cast<T>(o.Alpha), w = Cast<T>(1 - o.Alpha), oneMinusW = T.One - w, eps = Cast<T>(o.Eps);
        T wd = Cast<T>(o.WeightDecay), mu = Cast<T>(o.Momentum), negLr = Cast<T>(-o.LearningRate);
        bool decay = o.WeightDecay != 0, momentum = o.Momentum > 0;
        for (int i = 0; i < param.Length; i++)
        {
            T g = o.Maximize ? -grad[i] : grad[i];
            if (decay) g = AddScaled(g, param[i], wd);
            squareAvg[i] = squareAvg[i] * alpha + w * g * g;
            T avg;
            if (o.Centered)
            {
                gradAvg[i] = Lerp(gradAvg[i], g, w, oneMinusW);
                avg = T.Sqrt(squareAvg[i] + -T.One * gradAvg[i] * gradAvg[i]);
            }
            else avg = T.Sqrt(squareAvg[i]);
            avg += eps;
            if (momentum)
            {
                momentumBuffer[i] = momentumBuffer[i] * mu + g / avg;
                param[i] = AddScaled(param[i], momentumBuffer[i], negLr);
            }
            else param[i] += negLr * g / avg;
        }
    }
}
