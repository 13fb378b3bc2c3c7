using Ember.Models;
using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's Bottleneck (models/common.py): 1×1 Conv-BN-SiLU to c·e channels, 3×3 Conv-BN-SiLU back to c2, plus the
/// input when <c>shortcut</c> and c1 = c2. Submodule names cv1, cv2 follow YOLOv5's state dict.
/// </summary>
public sealed class CspBottleneck : Module
{
    readonly ConvBnSiLU cv1, cv2;
    readonly bool add;

    /// <summary>Creates the block; <paramref name="expansion"/> is YOLOv5's e (C3 uses 1.0).</summary>
    public CspBottleneck(int inChannels, int outChannels, bool shortcut = true, double expansion = 0.5)
    {
        int hidden = (int)(outChannels * expansion);
        cv1 = RegisterModule(nameof(cv1), new ConvBnSiLU(inChannels, hidden, 1));
        cv2 = RegisterModule(nameof(cv2), new ConvBnSiLU(hidden, outChannels, 3));
        add = shortcut && inChannels == outChannels;
    }

    /// <summary>Whether the block adds its input to cv2(cv1(x)) (shortcut requested and c1 = c2).</summary>
    public bool Shortcut => add;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var h = cv1.Call(x);
        return add ? cv2.ForwardInto(h, shortcut: x) : cv2.Call(h);
    }

    /// <summary>Forward(x) written into <paramref name="destination"/> (a channel slice of a concatenation, at inference).</summary>
    internal Tensor ForwardInto(Tensor x, Tensor destination)
    {
        if (HasHooks)
        {
            destination.CopyFrom(Call(x));
            return destination;
        }
        return cv2.ForwardInto(cv1.Call(x), add ? x : null, destination);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"shortcut={add}";
}
