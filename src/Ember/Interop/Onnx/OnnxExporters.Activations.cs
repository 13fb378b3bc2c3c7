using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Interop;

// Activations map to one ONNX operator where opset 17 has it; the others (GELU, SiLU, Mish, LogSigmoid) are
// composed from primitives exactly as Ember's F composes them.
static partial class OnnxExporters
{
    static void AddActivations(Dictionary<Type, OnnxExporter> t)
    {
        Add<ReLU>(t, (g, m, p, x) => Unary(g, p, "Relu", x, m.Call(x.Value)));
        Add<Sigmoid>(t, (g, m, p, x) => Unary(g, p, "Sigmoid", x, m.Call(x.Value)));
        Add<Tanh>(t, (g, m, p, x) => Unary(g, p, "Tanh", x, m.Call(x.Value)));
        Add<Softsign>(t, (g, m, p, x) => Unary(g, p, "Softsign", x, m.Call(x.Value)));
        Add<SELU>(t, (g, m, p, x) => Unary(g, p, "Selu", x, m.Call(x.Value)));
        Add<Hardswish>(t, (g, m, p, x) => Unary(g, p, "HardSwish", x, m.Call(x.Value)));
        // PyTorch's hardsigmoid is relu6(x + 3)/6 = max(0, min(1, x/6 + 1/2))
        Add<Hardsigmoid>(t, (g, m, p, x) => Unary(g, p, "HardSigmoid", x, m.Call(x.Value), AttributeProto.Float("alpha", 1.0 / 6), AttributeProto.Float("beta", 0.5)));
        Add<LeakyReLU>(t, (g, m, p, x) => Unary(g, p, "LeakyRelu", x, m.Call(x.Value), AttributeProto.Float("alpha", m.NegativeSlope)));
        Add<RReLU>(t, (g, m, p, x) => Unary(g, p, "LeakyRelu", x, m.Call(x.Value), AttributeProto.Float("alpha", (m.Lower + m.Upper) / 2)));
        Add<ELU>(t, (g, m, p, x) => Unary(g, p, "Elu", x, m.Call(x.Value), AttributeProto.Float("alpha", m.Alpha)));
        Add<CELU>(t, (g, m, p, x) => Unary(g, p, "Celu", x, m.Call(x.Value), AttributeProto.Float("alpha", m.Alpha)));
        Add<ReLU6>(t, (g, m, p, x) => Clip(g, p, x, 0, 6, m.Call(x.Value)));
        Add<Hardtanh>(t, (g, m, p, x) => Clip(g, p, x, m.MinVal, m.MaxVal, m.Call(x.Value)));
        Add<PReLU>(t, PRelu);
        Add<Softplus>(t, Softplus);
        Add<GELU>(t, (g, m, p, x) => Gelu(g, p, x, m.Approximate));
        Add<SiLU>(t, (g, m, p, x) => Silu(g, p, x));
        Add<Mish>(t, (g, m, p, x) => new(g.Node(p, "Mul", [x.Name, g.Node(p, "Tanh", [g.Node(p, "Softplus", [x.Name])])]), m.Call(x.Value)));
        Add<LogSigmoid>(t, (g, m, p, x) => new(g.Node(p, "Neg", [g.Node(p, "Softplus", [g.Node(p, "Neg", [x.Name])])]), m.Call(x.Value)));
    }

    static OnnxValue Clip(OnnxGraphBuilder g, string path, OnnxValue x, double min, double max, Tensor value)
        => new(g.Node(path, "Clip", [x.Name, g.Scalar(min, x.Value.DType), g.Scalar(max, x.Value.DType)]), value);

    /// <summary>x·sigmoid(x).</summary>
    static OnnxValue Silu(OnnxGraphBuilder g, string path, OnnxValue x)
        => new(g.Node(path, "Mul", [x.Name, g.Node(path, "Sigmoid", [x.Name])]), F.Silu(x.Value));

    /// <summary>x·Φ(x) = x·½(1 + erf(x/√2)), or the tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    static OnnxValue Gelu(OnnxGraphBuilder g, string path, OnnxValue x, GeluApproximate approximate)
    {
        var dtype = x.Value.DType;
        string inner;
        if (approximate == GeluApproximate.Tanh)
        {
            var cube = g.Node(path, "Pow", [x.Name, g.Scalar(3, dtype)]);
            var sum = g.Node(path, "Add", [x.Name, g.Node(path, "Mul", [cube, g.Scalar(0.044715, dtype)])]);
            inner = g.Node(path, "Tanh", [g.Node(path, "Mul", [sum, g.Scalar(Math.Sqrt(2 / Math.PI), dtype)])]);
        }
        else inner = g.Node(path, "Erf", [g.Node(path, "Mul", [x.Name, g.Scalar(1 / Math.Sqrt(2), dtype)])]);
        var half = g.Node(path, "Mul", [x.Name, g.Scalar(0.5, dtype)]);
        return new(g.Node(path, "Mul", [half, g.Node(path, "Add", [inner, g.Scalar(1, dtype)])]), F.Gelu(x.Value, approximate));
    }

    /// <summary>PRelu with the per-channel slope shaped [C, 1, …] so that it broadcasts over dim 1, as PyTorch applies it.</summary>
    static OnnxValue PRelu(OnnxGraphBuilder g, PReLU prelu, string path, OnnxValue x)
    {
        var w = prelu.Weight.Detach();
        if (w.NumEl != 1 && x.Value.Rank > 2)
            w = w.Reshape([w.NumEl, .. Enumerable.Repeat(1, x.Value.Rank - 2)]);
        return new(g.Node(path, "PRelu", [x.Name, g.Initializer(Join(path, "weight"), w)]), prelu.Call(x.Value));
    }

    /// <summary>
    /// log(1 + e^(βx))/β. PyTorch switches to the identity where βx &gt; threshold (20 by default); the two differ there
    /// by log(1 + e^(−βx))/β &lt; e^(−threshold)/β, negligible from a threshold of 15, so it needs no node of its own.
    /// </summary>
    static OnnxValue Softplus(OnnxGraphBuilder g, Softplus softplus, string path, OnnxValue x)
    {
        var value = softplus.Call(x.Value);
        if (softplus.Threshold < 15)
            throw Unsupported(path, softplus, $"threshold {softplus.Threshold} is not supported (ONNX Softplus has none; from a threshold of 15 the difference is below e^-15/beta)");
        if (softplus.Beta == 1) return Unary(g, path, "Softplus", x, value);
        var scaled = g.Node(path, "Mul", [x.Name, g.Scalar(softplus.Beta, x.Value.DType)]);
        return new(g.Node(path, "Div", [g.Node(path, "Softplus", [scaled]), g.Scalar(softplus.Beta, x.Value.DType)]), value);
    }
}
