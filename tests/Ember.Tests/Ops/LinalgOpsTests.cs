using Ember.Nn.Functional;
using static Ember.Tests.Reference.CoreInputs;
using Ember.Tests.Reference;

namespace Ember.Tests.Ops;

/// <summary>LinalgOps: matmul in every PyTorch rank combination, mm, bmm, outer, addmm, against libtorch.</summary>
public class LinalgOpsTests
{
    static readonly Dictionary<string, Func<Tensor>> Cases = new()
    {
        ["Dot"] = () => Row.MatMul(Row * 0.5 + 0.1), ["MatVec"] = () => A.MatMul(Row), ["VecMat"] = () => V3.MatMul(A),
        ["MatMat"] = () => A.MatMul(M45), ["BatchMat"] = () => C.MatMul(M45), ["MatBatch"] = () => A.MatMul(D),
        ["BatchBroadcast"] = () => C.Reshape(2, 1, 3, 4).MatMul(E), ["BatchVec"] = () => C.MatMul(Row), ["VecBatch"] = () => V3.MatMul(C),
        ["Mm"] = () => A.Mm(M45), ["Bmm"] = () => C.Bmm(D), ["Outer"] = () => V3.Outer(Row),
        ["AddMm"] = () => Bias.AddMm(A, M45, beta: 0.5, alpha: 2),
    };

    public static TheoryData<string> Names => OracleCases.Names(Cases);

    [Theory, MemberData(nameof(Names))]
    public void Forward_matches_libtorch(string name) => OracleCases.Check(name, Cases[name](), rtol: 1e-5, atol: 1e-5);

    [Fact]
    public void Dot_of_vectors_is_a_scalar()
    {
        var y = Torch.Tensor(1f, 2f, 3f).Dot(Torch.Tensor(4f, 5f, 6f));
        Assert.Equal(0, y.Rank);
        Assert.Equal(32.0, y.Item());
        Assert.Equal(32.0, Torch.Dot(Torch.Tensor(1f, 2f, 3f), Torch.Tensor(4f, 5f, 6f)).Item());
    }

    [Fact]
    public void Transposed_and_sliced_operands_give_the_same_product_as_copies()
    {
        var at = A.T;                 // [4, 3] column-major view
        var m = M45.T;                // [5, 4]
        TestUtil.Close(m.Contiguous().MatMul(at.Contiguous()), m.MatMul(at), 1e-6, 1e-6);
        var s = C[.., .., 1..3];       // [2, 3, 2] with row stride 4
        TestUtil.Close(s.Contiguous().MatMul(s.MT.Contiguous()), s.MatMul(s.MT), 1e-6, 1e-6);
        var expanded = M45.Unsqueeze(0).Expand(2, 4, 5); // batch stride 0
        TestUtil.Close(C.Bmm(expanded.Contiguous()), C.Bmm(expanded), 1e-6, 1e-6);
    }

    [Fact]
    public void Batch_dims_that_do_not_merge_are_read_in_place_with_the_values_and_gradients_of_copies()
    {
        // Attention heads cut from a batch-first projection: [N, L, H·d] → [N, H, L, d], whose (N, H) strides (L·H·d, d)
        // cannot fold into one batch dim; a key transposed to [N, H, d, L]; and a broadcast batch of 1 against H.
        Torch.ManualSeed(9);
        var qx = Torch.Randn([2, 7, 3 * 5]).RequiresGradInPlace();
        var kx = Torch.Randn([2, 6, 3 * 5]).RequiresGradInPlace();
        var w = Torch.Randn([2, 1, 7, 6]).RequiresGradInPlace();
        var g = Torch.Randn([2, 3, 7, 6]);
        var q = qx.Reshape(2, 7, 3, 5).Permute(0, 2, 1, 3);
        var kt = kx.Reshape(2, 6, 3, 5).Permute(0, 2, 3, 1);
        Assert.False(q.IsContiguous);
        var y = q.MatMul(kt);
        Assert.Equal(new Shape(2, 3, 7, 6), y.Shape);
        // The same products on contiguous copies: each head's GEMM sums the same terms in the same order, so the bits agree.
        var expected = q.Detach().Contiguous().MatMul(kt.Detach().Contiguous());
        Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
        // Against the naive sum over d, so both sides cannot be wrong together.
        var qa = q.Detach().Contiguous().ToArray<float>();
        var ka = kt.Detach().Contiguous().ToArray<float>();
        var ya = y.ToArray<float>();
        for (int b = 0; b < 6; b++)
            for (int i = 0; i < 7; i++)
                for (int j = 0; j < 6; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < 5; p++) sum += qa[(b * 7 + i) * 5 + p] * ka[(b * 5 + p) * 6 + j];
                    Assert.Equal(sum, ya[(b * 7 + i) * 6 + j], 1e-5);
                }
        y.Backward(g);
        var qc = q.Detach().Contiguous().RequiresGradInPlace();
        var kc = kt.Detach().Contiguous().RequiresGradInPlace();
        qc.MatMul(kc).Backward(g);
        Assert.Equal(qc.Grad!.Permute(0, 2, 1, 3).Reshape(2, 7, 15).ToArray<float>(), qx.Grad!.ToArray<float>());
        Assert.Equal(kc.Grad!.Permute(0, 3, 1, 2).Reshape(2, 6, 15).ToArray<float>(), kx.Grad!.ToArray<float>());

