using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn.Losses;

/// <summary>F.CtcLoss / CTCLoss against libtorch (Reference/Nn/ctc_loss.oracle.csx), gradcheck through log_softmax, errors.</summary>
public class CtcLossTests
{
    /// <summary>The oracle's logits: sin(a·i + 0.3)·2, a float64 leaf.</summary>
    static Tensor In(int[] shape, double a) => Ember.Tests.Ops.OracleHarness.In(shape, a, scale: 2);
    static Tensor L(params long[] v) => Torch.FromArray(v, [v.Length]);
    static Tensor Lp(Tensor logits) => logits.LogSoftmax(2);
    static readonly Tensor Padded = L(1, 2, 2, 3, 1, 0).Reshape(2, 3);
    static readonly Tensor Concat = L(1, 2, 2, 3, 1);
    static Tensor[] One(Tensor t) => [t];

    // the same list as ctc_loss.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["padded_mean"] = (() => [In([6, 2, 4], 0.9)], a => One(F.CtcLoss(Lp(a[0]), Padded, L(6, 5), L(3, 2)))),
        ["concatenated_sum"] = (() => [In([6, 2, 4], 0.9)], a => One(F.CtcLoss(Lp(a[0]), Concat, L(6, 5), L(3, 2), reduction: Reduction.Sum))),
        ["none_blank_last"] = (() => [In([5, 3, 4], 1.3)], a => One(F.CtcLoss(Lp(a[0]), L(0, 1, 2, 2, 0, 1).Reshape(3, 2), L(5, 4, 3), L(2, 2, 1), blank: 3, reduction: Reduction.None))),
        ["repeats_need_blank"] = (() => [In([7, 1, 3], 0.7)], a => One(F.CtcLoss(Lp(a[0]), L(1, 1, 2, 2).Reshape(1, 4), L(7), L(4), reduction: Reduction.None))),
        ["logprobs_leaf"] = (() => [Lp(In([6, 2, 4], 0.9)).Detach().RequiresGradInPlace()], a => One(F.CtcLoss(a[0], Padded, L(6, 5), L(3, 2)))),
        ["zero_infinity"] = (() => [In([4, 2, 4], 1.1)], a => One(F.CtcLoss(Lp(a[0]), L(1, 2, 3, 1, 1, 0).Reshape(2, 3), L(2, 4), L(3, 2), reduction: Reduction.None, zeroInfinity: true))),
        ["infinite"] = (() => [In([4, 2, 4], 1.1)], a => One(F.CtcLoss(Lp(a[0]), L(1, 2, 3, 1, 1, 0).Reshape(2, 3), L(2, 4), L(3, 2), reduction: Reduction.None))),
        ["empty_target_mean"] = (() => [In([5, 2, 3], 0.8)], a => One(F.CtcLoss(Lp(a[0]), L(1, 2, 0, 0).Reshape(2, 2), L(5, 3), L(2, 0)))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradient_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(CtcLossReference.Cases[name], make(), f, rtol: 1e-9, atol: 1e-12);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(CtcLossReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Fact]
    public void Gradient_through_log_softmax_passes_float64_gradcheck()
    {
        var logits = TestUtil.Leaf([6, 2, 4], 5);
        GradCheck.Check(x => F.CtcLoss(x[0].LogSoftmax(2), Padded, L(6, 5), L(3, 2)), [logits]);
        GradCheck.Check(x => F.CtcLoss(x[0].LogSoftmax(2), Concat, L(6, 4), L(3, 2), blank: 0, reduction: Reduction.None).Square().Sum(), [logits]);
    }

    [Fact]
    public void Brute_force_sum_over_alignments_agrees()
    {
        // T = 3, C = 3, target [1, 2]: every path of length 3 that collapses to "1 2" (drop repeats, then blanks)
        var lp = Torch.Randn([3, 1, 3], DType.Float64, new Generator(3)).LogSoftmax(2);
        var p = lp.Exp().ToArray<double>();
        double total = 0;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 3; c++)
                {
                    var collapsed = new List<int>();
                    int prev = -1;
                    foreach (var k in new[] { a, b, c }) { if (k != prev && k != 0) collapsed.Add(k); prev = k; }
                    if (collapsed.SequenceEqual([1, 2])) total += p[a] * p[3 + b] * p[6 + c];
                }
        var loss = F.CtcLoss(lp, L(1, 2).Reshape(1, 2), L(3), L(2), reduction: Reduction.Sum);
        Assert.Equal(-Math.Log(total), loss.Item(), 1e-12);
    }

    [Fact]
    public void Unbatched_float32_and_the_module_agree_with_the_batched_float64_form()
    {
        var lp = Torch.Randn([5, 4], DType.Float64, new Generator(4)).LogSoftmax(1);
        var batched = F.CtcLoss(lp.Unsqueeze(1), L(3, 1).Reshape(1, 2), L(5), L(2), reduction: Reduction.None);
        var unbatched = F.CtcLoss(lp, L(3, 1), L(5), L(2), reduction: Reduction.None);
        Assert.Equal(new Shape(), unbatched.Shape);
        Assert.Equal(batched.Item(), unbatched.Item(), 1e-12);
        var f32 = new CTCLoss(reduction: Reduction.None).Forward(lp.To(DType.Float32).Unsqueeze(1), L(3, 1).Reshape(1, 2), L(5), L(2));
        Assert.Equal(DType.Float32, f32.DType);
        Assert.Equal(batched.Item(), f32.Item(), 1e-5);
    }

    [Fact]
    public void Errors_name_the_argument()
    {
        var lp = Torch.Zeros([4, 2, 3], DType.Float64);
        Assert.Contains("ctc_loss: Expected input_lengths to have value at most 4, but got value 5",
            Assert.Throws<ArgumentException>(() => F.CtcLoss(lp, Padded.Narrow(1, 0, 2), L(5, 4), L(2, 2))).Message);
        Assert.Contains("ctc_loss: blank must be in label range [0, 3), got 3",
            Assert.Throws<ArgumentException>(() => F.CtcLoss(lp, Padded.Narrow(1, 0, 2), L(4, 4), L(2, 2), blank: 3)).Message);
        Assert.Contains("ctc_loss: target label 3 of sample 1 is outside [0, 3)",
            Assert.Throws<ArgumentException>(() => F.CtcLoss(lp, Padded.Narrow(1, 0, 2), L(4, 4), L(2, 2))).Message);
        Assert.Contains("ctc_loss: expected log_probs of shape (T, N, C)",
            Assert.Throws<ArgumentException>(() => F.CtcLoss(Torch.Zeros([2, 2, 2, 2]), Padded, L(1, 1), L(1, 1))).Message);
    }
}
