using System.Runtime.InteropServices;
using GemmKernel = Ember.Kernels.Gemm.Gemm;

namespace Ember.Kernels.Conv;

/// <summary>Routes the element-generic convolution kernels to the typed GEMM; the typeof tests fold away in each JIT instantiation.</summary>
internal static class ConvGemm
{
    /// <summary>C = op(A)·op(B) (or C += op(A)·op(B) when <paramref name="accumulate"/>), row-major.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, bool accumulate, Span<T> c, int ldc) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            GemmKernel.Sgemm(transA, transB, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb,
                accumulate ? 1f : 0f, MemoryMarshal.Cast<T, float>(c), ldc);
        else if (typeof(T) == typeof(double))
            GemmKernel.Dgemm(transA, transB, m, n, k, 1d, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb,
                accumulate ? 1d : 0d, MemoryMarshal.Cast<T, double>(c), ldc);
        else
            throw new NotSupportedException($"Convolution kernels support float and double, not {typeof(T).Name}");
    }
}
