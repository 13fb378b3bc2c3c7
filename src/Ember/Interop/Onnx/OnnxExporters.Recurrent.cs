using Ember.Nn;
using Ember.Nn.Layers.Recurrent;

namespace Ember.Interop;

// RNN, LSTM and GRU as ONNX's RNN, LSTM and GRU operators, one node per layer (both directions in one node).
static partial class OnnxExporters
{
    static void AddRecurrent(Dictionary<Type, OnnxExporter> t)
    {
        Add<RNN>(t, (g, m, p, x) => Recurrent(g, m, p, x, "RNN", gates: 1, order: [0],
            AttributeProto.StringList("activations", Enumerable.Repeat(m.Nonlinearity == RNNNonlinearity.Relu ? "Relu" : "Tanh", m.Bidirectional ? 2 : 1).ToArray())));
        // PyTorch's LSTM gates are (i, f, g, o), ONNX's (i, o, f, c): blocks 0, 3, 1, 2
        Add<LSTM>(t, (g, m, p, x) => Recurrent(g, m, p, x, "LSTM", gates: 4, order: [0, 3, 1, 2]));
        // PyTorch's GRU gates are (r, z, n), ONNX's (z, r, h): blocks 1, 0, 2; PyTorch applies the reset gate after the
        // recurrent product (r ⊙ (W_hn·h + b_hn)), which is ONNX's linear_before_reset = 1
        Add<GRU>(t, (g, m, p, x) => Recurrent(g, m, p, x, "GRU", gates: 3, order: [1, 0, 2], AttributeProto.Int("linear_before_reset", 1)));
    }

    /// <summary>
    /// Each layer is one ONNX node over X (L, N, C) with W (D, G·H, C), R (D, G·H, H), B (D, 2·G·H) = [W_b, R_b], the
    /// gate blocks reordered from PyTorch's order by <paramref name="order"/>; its Y (L, D, N, H) becomes (L, N, D·H) by a
    /// Transpose and a Reshape, the next layer's input. Initial states are zeros (Forward(Tensor) without h_0), dropout
    /// between layers is the identity in eval mode; batch-first input is transposed in and out.
    /// </summary>
    static OnnxValue Recurrent(OnnxGraphBuilder g, RNNBase m, string path, OnnxValue x, string op, int gates, int[] order, params AttributeProto[] extra)
    {
        if (m.ProjSize > 0) throw Unsupported(path, m, $"proj_size {m.ProjSize}: ONNX's LSTM operator has no projection");
        if (x.Value.Rank != 3) throw Unsupported(path, m, $"export needs a batched sample input (3 dimensions), got shape {x.Value.Shape}");
        var value = m.Call(x.Value);
        var seqFirst = m.BatchFirst ? value.Transpose(0, 1) : value;
        int directions = m.Bidirectional ? 2 : 1, h = m.HiddenSize;
        var parameters = m.NamedParameters(recurse: false).ToDictionary(p => p.Name, p => (Tensor)p.Parameter);
        var seq = m.BatchFirst ? Transpose(g, path, x, 1, 0, 2) : x;
        for (int layer = 0; layer < m.NumLayers; layer++)
        {
            var ws = new List<Tensor>(); var rs = new List<Tensor>(); var bs = new List<Tensor>();
            for (int d = 0; d < directions; d++)
            {
                string suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                ws.Add(Reorder(parameters["weight_ih" + suffix], order, h));
                rs.Add(Reorder(parameters["weight_hh" + suffix], order, h));
                bs.Add(m.Bias
                    ? Torch.Cat([Reorder(parameters["bias_ih" + suffix], order, h), Reorder(parameters["bias_hh" + suffix], order, h)], 0)
                    : Torch.Zeros(2 * gates * h));
            }
            string l = $"l{layer}";
            var inputs = new List<string>
            {
                seq.Name,
                g.Initializer(Join(path, $"onnx_W_{l}"), Torch.Stack([.. ws], 0)),
                g.Initializer(Join(path, $"onnx_R_{l}"), Torch.Stack([.. rs], 0)),
                g.Initializer(Join(path, $"onnx_B_{l}"), Torch.Stack([.. bs], 0)),
            };
            var attributes = new List<AttributeProto>
            {
                AttributeProto.Int("hidden_size", h),
                AttributeProto.String("direction", m.Bidirectional ? "bidirectional" : "forward"),
            };
            attributes.AddRange(extra);
            var y = g.Node(path, op, inputs, [.. attributes]);                               // (L, D, N, H)
            var yt = g.Node(path, "Transpose", [y], AttributeProto.IntList("perm", 0, 2, 1, 3)); // (L, N, D, H)
            // every layer's output has the last one's shape (L, N, D·H); only the last one's values are read downstream
            seq = new OnnxValue(g.Node(path, "Reshape", [yt, g.Int64s(0, 0, -1)]), seqFirst);
        }
        return m.BatchFirst ? new OnnxValue(g.Node(path, "Transpose", [seq.Name], AttributeProto.IntList("perm", 1, 0, 2)), value) : seq;
    }

    /// <summary>A (G·H, …) weight or (G·H) bias with its H-row gate blocks in the order <paramref name="order"/>.</summary>
    static Tensor Reorder(Tensor weight, int[] order, int h)
    {
        var blocks = new Tensor[order.Length];
        for (int i = 0; i < order.Length; i++) blocks[i] = weight.Detach().Narrow(0, order[i] * h, h);
        return Torch.Cat(blocks, 0);
    }
}
