namespace Ember.Nn.Layers;

/// <summary>
/// A stack of <c>numLayers</c> copies of an encoder layer, then an optional final norm (torch.nn.TransformerEncoder).
/// The layers are registered as <c>layers.0</c>, <c>layers.1</c>, … and start as copies of the given layer's
/// values, as PyTorch's deepcopy makes them.
/// </summary>
public sealed class TransformerEncoder : Module
{
    /// <summary>The stacked layers.</summary>
    public ModuleList Layers { get; }
    /// <summary>Final normalization, or null.</summary>
    public Module? Norm { get; }
    /// <summary>Number of layers.</summary>
    public int NumLayers { get; }

    /// <summary>Stacks <paramref name="numLayers"/> clones of <paramref name="encoderLayer"/>.</summary>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, Module? norm = null)
    {
        if (numLayers <= 0) throw new ArgumentException($"TransformerEncoder: num_layers must be positive, got {numLayers}");
        NumLayers = numLayers;
        Layers = RegisterModule("layers", new ModuleList(Enumerable.Range(0, numLayers).Select(_ => encoderLayer.Clone())));
        if (norm is not null) Norm = RegisterModule("norm", norm);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null, null);

    /// <summary>Runs every layer with the same masks, then the norm.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask, bool isCausal = false)
    {
        var x = src;
        foreach (var layer in Layers) x = ((TransformerEncoderLayer)layer).Forward(x, mask, srcKeyPaddingMask, isCausal);
        return Norm is null ? x : Norm.Call(x);
    }
}
