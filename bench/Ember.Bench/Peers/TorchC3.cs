using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>YOLOv5's C3 in TorchSharp: cv3(cat(m(cv1(x)), cv2(x))) with <c>n</c> bottlenecks (e = 1) in m; names cv1, cv2, cv3, m.N.</summary>
public sealed class TorchC3 : Module<TT, TT>
{
    readonly TorchYoloConv cv1, cv2, cv3;
    readonly Module<TT, TT> m;

    /// <summary>A block with <paramref name="n"/> bottlenecks and hidden width c2 / 2.</summary>
    public TorchC3(long inChannels, long outChannels, int n = 1, bool shortcut = true) : base(nameof(TorchC3))
    {
        long hidden = outChannels / 2;
        cv1 = new TorchYoloConv(inChannels, hidden, 1);
        cv2 = new TorchYoloConv(inChannels, hidden, 1);
        cv3 = new TorchYoloConv(2 * hidden, outChannels, 1);
        var blocks = new Module<TT, TT>[n];
        for (int i = 0; i < n; i++) blocks[i] = new TorchYoloBottleneck(hidden, hidden, shortcut, 1.0);
        m = Sequential(blocks);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x) => cv3.forward(torch.cat([m.forward(cv1.forward(x)), cv2.forward(x)], 1));
}
