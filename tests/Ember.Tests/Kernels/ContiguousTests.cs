using Ember.Kernels.Loops;
using Ember.Kernels.Operators;

namespace Ember.Tests.Kernels;

/// <summary>
/// Contiguous span loops against their scalar definitions (ScalarMath) at every length 0–257, in place and at
/// misaligned offsets. Run under DOTNET_EnableAVX512=0 and DOTNET_EnableAVX2=0 too, so every SIMD width is covered
/// (the JIT's switches; the tests need no change). .NET 10 ignores the older DOTNET_EnableAVX512F.
/// </summary>
public class ContiguousTests
{
    internal static readonly int[] Lengths = [.. Enumerable.Range(0, 258)];

    internal static float[] Data(int n, int seed, float lo = -4, float hi = 4)
    {
        var g = new Generator(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * g.NextSingle();
        return a;
    }

    static double[] DataD(int n, int seed, double lo = -4, double hi = 4)
    {
        var g = new Generator(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * g.NextDouble();
        return a;
    }

    // exact for arithmetic; for the transcendental functions TensorPrimitives' vector forms differ from the scalar
    // ones by up to ~10 ulps (tanh near 0.03: 6e-7 relative), inside the 1e-6 used against libtorch
    static double Tolerance(UnaryOp op) => op switch
    {
        UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Sign or UnaryOp.Relu or UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round or UnaryOp.Trunc or UnaryOp.Square => 0,
        _ => 1e-6,
    };

    static bool Near(double expected, double actual, double rtol)
        => expected.Equals(actual) || Math.Abs(expected - actual) <= rtol * Math.Max(Math.Abs(expected), 1e-30) + (rtol > 0 ? 1e-37 : 0);

    public static TheoryData<UnaryOp> UnaryOps
    {
        get { var d = new TheoryData<UnaryOp>(); foreach (var op in Enum.GetValues<UnaryOp>()) d.Add(op); return d; }
    }

    static (float Lo, float Hi) Domain(UnaryOp op) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt => (0.01f, 8f),
        UnaryOp.Log1p => (-0.9f, 8f),
        UnaryOp.Reciprocal => (0.1f, 4f),
        _ => (-4f, 4f),
    };

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_float_matches_scalar_math_at_every_length_in_place_and_misaligned(UnaryOp op)
    {
        var (lo, hi) = Domain(op);
        double rtol = Tolerance(op);
        foreach (int n in Lengths)
        {
            var x = Data(n + 3, n, lo, hi);
            for (int misalign = 0; misalign <= 3; misalign += 3)
            {
                var src = x.AsSpan(misalign, n);
                var dst = new float[n + 1];
                Contiguous.Unary(op, (ReadOnlySpan<float>)src, dst.AsSpan(1, n));
                var inPlace = src.ToArray();
                Contiguous.Unary(op, (ReadOnlySpan<float>)inPlace, inPlace);
                for (int i = 0; i < n; i++)
                {
                    float expected = ScalarMath.Unary(op, src[i]);
                    Assert.True(Near(expected, dst[i + 1], rtol), $"{op} n={n} offset={misalign} i={i}: {expected:G9} vs {dst[i + 1]:G9}");
                    Assert.Equal(dst[i + 1], inPlace[i]);
                }
                Assert.Equal(0f, dst[0]);  // nothing written before the destination
            }
        }
    }

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_double_matches_scalar_math(UnaryOp op)
    {
        var (lo, hi) = Domain(op);
        foreach (int n in new[] { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 257 })
        {
            var x = DataD(n + 1, n, lo, hi);
            var dst = new double[n];
            Contiguous.Unary(op, (ReadOnlySpan<double>)x.AsSpan(1, n), dst);
            for (int i = 0; i < n; i++)
                Assert.True(Near(ScalarMath.Unary(op, x[i + 1]), dst[i], Tolerance(op) == 0 ? 0 : 1e-14), $"{op} n={n} i={i}");
        }
    }

    public static TheoryData<BinaryOp> BinaryOps
    {
        get { var d = new TheoryData<BinaryOp>(); foreach (var op in Enum.GetValues<BinaryOp>()) d.Add(op); return d; }
    }

    [Theory, MemberData(nameof(BinaryOps))]
    public void Binary_and_scalar_forms_match_scalar_math_at_every_length(BinaryOp op)
    {
        double rtol = op == BinaryOp.Pow ? 4e-7 : 0;
        foreach (int n in Lengths)
        {
            var a = Data(n + 2, 2 * n, op == BinaryOp.Pow ? 0.1f : -4f, 4f);
            var b = Data(n + 1, 2 * n + 1, op == BinaryOp.Pow ? -2f : 0.5f, 3f);
            var x = a.AsSpan(2, n); var y = b.AsSpan(1, n);
            var dst = new float[n];
            Contiguous.Binary(op, (ReadOnlySpan<float>)x, y, dst);
            var right = new float[n]; Contiguous.BinaryScalarRight(op, (ReadOnlySpan<float>)x, 1.75f, right);
            var left = new float[n]; Contiguous.BinaryScalarLeft(op, 1.75f, (ReadOnlySpan<float>)y, left);
            var inPlace = x.ToArray(); Contiguous.Binary(op, (ReadOnlySpan<float>)inPlace, y, inPlace);
            for (int i = 0; i < n; i++)
            {
                Assert.True(Near(ScalarMath.Binary(op, x[i], y[i]), dst[i], rtol), $"{op} n={n} i={i}");
                Assert.True(Near(ScalarMath.Binary(op, x[i], 1.75f), right[i], rtol), $"{op} right n={n} i={i}");
                Assert.True(Near(ScalarMath.Binary(op, 1.75f, y[i]), left[i], rtol), $"{op} left n={n} i={i}");
                Assert.Equal(dst[i], inPlace[i]);
            }
        }
    }

    [Fact]
    public void The_SIMD_switches_take_effect()
    {
        // Run the kernel tests again with DOTNET_EnableAVX512=0 (Vector256 paths) and DOTNET_EnableAVX2=0 (Vector128).
        // On .NET 10 the older knob DOTNET_EnableAVX512F=0 is ignored (measured here): fail loudly rather than let a
        // run believe it covered the narrower paths.
        string? avx512f = Environment.GetEnvironmentVariable("DOTNET_EnableAVX512F");
        string? avx512 = Environment.GetEnvironmentVariable("DOTNET_EnableAVX512");
        if (avx512 == "0" || avx512f == "0")
            Assert.False(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated,
                "Vector512 is still accelerated: on .NET 10 use DOTNET_EnableAVX512=0 (DOTNET_EnableAVX512F is ignored)");
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
            Assert.False(System.Runtime.Intrinsics.X86.Avx2.IsSupported);
    }

    [Fact]
    public void Integer_binary_ops_are_exact()
    {
        var a = new long[] { 7, -7, 3, 0, long.MaxValue / 3 };
        var b = new long[] { 2, 2, -4, 5, 2 };
        var dst = new long[5];
        foreach (var op in new[] { BinaryOp.Add, BinaryOp.Sub, BinaryOp.Mul, BinaryOp.Div, BinaryOp.Maximum, BinaryOp.Minimum, BinaryOp.Pow })
        {
            Contiguous.Binary(op, (ReadOnlySpan<long>)a, b, dst);
            for (int i = 0; i < 5; i++) Assert.Equal(ScalarMath.Binary(op, a[i], b[i]), dst[i]);
        }
        Assert.Equal([49L, 49L, 0L, 0L], new[] { ScalarMath.Binary(BinaryOp.Pow, 7L, 2L), ScalarMath.Binary(BinaryOp.Pow, -7L, 2L), ScalarMath.Binary(BinaryOp.Pow, 3L, -4L), ScalarMath.Binary(BinaryOp.Pow, 0L, 5L) });
    }

    [Fact]
    public void Nan_propagates_through_max_min_relu()
    {
        var x = new[] { float.NaN, 1f, -1f, float.NaN, 2f, 0f, 3f, -3f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f };
        var y = new float[x.Length]; Array.Fill(y, 0.5f);
        var dst = new float[x.Length];
        Contiguous.Binary(BinaryOp.Maximum, (ReadOnlySpan<float>)x, y, dst);
        Assert.True(float.IsNaN(dst[0]) && float.IsNaN(dst[3]));
        Contiguous.Binary(BinaryOp.Minimum, (ReadOnlySpan<float>)y, x, dst);
        Assert.True(float.IsNaN(dst[0]) && float.IsNaN(dst[3]));
        Contiguous.Unary(UnaryOp.Relu, (ReadOnlySpan<float>)x, dst);
        Assert.True(float.IsNaN(dst[0]) && float.IsNaN(dst[3]));
        Assert.Equal(0f, dst[2]);
    }
}
