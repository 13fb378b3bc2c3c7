using System.Runtime.InteropServices;
using Google.Protobuf;
using Ember.Nn;

namespace Ember.Interop;

/// <summary>
/// A value of the graph being built: its ONNX name and the tensor Ember computes for the sample input. The exporters
/// read shapes off <see cref="Value"/> (a Reshape needs the static dims), so every emitted node is paired with the
/// eval-mode Ember computation it stands for.
/// </summary>
readonly record struct OnnxValue(string Name, Tensor Value);

/// <summary>
/// Collects nodes and initializers while the exporters walk a module tree, then assembles the ONNX model. Node outputs
/// are named after the module path ("/layer1/0/conv1/Conv_12"), initializers after the state dict ("layer1.0.conv1.weight").
/// </summary>
sealed class OnnxGraphBuilder(int opset)
{
    readonly List<NodeProto> nodes = new();
    readonly List<TensorProto> initializers = new();
    readonly HashSet<string> names = ["input", "output"];
    readonly Dictionary<Tensor, string> initializerOf = new(ReferenceEqualityComparer.Instance);
    int counter;

    /// <summary>The default-domain opset the graph targets.</summary>
    public int Opset { get; } = opset;

    /// <summary>Exports <paramref name="module"/> (found at <paramref name="path"/>) applied to <paramref name="input"/>.</summary>
    public OnnxValue Export(Module module, string path, OnnxValue input)
    {
        if (!OnnxExporters.TryGet(module, out var exporter))
            throw new NotSupportedException($"Onnx.Export: module '{Display(path)}' ({module.GetType().Name}) has no ONNX exporter; supported modules: {string.Join(", ", OnnxExporters.SupportedNames)}");
        return exporter(this, module, path, input);
    }

    /// <summary>Appends a node with one output and returns that output's name.</summary>
    public string Node(string path, string opType, IReadOnlyList<string> inputs, params AttributeProto[] attributes)
    {
        var output = Unique($"/{path.Replace('.', '/')}/{opType}_{counter++}".Replace("//", "/"));
        nodes.Add(new NodeProto
        {
            Name = output, OpType = opType, Inputs = [.. inputs], Outputs = [output], Attributes = [.. attributes],
        });
        return output;
    }

    /// <summary>
    /// Adds <paramref name="tensor"/> as an initializer named <paramref name="name"/> (its state-dict name) and returns
    /// the name; a tensor added twice (a shared parameter) is stored once.
    /// </summary>
    public string Initializer(string name, Tensor tensor)
    {
        if (initializerOf.TryGetValue(tensor, out var existing)) return existing;
        name = Unique(name);
        initializerOf[tensor] = name;
        initializers.Add(ToProto(name, tensor));
        return name;
    }

    /// <summary>A 1-D int64 constant (axes, shapes, slice bounds).</summary>
    public string Int64s(params long[] values) => Constant(Torch.FromArray(values, [values.Length]));

    /// <summary>A 0-d int64 constant (a Gather index).</summary>
    public string Int64Scalar(long value) => Constant(Torch.Scalar(value, DType.Int64));

    /// <summary>A 0-d constant of <paramref name="dtype"/> (a Mul factor, a Clip bound).</summary>
    public string Scalar(double value, DType dtype) => Constant(Torch.Scalar(value, dtype));

    /// <summary>A constant tensor.</summary>
    public string Constant(Tensor value)
    {
        var name = Unique($"const_{counter++}");
        initializers.Add(ToProto(name, value));
        return name;
    }

    /// <summary>The model: the graph input "input" (dim 0 named "batch" when dynamic), the nodes, the initializers and the output.</summary>
    public ModelProto Build(OnnxValue input, OnnxValue output, bool dynamicBatch, string graphName)
    {
        const string outputName = "output";
        // the graph output gets a stable name; an output that is the input or a weight (an Identity model) needs a node
        if (output.Name == input.Name || !nodes.Any(n => n.Outputs.Contains(output.Name)))
            output = output with { Name = Node("", "Identity", [output.Name]) };
        foreach (var node in nodes)
        {
            Rename(node.Inputs, output.Name, outputName);
            Rename(node.Outputs, output.Name, outputName);
        }
        var graph = new GraphProto { Name = graphName, Nodes = nodes, Initializers = initializers };
        graph.Inputs.Add(ValueInfo(input.Name, input.Value, dynamicBatch));
        graph.Outputs.Add(ValueInfo(outputName, output.Value, dynamicBatch));
        return new ModelProto
        {
            IrVersion = IrVersionFor(Opset), ProducerName = "Ember", ProducerVersion = typeof(Onnx).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph, OpsetImport = [new OperatorSetIdProto { Version = Opset }],
        };
    }

    static void Rename(List<string> list, string from, string to)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == from) list[i] = to;
    }

    // The IR version that introduced each opset (onnx/helper.py's VERSION_TABLE): a runtime rejects an older pairing.
    static long IrVersionFor(int opset) => opset switch { <= 18 => 8, <= 20 => 9, _ => 10 };

    static ValueInfoProto ValueInfo(string name, Tensor value, bool dynamicBatch)
    {
        var shape = new TensorShapeProto();
        for (int d = 0; d < value.Rank; d++)
            shape.Dims.Add(d == 0 && dynamicBatch ? new TensorShapeProto.Dimension { Param = "batch" } : new TensorShapeProto.Dimension { Value = value.Size(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TensorTypeProto { ElemType = DataType(value.DType, name), Shape = shape } } };
    }

    /// <summary>The ONNX element type of an Ember dtype.</summary>
    public static int DataType(DType dtype, string what) => dtype switch
    {
        DType.Float32 => TensorProto.Float,
        DType.Float64 => TensorProto.Double,
        DType.Int64 => TensorProto.Int64,
        DType.Bool => TensorProto.Bool,
        DType.Float16 => TensorProto.Float16,
        DType.BFloat16 => TensorProto.BFloat16,
        DType.Int32 => TensorProto.Int32,
        DType.Int8 => TensorProto.Int8,
        DType.UInt8 => TensorProto.UInt8,
        _ => throw new NotSupportedException($"Onnx.Export: {what} has dtype {dtype}, which the exporter does not write"),
    };

    static TensorProto ToProto(string name, Tensor tensor)
    {
        var t = tensor.Detach().Contiguous();
        int type = DataType(t.DType, $"tensor '{name}'");
        // every dtype's storage holds its elements as ONNX's raw_data lays them out (bool as one byte 0/1, float16 and
        // bfloat16 as their 16-bit patterns)
        var raw = Bytes(t);
        return new TensorProto
        {
            Name = name, Dims = [.. t.Shape.ToArray().Select(d => (long)d)], DataType = type,
            RawData = UnsafeByteOperations.UnsafeWrap(raw),
        };
    }

    // raw_data is little-endian; .NET on every platform Ember runs on is too, so the bytes are the memory image.
    static byte[] Bytes(Tensor t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Onnx.Export: big-endian platforms are not supported");
        var data = t.storage.Data;
        int size = t.DType.ElementSize();
        return MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(data), data.Length * size)
            .Slice(t.offset * size, t.NumEl * size).ToArray();
    }

    string Unique(string name)
    {
        var candidate = name;
        for (int k = 1; !names.Add(candidate); k++) candidate = $"{name}_{k}";
        return candidate;
    }

    /// <summary>A module path for messages ("" is the model itself).</summary>
    public static string Display(string path) => path.Length == 0 ? "(model)" : path;
}
