namespace Ember.Nn.Losses;

/// <summary>Which likelihood a task's loss comes from, for <see cref="UncertaintyLossWeights"/>.</summary>
public enum TaskKind
{
    /// <summary>A Gaussian likelihood: a squared-error loss.</summary>
    Regression,
    /// <summary>A softmax likelihood: a cross-entropy loss.</summary>
    Classification,
}
