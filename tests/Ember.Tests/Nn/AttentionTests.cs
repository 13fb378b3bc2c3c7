using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using static Ember.Tests.Nn.NnTestUtil;

namespace Ember.Tests.Nn;

public class AttentionTests
{
    static (Tensor Q, Tensor K, Tensor V) Sdpa() => (Leaf(Det([2, 3, 4], 0.41, 0.3, 1.0)), Leaf(Det([2, 5, 4], 0.29, 0.7, 1.0)), Leaf(Det([2, 5, 6], 0.17, 1.1, 1.0)));

    [Fact]
    public void Scaled_dot_product_attention_matches_PyTorch_with_every_mask_kind()
    {
        var (q, k, v) = Sdpa();
        var y = F.ScaledDotProductAttention(q, k, v);
        Backward(y);
        Close("sdpa.y", y);
        Close("sdpa.dq", q.Grad!);
        Close("sdpa.dk", k.Grad!);
        Close("sdpa.dv", v.Grad!);
        var mask = Torch.FromArray(new[] { true, false, true, true, false, true, true, false, true, true, false, false, true, true, true }, [3, 5]);
        Close("sdpa_bool.y", F.ScaledDotProductAttention(q, k, v, mask));
        Close("sdpa_float.y", F.ScaledDotProductAttention(q, k, v, Det([3, 5], 0.77, 0.2, 1.0)));
        Close("sdpa_causal.y", F.ScaledDotProductAttention(q, k, v, isCausal: true));
        // an explicit scale s equals the default on q·(s·√E)
        TestUtil.Close(F.ScaledDotProductAttention(q * (0.3 * 2), k, v), F.ScaledDotProductAttention(q, k, v, scale: 0.3), 1e-5, 1e-6);
        Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(q, k, v, mask, isCausal: true));
        GradCheck.Check(xs => F.ScaledDotProductAttention(xs[0], xs[1], xs[2], isCausal: true),
            [TestUtil.Leaf([2, 3, 4], 1), TestUtil.Leaf([2, 5, 4], 2), TestUtil.Leaf([2, 5, 6], 3)]);
    }

    static MultiheadAttention Mha(bool batchFirst = false)
    {
        var mha = new MultiheadAttention(8, 2, batchFirst: batchFirst);
        Set(mha.InProjWeight, Det([24, 8], 0.1, 0.0, 0.3));
        Set(mha.InProjBias!, Det([24], 1.0, 0.5, 0.1));
        Set(mha.OutProj.Weight, Det([8, 8], 0.2, 0.25, 0.3));
        Set(mha.OutProj.Bias!, Det([8], 1.3, 0.0, 0.1));
        return mha;
    }

    static (Tensor Q, Tensor K, Tensor V) MhaInputs() => (Leaf(Det([3, 2, 8], 0.41, 0.3, 1.0)), Leaf(Det([4, 2, 8], 0.29, 0.7, 1.0)), Leaf(Det([4, 2, 8], 0.17, 1.1, 1.0)));

    [Fact]
    public void MultiheadAttention_has_PyTorch_names_and_init()
    {
        var mha = new MultiheadAttention(8, 2);
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], mha.NamedParameters().Select(p => p.Name));
        Assert.Equal(new Shape(24, 8), mha.InProjWeight.Shape);
        Assert.All(mha.InProjBias!.ToDoubleArray(), v => Assert.Equal(0, v));
        Assert.All(mha.OutProj.Bias!.ToDoubleArray(), v => Assert.Equal(0, v));
        double xavier = Math.Sqrt(6.0 / (8 + 24));
        Assert.All(mha.InProjWeight.ToDoubleArray(), v => Assert.InRange(v, -xavier, xavier));
        var ex = Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3));
        Assert.Contains("(10)", ex.Message);
        Assert.Contains("(3)", ex.Message);
    }

    [Fact]
    public void MultiheadAttention_matches_PyTorch_output_weights_and_gradients()
    {
        var mha = Mha();
        var (q, k, v) = MhaInputs();
        var (o, w) = mha.Forward(q, k, v);
        Backward(o);
        Close("mha.y", o);
        Close("mha.w", w!);
        Close("mha.dq", q.Grad!, atol: 1e-6);
        Close("mha.dk", k.Grad!, atol: 1e-6);
        Close("mha.d_in_proj_weight", mha.InProjWeight.Grad!, atol: 1e-6);
        Close("mha.d_out_proj_weight", mha.OutProj.Weight.Grad!);

        var kpm = Torch.FromArray(new[] { false, false, false, true, false, false, true, true }, [2, 4]);
        var (o2, w2) = mha.Forward(q, k, v, keyPaddingMask: kpm);
        Close("mha_kpm.y", o2);
        Close("mha_kpm.w", w2!);
        var am = Torch.FromArray(new[] { false, true, false, false, false, false, false, true, true, false, false, false }, [3, 4]);
        var (o3, w3) = mha.Forward(q, k, v, attnMask: am);
        Close("mha_mask.y", o3);
        Close("mha_mask.w", w3!);

        // per-head weights average to the averaged ones; need_weights=false gives the same output and no weights
        var (_, perHead) = mha.Forward(q, k, v, averageAttnWeights: false);
        Assert.Equal(new Shape(2, 2, 3, 4), perHead!.Shape);
        TestUtil.Close(w!, perHead.Mean(1), 1e-6, 1e-7);
        var (o4, none) = mha.Forward(q, k, v, needWeights: false);
        Assert.Null(none);
        TestUtil.Close(o, o4, 0, 0);
    }

    [Fact]
    public void MultiheadAttention_batch_first_and_unbatched_agree_with_sequence_first()
    {
        var (q, k, v) = MhaInputs();
        var (o, w) = Mha().Forward(q, k, v);
        var (ob, wb) = Mha(batchFirst: true).Forward(q.Transpose(0, 1), k.Transpose(0, 1), v.Transpose(0, 1));
        TestUtil.Close(o.Transpose(0, 1).Contiguous(), ob, 1e-6, 1e-7);
        TestUtil.Close(w!, wb!, 1e-6, 1e-7);
        var (ou, wu) = Mha().Forward(q.Select(1, 1), k.Select(1, 1), v.Select(1, 1));
        TestUtil.Close(o.Select(1, 1).Contiguous(), ou, 1e-6, 1e-7);
        TestUtil.Close(w!.Select(0, 1).Contiguous(), wu!, 1e-6, 1e-7);
        var ex = Assert.Throws<ArgumentException>(() => Mha().Forward(q, k, v, keyPaddingMask: Torch.Zeros([2, 3], DType.Bool)));
        Assert.Contains("[2, 4]", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
    }

    [Fact]
    public void MultiheadAttention_float64_gradcheck_through_the_projections()
    {
        var q = TestUtil.Leaf([3, 2, 4], 1); var kv = TestUtil.Leaf([5, 2, 4], 2);
        var w = TestUtil.Leaf([12, 4], 3, scale: 0.5); var b = TestUtil.Leaf([12], 4, scale: 0.1);
        var wo = TestUtil.Leaf([4, 4], 5, scale: 0.5); var bo = TestUtil.Leaf([4], 6, scale: 0.1);
        var kpm = Torch.FromArray(new[] { false, false, false, false, true, false, false, true, true, false }, [2, 5]);
        GradCheck.Check(xs => F.MultiHeadAttentionForward(xs[0], xs[1], xs[1], 2, xs[2], xs[3], xs[4], xs[5], kpm).Output, [q, kv, w, b, wo, bo]);
        // Batch-first inputs [N, L, E] are attended in that layout (heads cut as views, no transposed copies).
        var qb = TestUtil.Leaf([2, 3, 4], 7); var kvb = TestUtil.Leaf([2, 5, 4], 8);
        GradCheck.Check(xs => F.MultiHeadAttentionForward(xs[0], xs[1], xs[1], 2, xs[2], xs[3], xs[4], xs[5], kpm, batchFirst: true).Output,
            [qb, kvb, w, b, wo, bo]);
    }

    [Fact]
    public void MultiheadAttention_batch_first_output_is_contiguous_and_equals_the_sequence_first_result()
    {
        var (q, k, v) = MhaInputs();
        var (o, _) = Mha().Forward(q, k, v, needWeights: false);
        Tensor qb = q.Transpose(0, 1).Contiguous(), kb = k.Transpose(0, 1).Contiguous(), vb = v.Transpose(0, 1).Contiguous();
        var (ob, _) = Mha(batchFirst: true).Forward(qb, kb, vb, needWeights: false);
        // Returned in place as [N, L, E], not as a transposed view of an [L, N, E] result.
        Assert.True(ob.IsContiguous);
        // The same products on the same rows, only laid out batch-first: the bits agree.
        Assert.Equal(o.Transpose(0, 1).Contiguous().ToArray<float>(), ob.ToArray<float>());
    }

    static TransformerEncoderLayer SmallLayer(bool normFirst = false, TransformerActivation act = TransformerActivation.Relu)
    {
        var layer = new TransformerEncoderLayer(8, 2, 16, 0.0, act, normFirst: normFirst);
        var named = layer.NamedParameters().ToList();
        for (int i = 0; i < named.Count; i++) Set(named[i].Parameter, Det(named[i].Parameter.Shape.ToArray(), 0.1 + 0.01 * i, 0.3 * i, 0.3));
        return layer;
    }

    [Fact]
    public void TransformerEncoderLayer_matches_PyTorch_names_count_and_output()
    {
        var layer = SmallLayer();
        Assert.Equal(["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"],
            layer.NamedParameters().Select(p => p.Name));
        Assert.Equal(["self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"],
            layer.NamedModules().Skip(1).Select(m => m.Name));
        var src = Det([5, 2, 8], 0.21, 0.4, 1.0);
        layer.Eval();
        Close("tel.y", layer.Call(src));
        Close("tel_prenorm_gelu.y", SmallLayer(normFirst: true, TransformerActivation.Gelu).Call(src));
        Assert.Equal((long)Ref("tel128.param_count")[0], new TransformerEncoderLayer(128, 4, 512).ParameterCount());
        Assert.Equal(198272, new TransformerEncoderLayer(128, 4, 512).ParameterCount());
    }

    [Fact]
    public void TransformerEncoder_stacks_copies_and_applies_the_final_norm()
    {
        var layer = SmallLayer();
        var enc = new TransformerEncoder(layer, 2, new LayerNorm(8));
        Assert.StartsWith("layers.0.self_attn.in_proj_weight", enc.NamedParameters().First().Name);
        Assert.Contains(enc.NamedParameters(), p => p.Name == "layers.1.norm2.bias");
        Assert.Contains(enc.NamedParameters(), p => p.Name == "norm.weight");
        Assert.NotSame(enc.Layers[0], enc.Layers[1]);
        Assert.Equal(2 * layer.ParameterCount() + 16, enc.ParameterCount());
        enc.Eval(); layer.Eval();
        var src = Det([5, 2, 8], 0.21, 0.4, 1.0);
        var mask = F.CausalMask(5, 5).LogicalNot();
        var expected = F.LayerNorm(layer.Forward(layer.Forward(src, mask, null), mask, null), [8]);
        TestUtil.Close(expected, enc.Forward(src, mask, null), 1e-5, 1e-6);
        TestUtil.Close(enc.Forward(src, null, null, isCausal: true), enc.Forward(src, mask, null), 0, 0);
    }

    [Fact]
    public void Positional_encodings_follow_the_formula_and_learned_ones_train()
    {
        var pe = new PositionalEncoding(6, dropout: 0, maxLen: 10);
        Assert.Empty(pe.StateDict());
        var x = Torch.Zeros(4, 2, 6);
        var y = pe.Call(x);
        for (int pos = 0; pos < 4; pos++)
            for (int i = 0; i < 6; i += 2)
            {
                double angle = pos / Math.Pow(10000, i / 6.0);
                Assert.Equal(Math.Sin(angle), y[pos, 1, i].Item(), 1e-6);
                Assert.Equal(Math.Cos(angle), y[pos, 0, i + 1].Item(), 1e-6);
            }
        var learned = new LearnedPositionalEmbedding(10, 6, generator: new Generator(1));
        var input = Torch.Zeros(2, 4, 6);
        var out_ = learned.Call(input);
        TestUtil.Close(learned.Weight.Narrow(0, 0, 4), out_.Select(0, 1), 0, 0);
        out_.Sum().Backward();
        TestUtil.Close(Enumerable.Range(0, 60).Select(i => i < 24 ? 2.0 : 0.0).ToArray(), learned.Weight.Grad!);
        Assert.Throws<ArgumentException>(() => learned.Call(Torch.Zeros(1, 11, 6)));
    }
}
