using Ember.Ops;

namespace Ember.Tests.Nn.Recurrent;

/// <summary>
/// The fused time loops (LstmSequenceOp, GruSequenceOp, RnnSequenceOp) against the loop composed from differentiable
/// ops (their oracle): values and every gradient, in float64, both directions, over a packed batch.
/// </summary>
public class FusedSequenceOpTests
{
    [Theory]
    [InlineData(nameof(RecurrentMode.Lstm), false, false)]
    [InlineData(nameof(RecurrentMode.Lstm), true, false)]
    [InlineData(nameof(RecurrentMode.Lstm), false, true)]
    [InlineData(nameof(RecurrentMode.Lstm), true, true)]
    [InlineData(nameof(RecurrentMode.Gru), false, false)]
    [InlineData(nameof(RecurrentMode.Gru), true, false)]
    [InlineData(nameof(RecurrentMode.RnnTanh), false, false)]
    [InlineData(nameof(RecurrentMode.RnnTanh), true, false)]
    [InlineData(nameof(RecurrentMode.RnnRelu), false, false)]
    [InlineData(nameof(RecurrentMode.RnnRelu), true, false)]
    public void MatchesComposedLoop(string modeName, bool reverse, bool projection)
    {
        var mode = Enum.Parse<RecurrentMode>(modeName);
        int[] sizes = [4, 4, 3, 1, 1];   // a packed batch of lengths 5, 3, 3, 2
        int rows = sizes.Sum(), hin = 3, hidden = 4, p = projection ? 2 : hidden, gates = RecurrentOps.GateCount(mode) * hidden;
        bool lstm = mode == RecurrentMode.Lstm;
        (Tensor Out, Tensor H, Tensor? C, Tensor?[] Grads) Run(bool fused)
        {
            var x = TestUtil.Leaf([rows, hin], 1);
            var wIh = TestUtil.Leaf([gates, hin], 2, 0.5);
            var wHh = TestUtil.Leaf([gates, p], 3, 0.5);
            var bIh = TestUtil.Leaf([gates], 4, 0.3);
            var bHh = TestUtil.Leaf([gates], 5, 0.3);
            var wHr = projection ? TestUtil.Leaf([p, hidden], 6, 0.5) : null;
            var h0 = TestUtil.Leaf([4, p], 7, 0.5);
            var c0 = lstm ? TestUtil.Leaf([4, hidden], 8, 0.5) : null;
            var (o, h, c) = RecurrentOps.RunDirection(mode, x, sizes, wIh, wHh, bIh, bHh, wHr, h0, c0, reverse, fused: fused);
            var loss = (o * Torch.Randn(o.Shape.ToArray(), DType.Float64, new Generator(9))).Sum()
                + (h * Torch.Randn(h.Shape.ToArray(), DType.Float64, new Generator(10))).Sum();
            if (c is not null) loss = loss + (c * Torch.Randn(c.Shape.ToArray(), DType.Float64, new Generator(11))).Sum();
            loss.Backward();
            return (o, h, c, [x.Grad, wIh.Grad, wHh.Grad, bIh.Grad, bHh.Grad, wHr?.Grad, h0.Grad, c0?.Grad]);
        }
        var fused = Run(true);
        var composed = Run(false);
        TestUtil.Close(composed.Out, fused.Out, 1e-12, 1e-13);
        TestUtil.Close(composed.H, fused.H, 1e-12, 1e-13);
        if (lstm) TestUtil.Close(composed.C!, fused.C!, 1e-12, 1e-13);
        else Assert.Null(fused.C);
        for (int i = 0; i < fused.Grads.Length; i++)
        {
            if (composed.Grads[i] is null) { Assert.Null(fused.Grads[i]); continue; }
            TestUtil.Close(composed.Grads[i]!, fused.Grads[i]!, 1e-10, 1e-12);
        }
    }
}
