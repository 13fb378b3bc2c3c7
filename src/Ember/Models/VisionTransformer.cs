using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>
/// A small Vision Transformer ("vit"): a patch embedding (a convolution with kernel = stride = patch), a class token,
/// learned position embeddings, a pre-norm transformer encoder, a final LayerNorm and a linear head on the class token.
/// </summary>
public sealed class VisionTransformer : Module
{
    readonly Conv2d patchEmbed;
    readonly Parameter classToken, positionEmbedding;
    readonly TransformerEncoder encoder;
    readonly LayerNorm norm;
    readonly Linear head;

    /// <summary>Creates the model for <paramref name="imageSize"/>² images of <paramref name="inChannels"/> channels.</summary>
    public VisionTransformer(int imageSize = 28, int patchSize = 4, int inChannels = 1, int numClasses = 10, int dim = 64, int depth = 4, int heads = 4, int mlpDim = 128, double dropout = 0.1)
    {
        if (imageSize % patchSize != 0) throw new ArgumentException($"VisionTransformer: image size {imageSize} must be divisible by the patch size {patchSize}");
        int patches = (imageSize / patchSize) * (imageSize / patchSize);
        patchEmbed = RegisterModule("patch_embed", new Conv2d(inChannels, dim, patchSize, stride: patchSize));
        classToken = RegisterParameter("cls_token", Torch.Zeros(1, 1, dim));
        positionEmbedding = RegisterParameter("pos_embed", Torch.Normal(0, 0.02, [1, patches + 1, dim]));
        encoder = RegisterModule("encoder", new TransformerEncoder(
            new TransformerEncoderLayer(dim, heads, mlpDim, dropout, activation: TransformerActivation.Gelu, batchFirst: true, normFirst: true), depth));
        norm = RegisterModule("norm", new LayerNorm([dim]));
        head = RegisterModule("head", new Linear(dim, numClasses));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var tokens = patchEmbed.Call(x).Flatten(2).Transpose(1, 2);                       // [N, patches, dim]
        var cls = classToken.Expand(tokens.Size(0), -1, -1);
        tokens = Torch.Cat([cls, tokens], 1) + positionEmbedding;
        var encoded = norm.Call(encoder.Call(tokens));
        return head.Call(encoded.Select(1, 0));
    }
}
