using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's SPPF (spatial pyramid pooling, fast): x = cv1(x); y1 = m(x); y2 = m(y1); cv2(cat(x, y1, y2, m(y2))) with m
/// a k×k stride-1 max pool. Three chained 5×5 pools see the same windows as SPP's parallel 5, 9 and 13 pools.
/// </summary>
public sealed class Sppf : Module
{
    readonly ConvBnSiLU cv1, cv2;
    readonly MaxPool2d m;

    /// <summary>Creates the block; the hidden width is c1 / 2 as in YOLOv5.</summary>
    public Sppf(int inChannels, int outChannels, int kernelSize = 5)
    {
        int hidden = inChannels / 2;
        cv1 = RegisterModule(nameof(cv1), new ConvBnSiLU(inChannels, hidden, 1));
        cv2 = RegisterModule(nameof(cv2), new ConvBnSiLU(hidden * 4, outChannels, 1));
        m = RegisterModule(nameof(m), new MaxPool2d(kernelSize, stride: 1, padding: kernelSize / 2));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        x = cv1.Call(x);
        var y1 = m.Call(x);
        var y2 = m.Call(y1);
        return cv2.Call(Torch.Cat([x, y1, y2, m.Call(y2)], 1));
    }
}
