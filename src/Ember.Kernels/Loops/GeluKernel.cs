using System.Runtime.CompilerServices;
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

    // Forward when G is null, backward otherwise.
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
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: RunFloat<Simd512<float>>(x, y, g, start, end); break;
            case SimdWidth.Vector256: RunFloat<Simd256<float>>(x, y, g, start, end); break;
            default: RunFloat<Simd128<float>>(x, y, g, start, end); break;
        }
    }

    // One pass, each lane rounding like PyTorch's scalar steps: t = x·√½ in float, erf(t) in float, then ½x·(1 + erf)
    // (the product in that order). Two independent vectors per step, since the erf's polynomial recurrences are
    // latency-bound; the rest goes through partial vectors in a separate method, so every element takes the same
    // operations and each method stays within the JIT's inlining budget (past it, the ISimd calls stop being inlined).
    static void RunFloat<TVec>(float* x, float* y, float* g, int start, int end) where TVec : struct, ISimd<TVec, float>
    {
        if (g == null) ForwardBody<TVec>(x, y, start, end);
        else BackwardBody<TVec>(g, x, y, start, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per range: a tier-0/OSR loop would run slow
    static void ForwardBody<TVec>(float* x, float* y, int start, int end) where TVec : struct, ISimd<TVec, float>
    {
        int i = start;
        for (; i <= end - 2 * TVec.Count; i += 2 * TVec.Count)
        {
            TVec a = Forward(TVec.Load(x + i)), b = Forward(TVec.Load(x + i + TVec.Count));
            a.Store(y + i);
            b.Store(y + i + TVec.Count);
        }
        if (i < end) ForwardTail<TVec>(x, y, i, end);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void ForwardTail<TVec>(float* x, float* y, int i, int end) where TVec : struct, ISimd<TVec, float>
    {
        for (; i < end; i += TVec.Count)
        {
            int m = Math.Min(TVec.Count, end - i);
            Forward(TVec.LoadPartial(x + i, m)).StorePartial(y + i, m);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per range: a tier-0/OSR loop would run slow
    static void BackwardBody<TVec>(float* g, float* x, float* dx, int start, int end) where TVec : struct, ISimd<TVec, float>
    {
        int i = start;
        for (; i <= end - 2 * TVec.Count; i += 2 * TVec.Count)
        {
            TVec a = Backward(TVec.Load(g + i), TVec.Load(x + i));
            TVec b = Backward(TVec.Load(g + i + TVec.Count), TVec.Load(x + i + TVec.Count));
            a.Store(dx + i);
            b.Store(dx + i + TVec.Count);
        }
        if (i < end) BackwardTail<TVec>(g, x, dx, i, end);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void BackwardTail<TVec>(float* g, float* x, float* dx, int i, int end) where TVec : struct, ISimd<TVec, float>
    {
        for (; i < end; i += TVec.Count)
        {
            int m = Math.Min(TVec.Count, end - i);
            Backward(TVec.LoadPartial(g + i, m), TVec.LoadPartial(x + i, m)).StorePartial(dx + i, m);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Forward<TVec>(TVec v) where TVec : struct, ISimd<TVec, float>
        => v * TVec.Create(0.5f) * (TVec.One + VectorErf.ErfSingle(v * TVec.Create((float)SqrtHalf)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVec Backward<TVec>(TVec g, TVec v) where TVec : struct, ISimd<TVec, float>
    {
        var cdf = TVec.Create(0.5f) * (TVec.One + VectorErf.ErfSingle(v * TVec.Create((float)SqrtHalf)));
        var pdf = VectorErf.ExpSmallSingle<TVec, float>(TVec.Create(-0.5f) * v * v) * TVec.Create((float)Beta);
        return g * (cdf + v * pdf);
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
