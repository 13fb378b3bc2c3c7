using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Leaky ReLU with a learned slope (torch.nn.PReLU): one slope shared by all channels (numParameters = 1) or one per
/// channel of dim 1; every slope starts at init (0.25).
/// </summary>
public sealed class PReLU : Module
{
    /// <summary>The slopes, shape [numParameters].</summary>
    public Parameter Weight { get; }

    /// <summary>Creates the layer with <paramref name="numParameters"/> slopes set to <paramref name="init"/>.</summary>
    public PReLU(int numParameters = 1, double init = 0.25)
    {
        if (numParameters < 1) throw new ArgumentException($"PReLU: num_parameters must be positive, got {numParameters}");
        Weight = RegisterParameter("weight", Torch.Full([numParameters], init));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Prelu(input, Weight);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"num_parameters={Weight.NumEl}";
}
