namespace Ember.Kernels.Linalg;

/// <summary>Cholesky factorization A = L·Lᵀ of one symmetric positive-definite row-major matrix (LAPACK's potrf, lower).</summary>
public static class CholeskyFactorization
{
    /// <summary>
    /// Writes L into <paramref name="l"/> (n×n, zeros above the diagonal), reading only the lower triangle of
    /// <paramref name="a"/>. Returns 0, or the order of the first leading minor that is not positive-definite.
    /// </summary>
    public static int Factor(ReadOnlySpan<double> a, int n, Span<double> l)
    {
        l.Slice(0, n * n).Clear();
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > 0)) return j + 1;   // also catches NaN
            double ljj = Math.Sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / ljj;
            }
        }
        return 0;
    }
}
