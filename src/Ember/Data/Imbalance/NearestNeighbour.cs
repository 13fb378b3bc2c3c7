using Ember.Kernels.Gemm;

namespace Ember.Data.Imbalance;

/// <summary>
/// Exact nearest neighbours (Euclidean, over all rows) at GEMM speed. The squared distances are first estimated as
/// ‖a‖² + ‖b‖² − 2·a·b, with a·b from a float32 GEMM over blocks of rows; a rigorous bound on that estimate's error then
/// leaves only the few rows that could still be the nearest, whose distances are recomputed exactly as the brute-force
/// search does (Σ (aⱼ − bⱼ)² in float64, in order). So the chosen neighbour is the brute-force one, bit for bit, including
/// its tie rule: the lowest index among the equally near.
/// </summary>
internal static class NearestNeighbour
{
    /// <summary>Rows of C held at once: about 64 MB of float32 distances per block.</summary>
    const long BlockFloats = 16L << 20;

    /// <summary>For each of the <paramref name="n"/> rows of <paramref name="x"/> ([n, d], row-major), the index of its nearest other row (−1 when n = 1).</summary>
    internal static int[] Find(double[] x, int n, int d)
    {
        var nearest = new int[n];
        if (n == 0) return nearest;
        if (n == 1 || d == 0)
        {
            // d = 0: every distance is 0, so the nearest is the lowest other index, as in the brute-force search.
            for (int a = 0; a < n; a++) nearest[a] = n == 1 ? -1 : a == 0 ? 1 : 0;
            return nearest;
        }
        var xf = new float[(long)n * d];
        var sq = new double[n];
        var norm = new double[n];
        for (int a = 0; a < n; a++)
        {
            double s = 0;
            for (int j = 0; j < d; j++)
            {
                double v = x[(long)a * d + j];
                xf[(long)a * d + j] = (float)v;
                s += v * v;
            }
            sq[a] = s;
            norm[a] = Math.Sqrt(s);
        }
        // Error bound of the estimate against the brute-force float64 sum, per pair:
        //   float32 inputs' rounding and the GEMM's d-term dot product: |Δ(a·b)| ≤ ((d + 2)·u + O(u²))·‖a‖·‖b‖ (u = 2⁻²⁴,
        //   Cauchy–Schwarz on |a|, |b|), doubled in −2·a·b; the float64 norms, the float64 sums of the estimate, and the
        //   brute-force sum's own rounding: ≤ (d + 8)·2⁻⁵³·(‖a‖² + ‖b‖² + 2·‖a‖·‖b‖).
        // Both are widened by a quarter, which more than covers the second-order terms.
        double g = 1.25 * (2.0 * (d + 2) * Math.ScaleB(1.0, -24));
        double h = 1.25 * ((d + 8) * Math.ScaleB(1.0, -53));
        int rows = (int)Math.Clamp(BlockFloats / n, 1, n);
        var c = new float[(long)rows * n];
        for (int i0 = 0; i0 < n; i0 += rows)
        {
            int m = Math.Min(rows, n - i0);
            Gemm.Sgemm(false, true, m, n, d, 1f, xf.AsSpan((int)((long)i0 * d), m * d), d, xf, d, 0f, c, n);
            var block = new Block(x, d, n, i0, c, sq, norm, g + 2 * h, h, nearest);
            Parallel.For(0, m, block.Row);
        }
        return nearest;
    }

    /// <summary>One block's scan; a class so the parallel loop's body is one delegate, not a closure per row.</summary>
    sealed class Block(double[] x, int d, int n, int i0, float[] c, double[] sq, double[] norm, double g, double h, int[] nearest)
    {
        public void Row(int r)
        {
            int a = i0 + r;
            long off = (long)r * n;
            double sa = sq[a], na = norm[a];
            // Pass 1: the least upper bound U of the exact squared distance over all other rows. The true nearest row's
            // lower bound is at most U, so pass 2's candidates include it and every row that ties with it.
            double upper = double.PositiveInfinity;
            for (int b = 0; b < n; b++)
            {
                if (b == a) continue;
                double est = sa + sq[b] - 2.0 * c[off + b];
                double err = g * na * norm[b] + h * (sa + sq[b]);
                if (est + err < upper) upper = est + err;
            }
            // Pass 2: the exact distance of each candidate; a strict < in index order keeps the lowest index on a tie.
            double best = double.PositiveInfinity;
            int arg = -1;
            long ao = (long)a * d;
            for (int b = 0; b < n; b++)
            {
                if (b == a) continue;
                double est = sa + sq[b] - 2.0 * c[off + b];
                double err = g * na * norm[b] + h * (sa + sq[b]);
                if (est - err > upper) continue;
                double s = 0;
                long bo = (long)b * d;
                for (int j = 0; j < d; j++) { double t = x[ao + j] - x[bo + j]; s += t * t; }
                if (s < best) (best, arg) = (s, b);
            }
            nearest[a] = arg;
        }
    }
}
