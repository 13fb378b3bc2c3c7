namespace Ember.Optim;

/// <summary>Per-parameter state of <see cref="Sgd"/>: the momentum buffer (null until the first step with momentum).</summary>
public sealed class SgdState : ParameterState
{
    /// <summary>The momentum buffer b (PyTorch's <c>momentum_buffer</c>).</summary>
    public Tensor? MomentumBuffer { get; internal set; }

    internal override void Convert(DType dtype) { MomentumBuffer = Converted(MomentumBuffer, dtype); }

    internal override void Save(OptimizerStateDict dict, string prefix) => Put(dict, prefix + "momentum_buffer", MomentumBuffer);

    internal override void Load(OptimizerStateDict dict, string prefix, Tensor parameter)
        => MomentumBuffer = TakeOptional(dict, prefix + "momentum_buffer", parameter);
}