        // An expanded batch dim (stride 0): its gradient sums over the broadcast heads.
        var v = kx.Detach().Reshape(2, 6, 3, 5).Permute(0, 2, 1, 3);   // [2, 3, 6, 5], a view
        var o = w.MatMul(v);
        Assert.Equal(w.Detach().Expand(2, 3, 7, 6).Contiguous().MatMul(v.Contiguous()).ToArray<float>(), o.ToArray<float>());
        var go = Torch.Randn([2, 3, 7, 5]);
        o.Backward(go);
        TestUtil.Close(go.MatMul(v.Contiguous().MT).Sum([1], keepDim: true), w.Grad!, 1e-5, 1e-5);
    }

    [Fact]
    public void Empty_inner_dimension_gives_zeros()
    {
        var y = Torch.Empty([3, 0]).MatMul(Torch.Empty([0, 2]));
        Assert.Equal(new Shape(3, 2), y.Shape);
        TestUtil.Close(new double[6], y);
    }
}

public class MatMulGradientLayoutTests
{
    [Fact]
    public void GradientOfATransposedOperandIsComputedInItsLayoutWithTheSameValues()
    {
        // linear: y = x·Wᵀ. W's gradient is computed as (gᵀ·x) directly in W's row-major layout, not as a transposed view.
        Torch.ManualSeed(5);
        var x = Torch.Randn([6, 40]).RequiresGradInPlace();
        var w = Torch.Randn([24, 40]).RequiresGradInPlace();
        var g = Torch.Randn([6, 24]);
        // Torch.Grad hands back the gradient as computed (Backward would copy it into .Grad).
        var raw = Torch.Grad([x.MatMul(w.T)], [w], [g])[0]!;
        Assert.True(raw.IsContiguous);
        x.MatMul(w.T).Backward(g);
        // The reference: the same products summed in the same order, as (xᵀ·g)ᵀ made contiguous.
        var expected = x.Detach().T.MatMul(g).T.Contiguous();
        Assert.Equal(expected.ToArray<float>(), w.Grad!.ToArray<float>());
        Assert.Equal(g.MatMul(w.Detach()).ToArray<float>(), x.Grad!.ToArray<float>());

        // A transposed left operand: a = Aᵀ view.
        var a = Torch.Randn([40, 6]).RequiresGradInPlace();
        var b = Torch.Randn([40, 24]);
        Assert.True(Torch.Grad([a.T.MatMul(b)], [a], [g])[0]!.IsContiguous);
        a.T.MatMul(b).Backward(g);
        Assert.Equal(g.MatMul(b.T).T.Contiguous().ToArray<float>(), a.Grad!.ToArray<float>());
    }

