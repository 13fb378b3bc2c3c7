using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// GELU with the exact erf form, y = x·½·(1 + erf(x/√2)), and its backward dx = g·(Φ(x) + x·φ(x)), each in one pass
/// over contiguous spans. The float32 arithmetic follows PyTorch's kernels step by step (erf in float first, then
/// 1 + erf), with a single-precision erf within 1.3e-7 relative; float64 uses the double-precision scalar erf.
/// </summary>
public static unsafe class GeluKernel
{
    const double SqrtHalf = 0.70710678118654752440;
    const double Beta = 0.39894228040143267794;   // 1/√(2π) = ½·(2/√π)·√½

    /// <summary>y = gelu(x). y may alias x.</summary>
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (y.Length != x.Length) throw new ArgumentException($"GeluKernel.Forward: {x.Length} inputs for {y.Length} outputs");
        fixed (T* px = x) fixed (T* py = y)
        {
            var action = new Action<T> { X = px, Y = py };
            ParallelRange.For(x.Length, x.Length >= Elementwise.ParallelThreshold ? Elementwise.Grain : x.Length, action);
        }
    }

    /// <summary>dx = g·(Φ(x) + x·φ(x)).</summary>
    public static void Backward<T>(ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> x, Span<T> gradInput) where T : unmanaged
    {
        if (gradOutput.Length != x.Length || gradInput.Length != x.Length)
            throw new ArgumentException($"GeluKernel.Backward: {gradOutput.Length} gradients, {x.Length} inputs, {gradInput.Length} outputs");
        fixed (T* pg = gradOutput) fixed (T* px = x) fixed (T* pd = gradInput)
        {
            var action = new Action<T> { X = px, Y = pd, G = pg };
            ParallelRange.For(x.Length, x.Length >= Elementwise.ParallelThreshold ? Elementwise.Grain : x.Length, action);
        }
    }

    // Forward when G is null, backward otherwise; chunks go through a stack buffer of erf values.
    struct Action<T> : IRangeAction where T : unmanaged
    {
        public T* X, Y, G;
        public readonly void Invoke(int start, int end)
        {
            if (typeof(T) == typeof(float)) RunFloat((float*)X, (float*)Y, (float*)G, start, end);
            else if (typeof(T) == typeof(double)) RunDouble((double*)X, (double*)Y, (double*)G, start, end);
            else throw new NotSupportedException($"gelu: {typeof(T).Name} is not a floating-point type");
        }
    }

    static void RunFloat(float* x, float* y, float* g, int start, int end)
    {
        const int Chunk = 512;
        Span<float> scaled = stackalloc float[Chunk];
        var half = Vector512.Create(0.5f);
        var one = Vector512<float>.One;
        var beta = Vector512.Create((float)Beta);
        for (int at = start; at < end; at += Chunk)
        {
            int n = Math.Min(Chunk, end - at);
            var xs = new ReadOnlySpan<float>(x + at, n);
            var e = scaled[..n];
            TensorPrimitives.Multiply(xs, (float)SqrtHalf, e);
            VectorErf.ErfSingle(e, e);
            int i = 0;
            // The vector loops round exactly like the scalar expressions of the tail loops.
            fixed (float* pe = e)
            {
                if (g == null)
                {
                    for (; i <= n - 16; i += 16)
                        Vector512.Store(Vector512.Load(x + at + i) * half * (one + Vector512.Load(pe + i)), y + at + i);
                    for (; i < n; i++) y[at + i] = xs[i] * 0.5f * (1f + e[i]);
                }
                else
                {
                    var minusHalf = Vector512.Create(-0.5f);
                    for (; i <= n - 16; i += 16)
                    {
                        var v = Vector512.Load(x + at + i);
                        var cdf = half * (one + Vector512.Load(pe + i));
                        var pdf = Vector512.Exp(minusHalf * v * v) * beta;
                        Vector512.Store(Vector512.Load(g + at + i) * (cdf + v * pdf), y + at + i);
                    }
                    for (; i < n; i++)
                    {
                        float v = xs[i];
                        float cdf = 0.5f * (1f + e[i]);
                        float pdf = Vector512.Exp(Vector512.Create(-0.5f * v * v)).ToScalar() * (float)Beta;
                        y[at + i] = g[at + i] * (cdf + v * pdf);
                    }
                }
            }
        }
    }

    static void RunDouble(double* x, double* y, double* g, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            double v = x[i], erf = ErrorFunction.Erf(v * SqrtHalf);
            if (g == null) y[i] = v * 0.5 * (1 + erf);
            else y[i] = g[i] * (0.5 * (1 + erf) + v * Math.Exp(-0.5 * v * v) * Beta);
        }
    }
}
