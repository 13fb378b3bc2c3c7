using Ember.Models;
using Ember.Nn;

namespace Ember.Interop;

// The zoo's models, each mirroring its Forward through its registered children (torchvision names).
static partial class OnnxExporters
{
    static void AddModels(Dictionary<Type, OnnxExporter> t)
    {
        // Forward runs the children in registration order
        Add<Mlp>(t, Chain);
        Add<FashionCnn>(t, Chain);
        Add<LeNet>(t, Chain);
        Add<ConvBnSiLU>(t, Chain);
        // features → avgpool → flatten → classifier; ResNet: stem, layers, avgpool → flatten → fc
        Add<AlexNet>(t, (g, m, p, x) => ChainFlattenBefore(g, m, p, x, "classifier"));
        Add<ResNet>(t, (g, m, p, x) => ChainFlattenBefore(g, m, p, x, "fc"));
        Add<BasicBlock>(t, (g, m, p, x) => ResidualBlock(g, m, p, x, ["conv1", "bn1", "relu", "conv2", "bn2"]));
        Add<Bottleneck>(t, (g, m, p, x) => ResidualBlock(g, m, p, x, ["conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3"]));
        Add<Focus>(t, Focus);
    }

    static OnnxValue ChainFlattenBefore(OnnxGraphBuilder g, Module module, string path, OnnxValue x, string head)
    {
        foreach (var (name, child) in module.NamedChildren())
        {
            if (name == head) x = Flatten1(g, Join(path, "flatten"), x);
            x = g.Export(child, Join(path, name), x);
        }
        return x;
    }

    /// <summary>relu(main(x) + shortcut(x)): the main branch runs the named children, the shortcut is downsample or the identity.</summary>
    static OnnxValue ResidualBlock(OnnxGraphBuilder g, Module block, string path, OnnxValue x, string[] main)
    {
        var identity = Child(block, "downsample") is { } downsample ? g.Export(downsample, Join(path, "downsample"), x) : x;
        var y = x;
        foreach (var name in main) y = ExportChild(g, block, path, name, y);
        return ExportChild(g, block, path, "relu", Add(g, path, y, identity));
    }

    /// <summary>Space-to-depth as four strided Slices (x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]) and a Concat, then Conv-BN-SiLU.</summary>
    static OnnxValue Focus(OnnxGraphBuilder g, Focus focus, string path, OnnxValue x)
    {
        var parts = new List<string>();
        foreach (var (dy, dx) in new[] { (0L, 0L), (1L, 0L), (0L, 1L), (1L, 1L) })
            parts.Add(g.Node(path, "Slice", [x.Name, g.Int64s(dy, dx), g.Int64s(long.MaxValue, long.MaxValue), g.Int64s(-2, -1), g.Int64s(2, 2)]));
        var stacked = new OnnxValue(g.Node(path, "Concat", parts, AttributeProto.Int("axis", 1)), Models.Focus.SpaceToDepth(x.Value));
        return ExportChild(g, focus, path, "conv", stacked);
    }
}
