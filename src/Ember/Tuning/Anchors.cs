namespace Ember.Tuning;

/// <summary>
/// Anchor boxes fitted to a data set's box sizes as YOLOv5 does it (utils/autoanchor.py): k-means on widths and
/// heights whitened by their standard deviations, then a genetic refinement that maximizes the ratio-metric fitness.
/// Box and anchor sizes are [N, 2] tensors of (width, height) in pixels of the training image size.
/// </summary>
public static class Anchors
{
    /// <summary>
    /// BPR, anchors above threshold, fitness and mean best ratio of <paramref name="anchors"/> ([n, 2]) on the boxes
    /// <paramref name="wh"/> ([N, 2]), with YOLOv5's ratio metric and threshold <paramref name="threshold"/> (anchor_t).
    /// </summary>
    public static AnchorMetrics Metrics(Tensor wh, Tensor anchors, double threshold = 4.0)
        => Metrics(ReadPairs(wh, nameof(Metrics), "boxes"), ReadPairs(anchors, nameof(Metrics), "anchors"), threshold);

    internal static AnchorMetrics Metrics(double[] wh, double[] k, double threshold)
    {
        int n = wh.Length / 2, na = k.Length / 2;
        if (n == 0) throw new ArgumentException("anchors: no boxes to measure");
        double thr = 1.0 / threshold, bpr = 0, aat = 0, fit = 0, mean = 0;
        for (int i = 0; i < n; i++)
        {
            double best = 0;
            for (int j = 0; j < na; j++)
            {
                double x = Ratio(wh[2 * i], wh[2 * i + 1], k[2 * j], k[2 * j + 1]);
                if (x > thr) aat++;
                if (x > best) best = x;
            }
            if (best > thr) { bpr++; fit += best; }
            mean += best;
        }
        return new AnchorMetrics(bpr / n, aat / n, fit / n, mean / n);
    }

    /// <summary>YOLOv5's anchor fitness, mean of best·[best &gt; 1/thr] over the boxes.</summary>
    public static double Fitness(Tensor wh, Tensor anchors, double threshold = 4.0) => Metrics(wh, anchors, threshold).Fitness;

    // min over (w, h) of min(r, 1/r), r = box/anchor: 1 for a perfect fit, 1/4 when one side is 4× off.
    static double Ratio(double w, double h, double aw, double ah)
    {
        double rw = w / aw, rh = h / ah;
        return Math.Min(Math.Min(rw, 1.0 / rw), Math.Min(rh, 1.0 / rh));
    }

    static double FitnessOf(double[] wh, double[] k, double thr)
    {
        int n = wh.Length / 2, na = k.Length / 2;
        double fit = 0;
        for (int i = 0; i < n; i++)
        {
            double w = wh[2 * i], h = wh[2 * i + 1], best = 0;
            for (int j = 0; j < na; j++)
            {
                double x = Ratio(w, h, k[2 * j], k[2 * j + 1]);
                if (x > best) best = x;
            }
            if (best > thr) fit += best;
        }
        return fit / n;
    }

    /// <summary>
    /// Fits <paramref name="n"/> anchors to the boxes: k-means on whitened (w, h), then <see cref="AnchorOptions.Generations"/>
    /// generations of mutation (a child replaces the anchors only when its fitness is higher). <paramref name="current"/>
    /// (optional, [m, 2]) are the anchors in use, reported as <see cref="AnchorResult.Initial"/>.
    /// </summary>
    public static AnchorResult Compute(Tensor wh, int n = 9, AnchorOptions? options = null, Tensor? current = null)
    {
        options ??= new AnchorOptions();
        options.Validate();
        var all = ReadPairs(wh, nameof(Compute), "boxes");
        var fitSet = Filter(all, options.MinSize);
        if (fitSet.Length / 2 < n)
            throw new ArgumentException($"anchors.Compute: need at least n = {n} boxes with a side >= {options.MinSize} px, got {fitSet.Length / 2} (of {all.Length / 2})");
        var initial = current is null ? null : Metrics(all, ReadPairs(current, nameof(Compute), "current anchors"), options.Threshold);
        var rng = new Generator(options.Seed);
        var k = KMeansWhitened(fitSet, n, options.KMeansRestarts, options.KMeansMaxIterations, rng);
        SortByArea(k);
        var km = (double[])k.Clone();
        k = Evolve(fitSet, k, options, rng);
        SortByArea(k);
        return new AnchorResult(ToTensor(k), ToTensor(km), initial, Metrics(all, km, options.Threshold), Metrics(all, k, options.Threshold));
    }

