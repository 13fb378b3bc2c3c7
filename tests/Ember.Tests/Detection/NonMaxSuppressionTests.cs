using Ember.Detection.Model;
using Ember.Nn;

namespace Ember.Tests.Detection;

public class NonMaxSuppressionTests
{
    // image 0, rows [cx, cy, w, h, obj, cls0, cls1]: A and B overlap (IoU 90/110 = 0.82) with class 0 best; C is B's box with
    // class 1 best; D has low objectness; E a low obj·cls score. Image 1 has nothing above threshold.
    static Tensor Predictions() => Torch.FromArray(new float[]
    {
        10, 10, 10, 10, 0.9f, 0.9f, 0.1f,
        11, 10, 10, 10, 0.8f, 0.8f, 0.3f,
        11, 10, 10, 10, 0.8f, 0.2f, 0.9f,
        50, 50, 10, 10, 0.2f, 0.9f, 0.9f,
        80, 80, 10, 10, 0.5f, 0.4f, 0.1f,
        0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0,
    }, [2, 5, 7]);

    static (double Score, int Cls, double X1)[] Rows(Tensor t)
    {
        var a = t.ToDoubleArray();
        return [.. Enumerable.Range(0, t.Size(0)).Select(i => (Math.Round(a[6 * i + 4], 4), (int)a[6 * i + 5], a[6 * i]))];
    }

    [Fact]
    public void Suppresses_within_a_class_and_scores_are_obj_times_cls()
    {
        var out0 = NonMaxSuppression.Apply(Predictions());
        Assert.Equal([(0.81, 0, 5.0), (0.72, 1, 6.0)], Rows(out0[0]));
        Assert.Equal(new Shape(0, 6), out0[1].Shape);
        TestUtil.Close([5, 5, 15, 15], out0[0].Select(0, 0).Narrow(0, 0, 4), atol: 1e-6); // xywh → xyxy
        // class-agnostic: C is suppressed by A
        Assert.Equal([(0.81, 0, 5.0)], Rows(NonMaxSuppression.Apply(Predictions(), new NmsOptions { Agnostic = true })[0]));
        Assert.Equal([(0.72, 1, 6.0)], Rows(NonMaxSuppression.Apply(Predictions(), new NmsOptions { Classes = [1] })[0]));
    }

    [Fact]
    public void Multi_label_keeps_every_class_above_threshold_and_max_det_caps()
    {
        var o = new NmsOptions { ConfidenceThreshold = 0.06, MultiLabel = true };
        // candidates A0 .81 A1 .09 B0 .64 B1 .24 C0 .16 C1 .72 D0 .18 D1 .18 E0 .20 (E1 .05 is below); B0, C0 fall to A0 and B1, A1 to C1
        Assert.Equal([(0.81, 0, 5.0), (0.72, 1, 6.0), (0.2, 0, 75.0), (0.18, 0, 45.0), (0.18, 1, 45.0)], Rows(NonMaxSuppression.Apply(Predictions(), o)[0]));
        Assert.Equal(2, NonMaxSuppression.Apply(Predictions(), o with { MaxDetections = 2 })[0].Size(0));
    }

    [Fact]
    public void Per_class_nms_keeps_what_batched_nms_keeps_in_score_order()
    {
        // many overlapping boxes over 4 classes, with tied scores: the per-class NMS inside Apply must keep the same rows in the
        // same order as torchvision's batched_nms rule (Boxes.BatchedNms, a separate implementation) over all candidates
        var g = new Generator(11);
        int n = 400, nc = 4;
        var p = new float[n * (5 + nc)];
        for (int k = 0; k < n; k++)
        {
            int at = k * (5 + nc);
            p[at] = 20 + 40 * (float)g.NextDouble(); p[at + 1] = 20 + 40 * (float)g.NextDouble();
            p[at + 2] = 5 + 20 * (float)g.NextDouble(); p[at + 3] = 5 + 20 * (float)g.NextDouble();
            p[at + 4] = MathF.Round((float)g.NextDouble() * 8) / 8; // few distinct values: ties in score
            for (int c = 0; c < nc; c++) p[at + 5 + c] = MathF.Round((float)g.NextDouble() * 4) / 4;
        }
        var options = new NmsOptions { ConfidenceThreshold = 0.01, IouThreshold = 0.5, MultiLabel = true, MaxDetections = 10_000 };
        var kept = NonMaxSuppression.Apply(Torch.FromArray(p, [1, n, 5 + nc]), options)[0].ToArray<float>();

        // the candidates as Apply forms them (every class above the threshold, score obj·cls), by decreasing score, stable
        var rows = new List<(float X1, float Y1, float X2, float Y2, float S, int C)>();
        for (int k = 0; k < n; k++)
        {
            int at = k * (5 + nc);
            for (int c = 0; c < nc; c++)
            {
                float s = p[at + 5 + c] * p[at + 4];
                if (s > 0.01) rows.Add((p[at] - p[at + 2] / 2, p[at + 1] - p[at + 3] / 2, p[at] + p[at + 2] / 2, p[at + 1] + p[at + 3] / 2, s, c));
            }
        }
        var ordered = rows.Select((r, i) => (r, i)).OrderByDescending(t => t.r.S).ThenBy(t => t.i).Select(t => t.r).ToArray();
        // with YOLOv5's class offset added as Apply adds it, so that both compute the same IoUs to the last bit
        var boxes = Torch.FromArray(ordered.SelectMany(r => { float o = (float)(r.C * 7680.0); return new[] { r.X1 + o, r.Y1 + o, r.X2 + o, r.Y2 + o }; }).ToArray(), [ordered.Length, 4]);
        var keep = Boxes.BatchedNms(boxes, Torch.FromArray(ordered.Select(r => r.S).ToArray(), [ordered.Length]),
            Torch.FromArray(ordered.Select(r => (long)r.C).ToArray(), [ordered.Length]), 0.5).ToArray<long>();
        Assert.True(keep.Length > 20 && keep.Length < ordered.Length / 2, $"the case should suppress some and keep many, kept {keep.Length} of {ordered.Length}");
        Assert.Equal(keep.Length, kept.Length / 6);
        for (int i = 0; i < keep.Length; i++)
        {
            var r = ordered[keep[i]];
            Assert.Equal([r.X1, r.Y1, r.X2, r.Y2, r.S, r.C], kept.AsSpan(6 * i, 6).ToArray());
        }
    }
}
