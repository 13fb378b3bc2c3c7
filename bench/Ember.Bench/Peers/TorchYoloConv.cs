using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>YOLOv5's Conv in TorchSharp: Conv2d (no bias, padding k/2 unless given) → BatchNorm2d (eps 1e-3, momentum 0.03) → SiLU; names conv, bn, act.</summary>
public sealed class TorchYoloConv : Module<TT, TT>
{
    readonly Module<TT, TT> conv, bn, act;

    /// <summary>A block from <paramref name="inChannels"/> to <paramref name="outChannels"/> channels.</summary>
    public TorchYoloConv(long inChannels, long outChannels, long kernelSize = 1, long stride = 1, long? padding = null) : base(nameof(TorchYoloConv))
    {
        conv = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding ?? kernelSize / 2, bias: false);
        bn = BatchNorm2d(outChannels, eps: 1e-3, momentum: 0.03);
        act = SiLU();
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x) => act.forward(bn.forward(conv.forward(x)));
}
