namespace Ember.Analysis;

/// <summary>
/// Eigen-decomposition of a small real symmetric matrix by the cyclic Jacobi method: plane rotations zero the
/// off-diagonal entries one by one until they are negligible. O(n³) per sweep, fine for n up to a few hundred.
/// </summary>
public static class SymmetricEigen
{
    /// <summary>
    /// Eigenvalues in ascending order and the matching unit eigenvectors as columns of <c>Vectors</c> (A·v = λ·v).
    /// The input is symmetrized as (A + Aᵀ)/2 and not modified.
    /// </summary>
    public static (double[] Values, double[,] Vectors) Decompose(double[,] matrix, double tolerance = 1e-14, int maxSweeps = 100)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int n = matrix.GetLength(0);
        if (matrix.GetLength(1) != n) throw new ArgumentException($"SymmetricEigen.Decompose: expected a square matrix, got {n}×{matrix.GetLength(1)}");
        var a = new double[n, n];
        var v = new double[n, n];
        double scale = 0;
        for (int i = 0; i < n; i++)
        {
            v[i, i] = 1;
            for (int j = 0; j < n; j++)
            {
                a[i, j] = 0.5 * (matrix[i, j] + matrix[j, i]);
                if (!double.IsFinite(a[i, j])) throw new ArgumentException($"SymmetricEigen.Decompose: entry ({i}, {j}) is {matrix[i, j]}");
                scale = Math.Max(scale, Math.Abs(a[i, j]));
            }
        }
        for (int sweep = 0; sweep < maxSweeps; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off = Math.Max(off, Math.Abs(a[p, q]));
            if (off <= tolerance * Math.Max(scale, double.Epsilon)) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    // Rotation angle that zeroes a[p,q] (Numerical Recipes' stable form).
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderBy(i => a[i, i]).ToArray();
        var values = order.Select(i => a[i, i]).ToArray();
        var vectors = new double[n, n];
        for (int c = 0; c < n; c++) for (int r = 0; r < n; r++) vectors[r, c] = v[r, order[c]];
        return (values, vectors);
    }
}
