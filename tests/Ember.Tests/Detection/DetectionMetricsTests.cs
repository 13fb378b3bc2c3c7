using Ember.Detection.Metrics;
using Ember.Tests.Reference;

namespace Ember.Tests.Detection;

public class DetectionMetricsTests
{
    // One class, labels A = (0,0,10,10) and B = (20,20,30,30); detections by confidence: 0.9 on A (IoU 1), 0.8 on nothing,
    // 0.7 on B with IoU 100/140 = 0.714 (a hit at thresholds 0.50–0.70, a miss at 0.75–0.95).
    static DetectionMetrics HandCase(ApMethod method = ApMethod.Interpolated101)
    {
        var m = new DetectionMetrics(method: method);
        m.Update([0, 0, 10, 10, 0.9, 0, 50, 50, 60, 60, 0.8, 0, 20, 20, 30, 34, 0.7, 0], [0, 0, 0, 10, 10, 0, 20, 20, 30, 30]);
        return m;
    }

    [Fact]
    public void Hand_computed_case()
    {
        var r = HandCase().Compute();
        // at IoU 0.5: recall 0.5, 0.5, 1 and precision 1, 0.5, 2/3 → envelope 1 up to recall 0.5 (exclusive), 2/3 from
        // 0.5 on, and 0 at recall 1 (the sentinel): trapezoids over x = 0, 0.01, …, 1 give
        // 0.49 + 0.01·(1 + 2/3)/2 + 0.49·2/3 + 0.01·(2/3)/2 = 248.5/300
        double ap50 = 248.5 / 300;
        // at 0.75+: recall 0.5, 0.5, 0.5, precision 1, 1/2, 1/3 → 1 below 0.5, then the line from (0.5, 1/3) to (1, 0):
        // 0.49 + 0.01·(1 + 1/3)/2 + 0.5·(1/3)/2 = 0.58
        double apHigh = 0.58;
        Assert.Equal(ap50, r.Ap[0][0], 10);
        Assert.Equal(ap50, r.Ap[0][4], 10); // threshold 0.70 still a hit
        Assert.Equal(apHigh, r.Ap[0][5], 10);
        Assert.Equal(ap50, r.Map50, 10);
        Assert.Equal((5 * ap50 + 5 * apHigh) / 10, r.Map50To95, 10);
        Assert.Equal(0.1 * ap50 + 0.9 * (5 * ap50 + 5 * apHigh) / 10, r.Fitness, 10);
        // the max-F1 point: below confidence 0.7 precision 2/3 and recall 1 (F1 0.8) beat 0.9's 1 and 0.5 (F1 2/3)
        Assert.Equal(2.0 / 3, r.Precision[0], 6);
        Assert.Equal(1.0, r.Recall[0], 6);
        Assert.True(r.Confidence <= 0.7);
        // COCOeval: 51 thresholds (0–0.5) at 1 and 50 at 2/3, over 101; the continuous area: 0.5·1 + 0.5·2/3
        Assert.Equal((51 + 50 * 2.0 / 3) / 101, HandCase(ApMethod.Coco101).Compute().Ap[0][0], 10);
        Assert.Equal(0.5 + 0.5 * 2.0 / 3, HandCase(ApMethod.Continuous).Compute().Ap[0][0], 10);
    }

    [Fact]
    public void Matching_takes_each_detections_best_label_then_each_labels_first_detection()
    {
        // two labels of class 0 overlapping the same two detections
        double[] labels = [0, 0, 0, 10, 10, 0, 5, 0, 15, 10];
        double[] dets = [4, 0, 14, 10, 0.9, 0, 0, 0, 10, 10, 0.8, 0, 0, 0, 10, 10, 0.7, 1];
        var c = DetectionMatching.Match(dets, labels, [0.5]);
        // det 0 overlaps label 1 best (IoU 9/11) → correct; det 1 is identical to label 0 → correct; det 2 has the wrong class
        Assert.Equal([true, true, false], c);
        // one label, two detections that both take it: only the lower index (not the higher IoU) is correct, as YOLOv5
        var d2 = DetectionMatching.Match([1, 0, 11, 10, 0.9, 0, 0, 0, 10, 10, 0.8, 0], [0, 0, 0, 10, 10], [0.5]);
        Assert.Equal([true, false], d2);
        Assert.Equal([false, false], DetectionMatching.Match([0, 0, 10, 10, 0.9, 0, 0, 0, 10, 10, 0.8, 0], [], [0.5]));
    }

