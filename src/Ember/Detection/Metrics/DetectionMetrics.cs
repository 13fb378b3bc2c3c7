namespace Ember.Detection.Metrics;

/// <summary>
/// Accumulates detections and labels image by image and computes YOLOv5's validation metrics (val.py and
/// utils/metrics.py ap_per_class): detections matched with <see cref="DetectionMatching"/> at the ten COCO IoU
/// thresholds, per-class precision/recall curves over decreasing confidence, AP per class and threshold
/// (<see cref="ApMethod.Interpolated101"/> by default), and P, R, F1 at the confidence where the mean F1 over
/// classes (box-filtered over 10% of the range) is highest.
/// </summary>
public sealed class DetectionMetrics
{
    readonly List<bool> correct = [];
    readonly List<double> confidence = [];
    readonly List<int> predictedClass = [];
    readonly List<int> labelClass = [];

    /// <summary>The IoU thresholds (default 0.50:0.05:0.95).</summary>
    public IReadOnlyList<double> IouThresholds { get; }

    /// <summary>How AP integrates the precision envelope.</summary>
    public ApMethod Method { get; }

    /// <summary>Creates an empty accumulator.</summary>
    public DetectionMetrics(IReadOnlyList<double>? iouThresholds = null, ApMethod method = ApMethod.Interpolated101)
    {
        IouThresholds = iouThresholds ?? DetectionMatching.CocoIouThresholds();
        if (IouThresholds.Count == 0) throw new ArgumentException("DetectionMetrics: expected at least one IoU threshold");
        Method = method;
    }

    /// <summary>Images seen so far.</summary>
    public int Images { get; private set; }

    /// <summary>
    /// Adds one image: <paramref name="detections"/> (N, 6) [x1, y1, x2, y2, conf, class] and <paramref name="labels"/>
    /// (M, 5) [class, x1, y1, x2, y2], in the same pixel coordinates.
    /// </summary>
    public void Update(Tensor detections, Tensor labels)
    {
        if (detections.Rank != 2 || detections.Size(1) != 6) throw new ArgumentException($"DetectionMetrics: expected detections [N, 6], got {detections.Shape}");
        if (labels.Rank != 2 || labels.Size(1) != 5) throw new ArgumentException($"DetectionMetrics: expected labels [M, 5], got {labels.Shape}");
        Update(detections.Detach().To(DType.Float64).Contiguous().ToArray<double>(), labels.Detach().To(DType.Float64).Contiguous().ToArray<double>());
    }

    /// <summary>Adds one image from flat row-major arrays (see <see cref="Update(Tensor, Tensor)"/>).</summary>
    public void Update(double[] detections, double[] labels)
    {
        var c = DetectionMatching.Match(detections, labels, IouThresholds);
        correct.AddRange(c);
        for (int d = 0; d < detections.Length / 6; d++) { confidence.Add(detections[6 * d + 4]); predictedClass.Add((int)detections[6 * d + 5]); }
        for (int l = 0; l < labels.Length / 5; l++) labelClass.Add((int)labels[5 * l]);
        Images++;
    }

    /// <summary>The metrics over every image added.</summary>
    public DetectionResults Compute()
    {
        int nt = IouThresholds.Count, nd = confidence.Count;
        var classes = labelClass.Distinct().Order().ToArray();
        var counts = classes.Select(c => labelClass.Count(x => x == c)).ToArray();
        int nc = classes.Length;
        var ap = new double[nc][];
        var pCurve = new double[nc][];
        var rCurve = new double[nc][];
        for (int k = 0; k < nc; k++) { ap[k] = new double[nt]; pCurve[k] = new double[Px.Length]; rCurve[k] = new double[Px.Length]; }
        bool anyCorrect = correct.Contains(true); // val.py computes the metrics only when some detection is correct
        var order = Enumerable.Range(0, nd).OrderByDescending(i => confidence[i]).ToArray(); // stable for ties
        const double eps = 1e-16;
        for (int k = 0; k < nc && anyCorrect; k++)
        {
            var members = order.Where(i => predictedClass[i] == classes[k]).ToArray();
            int np = members.Length, nl = counts[k];
            if (np == 0) continue;
            var negConf = members.Select(i => -confidence[i]).ToArray();
            var recall = new double[np];
            var precision = new double[np];
            for (int t = 0; t < nt; t++)
            {
                double tp = 0, fp = 0;
                for (int j = 0; j < np; j++)
                {
                    if (correct[members[j] * nt + t]) tp++; else fp++;
                    recall[j] = tp / (nl + eps);
                    precision[j] = tp / (tp + fp);
                }
                if (t == 0)
                    for (int x = 0; x < Px.Length; x++)
                    {
                        rCurve[k][x] = AveragePrecision.Interp(-Px[x], negConf, recall, 0, recall[^1]);
                        pCurve[k][x] = AveragePrecision.Interp(-Px[x], negConf, precision, 1, precision[^1]);
                    }
                ap[k][t] = AveragePrecision.Compute(recall, precision, Method);
            }
        }
        var f1Curve = new double[nc][];
        for (int k = 0; k < nc; k++)
        {
            f1Curve[k] = new double[Px.Length];
            for (int x = 0; x < Px.Length; x++) f1Curve[k][x] = 2 * pCurve[k][x] * rCurve[k][x] / (pCurve[k][x] + rCurve[k][x] + eps);
        }
        int best = 0;
        if (nc > 0)
        {
            var meanF1 = new double[Px.Length];
            for (int x = 0; x < Px.Length; x++) { double s = 0; for (int k = 0; k < nc; k++) s += f1Curve[k][x]; meanF1[x] = s / nc; }
            var smoothed = Smooth(meanF1, 0.1);
            for (int x = 1; x < smoothed.Length; x++) if (smoothed[x] > smoothed[best]) best = x;
        }
        return new DetectionResults
        {
            Classes = classes,
            LabelCounts = counts,
            Ap = ap,
            Precision = [.. pCurve.Select(c => c[best])],
            Recall = [.. rCurve.Select(c => c[best])],
            F1 = [.. f1Curve.Select(c => c[best])],
            Confidence = Px[best],
            PrecisionCurve = pCurve,
            RecallCurve = rCurve,
        };
    }

    // np.linspace(0, 1, 1000)
    static readonly double[] Px = [.. Enumerable.Range(0, 1000).Select(i => i == 999 ? 1.0 : i * (1.0 / 999))];

    // YOLOv5's smooth(): a box filter of odd width round(n·f·2)//2 + 1, the ends padded with the end values
    static double[] Smooth(double[] y, double f)
    {
        int nf = (int)Math.Round(y.Length * f * 2, MidpointRounding.ToEven) / 2 + 1, half = nf / 2;
        var r = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double s = 0;
            for (int k = i - half; k <= i + half; k++) s += y[Math.Clamp(k, 0, y.Length - 1)];
            r[i] = s / nf;
        }
        return r;
    }
}
