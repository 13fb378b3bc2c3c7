using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// Backward loops of activations that are cheaper as one fused pass than as compare + select: the gradient is
/// memory-bound, so a single vectorized read of both inputs and one write is what it costs.
/// </summary>
public static unsafe class ActivationGradients
{
    /// <summary>
    /// dx[i] = y[i] ≤ 0 ? 0 : g[i] (ReLU's backward from its output, as PyTorch's threshold_backward: a NaN output passes
    /// the gradient through, as libtorch 2.10 does). Contiguous spans.
    /// </summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> output, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = gradInput.Length;
        if (gradOutput.Length < n || output.Length < n)
            throw new ArgumentException($"ReluBackward: spans of {gradOutput.Length} and {output.Length} elements for a {n}-element gradient");
        fixed (T* g = gradOutput) fixed (T* y = output) fixed (T* dx = gradInput)
        {
            var action = new ReluBackwardAction<T> { G = g, Y = y, Dx = dx };
            ParallelRange.For(n, n >= Elementwise.ParallelThreshold ? Elementwise.Grain : n, action);
        }
    }

    struct ReluBackwardAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* G, Y, Dx;
        public readonly void Invoke(int start, int end)
        {
            int i = start;
            if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
                i = SimdPath.Width switch
                {
                    SimdWidth.Vector512 => Body<Simd512<T>>(start, end),
                    SimdWidth.Vector256 => Body<Simd256<T>>(start, end),
                    _ => Body<Simd128<T>>(start, end),
                };
            for (; i < end; i++) Dx[i] = Y[i] <= T.Zero ? T.Zero : G[i];
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        readonly int Body<TVec>(int start, int end) where TVec : struct, ISimd<TVec, T>
        {
            int i = start;
            for (; i <= end - TVec.Count; i += TVec.Count)
                TVec.AndNot(TVec.Load(G + i), TVec.LessThanOrEqual(TVec.Load(Y + i), TVec.Zero)).Store(Dx + i);
            return i;
        }
    }
}