    [Theory]
    [InlineData(ApMethod.Interpolated101)]
    [InlineData(ApMethod.Coco101)]
    [InlineData(ApMethod.Continuous)]
    public void Ap_matches_the_independent_numpy_reference(ApMethod method)
    {
        var m = new DetectionMetrics(method: method);
        foreach (var (d, l) in DetectionMetricsReference.Images) m.Update(d, l);
        var r = m.Compute();
        Assert.Equal(DetectionMetricsReference.Classes, r.Classes);
        var expected = method switch
        {
            ApMethod.Interpolated101 => DetectionMetricsReference.ApInterp,
            ApMethod.Coco101 => DetectionMetricsReference.ApCoco,
            _ => DetectionMetricsReference.ApContinuous,
        };
        for (int k = 0; k < expected.Length; k++) TestUtil.Close(expected[k], r.Ap[k], rtol: 1e-9, atol: 1e-12);
        if (method != ApMethod.Interpolated101) return;
        Assert.Equal(DetectionMetricsReference.Map50, r.Map50, 9);
        Assert.Equal(DetectionMetricsReference.Map50To95, r.Map50To95, 9);
        TestUtil.Close(DetectionMetricsReference.Precision, r.Precision, rtol: 1e-9, atol: 1e-12);
        TestUtil.Close(DetectionMetricsReference.Recall, r.Recall, rtol: 1e-9, atol: 1e-12);
    }

    [Fact]
    public void Matching_counts_match_the_reference()
    {
        int at50 = 0, at95 = 0;
        foreach (var (d, l) in DetectionMetricsReference.Images)
        {
            var c = DetectionMatching.Match(d, l, DetectionMatching.CocoIouThresholds());
            for (int i = 0; i < d.Length / 6; i++) { if (c[i * 10]) at50++; if (c[i * 10 + 9]) at95++; }
        }
        Assert.Equal(DetectionMetricsReference.CorrectAt50, at50);
        Assert.Equal(DetectionMetricsReference.CorrectAt95, at95);
    }

    [Fact]
    public void No_correct_detection_gives_zeros_and_tensor_input_is_accepted()
    {
        var m = new DetectionMetrics();
        m.Update(Torch.FromArray(new float[] { 50, 50, 60, 60, 0.9f, 0 }, [1, 6]), Torch.FromArray(new float[] { 0, 0, 0, 10, 10 }, [1, 5]));
        var r = m.Compute();
        Assert.Equal(0, r.Map50);
        Assert.Equal(0, r.Fitness);
        Assert.Equal(1, m.Images);
        Assert.Throws<ArgumentException>(() => m.Update(Torch.Zeros(1, 5), Torch.Zeros(1, 5)));
    }

    [Fact]
    public void Confusion_matrix_counts_hits_confusions_and_background()
    {
        var cm = new ConfusionMatrix(2);
        // image 1: label 0 found as 0, label 1 found as 0 (confusion), a stray detection of class 1 (background FP),
        // a detection below the confidence threshold (ignored)
        cm.Update(
            [0, 0, 10, 10, 0.9, 0, 20, 20, 30, 30, 0.8, 0, 50, 50, 60, 60, 0.7, 1, 70, 70, 80, 80, 0.1, 1],
            [0, 0, 0, 10, 10, 1, 20, 20, 30, 30]);
        // image 2: a missed label of class 1 (background FN) and, with no match in the image, an unmatched detection
        // that YOLOv5 does not count
        cm.Update([100, 100, 110, 110, 0.9, 0], [1, 0, 0, 10, 10]);
        long[][] expected =
        [
            [1, 1, 0],
            [0, 0, 1],
            [0, 1, 0],
        ];
        Assert.Equal(expected, cm.ToArray());
        Assert.Equal(1, cm[2, 1]);
    }
}
