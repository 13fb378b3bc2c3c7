namespace Ember.Detection.Metrics;

/// <summary>
/// Which detections of one image are true positives at each IoU threshold, as YOLOv5's val.py process_batch: for a
/// threshold t, the candidate pairs are (label, detection) of the same class with IoU ≥ t; each detection keeps its
/// highest-IoU pair, then each label keeps, of its remaining pairs, the one with the lowest detection index; those
/// detections are correct. Boxes are XYXY in pixels.
/// </summary>
public static class DetectionMatching
{
    /// <summary>COCO's ten IoU thresholds 0.50, 0.55, …, 0.95.</summary>
    public static double[] CocoIouThresholds()
    {
        var t = new double[10];
        for (int i = 0; i < 10; i++) t[i] = 0.5 + i * (0.45 / 9); // torch.linspace(0.5, 0.95, 10)
        return t;
    }

    /// <summary>
    /// Correct flags [detection, threshold] (row-major, detections × thresholds) for <paramref name="detections"/> rows
    /// [x1, y1, x2, y2, conf, class] and <paramref name="labels"/> rows [class, x1, y1, x2, y2].
    /// </summary>
    public static bool[] Match(ReadOnlySpan<double> detections, ReadOnlySpan<double> labels, IReadOnlyList<double> iouThresholds)
    {
        if (detections.Length % 6 != 0) throw new ArgumentException($"process_batch: expected detections as rows of 6 [x1, y1, x2, y2, conf, class], got {detections.Length} numbers");
        if (labels.Length % 5 != 0) throw new ArgumentException($"process_batch: expected labels as rows of 5 [class, x1, y1, x2, y2], got {labels.Length} numbers");
        int nd = detections.Length / 6, nl = labels.Length / 5, nt = iouThresholds.Count;
        var correct = new bool[nd * nt];
        if (nd == 0 || nl == 0) return correct;
        var iou = new double[nl * nd];
        for (int l = 0; l < nl; l++)
            for (int d = 0; d < nd; d++)
                iou[l * nd + d] = Iou(labels.Slice(5 * l + 1, 4), detections.Slice(6 * d, 4));
        var pairs = new List<(int L, int D, double Iou)>();
        var bestForDetection = new Dictionary<int, (int L, int D, double Iou)>();
        var chosenForLabel = new Dictionary<int, int>();
        for (int ti = 0; ti < nt; ti++)
        {
            pairs.Clear(); bestForDetection.Clear(); chosenForLabel.Clear();
            for (int l = 0; l < nl; l++)
                for (int d = 0; d < nd; d++)
                    if (iou[l * nd + d] >= iouThresholds[ti] && labels[5 * l] == detections[6 * d + 5]) pairs.Add((l, d, iou[l * nd + d]));
            if (pairs.Count == 0) continue;
            // highest IoU per detection (numpy: argsort()[::-1] then unique's first occurrence; ties go to the later pair)
            foreach (var p in pairs)
                if (!bestForDetection.TryGetValue(p.D, out var b) || p.Iou >= b.Iou) bestForDetection[p.D] = p;
            // then, in detection order, the first detection claiming each label
            for (int d = 0; d < nd; d++)
                if (bestForDetection.TryGetValue(d, out var p) && !chosenForLabel.ContainsKey(p.L)) chosenForLabel[p.L] = d;
            foreach (var d in chosenForLabel.Values) correct[d * nt + ti] = true;
        }
        return correct;
    }

    /// <summary>IoU of two XYXY boxes, inter / (union + 1e-7) as YOLOv5's box_iou.</summary>
    public static double Iou(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double w = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]));
        double h = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        double inter = w * h;
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-7); // YOLOv5's box_iou eps
    }
}
