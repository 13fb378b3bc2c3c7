namespace Ember.Kernels.Linalg;

/// <summary>
/// Reduced singular value decomposition A = U·diag(S)·Vᵀ of one m×n row-major matrix by one-sided Jacobi rotations
/// (Hestenes): accurate to working precision for small matrices, which is what the linalg ops see. Singular values come
/// out in descending order; the columns of U for zero singular values are completed to an orthonormal set.
/// </summary>
public static class JacobiSvd
{
    /// <summary>
    /// U is m×k, S has k values, Vᵀ is k×n (row-major), k = min(m, n). With <paramref name="full"/>, U is m×m and Vᵀ is
    /// n×n, the extra vectors completing an orthonormal basis.
    /// </summary>
    public static void Decompose(ReadOnlySpan<double> a, int m, int n, Span<double> u, Span<double> s, Span<double> vt, bool full = false)
    {
        if (m >= n) { Tall(a, m, n, u, s, vt, transposed: false, full); return; }
        // Aᵀ = V·S·Uᵀ: decompose the tall transpose; Tall writes its V into u and its U into vt
        Tall(a, n, m, u, s, vt, transposed: true, full);
    }

    // cols[j] holds column j of the (possibly transposed) m×n input contiguously. Not transposed: uOut is m×n and vtOut
    // n×n. Transposed: uOut receives V (n×n) and vtOut receives Uᵀ (n×m), the factors of the caller's A = Vᵀ-side view.
    static void Tall(ReadOnlySpan<double> a, int m, int n, Span<double> uOut, Span<double> s, Span<double> vtOut, bool transposed, bool full)
    {
        var cols = new double[n * m];
        var v = new double[n * n];                 // v[j * n + i] = V[i, j]: column j contiguous
        for (int j = 0; j < n; j++)
        {
            v[j * n + j] = 1;
            for (int i = 0; i < m; i++) cols[j * m + i] = transposed ? a[j * m + i] : a[i * n + j];
        }
        for (int sweep = 0; sweep < 80; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
            {
                var cp = cols.AsSpan(p * m, m);
                for (int q = p + 1; q < n; q++)
                {
                    var cq = cols.AsSpan(q * m, m);
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < m; i++) { alpha += cp[i] * cp[i]; beta += cq[i] * cq[i]; gamma += cp[i] * cq[i]; }
                    if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t), sn = c * t;
                    Rotate(cp, cq, c, sn);
                    Rotate(v.AsSpan(p * n, n), v.AsSpan(q * n, n), c, sn);
                }
            }
            if (!rotated) break;
        }
        var norms = new double[n];
        var order = new int[n];
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int i = 0; i < m; i++) sum += cols[j * m + i] * cols[j * m + i];
            norms[j] = Math.Sqrt(sum);
            order[j] = j;
        }
        Array.Sort(order, (x, y) => norms[y].CompareTo(norms[x]) is var c && c != 0 ? c : x.CompareTo(y));
        double tiny = norms.Length == 0 ? 0 : norms[order[0]] * 1e-14 * Math.Max(m, n);
        int uCount = full ? m : n;
        var uCols = new double[uCount * m];         // column r of U contiguous
        int basisTry = 0;
        for (int r = 0; r < n; r++)
        {
            int j = order[r];
            s[r] = norms[j];
            var ur = uCols.AsSpan(r * m, m);
            if (norms[j] > tiny && norms[j] > 0)
                for (int i = 0; i < m; i++) ur[i] = cols[j * m + i] / norms[j];
            else
                basisTry = CompleteBasis(uCols, r, m, basisTry);
            for (int i = 0; i < n; i++)
            {
                // row r of Vᵀ is column j of V
                double vij = v[j * n + i];
                if (transposed) uOut[i * n + r] = vij; else vtOut[r * n + i] = vij;
            }
        }
        for (int r = n; r < uCount; r++) basisTry = CompleteBasis(uCols, r, m, basisTry);
        for (int r = 0; r < uCount; r++)
            for (int i = 0; i < m; i++)
            {
                double uir = uCols[r * m + i];
                if (transposed) vtOut[r * m + i] = uir; else uOut[i * uCount + r] = uir;
            }
    }

    static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    // a unit vector orthogonal to columns 0..r−1: Gram–Schmidt (twice) on the standard basis vectors in turn
    static int CompleteBasis(double[] uCols, int r, int m, int next)
    {
        var ur = uCols.AsSpan(r * m, m);
        for (; next < m; next++)
        {
            ur.Clear();
            ur[next] = 1;
            for (int pass = 0; pass < 2; pass++)
                for (int k = 0; k < r; k++)
                {
                    var uk = uCols.AsSpan(k * m, m);
                    double dot = 0;
                    for (int i = 0; i < m; i++) dot += uk[i] * ur[i];
                    for (int i = 0; i < m; i++) ur[i] -= dot * uk[i];
                }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += ur[i] * ur[i];
            norm = Math.Sqrt(norm);
            if (norm > 0.5)
            {
                for (int i = 0; i < m; i++) ur[i] /= norm;
                return next + 1;
            }
        }
        return next;
    }
}
