using System.Numerics;
using static Ember.Optim.UpdateMath;

namespace Ember.Optim;

/// <summary>
/// Adagrad (torch.optim.Adagrad): g ← ±∇ + λθ; s ← s + g²; θ ← θ − clr·g / (√s + ε) with clr = lr / (1 + (t − 1)·lrDecay).
/// </summary>
public sealed class Adagrad : Optimizer<AdagradOptions, AdagradState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="AdagradOptions()"/>).</summary>
    public Adagrad(IEnumerable<Tensor> parameters, AdagradOptions? options = null)
        : this([new ParamGroup<AdagradOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public Adagrad(IEnumerable<ParamGroup<AdagradOptions>> paramGroups, AdagradOptions? defaults = null)
        : base(paramGroups, defaults ?? new AdagradOptions()) { }

    /// <inheritdoc/>
    public override string Name => "Adagrad";

    /// <inheritdoc/>
    protected override AdagradState CreateState(Tensor parameter, AdagradOptions options)
        => new() { Sum = Torch.FullLike(parameter, options.InitialAccumulatorValue) };

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, AdagradState state, AdagradOptions o)
    {
        state.Step++;
        if (parameter.DType == DType.Float32) Rule(parameter.Span<float>(), grad.Span<float>(), state.Sum.Span<float>(), state.Step, o);
        else Rule(parameter.Span<double>(), grad.Span<double>(), state.Sum.Span<double>(), state.Step, o);
    }

    /// <summary>The Adagrad update of one parameter in place; <paramref name="step"/> counts from 1.</summary>
    public static void Rule<T>(Span<T> param, ReadOnlySpan<T> grad, Span<T> sum, long step, AdagradOptions o)
        where T : IFloatingPointIeee754<T>
    {
        double clr = o.LearningRate / (1 + (step - 1) * o.LrDecay);
        T negClr = Cast<T>(-clr), eps = Cast<T>(o.Eps), wd = Cast<T>(o.WeightDecay);
        bool decay = o.WeightDecay != 0;
        for (int i = 0; i < param.Length; i++)
        {
            T g = o.Maximize ? -grad[i] : grad[i];
            if (decay) g = AddScaled(g, param[i], wd);
            sum[i] += g * g;
            T std = T.Sqrt(sum[i]) + eps;
            param[i] += negClr * g / std;
        }
    }
}
