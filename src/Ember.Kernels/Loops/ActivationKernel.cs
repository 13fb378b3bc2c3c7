using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// The fused pointwise activations (<see cref="Activation"/>): forward y = f(x) and backward dx = g·f′(x), each one pass
/// over contiguous spans, float32 at the widest accelerated width (<see cref="SimdPath"/>), float64 in scalar double.
/// Large spans are split in fixed chunks over the worker threads; elementwise results never depend on the split.
/// </summary>
public static unsafe class ActivationKernel
{
    /// <summary>y = f(x). y may alias x.</summary>
    public static void Forward<T>(Activation activation, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (y.Length != x.Length) throw new ArgumentException($"ActivationKernel.Forward ({activation}): {x.Length} inputs for {y.Length} outputs");
        fixed (T* px = x) fixed (T* py = y) Run(activation, px, py, null, x.Length);
    }

    /// <summary>dx = g·f′(x). dx may alias g or x.</summary>
    public static void Backward<T>(Activation activation, ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> x, Span<T> gradInput) where T : unmanaged
    {
        if (gradOutput.Length != x.Length || gradInput.Length != x.Length)
            throw new ArgumentException($"ActivationKernel.Backward ({activation}): {gradOutput.Length} gradients, {x.Length} inputs, {gradInput.Length} outputs");
        fixed (T* pg = gradOutput) fixed (T* px = x) fixed (T* pd = gradInput) Run(activation, px, pd, pg, x.Length);
    }

    static void Run<T>(Activation activation, T* x, T* y, T* g, int n) where T : unmanaged
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"{activation}: {typeof(T).Name} is not a floating-point type");
        switch (activation)
        {
            case Activation.Gelu: Run<T, GeluActivation>(x, y, g, n); break;
            case Activation.GeluTanh: Run<T, GeluTanhActivation>(x, y, g, n); break;
            case Activation.Silu: Run<T, SiluActivation>(x, y, g, n); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation), activation, "ActivationKernel: unknown activation");
        }
    }

    static void Run<T, TAct>(T* x, T* y, T* g, int n) where T : unmanaged where TAct : struct, IActivation
    {
        var action = new Action<T, TAct> { X = x, Y = y, G = g, Stream = g == null && (long)n * sizeof(T) >= NonTemporal.MinBytes };
        ParallelRange.For(n, n >= Elementwise.ParallelThreshold ? Elementwise.Grain : n, action);
    }

    // Forward when G is null, backward otherwise.
    struct Action<T, TAct> : IRangeAction where T : unmanaged where TAct : struct, IActivation
    {
        public T* X, Y, G;
        // Forward only: write y with non-temporal stores (a large output; see NonTemporal).
        public bool Stream;
        public readonly void Invoke(int start, int end)
        {
            if (typeof(T) == typeof(double)) { RunDouble((double*)X, (double*)Y, (double*)G, start, end); return; }
            float* x = (float*)X, y = (float*)Y, g = (float*)G;
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: RunFloat<Simd512<float>>(x, y, g, start, end, Stream); break;
                case SimdWidth.Vector256: RunFloat<Simd256<float>>(x, y, g, start, end, Stream); break;
                default: RunFloat<Simd128<float>>(x, y, g, start, end, Stream); break;
            }
        }

        static void RunFloat<TVec>(float* x, float* y, float* g, int start, int end, bool stream) where TVec : struct, ISimd<TVec, float>
        {
            if (g == null)
            {
                if (stream) StreamBody<TVec>(x, y, start, end);
                else ForwardBody<TVec>(x, y, start, end);
            }
            else BackwardBody<TVec>(g, x, y, start, end);
        }

        // Two independent vectors per step (the polynomial chains are latency-bound); the rest goes through partial vectors
        // in a separate method, so every element takes the same operations and each method stays within the JIT's inlining
        // budget (past it, the ISimd calls stop being inlined). The bodies are never inlined and fully optimized from the
        // first call: the tier-1 copy of a caller that inlined one ran out of inlining budget and left every ISimd operator
        // of the body as a call (F.Silu on 4M floats took 20 ms instead of 4).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ForwardBody<TVec>(float* x, float* y, int start, int end) where TVec : struct, ISimd<TVec, float>
        {
            int i = start;
            for (; i <= end - 2 * TVec.Count; i += 2 * TVec.Count)
            {
                TVec a = TAct.Forward(TVec.Load(x + i)), b = TAct.Forward(TVec.Load(x + i + TVec.Count));
                a.Store(y + i);
                b.Store(y + i + TVec.Count);
            }
            if (i < end) ForwardTail<TVec>(x, y, i, end);
        }

        // ForwardBody with non-temporal stores: one partial vector up to the first register-aligned element of y (the same
        // lane operations as a full one, so the same bits), then aligned pairs.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ForwardBody
        static void StreamBody<TVec>(float* x, float* y, int start, int end) where TVec : struct, ISimd<TVec, float>
        {
            int head = NonTemporal.HeadToAlignment<TVec, float>(y + start, end - start);
            if (head < 0)
            {
                ForwardBody<TVec>(x, y, start, end);
                return;
            }
            int i = start;
            if (head > 0)
            {
                ForwardTail<TVec>(x, y, i, i + head);
                i += head;
            }
            for (; i <= end - 2 * TVec.Count; i += 2 * TVec.Count)
            {
                TVec a = TAct.Forward(TVec.Load(x + i)), b = TAct.Forward(TVec.Load(x + i + TVec.Count));
                a.StoreAlignedNonTemporal(y + i);
                b.StoreAlignedNonTemporal(y + i + TVec.Count);
            }
            NonTemporal.Fence();
            if (i < end) ForwardTail<TVec>(x, y, i, end);
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ForwardTail<TVec>(float* x, float* y, int i, int end) where TVec : struct, ISimd<TVec, float>
        {
            for (; i < end; i += TVec.Count)
            {
                int m = Math.Min(TVec.Count, end - i);
                TAct.Forward(TVec.LoadPartial(x + i, m)).StorePartial(y + i, m);
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        static void BackwardBody<TVec>(float* g, float* x, float* dx, int start, int end) where TVec : struct, ISimd<TVec, float>
        {
            int i = start;
            for (; i <= end - 2 * TVec.Count; i += 2 * TVec.Count)
            {
                TVec a = TAct.Backward(TVec.Load(g + i), TVec.Load(x + i));
                TVec b = TAct.Backward(TVec.Load(g + i + TVec.Count), TVec.Load(x + i + TVec.Count));
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
                TAct.Backward(TVec.LoadPartial(g + i, m), TVec.LoadPartial(x + i, m)).StorePartial(dx + i, m);
            }
        }

        static void RunDouble(double* x, double* y, double* g, int start, int end)
        {
            if (g == null) for (int i = start; i < end; i++) y[i] = TAct.Forward(x[i]);
            else for (int i = start; i < end; i++) y[i] = TAct.Backward(g[i], x[i]);
        }
    }
}
