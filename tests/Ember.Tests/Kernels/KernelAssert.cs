namespace Ember.Tests.Kernels;

/// <summary>Random data and tolerance checks shared by the kernel tests.</summary>
internal static class KernelAssert
{
    public static double[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var a = new double[length];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() * 2 - 1;
        return a;
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, v => (double)v);

    /// <summary>|actual − expected| ≤ tol · max(1, max|expected|) element-wise.</summary>
    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double scale = 1;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= tol * scale))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} (error {err:E2}, tolerance {tol * scale:E2})");
        }
    }

    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol, string what)
        => Close(expected, ToDouble(actual.ToArray()), tol, what);

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>
    /// Central finite difference of L(v) = loss(v) at every element of <paramref name="v"/> (restored afterwards),
    /// compared with the analytic <paramref name="grad"/>.
    /// </summary>
    public static void FiniteDifference(double[] v, Func<double> loss, ReadOnlySpan<double> grad, string what, double eps = 1e-6, double tol = 1e-6)
    {
        for (int i = 0; i < v.Length; i++)
        {
            double keep = v[i];
            v[i] = keep + eps; double plus = loss();
            v[i] = keep - eps; double minus = loss();
            v[i] = keep;
            double numeric = (plus - minus) / (2 * eps);
            if (!(Math.Abs(numeric - grad[i]) <= tol * Math.Max(1, Math.Abs(numeric))))
                Assert.Fail($"{what}: d/d[{i}] analytic {grad[i]:R}, finite difference {numeric:R}");
        }
    }
}
