using Ember.Nn;

namespace Ember.Models;

/// <summary>
/// YOLOv5's Focus layer: space-to-depth by taking x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2] and
/// x[..., 1::2, 1::2], concatenating them on channels (C → 4C, H×W → H/2×W/2), then Conv-BN-SiLU. YOLOv5 later replaced it
/// with an equivalent 6×6 stride-2 convolution (<see cref="EquivalentConvolution"/>).
/// </summary>
public sealed class Focus : Module
{
    readonly ConvBnSiLU conv;

    /// <summary>Creates the layer.</summary>
    public Focus(int inChannels, int outChannels, int kernelSize = 1, int stride = 1)
        => conv = RegisterModule("conv", new ConvBnSiLU(inChannels * 4, outChannels, kernelSize, stride));

    /// <summary>The space-to-depth slicing alone.</summary>
    public static Tensor SpaceToDepth(Tensor x)
    {
        var s = TensorIndex.Slice(step: 2);
        var o = TensorIndex.Slice(1, null, 2);
        var e = TensorIndex.Ellipsis;
        return Torch.Cat([x[e, s, s], x[e, o, s], x[e, s, o], x[e, o, o]], 1);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => conv.Call(SpaceToDepth(x));

    /// <summary>
    /// The 6×6, stride-2, padding-2 convolution weight that computes the same as Focus's 1×1 convolution after slicing:
    /// the 1×1 weight for slice (dy, dx) lands at kernel position (2 + dy, 2 + dx).
    /// </summary>
    public static Tensor EquivalentConvolution(Tensor focusWeight1x1, int inChannels)
    {
        int outChannels = focusWeight1x1.Size(0);
        var w = Torch.Zeros([outChannels, inChannels, 6, 6], focusWeight1x1.DType);
        (int Dy, int Dx)[] order = [(0, 0), (1, 0), (0, 1), (1, 1)];
        using (Torch.NoGrad())
            for (int k = 0; k < 4; k++)
            {
                var part = focusWeight1x1.Narrow(1, k * inChannels, inChannels).Reshape(outChannels, inChannels);
                w.Select(3, 2 + order[k].Dx).Select(2, 2 + order[k].Dy).CopyFrom(part);
            }
        return w;
    }
}
