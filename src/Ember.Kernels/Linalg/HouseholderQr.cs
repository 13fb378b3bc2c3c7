namespace Ember.Kernels.Linalg;

/// <summary>
/// Reduced QR of one m×n row-major matrix by Householder reflections with LAPACK's sign convention (geqrf + orgqr:
/// each reflector maps the column onto −sign(a_kk)·‖column‖, so R's diagonal can be negative, as in PyTorch).
/// </summary>
public static class HouseholderQr
{
    /// <summary>
    /// Q is m×c and R is c×n, both row-major, with c = min(m, n) (reduced) or c = m when <paramref name="complete"/>
    /// (Q square, R's rows past min(m, n) zero; LAPACK's orgqr on all m columns).
    /// </summary>
    public static void Factor(ReadOnlySpan<double> a, int m, int n, Span<double> q, Span<double> r, bool complete = false)
    {
        int k = Math.Min(m, n), cols = complete ? m : k;
        var w = a.Slice(0, m * n).ToArray();       // becomes R above the diagonal, reflectors below
        var tau = new double[k];
        for (int j = 0; j < k; j++)
        {
            double alpha = w[j * n + j], xnorm = 0;
            for (int i = j + 1; i < m; i++) xnorm = Hypot(xnorm, w[i * n + j]);
            if (xnorm == 0) { tau[j] = 0; continue; }            // H = I, as dlarfg
            double beta = -Math.CopySign(Hypot(alpha, xnorm), alpha);
            tau[j] = (beta - alpha) / beta;
            double scale = 1 / (alpha - beta);
            for (int i = j + 1; i < m; i++) w[i * n + j] *= scale;   // v = [1, x/(alpha − beta)]
            w[j * n + j] = beta;
            // apply H = I − tau·v·vᵀ to the remaining columns
            for (int c = j + 1; c < n; c++)
            {
                double s = w[j * n + c];
                for (int i = j + 1; i < m; i++) s += w[i * n + j] * w[i * n + c];
                s *= tau[j];
                w[j * n + c] -= s;
                for (int i = j + 1; i < m; i++) w[i * n + c] -= s * w[i * n + j];
            }
        }
        r.Slice(0, cols * n).Clear();
        for (int i = 0; i < k; i++)
            for (int c = i; c < n; c++) r[i * n + c] = w[i * n + c];
        // Q = H_0·H_1·…·H_{k−1} applied to the first `cols` columns of I, accumulated backwards (orgqr)
        q.Slice(0, m * cols).Clear();
        for (int i = 0; i < cols; i++) q[i * cols + i] = 1;
        for (int j = k - 1; j >= 0; j--)
        {
            if (tau[j] == 0) continue;
            for (int c = j; c < cols; c++)
            {
                double s = q[j * cols + c];
                for (int i = j + 1; i < m; i++) s += w[i * n + j] * q[i * cols + c];
                s *= tau[j];
                q[j * cols + c] -= s;
                for (int i = j + 1; i < m; i++) q[i * cols + c] -= s * w[i * n + j];
            }
        }
    }

    static double Hypot(double a, double b)
    {
        a = Math.Abs(a); b = Math.Abs(b);
        double big = Math.Max(a, b), small = Math.Min(a, b);
        if (big == 0) return 0;
        double t = small / big;
        return big * Math.Sqrt(1 + t * t);
    }
}
