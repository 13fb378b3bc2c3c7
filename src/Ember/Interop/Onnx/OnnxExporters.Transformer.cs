using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Interop;

// Attention as ONNX building blocks (opset 17 has no attention operator): projections by MatMul, heads by
// Reshape/Transpose, scores by MatMul and Softmax, as in PyTorch's own exporter.
static partial class OnnxExporters
{
    static void AddTransformers(Dictionary<Type, OnnxExporter> t)
    {
        Add<MultiheadAttention>(t, SelfAttention);
        Add<TransformerEncoderLayer>(t, EncoderLayer);
        Add<TransformerEncoder>(t, Encoder);
        Add<VisionTransformer>(t, VisionTransformer);
    }

    /// <summary>
    /// Self-attention without masks (Forward(x) = Forward(x, x, x)): qkv = x·W_inᵀ + b_in split into q, k, v;
    /// each [N, L, E] → [N, H, L, d]; softmax(q·kᵀ/√d)·v; heads joined back to [N, L, E]; out_proj.
    /// </summary>
    static OnnxValue SelfAttention(OnnxGraphBuilder g, MultiheadAttention mha, string path, OnnxValue x)
    {
        var value = mha.Call(x.Value);
        if (x.Value.Rank != 3) throw Unsupported(path, mha, $"expected a batched 3-D input, got shape {x.Value.Shape}");
        var input = mha.BatchFirst ? x : Transpose(g, path, x, 1, 0, 2); // [L, N, E] → [N, L, E]
        int e = mha.EmbedDim, h = mha.NumHeads, d = mha.HeadDim;
        var wt = g.Node(path, "Transpose", [Weight(g, path, "in_proj_weight", mha.InProjWeight)], AttributeProto.IntList("perm", 1, 0));
        var qkv = g.Node(path, "MatMul", [input.Name, wt]);
        if (mha.InProjBias is not null) qkv = g.Node(path, "Add", [qkv, Weight(g, path, "in_proj_bias", mha.InProjBias)]);
        string Head(int index, long[] perm)
        {
            var part = g.Node(path, "Slice", [qkv, g.Int64s(index * e), g.Int64s((index + 1) * e), g.Int64s(-1)]);
            var split = g.Node(path, "Reshape", [part, g.Int64s(0, 0, h, d)]);
            return g.Node(path, "Transpose", [split], AttributeProto.IntList("perm", perm));
        }
        var q = Head(0, [0, 2, 1, 3]);
        var kT = Head(1, [0, 2, 3, 1]);
        var v = Head(2, [0, 2, 1, 3]);
        var scores = g.Node(path, "Mul", [g.Node(path, "MatMul", [q, kT]), g.Scalar(1 / Math.Sqrt(d), x.Value.DType)]);
        var attended = g.Node(path, "MatMul", [g.Node(path, "Softmax", [scores], AttributeProto.Int("axis", -1)), v]);
        var joined = g.Node(path, "Reshape", [g.Node(path, "Transpose", [attended], AttributeProto.IntList("perm", 0, 2, 1, 3)), g.Int64s(0, 0, e)]);
        // joined has the input's shape [N, L, E]; the projection's Ember value is the attention output itself
        var output = Linear(g, mha.OutProj, Join(path, "out_proj"), new(joined, input.Value)) with { Value = mha.BatchFirst ? value : value.Transpose(0, 1) };
        return mha.BatchFirst ? output : Transpose(g, path, output, 1, 0, 2);
    }

    /// <summary>Post-norm x = norm1(x + sa(x)); x = norm2(x + ff(x)), or pre-norm x = x + sa(norm1(x)); x = x + ff(norm2(x)).</summary>
    static OnnxValue EncoderLayer(OnnxGraphBuilder g, TransformerEncoderLayer layer, string path, OnnxValue x)
    {
        OnnxValue Sa(OnnxValue v) => g.Export(layer.Dropout1, Join(path, "dropout1"), g.Export(layer.SelfAttn, Join(path, "self_attn"), v));
        OnnxValue Ff(OnnxValue v)
        {
            var hidden = g.Export(layer.Linear1, Join(path, "linear1"), v);
            hidden = layer.Activation == TransformerActivation.Gelu ? Gelu(g, Join(path, "activation"), hidden, GeluApproximate.None)
                : Unary(g, Join(path, "activation"), "Relu", hidden, hidden.Value.Relu());
            hidden = g.Export(layer.DropoutFf, Join(path, "dropout"), hidden);
            return g.Export(layer.Dropout2, Join(path, "dropout2"), g.Export(layer.Linear2, Join(path, "linear2"), hidden));
        }
        OnnxValue Norm1(OnnxValue v) => g.Export(layer.Norm1, Join(path, "norm1"), v);
        OnnxValue Norm2(OnnxValue v) => g.Export(layer.Norm2, Join(path, "norm2"), v);
        if (layer.NormFirst)
        {
            x = Add(g, path, x, Sa(Norm1(x)));
            return Add(g, path, x, Ff(Norm2(x)));
        }
        x = Norm1(Add(g, path, x, Sa(x)));
        return Norm2(Add(g, path, x, Ff(x)));
    }

    static OnnxValue Encoder(OnnxGraphBuilder g, TransformerEncoder encoder, string path, OnnxValue x)
    {
        int i = 0;
        foreach (var layer in encoder.Layers) x = g.Export(layer, Join(path, $"layers.{i++}"), x);
        return encoder.Norm is null ? x : g.Export(encoder.Norm, Join(path, "norm"), x);
    }

    /// <summary>
    /// Patch embedding → [N, dim, P] → [N, P, dim]; the class token expanded to the (dynamic) batch and prepended; the
    /// position embedding added; encoder, final norm, the class token's row, the head.
    /// </summary>
    static OnnxValue VisionTransformer(OnnxGraphBuilder g, VisionTransformer vit, string path, OnnxValue x)
    {
        var own = vit.NamedParameters(recurse: false).ToDictionary(p => p.Name, p => p.Parameter);
        var patches = ExportChild(g, vit, path, "patch_embed", x);                        // [N, dim, h, w]
        int dim = patches.Value.Size(1);
        var tokens = Transpose(g, path, Reshape(g, path, patches, 0, dim, -1), 0, 2, 1);   // [N, P, dim]
        var batch = g.Node(path, "Shape", [tokens.Name], AttributeProto.Int("start", 0), AttributeProto.Int("end", 1));
        var expandShape = g.Node(path, "Concat", [batch, g.Int64s(1, 1)], AttributeProto.Int("axis", 0));
        var classToken = own["cls_token"];
        var cls = new OnnxValue(g.Node(path, "Expand", [Weight(g, path, "cls_token", classToken), expandShape]), classToken.Expand(tokens.Value.Size(0), -1, -1));
        var joined = new OnnxValue(g.Node(path, "Concat", [cls.Name, tokens.Name], AttributeProto.Int("axis", 1)), Torch.Cat([cls.Value, tokens.Value], 1));
        var positioned = Add(g, path, joined, new OnnxValue(Weight(g, path, "pos_embed", own["pos_embed"]), own["pos_embed"]));
        var encoded = ExportChild(g, vit, path, "norm", ExportChild(g, vit, path, "encoder", positioned));
        var first = new OnnxValue(g.Node(path, "Gather", [encoded.Name, g.Int64Scalar(0)], AttributeProto.Int("axis", 1)), encoded.Value.Select(1, 0));
        return ExportChild(g, vit, path, "head", first);
    }
}