    /// <summary>
    /// k-means anchors alone ([n, 2], sorted by area): Lloyd's algorithm on (w/σw, h/σh) from <paramref name="restarts"/>
    /// random starts (distinct boxes), keeping the lowest mean distance, then scaled back by σ.
    /// </summary>
    public static Tensor KMeans(Tensor wh, int n, Generator? generator = null, int restarts = 30, int maxIterations = 300)
    {
        var p = ReadPairs(wh, nameof(KMeans), "boxes");
        if (p.Length / 2 < n) throw new ArgumentException($"anchors.KMeans: need at least n = {n} boxes, got {p.Length / 2}");
        var k = KMeansWhitened(p, n, restarts, maxIterations, generator ?? new Generator(0));
        SortByArea(k);
        return ToTensor(k);
    }

    /// <summary>
    /// The genetic refinement alone: mutates <paramref name="anchors"/> ([n, 2]) for <see cref="AnchorOptions.Generations"/>
    /// generations, keeping a child when its fitness on the boxes is higher; returns the anchors sorted by area.
    /// </summary>
    public static Tensor Evolve(Tensor wh, Tensor anchors, AnchorOptions? options = null)
    {
        options ??= new AnchorOptions();
        options.Validate();
        var fitSet = Filter(ReadPairs(wh, nameof(Evolve), "boxes"), options.MinSize);
        if (fitSet.Length == 0) throw new ArgumentException($"anchors.Evolve: no box has a side >= {options.MinSize} px");
        var k = Evolve(fitSet, ReadPairs(anchors, nameof(Evolve), "anchors"), options, new Generator(options.Seed));
        SortByArea(k);
        return ToTensor(k);
    }

    static double[] Evolve(double[] wh, double[] k, AnchorOptions o, Generator rng)
    {
        double thr = 1.0 / o.Threshold;
        double f = FitnessOf(wh, k, thr);
        int len = k.Length;
        var r = new double[len];
        var v = new double[len];
        var child = new double[len];
        for (int g = 0; g < o.Generations; g++)
        {
            // v = ((random(sh) < mp) · random() · randn(sh) · sigma + 1).clip(0.3, 3.0), redrawn until something changes.
            bool changed = false;
            while (!changed)
            {
                for (int i = 0; i < len; i++) r[i] = rng.NextDouble();
                double scale = rng.NextDouble();
                for (int i = 0; i < len; i++)
                {
                    double z = rng.NextNormal();
                    v[i] = Math.Clamp((r[i] < o.MutationProbability ? 1.0 : 0.0) * scale * z * o.Sigma + 1.0, 0.3, 3.0);
                    changed |= v[i] != 1.0;
                }
            }
            for (int i = 0; i < len; i++) child[i] = Math.Max(k[i] * v[i], o.MinSize);
            double fg = FitnessOf(wh, child, thr);
            if (fg > f) { f = fg; Array.Copy(child, k, len); }
        }
        return k;
    }

    static double[] KMeansWhitened(double[] wh, int n, int restarts, int maxIterations, Generator rng)
    {
        if (n < 1) throw new ArgumentException($"anchors: number of anchors must be >= 1, got {n}");
        int m = wh.Length / 2;
        // σ per column (population std, as numpy's std) to whiten; a constant column keeps scale 1.
        var s = new double[2];
        for (int c = 0; c < 2; c++)
        {
            double mean = 0, var = 0;
            for (int i = 0; i < m; i++) mean += wh[2 * i + c];
            mean /= m;
            for (int i = 0; i < m; i++) { double d = wh[2 * i + c] - mean; var += d * d; }
            s[c] = var > 0 ? Math.Sqrt(var / m) : 1.0;
        }
        var p = new double[wh.Length];
        for (int i = 0; i < m; i++) { p[2 * i] = wh[2 * i] / s[0]; p[2 * i + 1] = wh[2 * i + 1] / s[1]; }

        double[]? best = null;
        double bestDist = double.PositiveInfinity;
        for (int t = 0; t < restarts; t++)
        {
            var (c, d) = Lloyd(p, n, maxIterations, rng);
            if (d < bestDist) { bestDist = d; best = c; }
        }
        for (int j = 0; j < n; j++) { best![2 * j] *= s[0]; best[2 * j + 1] *= s[1]; }
        return best!;
    }

