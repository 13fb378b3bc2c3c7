using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>YOLOv5's SPPF in TorchSharp: x = cv1(x); cv2(cat(x, m(x), m²(x), m³(x))) with m a k×k stride-1 max pool; names cv1, cv2, m.</summary>
public sealed class TorchSppf : Module<TT, TT>
{
    readonly TorchYoloConv cv1, cv2;
    readonly Module<TT, TT> m;

    /// <summary>A block with hidden width c1 / 2.</summary>
    public TorchSppf(long inChannels, long outChannels, long kernelSize = 5) : base(nameof(TorchSppf))
    {
        long hidden = inChannels / 2;
        cv1 = new TorchYoloConv(inChannels, hidden, 1);
        cv2 = new TorchYoloConv(hidden * 4, outChannels, 1);
        m = MaxPool2d(kernelSize, stride: 1, padding: kernelSize / 2);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x)
    {
        x = cv1.forward(x);
        TT y1 = m.forward(x);
        TT y2 = m.forward(y1);
        return cv2.forward(torch.cat([x, y1, y2, m.forward(y2)], 1));
    }
}
