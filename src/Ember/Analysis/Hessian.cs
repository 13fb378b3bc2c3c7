namespace Ember.Analysis;

/// <summary>
/// Curvature of a scalar loss f(θ) over parameter tensors θ (notes 002: at a critical point, all Hessian eigenvalues
/// positive → minimum, all negative → maximum, mixed → saddle; widely spread eigenvalues → slow gradient descent).
/// <para>
/// Vectors over the parameters are flat <c>double[]</c> in the order of <c>parameters</c>, each tensor row-major.
/// The <c>loss</c> closures are re-evaluated as needed and must build a fresh graph from the current θ.
/// Use float64 parameters for second derivatives you want to compare tightly.
/// </para>
/// </summary>
public static class Hessian
{
    /// <summary>Hessian-vector product H·v by double backward: ∇θ(∇θf · v) (Pearlmutter's trick, createGraph: true).</summary>
    public static double[] VectorProduct(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, double[] v)
    {
        Check(loss, parameters, v, nameof(VectorProduct));
        var ps = parameters.ToArray();
        var grads = Torch.Grad(loss(), ps, createGraph: true, allowUnused: true);
        var vs = Unflatten(v, ps);
        Tensor? dot = null;
        for (int i = 0; i < ps.Length; i++)
            if (grads[i] is { } g) { var term = (g * vs[i]).Sum(); dot = dot is null ? term : dot + term; }
        // f linear in θ (or θ unused): the gradient is constant and H·v = 0.
        if (dot is null || !dot.RequiresGrad) return new double[v.Length];
        return Flatten(Torch.Grad(dot, ps, allowUnused: true), ps);
    }

    /// <summary>
    /// H·v by central differences of gradients: (∇f(θ + εv) − ∇f(θ − εv)) / 2ε, error O(ε²). Needs only first
    /// derivatives (for ops without double backward). The parameters are restored exactly afterwards.
    /// </summary>
    public static double[] VectorProductFiniteDifference(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, double[] v, double epsilon = 1e-4)
    {
        Check(loss, parameters, v, nameof(VectorProductFiniteDifference));
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Hessian.VectorProductFiniteDifference: epsilon must be positive");
        var ps = parameters.ToArray();
        var saved = ps.Select(p => p.Detach().Clone()).ToArray();
        var vs = Unflatten(v, ps);
        try
        {
            double[] GradAt(double sign)
            {
                using (Torch.NoGrad()) for (int i = 0; i < ps.Length; i++) { ps[i].CopyFrom(saved[i]); ps[i].AddInPlace(vs[i], sign * epsilon); }
                return Gradient(loss, ps);
            }
            var plus = GradAt(+1);
            var minus = GradAt(-1);
            var hv = new double[v.Length];
            for (int i = 0; i < hv.Length; i++) hv[i] = (plus[i] - minus[i]) / (2 * epsilon);
            return hv;
        }
        finally
        {
            using (Torch.NoGrad()) for (int i = 0; i < ps.Length; i++) ps[i].CopyFrom(saved[i]);
        }
    }

    /// <summary>∇f(θ) flattened (zeros for parameters the loss does not use).</summary>
    public static double[] Gradient(Func<Tensor> loss, IReadOnlyList<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(loss);
        var ps = parameters.ToArray();
        return Flatten(Torch.Grad(loss(), ps, allowUnused: true), ps);
    }

