using Ember.Kernels.Loops;
using Ember.Kernels.Norm;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// BatchNormKernel.ForwardSilu/BackwardSilu against their definition, the BN kernels and the SiLU activation kernels run
/// one after the other: bit for bit in float32 and float64, at plane sizes around the vector widths (1, 7, 15–17, 31–33),
/// the CNN's 196 and an odd 257, with and without the affine parameters, on one thread and on two. Run also with
/// DOTNET_EnableAVX512=0 and DOTNET_EnableAVX2=0 to cover the narrower paths.
/// </summary>
public class BatchNormKernelSiluTests
{
    [Theory]
    [InlineData(3, 2, 1, true)]
    [InlineData(2, 3, 7, false)]
    [InlineData(4, 5, 15, true)]
    [InlineData(2, 4, 16, true)]
    [InlineData(3, 3, 17, false)]
    [InlineData(2, 2, 31, true)]
    [InlineData(2, 9, 33, true)]
    [InlineData(5, 6, 196, true)]
    [InlineData(3, 17, 257, false)]
    public void Fused_kernels_equal_batch_norm_then_silu_bit_for_bit(int n, int c, int s, bool affine)
    {
        int saved = ParallelRange.MaxThreads;
        try
        {
            int length = n * c * s;
            // x spread over a few binades with a per-channel offset; gradients of both signs
            double[] x = Values(length, 1, 4), g = Values(length, 2, 1);
            double[] w = affine ? Values(c, 3, 1) : [], b = affine ? Values(c, 4, 2) : [];
            foreach (int threads in new[] { 1, 2 })
            {
                ParallelRange.MaxThreads = threads;
                Check(x, g, w, b, n, c, s, (float)1e-3, v => (float)v, $"float32, {threads} thread(s), affine {affine}");
                Check(x, g, w, b, n, c, s, 1e-3, v => v, $"float64, {threads} thread(s), affine {affine}");
            }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    /// <summary>
    /// The same at the plane sizes of a YOLOv5n training step at 640 (80², 40², 20²) and an odd 13², on normal random
    /// inputs as a convolution gives them (a per-channel mean and scale) and the YOLO eps, with and without the affine
    /// parameters; on two threads.
    /// </summary>
    [Theory]
    [InlineData(2, 16, 80 * 80, 1)]
    [InlineData(4, 32, 40 * 40, 2)]
    [InlineData(8, 64, 20 * 20, 3)]
    [InlineData(3, 5, 13 * 13, 4)]
    public void Fused_kernels_equal_batch_norm_then_silu_on_random_inputs_of_yolo_plane_sizes(int n, int c, int s, int seed)
    {
        var rng = new Random(seed);
        double[] channelMean = Normal(rng, c, 0, 2), channelScale = Normal(rng, c, 0, 1);
        var x = Normal(rng, n * c * s, 0, 1);
        for (int i = 0; i < x.Length; i++) x[i] = channelMean[i / s % c] + Math.Abs(channelScale[i / s % c]) * x[i];
        double[] g = Normal(rng, x.Length, 0, 1e-3), w = Normal(rng, c, 1, 0.1), b = Normal(rng, c, 0, 0.1);
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 2;
            foreach (bool affine in new[] { true, false })
            {
                double[] wa = affine ? w : [], ba = affine ? b : [];
                Check(x, g, wa, ba, n, c, s, (float)1e-3, v => (float)v, $"float32, seed {seed}, affine {affine}");
                Check(x, g, wa, ba, n, c, s, 1e-3, v => v, $"float64, seed {seed}, affine {affine}");
            }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    static void Check<T>(double[] xs, double[] gs, double[] ws, double[] bs, int n, int c, int s, T eps, Func<double, T> from, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int length = n * c * s;
        T[] x = Array.ConvertAll(xs, v => from(v)), g = Array.ConvertAll(gs, v => from(v));
        T[] w = Array.ConvertAll(ws, v => from(v)), b = Array.ConvertAll(bs, v => from(v));
        string label = $"{what} [{n}, {c}, {s}]";

        T[] z = new T[length], y = new T[length], mean = new T[c], inv = new T[c];
        BatchNormKernel.Forward<T>(x, n, c, s, w, b, eps, z, mean, inv);
        ActivationKernel.Forward<T>(Activation.Silu, z, y);
        T[] yFused = new T[length], meanFused = new T[c], invFused = new T[c];
        BatchNormKernel.ForwardSilu<T>(x, n, c, s, w, b, eps, yFused, meanFused, invFused);
        SameBits(mean, meanFused, label + " mean");
        SameBits(inv, invFused, label + " invstd");
        SameBits(y, yFused, label + " output");

        T[] dz = new T[length], dx = new T[length], dw = new T[c], db = new T[c];
        ActivationKernel.Backward<T>(Activation.Silu, g, z, dz);
        BatchNormKernel.Backward<T>(x, dz, n, c, s, w, mean, inv, dx, dw, db);
        T[] dxFused = new T[length], dwFused = new T[c], dbFused = new T[c];
        BatchNormKernel.BackwardSilu<T>(x, g, n, c, s, w, b, mean, inv, dxFused, dwFused, dbFused);
        SameBits(dx, dxFused, label + " dx");
        SameBits(dw, dwFused, label + " dweight");
        SameBits(db, dbFused, label + " dbias");
    }

    [Fact]
    public void Fused_kernels_reject_half_types_and_short_spans()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNormKernel.ForwardSilu<float>(new float[5], 2, 1, 3, default, default, 1e-3f, new float[6], new float[1], new float[1]));
        Assert.Contains("ForwardSilu", e.Message);
        Assert.Throws<NotSupportedException>(() => BatchNormKernel.BackwardSilu<Half>(new Half[2], new Half[2], 1, 1, 2, default, default, new Half[1], new Half[1], new Half[2], new Half[1], new Half[1]));
    }

    static double[] Values(int count, int seed, double spread)
    {
        var rng = new Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = (rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-3, 4)) * spread + (i % 3 - 1);
        return v;
    }

    // Box–Muller: count normal values of the given mean and standard deviation.
    static double[] Normal(Random rng, int count, double mean, double std)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++)
            v[i] = mean + std * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return v;
    }

    static ulong Bits<T>(T v) => v switch
    {
        float f => BitConverter.SingleToUInt32Bits(f),
        double d => BitConverter.DoubleToUInt64Bits(d),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    static void SameBits<T>(T[] expected, T[] actual, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Bits(expected[i]) != Bits(actual[i]))
                Assert.Fail($"{label}: element {i} is {actual[i]}, BN then SiLU gives {expected[i]}");
    }
}
