using Google.Protobuf;
using Ember.Nn;

namespace Ember.Interop;

// The files of src/Ember/Interop/Onnx/ share the namespace Ember.Interop: a namespace Ember.Interop.Onnx could not
// sit beside this class. Only this class is public; the protobuf messages and the exporters are internal.

/// <summary>
/// ONNX export (torch.onnx.export): runs a model in eval mode on a sample input and writes an ONNX model
/// in which every module is expressed with standard operators, weights stored as initializers under their state-dict
/// names, the input named "input" and the output "output", dim 0 of both the dynamic "batch". Supported modules are
/// those of <see cref="SupportedModules"/> (every zoo model among them); anything else is an error naming the module.
/// </summary>
public static class Onnx
{
    /// <summary>The oldest opset the exporter writes (LayerNormalization entered the standard in opset 17).</summary>
    public const int MinOpset = 17;
    /// <summary>The newest opset the exporter has been checked against.</summary>
    public const int MaxOpset = 21;

    /// <summary>Module types that export, by name.</summary>
    public static IReadOnlyList<string> SupportedModules => OnnxExporters.SupportedNames;

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX file at <paramref name="path"/> (atomically). <paramref name="sampleInput"/>
    /// fixes every dim but the batch (dim 0), which stays dynamic unless <paramref name="dynamicBatch"/> is false.
    /// The model's training flags are restored afterwards.
    /// </summary>
    /// <exception cref="NotSupportedException">A module without an exporter, or a configuration ONNX cannot express.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An opset outside [<see cref="MinOpset"/>, <see cref="MaxOpset"/>].</exception>
    public static void Export(Module model, Tensor sampleInput, string path, int opset = MinOpset, bool dynamicBatch = true)
    {
        var proto = Build(model, sampleInput, opset, dynamicBatch);
        AtomicFile.Write(path, stream => Write(proto, stream));
    }

    /// <summary>The ONNX model's bytes (see <see cref="Export(Module, Tensor, string, int, bool)"/>).</summary>
    public static byte[] ExportToBytes(Module model, Tensor sampleInput, int opset = MinOpset, bool dynamicBatch = true)
    {
        var proto = Build(model, sampleInput, opset, dynamicBatch);
        var bytes = new byte[proto.Size()];
        var output = new CodedOutputStream(bytes);
        proto.WriteTo(output);
        output.CheckNoSpaceLeft(); // the sizes computed and the bytes written agree
        return bytes;
    }

    static void Write(ModelProto proto, Stream stream)
    {
        var output = new CodedOutputStream(stream, leaveOpen: true);
        proto.WriteTo(output);
        output.Flush();
    }

    static ModelProto Build(Module model, Tensor sampleInput, int opset, bool dynamicBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleInput);
        if (opset < MinOpset || opset > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset,
                $"Onnx.Export: opset {opset} is not supported; use an opset from {MinOpset} to {MaxOpset} (LayerNormalization and the operator forms the exporter writes need opset {MinOpset})");
        if (sampleInput.Rank == 0) throw new ArgumentException($"Onnx.Export: the sample input must have a batch dim, got shape {sampleInput.Shape}", nameof(sampleInput));
        OnnxGraphBuilder.DataType(sampleInput.DType, "the sample input");
        var modes = model.Modules().Select(m => (Module: m, m.Training)).ToList();
        try
        {
            model.Eval();
            using (Torch.NoGrad())
            {
                var builder = new OnnxGraphBuilder(opset);
                var input = new OnnxValue("input", sampleInput.Detach());
                var output = builder.Export(model, "", input);
                var proto = builder.Build(input, output, dynamicBatch, model.GetType().Name);
                Pb.Message(7, proto.Graph); // sizes the graph now: over 2 GiB fails before a file is touched
                return proto;
            }
        }
        finally
        {
            // Modules() is parent-first and Train recurses, so restoring in order leaves each module as it was
            foreach (var (m, training) in modes) m.Train(training);
        }
    }
}