    /// <summary>
    /// The full n×n Hessian: the gradient is built once with a graph, then each of its n entries is differentiated again.
    /// Refuses more than <paramref name="maxParameters"/> parameters (n² entries, n backward passes).
    /// </summary>
    public static double[,] Full(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, int maxParameters = 2000)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        var ps = parameters.ToArray();
        int n = Count(ps);
        if (n > maxParameters)
            throw new ArgumentException($"Hessian.Full: {n} parameters exceed maxParameters = {maxParameters} (the Hessian would hold {(long)n * n} entries); use VectorProduct, TopEigenvalues or Lanczos");
        var grads = Torch.Grad(loss(), ps, createGraph: true, allowUnused: true);
        var pieces = new List<Tensor>();
        for (int i = 0; i < ps.Length; i++) pieces.Add((grads[i] ?? Torch.ZerosLike(ps[i])).Reshape(-1));
        var flat = Torch.Cat(pieces.ToArray());
        var h = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            var gi = flat.Select(0, i);
            if (!gi.RequiresGrad) continue;   // this gradient entry is constant: its row is zero
            var row = Flatten(Torch.Grad(gi, ps, retainGraph: true, allowUnused: true), ps);
            for (int j = 0; j < n; j++) h[i, j] = row[j];
        }
        return h;
    }

    /// <summary>The full Hessian at the current θ, its eigen-decomposition, the critical-point kind and condition number.</summary>
    public static HessianAnalysis Analyze(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, double zeroTolerance = 1e-8, int maxParameters = 2000)
    {
        var h = Full(loss, parameters, maxParameters);
        var (values, vectors) = SymmetricEigen.Decompose(h);
        double gradNorm = Math.Sqrt(Gradient(loss, parameters).Sum(g => g * g));
        return new HessianAnalysis(gradNorm, h, values, vectors, Classify(values, zeroTolerance), ConditionNumber(values));
    }

    /// <summary>
    /// Second-order test from the eigenvalues: |λ| ≤ tolerance·max(1, max|λ|) counts as zero. Mixed signs → saddle
    /// (even with zeros); all positive → minimum; all negative → maximum; otherwise degenerate.
    /// </summary>
    public static CriticalPointKind Classify(IReadOnlyList<double> eigenvalues, double tolerance = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (eigenvalues.Count == 0) throw new ArgumentException("Hessian.Classify: no eigenvalues");
        double zero = tolerance * Math.Max(1, eigenvalues.Max(Math.Abs));
        bool pos = eigenvalues.Any(l => l > zero), neg = eigenvalues.Any(l => l < -zero), flat = eigenvalues.Any(l => Math.Abs(l) <= zero);
        if (pos && neg) return CriticalPointKind.Saddle;
        if (flat) return CriticalPointKind.Degenerate;
        return pos ? CriticalPointKind.Minimum : CriticalPointKind.Maximum;
    }

    /// <summary>κ = max|λ| / min|λ| (for a positive-definite Hessian, λ_max/λ_min); infinity when some λ is 0.</summary>
    public static double ConditionNumber(IReadOnlyList<double> eigenvalues)
    {
        ArgumentNullException.ThrowIfNull(eigenvalues);
        if (eigenvalues.Count == 0) throw new ArgumentException("Hessian.ConditionNumber: no eigenvalues");
        double max = eigenvalues.Max(Math.Abs), min = eigenvalues.Min(Math.Abs);
        return min == 0 ? double.PositiveInfinity : max / min;
    }

    /// <summary>
    /// The <paramref name="k"/> eigenvalues of largest magnitude (with unit eigenvectors) by power iteration on H·v,
    /// deflating each found pair: H'v = Hv − Σ λⱼ(uⱼ·v)uⱼ. Stops a pair when the residual ‖Hv − λv‖ falls below
    /// <paramref name="tolerance"/>·|λ| (λ the Rayleigh quotient). Converges slowly when |λ₁| ≈ |λ₂|; Lanczos does better there.
    /// </summary>
    public static (double[] Values, double[][] Vectors) TopEigenvalues(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, int k = 1,
        int maxIterations = 500, double tolerance = 1e-6, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int n = Count(parameters);
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"Hessian.TopEigenvalues: k must be in [1, {n}]");
        var rng = new Random(seed);
        var values = new List<double>();
        var vectors = new List<double[]>();
        double[] Apply(double[] x)
        {
            var y = VectorProduct(loss, parameters, x);
            for (int j = 0; j < vectors.Count; j++) Axpy(-values[j] * Dot(vectors[j], x), vectors[j], y);
            return y;
        }
        for (int found = 0; found < k; found++)
        {
            var v = new double[n];
            for (int i = 0; i < n; i++) v[i] = rng.NextDouble() - 0.5;
            foreach (var u in vectors) Axpy(-Dot(u, v), u, v);
            Normalize(v);
            double lambda = 0;
            for (int it = 0; it < maxIterations; it++)
            {
                var hv = Apply(v);
                lambda = Dot(v, hv);   // Rayleigh quotient
                double residual = 0, norm = 0;
                for (int i = 0; i < n; i++) { double r = hv[i] - lambda * v[i]; residual += r * r; norm += hv[i] * hv[i]; }
                if (norm == 0 || Math.Sqrt(residual) <= tolerance * Math.Abs(lambda)) break;
                norm = Math.Sqrt(norm);
                for (int i = 0; i < n; i++) v[i] = hv[i] / norm;
                foreach (var u in vectors) Axpy(-Dot(u, v), u, v);   // keep clear of found directions despite rounding
                Normalize(v);
            }
            values.Add(lambda);
            vectors.Add(v);
        }
        return (values.ToArray(), vectors.ToArray());
    }

    /// <summary>
    /// Ritz values (ascending) from <paramref name="steps"/> Lanczos iterations with full re-orthogonalization: the
    /// extreme ones approximate H's smallest and largest eigenvalues, so one run shows both ends of the spectrum (a
    /// negative smallest value with a positive largest one marks a saddle). Needs only H·v products.
    /// </summary>
    public static double[] Lanczos(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, int steps = 20, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int n = Count(parameters);
        int m = Math.Min(steps, n);
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Hessian.Lanczos: steps must be positive");
        var rng = new Random(seed);
        var q = new double[n];
        for (int i = 0; i < n; i++) q[i] = rng.NextDouble() - 0.5;
        Normalize(q);
        var basis = new List<double[]> { q };
        var alpha = new List<double>();
        var beta = new List<double>();
        for (int j = 0; j < m; j++)
        {
            var w = VectorProduct(loss, parameters, basis[j]);
            double a = Dot(w, basis[j]);
            alpha.Add(a);
            // Full re-orthogonalization (twice) keeps the basis orthogonal in floating point.
            for (int pass = 0; pass < 2; pass++) foreach (var b in basis) Axpy(-Dot(b, w), b, w);
            double bnorm = Math.Sqrt(Dot(w, w));
            if (j == m - 1 || bnorm < 1e-12 * Math.Max(1, Math.Abs(a))) break;   // invariant subspace found
            beta.Add(bnorm);
            for (int i = 0; i < n; i++) w[i] /= bnorm;
            basis.Add(w);
        }
        int size = alpha.Count;
        var t = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < size) t[i, i + 1] = t[i + 1, i] = beta[i];
        }
        return SymmetricEigen.Decompose(t).Values;
    }

    static void Check(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, double[] v, string op)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(v);
        int n = Count(parameters);
        if (v.Length != n) throw new ArgumentException($"Hessian.{op}: vector has {v.Length} entries but the parameters have {n}");
    }

    static int Count(IReadOnlyList<Tensor> parameters) => parameters.Sum(p => p.NumEl);

    static Tensor[] Unflatten(double[] flat, Tensor[] like)
    {
        var result = new Tensor[like.Length];
        int offset = 0;
        for (int i = 0; i < like.Length; i++)
        {
            int n = like[i].NumEl;
            result[i] = Torch.FromArray(flat.AsSpan(offset, n).ToArray(), like[i].Shape.ToArray()).To(like[i].DType);
            offset += n;
        }
        return result;
    }

    static double[] Flatten(Tensor?[] tensors, Tensor[] like)
    {
        var result = new double[Count(like)];
        int offset = 0;
        for (int i = 0; i < like.Length; i++)
        {
            if (tensors[i] is { } t) t.Detach().ToDoubleArray().CopyTo(result, offset);
            offset += like[i].NumEl;
        }
        return result;
    }

    static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    static void Axpy(double alpha, double[] x, double[] y) { for (int i = 0; i < x.Length; i++) y[i] += alpha * x[i]; }
    static void Normalize(double[] v) { double n = Math.Sqrt(Dot(v, v)); for (int i = 0; i < v.Length; i++) v[i] /= n; }
}
