using Ember.Detection.Model;

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
}
