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

    /// <summary>
    /// A gradient whose images lie apart, each holding its channels packed (a channel slice of a concatenation's gradient,
    /// read where it lies), and dx written over the gradient itself give the plain and the fused backward bit for bit
    /// what a packed gradient and a separate dx give; the gaps between the images hold NaN, so a read of them would show.
    /// Batch 1 and more, odd channel counts and planes, float32 and float64, one thread and two.
    /// </summary>
    [Theory]
    [InlineData(1, 3, 17, 5)]
    [InlineData(2, 5, 33, 1)]
    [InlineData(3, 7, 13 * 13, 2)]
    [InlineData(4, 6, 257, 3)]
    [InlineData(5, 9, 1, 4)]
    public void Backward_kernels_read_a_gradient_whose_images_lie_apart_or_write_dx_over_it_bit_for_bit(int n, int c, int s, int extraChannels)
    {
        int length = n * c * s;
        double[] x = Values(length, 5, 3), g = Values(length, 6, 1), w = Values(c, 7, 1), b = Values(c, 8, 2);
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                ParallelRange.MaxThreads = threads;
                CheckImageStride(x, g, w, b, n, c, s, extraChannels, (float)1e-3, v => (float)v, $"float32, {threads} thread(s)");
                CheckImageStride(x, g, w, b, n, c, s, extraChannels, 1e-3, v => v, $"float64, {threads} thread(s)");
            }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    static void CheckImageStride<T>(double[] xs, double[] gs, double[] ws, double[] bs, int n, int c, int s, int extraChannels, T eps, Func<double, T> from, string what)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int length = n * c * s, stride = (c + extraChannels) * s;
        T[] x = Array.ConvertAll(xs, v => from(v)), g = Array.ConvertAll(gs, v => from(v));
        T[] w = Array.ConvertAll(ws, v => from(v)), b = Array.ConvertAll(bs, v => from(v));
        // the images of g at channel offset 1 of a [n, c + extra, s] buffer (the last image's tail cut off)
        var wide = new T[1 * s + (n - 1) * stride + c * s];
        Array.Fill(wide, T.NaN);
        for (int i = 0; i < n; i++) Array.Copy(g, i * c * s, wide, s + i * stride, c * s);
        ReadOnlySpan<T> slice = wide.AsSpan(s);
        T[] mean = new T[c], inv = new T[c], y = new T[length];
        BatchNormKernel.Forward<T>(x, n, c, s, w, b, eps, y, mean, inv);
        string label = $"{what} [{n}, {c}, {s}] image stride {stride}";
        foreach (bool silu in new[] { false, true })
        {
            T[] dx = new T[length], dw = new T[c], db = new T[c], dxApart = new T[length], dwApart = new T[c], dbApart = new T[c];
            T[] dxOver = (T[])g.Clone(), dwOver = new T[c], dbOver = new T[c];
            if (silu)
            {
                BatchNormKernel.BackwardSilu<T>(x, g, n, c, s, w, b, mean, inv, dx, dw, db);
                BatchNormKernel.BackwardSilu<T>(x, slice, n, c, s, w, b, mean, inv, dxApart, dwApart, dbApart, stride);
                BatchNormKernel.BackwardSilu<T>(x, dxOver, n, c, s, w, b, mean, inv, dxOver, dwOver, dbOver);
            }
            else
            {
                BatchNormKernel.Backward<T>(x, g, n, c, s, w, mean, inv, dx, dw, db);
                BatchNormKernel.Backward<T>(x, slice, n, c, s, w, mean, inv, dxApart, dwApart, dbApart, stride);
                BatchNormKernel.Backward<T>(x, dxOver, n, c, s, w, mean, inv, dxOver, dwOver, dbOver);
            }
            string kernel = silu ? " BackwardSilu" : " Backward";
            SameBits(dx, dxApart, label + kernel + " dx");
            SameBits(dw, dwApart, label + kernel + " dweight");
            SameBits(db, dbApart, label + kernel + " dbias");
            SameBits(dx, dxOver, label + kernel + " dx over g");
            SameBits(dw, dwOver, label + kernel + " dweight (dx over g)");
            SameBits(db, dbOver, label + kernel + " dbias (dx over g)");
        }
        // a stride under an image, or a span that stops before the last image ends, is refused
        var e = Assert.Throws<ArgumentException>(() => BatchNormKernel.Backward<T>(x, wide, n, c, s, w, mean, inv, new T[length], new T[c], new T[c], c * s - 1));
        Assert.Contains("image stride", e.Message);
        if (n > 1)
            Assert.Throws<ArgumentException>(() => BatchNormKernel.BackwardSilu<T>(x, wide.AsSpan(0, (n - 1) * stride + c * s - 1), n, c, s, w, b, mean, inv,
                new T[length], new T[c], new T[c], stride));
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