    // One k-means run (scipy.cluster.vq.kmeans semantics: start from k distinct observations, stop when the mean
    // Euclidean distance improves by ≤ 1e-5). scipy drops a cluster that empties; we restart it at a random point so
    // there are always n anchors.
    static (double[] Centers, double MeanDistance) Lloyd(double[] p, int n, int maxIterations, Generator rng)
    {
        int m = p.Length / 2;
        var perm = new int[m];
        for (int i = 0; i < m; i++) perm[i] = i;
        for (int i = 0; i < n; i++) { int j = i + (int)rng.NextInt64(m - i); (perm[i], perm[j]) = (perm[j], perm[i]); }
        var c = new double[2 * n];
        for (int j = 0; j < n; j++) { c[2 * j] = p[2 * perm[j]]; c[2 * j + 1] = p[2 * perm[j] + 1]; }
        var label = new int[m];
        var sum = new double[2 * n];
        var count = new int[n];
        double prev = double.PositiveInfinity, dist = 0;
        for (int it = 0; it < maxIterations; it++)
        {
            dist = 0;
            for (int i = 0; i < m; i++)
            {
                double bd = double.PositiveInfinity; int bj = 0;
                for (int j = 0; j < n; j++)
                {
                    double dx = p[2 * i] - c[2 * j], dy = p[2 * i + 1] - c[2 * j + 1], d2 = dx * dx + dy * dy;
                    if (d2 < bd) { bd = d2; bj = j; }
                }
                label[i] = bj;
                dist += Math.Sqrt(bd);
            }
            dist /= m;
            if (prev - dist <= 1e-5) break;
            prev = dist;
            Array.Clear(sum); Array.Clear(count);
            for (int i = 0; i < m; i++) { sum[2 * label[i]] += p[2 * i]; sum[2 * label[i] + 1] += p[2 * i + 1]; count[label[i]]++; }
            for (int j = 0; j < n; j++)
            {
                if (count[j] > 0) { c[2 * j] = sum[2 * j] / count[j]; c[2 * j + 1] = sum[2 * j + 1] / count[j]; }
                else { int r = (int)rng.NextInt64(m); c[2 * j] = p[2 * r]; c[2 * j + 1] = p[2 * r + 1]; }
            }
        }
        return (c, dist);
    }

    /// <summary>
    /// YOLOv5's check_anchor_order: anchors ([levels, anchorsPerLevel, 2]) must grow in area in the same direction as
    /// the strides of the detection levels; if not, the levels are reversed. Returns the (possibly flipped) anchors.
    /// </summary>
    public static (Tensor Anchors, bool Reversed) CheckOrder(Tensor anchors, IReadOnlyList<double> strides)
    {
        if (anchors.Rank != 3 || anchors.Size(2) != 2)
            throw new ArgumentException($"anchors.CheckOrder: expected anchors of shape [levels, anchors, 2], got {anchors.Shape}");
        if (strides.Count != anchors.Size(0))
            throw new ArgumentException($"anchors.CheckOrder: expected {anchors.Size(0)} strides (one per level), got {strides.Count}");
        var a = anchors.ToDoubleArray();
        double first = a[0] * a[1], last = a[^2] * a[^1];
        double da = last - first, ds = strides[^1] - strides[0];
        return Math.Sign(da) != Math.Sign(ds) ? (anchors.Flip(0), true) : (anchors, false);
    }

    static double[] Filter(double[] wh, double minSize)
    {
        var kept = new List<double>(wh.Length);
        for (int i = 0; i < wh.Length / 2; i++)
            if (wh[2 * i] >= minSize || wh[2 * i + 1] >= minSize) { kept.Add(wh[2 * i]); kept.Add(wh[2 * i + 1]); }
        return [.. kept];
    }

    static void SortByArea(double[] k)
    {
        int n = k.Length / 2;
        var pairs = new (double W, double H)[n];
        for (int j = 0; j < n; j++) pairs[j] = (k[2 * j], k[2 * j + 1]);
        var sorted = pairs.OrderBy(q => q.W * q.H).ToArray(); // stable: ties keep their order
        for (int j = 0; j < n; j++) { k[2 * j] = sorted[j].W; k[2 * j + 1] = sorted[j].H; }
    }

    static double[] ReadPairs(Tensor t, string op, string what)
    {
        if (t.Rank != 2 || t.Size(1) != 2)
            throw new ArgumentException($"anchors.{op}: expected {what} of shape [N, 2] (width, height), got {t.Shape}");
        var a = t.ToDoubleArray();
        foreach (var x in a)
            if (!(x > 0) || double.IsInfinity(x)) throw new ArgumentException($"anchors.{op}: {what} must be positive and finite, got {x}");
        return a;
    }

    static Tensor ToTensor(double[] k) => Torch.FromArray(k.Select(x => (float)x).ToArray(), [k.Length / 2, 2]);
}
