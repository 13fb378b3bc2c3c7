namespace Ember.Optim;

/// <summary>
/// The view of a parameter group that learning-rate schedulers use: they read and write the learning rate (and, for
/// OneCycleLR, the momentum or beta1 through <see cref="Options"/>) without knowing the optimizer's type.
/// </summary>
public interface IParamGroup
{
    /// <summary>The tensors this group updates.</summary>
    IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The group's hyper-parameters (a typed record; see <see cref="IMomentumOptions"/> and <see cref="IBetasOptions"/>).</summary>
    OptimizerOptions Options { get; }

    /// <summary>The current learning rate (PyTorch's <c>group['lr']</c>).</summary>
    double LearningRate { get; set; }

    /// <summary>The learning rate a scheduler started from (PyTorch's <c>group['initial_lr']</c>); null until a scheduler sets it.</summary>
    double? InitialLearningRate { get; set; }
}
