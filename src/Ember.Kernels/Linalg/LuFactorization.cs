namespace Ember.Kernels.Linalg;

/// <summary>
/// LU factorization with partial pivoting of one square row-major matrix (LAPACK's getrf, unblocked): P·A = L·U with
/// L unit lower triangular, U upper triangular, both stored in place. A pivot that is exactly zero marks the matrix
/// singular, the test LAPACK makes (the info value the linalg errors report).
/// </summary>
public static class LuFactorization
{
    /// <summary>
    /// Factors <paramref name="a"/> (n×n) in place; <paramref name="pivots"/>[k] is the row swapped with row k.
    /// Returns 0, or the 1-based index of the first zero pivot. <paramref name="sign"/> is the permutation's sign.
    /// </summary>
    public static int Factor(Span<double> a, int n, Span<int> pivots, out int sign)
    {
        sign = 1;
        int info = 0;
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double best = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > best) { best = v; p = i; }
            }
            pivots[k] = p;
            if (p != k)
            {
                for (int j = 0; j < n; j++) (a[k * n + j], a[p * n + j]) = (a[p * n + j], a[k * n + j]);
                sign = -sign;
            }
            double pivot = a[k * n + k];
            if (pivot == 0) { if (info == 0) info = k + 1; continue; }
            var rowK = a.Slice(k * n, n);
            for (int i = k + 1; i < n; i++)
            {
                var rowI = a.Slice(i * n, n);
                double l = rowI[k] / pivot;
                rowI[k] = l;
                if (l == 0) continue;
                for (int j = k + 1; j < n; j++) rowI[j] -= l * rowK[j];
            }
        }
        return info;
    }

    /// <summary>Overwrites <paramref name="b"/> (n×nrhs, row-major) with A⁻¹·b from a factorization by <see cref="Factor"/>.</summary>
    public static void Solve(ReadOnlySpan<double> lu, int n, ReadOnlySpan<int> pivots, Span<double> b, int nrhs)
    {
        for (int k = 0; k < n; k++)
        {
            int p = pivots[k];
            if (p == k) continue;
            for (int j = 0; j < nrhs; j++) (b[k * nrhs + j], b[p * nrhs + j]) = (b[p * nrhs + j], b[k * nrhs + j]);
        }
        // forward substitution with the unit lower factor
        for (int i = 1; i < n; i++)
        {
            var bi = b.Slice(i * nrhs, nrhs);
            for (int k = 0; k < i; k++)
            {
                double l = lu[i * n + k];
                if (l == 0) continue;
                var bk = b.Slice(k * nrhs, nrhs);
                for (int j = 0; j < nrhs; j++) bi[j] -= l * bk[j];
            }
        }
        // back substitution with the upper factor
        for (int i = n - 1; i >= 0; i--)
        {
            var bi = b.Slice(i * nrhs, nrhs);
            for (int k = i + 1; k < n; k++)
            {
                double u = lu[i * n + k];
                if (u == 0) continue;
                var bk = b.Slice(k * nrhs, nrhs);
                for (int j = 0; j < nrhs; j++) bi[j] -= u * bk[j];
            }
            double d = lu[i * n + i];
            for (int j = 0; j < nrhs; j++) bi[j] /= d;
        }
    }
}
