namespace Ember.Detection.Metrics;

/// <summary>
/// Average precision of one class at one IoU threshold from its cumulative recall and precision (detections sorted by
/// decreasing confidence), as YOLOv5's utils/metrics.py compute_ap, and the numpy interpolation it relies on.
/// </summary>
public static class AveragePrecision
{
    /// <summary>
    /// AP from <paramref name="recall"/> and <paramref name="precision"/> (one value per detection). The curve gets the
    /// sentinels (0, 1) and (1, 0) and the envelope p(r) = max precision at recall ≥ r (Interpolated101 and Continuous,
    /// as YOLOv5); Coco101 uses COCOeval's envelope over the detections alone.
    /// </summary>
    public static double Compute(ReadOnlySpan<double> recall, ReadOnlySpan<double> precision, ApMethod method = ApMethod.Interpolated101)
    {
        if (recall.Length != precision.Length)
            throw new ArgumentException($"compute_ap: recall and precision must have the same length, got {recall.Length} and {precision.Length}");
        int n = recall.Length;
        if (method == ApMethod.Coco101)
        {
            var pr = precision.ToArray();
            for (int i = n - 1; i > 0; i--) pr[i - 1] = Math.Max(pr[i - 1], pr[i]);
            double sum = 0;
            for (int k = 0; k <= 100; k++)
            {
                double t = k / 100.0;
                int at = 0; // searchsorted(recall, t, side='left')
                while (at < n && recall[at] < t) at++;
                if (at < n) sum += pr[at];
            }
            return sum / 101;
        }
        var mrec = new double[n + 2];
        var mpre = new double[n + 2];
        mrec[0] = 0; mpre[0] = 1; mrec[n + 1] = 1; mpre[n + 1] = 0;
        for (int i = 0; i < n; i++) { mrec[i + 1] = recall[i]; mpre[i + 1] = precision[i]; }
        for (int i = n; i >= 0; i--) mpre[i] = Math.Max(mpre[i], mpre[i + 1]);
        if (method == ApMethod.Continuous)
        {
            double area = 0;
            for (int i = 0; i < n + 1; i++)
                if (mrec[i + 1] != mrec[i]) area += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
            return area;
        }
        double ap = 0, step = 1.0 / 100, prevX = 0, prevY = Interp(0, mrec, mpre, mpre[0], mpre[^1]);
        for (int k = 1; k <= 100; k++)
        {
            double x = k == 100 ? 1.0 : k * step, y = Interp(x, mrec, mpre, mpre[0], mpre[^1]);
            ap += (x - prevX) * (y + prevY) / 2;
            (prevX, prevY) = (x, y);
        }
        return ap;
    }

    /// <summary>
    /// numpy.interp: piecewise-linear interpolation of (<paramref name="xp"/>, <paramref name="fp"/>) at
    /// <paramref name="x"/>, xp non-decreasing; <paramref name="left"/> below xp[0], <paramref name="right"/> above xp[^1],
    /// and among equal xp values the last one's fp.
    /// </summary>
    public static double Interp(double x, ReadOnlySpan<double> xp, ReadOnlySpan<double> fp, double left, double right)
    {
        int n = xp.Length;
        if (n == 0) throw new ArgumentException("interp: xp is empty");
        if (x < xp[0]) return left;
        if (x > xp[n - 1]) return right;
        if (x == xp[n - 1]) return fp[n - 1];
        int lo = 0, hi = n - 1; // last j with xp[j] <= x: xp[lo] <= x < xp[hi]
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (xp[mid] <= x) lo = mid; else hi = mid;
        }
        return fp[lo] + (x - xp[lo]) * (fp[hi] - fp[lo]) / (xp[hi] - xp[lo]);
    }
}
