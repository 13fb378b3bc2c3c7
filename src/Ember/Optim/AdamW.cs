namespace Ember.Optim;

/// <summary>
/// AdamW (torch.optim.AdamW): Adam with decoupled weight decay θ ← θ·(1 − lr·λ) applied before the Adam step,
/// instead of adding λθ to the gradient. Default λ = 0.01.
/// </summary>
public sealed class AdamW : Optimizer<AdamWOptions, AdamState>
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: <see cref="AdamWOptions()"/>).</summary>
    public AdamW(IEnumerable<Tensor> parameters, AdamWOptions? options = null)
        : this([new ParamGroup<AdamWOptions>(parameters)], options) { }

    /// <summary>Several groups, each filled from <paramref name="defaults"/>.</summary>
    public AdamW(IEnumerable<ParamGroup<AdamWOptions>> paramGroups, AdamWOptions? defaults = null)
        : base(paramGroups, defaults ?? new AdamWOptions()) { }

    /// <inheritdoc/>
    public override string Name => "AdamW";

    /// <inheritdoc/>
    protected override AdamState CreateState(Tensor parameter, AdamWOptions options) => AdamState.Create(parameter, options.Amsgrad);

    /// <inheritdoc/>
    protected override void Update(Tensor parameter, Tensor grad, AdamState state, AdamWOptions o)
        => Adam.Apply(parameter, grad, state, o.LearningRate, o.Betas, o.Eps, o.WeightDecay, decoupled: true, o.Amsgrad, o.Maximize);
}