    [Fact]
    public void GradientsOfPermutedHeadViewsAreComputedInTheirLayoutWithTheSameValues()
    {
        // Attention heads [N, H, L, d] cut from [N, L, H·d]: the gradients of q (left operand) and of k (right operand,
        // transposed) come back laid out as the heads lie, so the reshape back to [N, L, H·d] is a view.
        Torch.ManualSeed(11);
        var qx = Torch.Randn([2, 7, 3 * 5]).RequiresGradInPlace();
        var kx = Torch.Randn([2, 6, 3 * 5]).RequiresGradInPlace();
        var g = Torch.Randn([2, 3, 7, 6]);
        Tensor q = qx, k = kx;
        // one thread runs the products in a loop, more split the batch: the layout and the bits must not depend on it
        int saved = Torch.NumThreads;
        Tensor?[] grads = [];
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                Torch.NumThreads = threads;
                q = qx.Reshape(2, 7, 3, 5).Permute(0, 2, 1, 3);
                k = kx.Reshape(2, 6, 3, 5).Permute(0, 2, 1, 3);
                var these = Torch.Grad([q.MatMul(k.MT)], [q, k], [g]);
                Assert.True(these[0]!.Permute(0, 2, 1, 3).IsContiguous);
                Assert.True(these[1]!.Permute(0, 2, 1, 3).IsContiguous);
                if (grads.Length > 0)
                {
                    Assert.Equal(grads[0]!.ToArray<float>(), these[0]!.ToArray<float>());
                    Assert.Equal(grads[1]!.ToArray<float>(), these[1]!.ToArray<float>());
                }
                grads = these;
            }
        }
        finally { Torch.NumThreads = saved; }
        // The same products on contiguous copies sum the same terms in the same order: the same bits.
        var qc = q.Detach().Contiguous().RequiresGradInPlace();
        var kc = k.Detach().Contiguous().RequiresGradInPlace();
        qc.MatMul(kc.MT).Backward(g);
        Assert.Equal(qc.Grad!.ToArray<float>(), grads[0]!.ToArray<float>());
        Assert.Equal(kc.Grad!.ToArray<float>(), grads[1]!.ToArray<float>());
        // Against the naive sums: dq[b, i, p] = Σ_j g[b, i, j]·k[b, j, p], dk[b, j, p] = Σ_i g[b, i, j]·q[b, i, p].
        var ga = g.ToArray<float>();
        var qa = q.Detach().Contiguous().ToArray<float>();
        var ka = k.Detach().Contiguous().ToArray<float>();
        var dq = grads[0]!.Contiguous().ToArray<float>();
        var dk = grads[1]!.Contiguous().ToArray<float>();
        for (int b = 0; b < 6; b++)
            for (int p = 0; p < 5; p++)
            {
                for (int i = 0; i < 7; i++)
                {
                    double sum = 0;
                    for (int j = 0; j < 6; j++) sum += (double)ga[(b * 7 + i) * 6 + j] * ka[(b * 6 + j) * 5 + p];
                    Assert.Equal(sum, dq[(b * 7 + i) * 5 + p], 1e-5);
                }
                for (int j = 0; j < 6; j++)
                {
                    double sum = 0;
                    for (int i = 0; i < 7; i++) sum += (double)ga[(b * 7 + i) * 6 + j] * qa[(b * 7 + i) * 5 + p];
                    Assert.Equal(sum, dk[(b * 6 + j) * 5 + p], 1e-5);
                }
            }
    }

    [Fact]
    public void AttentionOutputIsLaidOutAsItsValueWithTheSameValues()
    {
        // softmax(q·kᵀ)·v on heads cut from [N, L, H·d]: the output lies as [N, L, H, d], so joining the heads is a view.
        Torch.ManualSeed(12);
        Tensor Heads(int l) => Torch.Randn([2, l, 3 * 4]).Reshape(2, l, 3, 4).Permute(0, 2, 1, 3);
        var q = Heads(5);
        var k = Heads(6);
        var v = Heads(6);
        var o = F.ScaledDotProductAttention(q, k, v);
        Assert.Equal(new Shape(2, 3, 5, 4), o.Shape);
        Assert.True(o.Permute(0, 2, 1, 3).IsContiguous);
        var expected = F.ScaledDotProductAttention(q.Contiguous(), k.Contiguous(), v.Contiguous());
        Assert.True(expected.IsContiguous);
        Assert.Equal(expected.ToArray<float>(), o.ToArray<float>());
    }

    [Fact]
    public void DenseOrderNamesHowAPermutedDenseViewLies()
    {
        var heads = Torch.Zeros([2, 7, 3, 5]).Permute(0, 2, 1, 3);              // [N, H, L, d] lying as [N, L, H, d]
        Assert.Equal(new[] { 0, 2, 1, 3 }, Ember.Ops.LinalgOps.DenseOrder(heads));
        var seqFirst = Torch.Zeros([7, 2, 3, 5]).Permute(1, 2, 0, 3);           // [L, N, E] inputs: lying as [L, N, H, d]
        Assert.Equal(new[] { 2, 0, 1, 3 }, Ember.Ops.LinalgOps.DenseOrder(seqFirst));
        Assert.Null(Ember.Ops.LinalgOps.DenseOrder(Torch.Zeros([2, 3, 4])));      // contiguous: stored as usual
        Assert.Null(Ember.Ops.LinalgOps.DenseOrder(heads.MT));                    // last dim not innermost
        Assert.Null(Ember.Ops.LinalgOps.DenseOrder(Torch.Zeros([2, 7, 4, 5])[.., .., 1..3, ..].Permute(0, 2, 1, 3))); // not dense
        Assert.Null(Ember.Ops.LinalgOps.DenseOrder(Torch.Zeros([1, 7, 5]).Expand(3, 7, 5)));                        // expanded
        Assert.Null(Ember.Ops.LinalgOps.DenseOrder(Torch.Zeros([7, 5])));                                             // 2-D
    }
}
