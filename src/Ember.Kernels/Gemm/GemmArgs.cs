using System.Numerics;

namespace Ember.Kernels.Gemm;

/// <summary>One GEMM call's operands as raw pointers; valid only while the caller's spans are pinned.</summary>
internal readonly unsafe struct GemmArgs<T>(
    bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
    where T : unmanaged, INumber<T>
{
    public readonly bool TransA = transA, TransB = transB;
    public readonly int M = m, N = n, K = k;
    public readonly T Alpha = alpha, Beta = beta;
    public readonly T* A = a, B = b, C = c;
    public readonly nint Lda = lda, Ldb = ldb, Ldc = ldc;
}
