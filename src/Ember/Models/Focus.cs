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
    /// The 6×6, stride-2, padding-2 convolution weight that computes the same as Focus's convolution after slicing, for
    /// Focus kernels of 1×1 or 3×3 (YOLOv5 v5's stem): a k×k tap (ky, kx) on slice (dy, dx) reads input pixel
    /// (2·ky + dy, 2·kx + dx) relative to the window, so it lands at kernel position (2 − 2·(k/2) + 2·ky + dy, … + dx).
    /// </summary>
    public static Tensor EquivalentConvolution(Tensor focusWeight, int inChannels)
    {
        int outChannels = focusWeight.Size(0), k = focusWeight.Size(2);
        if (focusWeight.Rank != 4 || focusWeight.Size(1) != 4 * inChannels || k != focusWeight.Size(3) || (k != 1 && k != 3))
            throw new ArgumentException($"Focus.EquivalentConvolution: expected a 1×1 or 3×3 weight [out, {4 * inChannels}, k, k], got {focusWeight.Shape}");
        var w = Torch.Zeros([outChannels, inChannels, 6, 6], focusWeight.DType);
        (int Dy, int Dx)[] order = [(0, 0), (1, 0), (0, 1), (1, 1)];
        int origin = 2 - 2 * (k / 2);
        using (Torch.NoGrad())
            for (int s = 0; s < 4; s++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        var part = focusWeight.Narrow(1, s * inChannels, inChannels).Select(3, kx).Select(2, ky);
                        w.Select(3, origin + 2 * kx + order[s].Dx).Select(2, origin + 2 * ky + order[s].Dy).CopyFrom(part);
                    }
        return w;
    }
}
