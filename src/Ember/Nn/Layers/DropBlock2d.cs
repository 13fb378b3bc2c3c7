using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// DropBlock (Ghiasi et al. 2018): drops contiguous blockSize × blockSize regions of each feature map in training
/// (see <see cref="F.DropBlock2d"/>). The notes advise a block of 7 and a keep probability that falls from 1 to its
/// target over training: <see cref="Training.Callbacks.DropBlockSchedule"/> does that for every DropBlock2d of a model
/// (linear, updated before each batch), or set <see cref="DropProb"/> yourself.
/// </summary>
public sealed class DropBlock2d(double dropProb = 0.1, int blockSize = 7, Generator? generator = null) : Module
{
    double dropProb = Dropout.ValidP(dropProb, "DropBlock2d");

    /// <summary>Target fraction of dropped units (1 − keep_prob); settable for a schedule.</summary>
    public double DropProb
    {
        get => dropProb;
        set => dropProb = Dropout.ValidP(value, "DropBlock2d");
    }

    /// <summary>keep_prob = 1 − DropProb, the paper's parameter.</summary>
    public double KeepProb => 1 - dropProb;

    /// <summary>Side of the dropped square.</summary>
    public int BlockSize { get; } = blockSize >= 1 ? blockSize : throw new ArgumentException($"DropBlock2d: block_size must be positive, got {blockSize}");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.DropBlock2d(input, DropProb, BlockSize, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"drop_prob={PyRepr.Float(DropProb)}, block_size={BlockSize}";
}
