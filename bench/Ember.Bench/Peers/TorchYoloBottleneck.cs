using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>YOLOv5's Bottleneck in TorchSharp: cv2(cv1(x)), plus x with the shortcut when c1 = c2; names cv1, cv2.</summary>
public sealed class TorchYoloBottleneck : Module<TT, TT>
{
    readonly TorchYoloConv cv1, cv2;
    readonly bool add;

    /// <summary>A block with hidden width c2·<paramref name="expansion"/>.</summary>
    public TorchYoloBottleneck(long inChannels, long outChannels, bool shortcut = true, double expansion = 0.5) : base(nameof(TorchYoloBottleneck))
    {
        long hidden = (long)(outChannels * expansion);
        cv1 = new TorchYoloConv(inChannels, hidden, 1);
        cv2 = new TorchYoloConv(hidden, outChannels, 3);
        add = shortcut && inChannels == outChannels;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x)
    {
        TT y = cv2.forward(cv1.forward(x));
        return add ? x + y : y;
    }
}
