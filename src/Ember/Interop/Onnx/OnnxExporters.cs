using Ember.Nn;

namespace Ember.Interop;

/// <summary>Emits the ONNX nodes of one module applied to <paramref name="input"/> and returns its output.</summary>
delegate OnnxValue OnnxExporter(OnnxGraphBuilder g, Module module, string path, OnnxValue input);

/// <summary>
/// The table of module exporters, keyed by the module's exact type (a subclass may override Forward, so it is not
/// exported as its base). Layers, models and the ONNX format stay apart: no module knows about ONNX; each exporter here
/// mirrors its module's eval-mode Forward with ONNX operators, reading the module's public configuration and its
/// registered children by name (so a fused model, whose BNs became Identity, exports as it runs).
/// The partial files group the exporters: layers, activations, transformer blocks, zoo models, recurrent layers, detection.
/// </summary>
static partial class OnnxExporters
{
    static readonly Dictionary<Type, OnnxExporter> Table = Build();

    static Dictionary<Type, OnnxExporter> Build()
    {
        var table = new Dictionary<Type, OnnxExporter>();
        AddLayers(table);
        AddActivations(table);
        AddTransformers(table);
        AddModels(table);
        AddRecurrent(table);
        AddDetection(table);
        return table;
    }

    static void Add<T>(Dictionary<Type, OnnxExporter> table, Func<OnnxGraphBuilder, T, string, OnnxValue, OnnxValue> export) where T : Module
        => table[typeof(T)] = (g, m, path, x) => export(g, (T)m, path, x);

    /// <summary>The exporter for <paramref name="module"/>'s type, if there is one.</summary>
    public static bool TryGet(Module module, out OnnxExporter exporter) => Table.TryGetValue(module.GetType(), out exporter!);

    /// <summary>Names of the module types that export, sorted.</summary>
    public static IReadOnlyList<string> SupportedNames { get; } = [.. Table.Keys.Select(t => t.Name).Order(StringComparer.Ordinal)];

    static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    static NotSupportedException Unsupported(string path, Module module, string why)
        => new($"Onnx.Export: module '{OnnxGraphBuilder.Display(path)}' ({module.GetType().Name}): {why}");

    /// <summary>Exports the registered children in order (the Forward of Sequential and of the zoo's plain stacks).</summary>
    static OnnxValue Chain(OnnxGraphBuilder g, Module module, string path, OnnxValue x)
    {
        foreach (var (name, child) in module.NamedChildren()) x = g.Export(child, Join(path, name), x);
        return x;
    }

    /// <summary>The registered child named <paramref name="name"/>, or null.</summary>
    static Module? Child(Module module, string name)
    {
        foreach (var (n, m) in module.NamedChildren()) if (n == name) return m;
        return null;
    }

    static Module Required(Module module, string path, string name)
        => Child(module, name) ?? throw Unsupported(path, module, $"expected a child named '{name}'");

    static OnnxValue ExportChild(OnnxGraphBuilder g, Module module, string path, string name, OnnxValue x)
        => g.Export(Required(module, path, name), Join(path, name), x);

    /// <summary>The parameter or buffer initializer under its state-dict name.</summary>
    static string Weight(OnnxGraphBuilder g, string path, string name, Tensor tensor) => g.Initializer(Join(path, name), tensor);

    // Value-level helpers: each emits one node and computes the same thing with Ember, so shapes stay known.

    static OnnxValue Add(OnnxGraphBuilder g, string path, OnnxValue a, OnnxValue b)
        => new(g.Node(path, "Add", [a.Name, b.Name]), a.Value + b.Value);

    static OnnxValue Unary(OnnxGraphBuilder g, string path, string op, OnnxValue x, Tensor value, params AttributeProto[] attributes)
        => new(g.Node(path, op, [x.Name], attributes), value);

    static OnnxValue Transpose(OnnxGraphBuilder g, string path, OnnxValue x, params int[] perm)
        => new(g.Node(path, "Transpose", [x.Name], AttributeProto.IntList("perm", [.. perm.Select(p => (long)p)])), x.Value.Permute(perm));

    /// <summary>
    /// Reshape to <paramref name="shape"/>, where 0 copies the input's dim (ONNX's convention, used for the batch dim
    /// so that it stays dynamic) and −1 is inferred.
    /// </summary>
    static OnnxValue Reshape(OnnxGraphBuilder g, string path, OnnxValue x, params long[] shape)
    {
        var emberShape = shape.Select((d, i) => d == 0 ? x.Value.Size(i) : (int)d).ToArray();
        return new(g.Node(path, "Reshape", [x.Name, g.Int64s(shape)]), x.Value.Reshape(emberShape));
    }

    /// <summary>Flatten(1): [N, ...] → [N, rest].</summary>
    static OnnxValue Flatten1(OnnxGraphBuilder g, string path, OnnxValue x)
        => Unary(g, path, "Flatten", x, x.Value.Flatten(1), AttributeProto.Int("axis", 1));

    static OnnxValue Slice(OnnxGraphBuilder g, string path, OnnxValue x, long[] starts, long[] ends, long[] axes, long[] steps, Tensor value)
        => new(g.Node(path, "Slice", [x.Name, g.Int64s(starts), g.Int64s(ends), g.Int64s(axes), g.Int64s(steps)]), value);

    static OnnxValue MulScalar(OnnxGraphBuilder g, string path, OnnxValue x, double factor)
        => new(g.Node(path, "Mul", [x.Name, g.Scalar(factor, x.Value.DType)]), x.Value * factor);
}
