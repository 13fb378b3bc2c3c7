using Ember.Autograd;
using Ember.Models;
using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's C3, the CSP bottleneck with three convolutions: cv3(cat(m(cv1(x)), cv2(x))) where cv1 and cv2 are 1×1
/// convolutions to c2·e channels and m is <c>n</c> <see cref="CspBottleneck"/>s (e = 1.0) on the first branch only.
/// </summary>
public sealed class C3 : Module
{
    readonly ConvBnSiLU cv1, cv2, cv3;
    readonly Sequential m;
    readonly CspBottleneck[] blocks;
    readonly int hidden;

    /// <summary>Creates the block with <paramref name="n"/> bottlenecks.</summary>
    public C3(int inChannels, int outChannels, int n = 1, bool shortcut = true, double expansion = 0.5)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, $"C3: expected at least one bottleneck, got n = {n}");
        hidden = (int)(outChannels * expansion);
        cv1 = RegisterModule(nameof(cv1), new ConvBnSiLU(inChannels, hidden, 1));
        cv2 = RegisterModule(nameof(cv2), new ConvBnSiLU(inChannels, hidden, 1));
        cv3 = RegisterModule(nameof(cv3), new ConvBnSiLU(2 * hidden, outChannels, 1));
        blocks = new CspBottleneck[n];
        for (int i = 0; i < n; i++) blocks[i] = new CspBottleneck(hidden, hidden, shortcut, expansion: 1.0);
        m = RegisterModule(nameof(m), new Sequential(blocks));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => cv3.Call(Branches(x));

    /// <summary>Forward(x) written into <paramref name="destination"/> (a channel slice of a concatenation, at inference).</summary>
    internal Tensor ForwardInto(Tensor x, Tensor destination)
    {
        if (HasHooks || GradMode.IsEnabled)
        {
            destination.CopyFrom(Call(x));
            return destination;
        }
        return cv3.ForwardInto(Branches(x), destination: destination);
    }

    /// <summary>
    /// cat(m(cv1(x)), cv2(x)). At inference both branches write their halves of the concatenation in place (the last
    /// bottleneck and cv2 as fused convolutions) instead of being copied into it.
    /// </summary>
    Tensor Branches(Tensor x)
    {
        if (GradMode.IsEnabled || x.Rank != 4 || m.HasHooks) return Torch.Cat([m.Call(cv1.Call(x)), cv2.Call(x)], 1);
        var cat = Torch.Empty([x.Size(0), 2 * hidden, x.Size(2), x.Size(3)], x.DType);
        cv2.ForwardInto(x, destination: cat.Narrow(1, hidden, hidden));
        var h = cv1.Call(x);
        for (int i = 0; i < blocks.Length - 1; i++) h = blocks[i].Call(h);
        blocks[^1].ForwardInto(h, cat.Narrow(1, 0, hidden));
        return cat;
    }
}
