namespace Ember.Optim;

/// <summary>
/// A set of parameters with their own hyper-parameters (PyTorch's param group dict). The options are the optimizer's
/// defaults with <c>configure</c> applied, so a group names only what differs:
/// <code>new ParamGroup&lt;SgdOptions&gt;(backbone.Parameters(), o =&gt; o with { LearningRate = 1e-4 })</code>
/// </summary>
public sealed class ParamGroup<TOptions> : IParamGroup where TOptions : OptimizerOptions
{
    readonly Func<TOptions, TOptions>? configure;
    TOptions? options;

    /// <summary>A group of <paramref name="parameters"/> whose options are the defaults passed through <paramref name="configure"/>.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters, Func<TOptions, TOptions>? configure = null)
    {
        Parameters = parameters.ToArray();
        this.configure = configure;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The group's options (available once the group belongs to an optimizer).</summary>
    public TOptions Options => options ?? throw new InvalidOperationException("ParamGroup: options are filled from the optimizer's defaults when the group is added to an optimizer");

    OptimizerOptions IParamGroup.Options => Options;

    /// <inheritdoc/>
    public double LearningRate { get => Options.LearningRate; set => Options.LearningRate = value; }

    /// <inheritdoc/>
    public double? InitialLearningRate { get; set; }

    internal bool IsAttached => options != null;

    /// <summary>Fills the options from <paramref name="defaults"/> (a copy) and the group's overrides.</summary>
    internal void Attach(TOptions defaults)
    {
        var copy = defaults with { };
        options = configure == null ? copy : configure(copy);
    }

    internal void SetOptions(TOptions value) => options = value;
}
