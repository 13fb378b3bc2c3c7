using System.Numerics;
using System.Runtime.Intrinsics;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// Backward loops of activations that are cheaper as one fused pass than as compare + select: the gradient is
/// memory-bound, so a single vectorized read of both inputs and one write is what it costs.
/// </summary>
public static unsafe class ActivationGradients
{
    /// <summary>dx[i] = y[i] > 0 ? g[i] : 0 (ReLU's backward from its output, as PyTorch's threshold_backward). Contiguous spans.</summary>
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
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
                for (; i <= end - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var keep = Vector512.GreaterThan(Vector512.Load(Y + i), Vector512<T>.Zero);
                    Vector512.BitwiseAnd(Vector512.Load(G + i), keep).Store(Dx + i);
                }
            else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                for (; i <= end - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var keep = Vector256.GreaterThan(Vector256.Load(Y + i), Vector256<T>.Zero);
                    Vector256.BitwiseAnd(Vector256.Load(G + i), keep).Store(Dx + i);
                }
            for (; i < end; i++) Dx[i] = Y[i] > T.Zero ? G[i] : T.Zero;
        }
    }
}
