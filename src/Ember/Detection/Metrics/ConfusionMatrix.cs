namespace Ember.Detection.Metrics;

/// <summary>
/// YOLOv5's detection confusion matrix (utils/metrics.py ConfusionMatrix): (nc + 1)×(nc + 1) counts indexed
/// [predicted, true], the last row and column being background. Per image, detections above <see cref="Confidence"/>
/// are matched to labels class-agnostically at IoU &gt; <see cref="IouThreshold"/> (each detection keeps its best label,
/// then each label its best detection); a matched label counts at [detected class, true class], an unmatched one at
/// [background, true class], and an unmatched detection at [detected class, background] — as YOLOv5, the last only
/// when the image had at least one match.
/// </summary>
public sealed class ConfusionMatrix
{
    readonly long[] counts;

    /// <summary>Number of classes (the matrix is one larger for background).</summary>
    public int NumClasses { get; }

    /// <summary>Detections at or below this confidence are ignored (0.25).</summary>
    public double Confidence { get; }

    /// <summary>A detection matches a label when their IoU is above this (0.45).</summary>
    public double IouThreshold { get; }

    /// <summary>Creates an empty matrix.</summary>
    public ConfusionMatrix(int numClasses, double confidence = 0.25, double iouThreshold = 0.45)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"ConfusionMatrix: expected at least one class, got {numClasses}");
        NumClasses = numClasses;
        Confidence = confidence;
        IouThreshold = iouThreshold;
        counts = new long[(numClasses + 1) * (numClasses + 1)];
    }

    /// <summary>Count at [predicted, true]; index <see cref="NumClasses"/> is background.</summary>
    public long this[int predicted, int actual] => counts[predicted * (NumClasses + 1) + actual];

    /// <summary>The matrix as rows [predicted][true].</summary>
    public long[][] ToArray()
    {
        int n = NumClasses + 1;
        var r = new long[n][];
        for (int i = 0; i < n; i++) r[i] = counts.AsSpan(i * n, n).ToArray();
        return r;
    }

    /// <summary>Adds one image: detections rows [x1, y1, x2, y2, conf, class], labels rows [class, x1, y1, x2, y2] (flat, row-major).</summary>
    public void Update(double[] detections, double[] labels)
    {
        int n = NumClasses + 1, nl = labels.Length / 5;
        var kept = new List<int>();
        for (int d = 0; d < detections.Length / 6; d++) if (detections[6 * d + 4] > Confidence) kept.Add(d);
        int Cls(double v, string what)
        {
            int c = (int)v;
            if (c < 0 || c >= NumClasses) throw new ArgumentException($"ConfusionMatrix: {what} class {v} outside [0, {NumClasses})");
            return c;
        }
        var pairs = new List<(int L, int D, double Iou)>();
        for (int l = 0; l < nl; l++)
            for (int k = 0; k < kept.Count; k++)
            {
                double iou = DetectionMatching.Iou(labels.AsSpan(5 * l + 1, 4), detections.AsSpan(6 * kept[k], 4));
                if (iou > IouThreshold) pairs.Add((l, k, iou));
            }
        // best label per detection, then best detection per label
        var perDetection = new Dictionary<int, (int L, int D, double Iou)>();
        foreach (var p in pairs) if (!perDetection.TryGetValue(p.D, out var b) || p.Iou >= b.Iou) perDetection[p.D] = p;
        var perLabel = new Dictionary<int, (int L, int D, double Iou)>();
        foreach (var p in perDetection.Values) if (!perLabel.TryGetValue(p.L, out var b) || p.Iou > b.Iou) perLabel[p.L] = p;
        for (int l = 0; l < nl; l++)
        {
            int gc = Cls(labels[5 * l], "label");
            if (perLabel.TryGetValue(l, out var m)) counts[Cls(detections[6 * kept[m.D] + 5], "detection") * n + gc]++;
            else counts[NumClasses * n + gc]++;
        }
        if (perLabel.Count == 0) return; // YOLOv5 counts background detections only when the image had a match
        var matchedDetections = new HashSet<int>();
        foreach (var m in perLabel.Values) matchedDetections.Add(m.D);
        for (int k = 0; k < kept.Count; k++)
            if (!matchedDetections.Contains(k)) counts[Cls(detections[6 * kept[k] + 5], "detection") * n + NumClasses]++;
    }
}
