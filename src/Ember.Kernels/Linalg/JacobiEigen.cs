namespace Ember.Kernels.Linalg;

/// <summary>
/// Eigendecomposition of one symmetric n×n row-major matrix by cyclic Jacobi rotations (Golub and Van Loan §8.5):
/// slow for large n but accurate to the last bits for the small matrices linalg tests and models use. Reads one
/// triangle only, as LAPACK's syevd with UPLO.
/// </summary>
public static class JacobiEigen
{
    /// <summary>Eigenvalues ascending in <paramref name="w"/> (n), eigenvectors as the columns of <paramref name="v"/> (n×n, row-major).</summary>
    public static void Decompose(ReadOnlySpan<double> a, int n, Span<double> w, Span<double> v, bool upper = false)
    {
        var s = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                s[i * n + j] = s[j * n + i] = upper ? a[j * n + i] : a[i * n + j];
        var vec = new double[n * n];
        for (int i = 0; i < n; i++) vec[i * n + i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, total = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) { double x = s[i * n + j] * s[i * n + j]; total += x; if (i != j) off += x; }
            if (off <= 1e-32 * total || off == 0) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = s[p * n + q];
                    if (apq == 0) continue;
                    // t = tan of the angle that zeroes a_pq, the smaller root of t² + 2θt − 1 = 0
                    double theta = (s[q * n + q] - s[p * n + p]) / (2 * apq);
                    double t = (theta >= 0 ? 1 : -1) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), sn = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double kp = s[k * n + p], kq = s[k * n + q];
                        s[k * n + p] = c * kp - sn * kq;
                        s[k * n + q] = sn * kp + c * kq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double pk = s[p * n + k], qk = s[q * n + k];
                        s[p * n + k] = c * pk - sn * qk;
                        s[q * n + k] = sn * pk + c * qk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double kp = vec[k * n + p], kq = vec[k * n + q];
                        vec[k * n + p] = c * kp - sn * kq;
                        vec[k * n + q] = sn * kp + c * kq;
                    }
                }
        }
        // ascending, as LAPACK; a stable insertion order keeps equal eigenvalues in the order they came
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = 1; i < n; i++)
        {
            int cur = order[i], j = i - 1;
            while (j >= 0 && s[order[j] * n + order[j]] > s[cur * n + cur]) { order[j + 1] = order[j]; j--; }
            order[j + 1] = cur;
        }
        for (int c = 0; c < n; c++)
        {
            w[c] = s[order[c] * n + order[c]];
            for (int r = 0; r < n; r++) v[r * n + c] = vec[r * n + order[c]];
        }
    }
}
