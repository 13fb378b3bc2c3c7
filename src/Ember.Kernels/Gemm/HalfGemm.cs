using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ember.Kernels.Numerics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// GEMM on float16 or bfloat16 operands with float32 accumulation and a float32 C: C = alpha·op(A)·op(B) + beta·C, the
/// arguments as <see cref="Gemm.Sgemm"/>. The half values are widened to float32 in the packing step
/// (<see cref="HalfPacking"/>), so the result is bit for bit Sgemm on the operands converted to float32, without those
/// float32 copies. What autocast's matmul, linear and bmm run on (PyTorch's CPU also accumulates half GEMMs in float32).
/// </summary>
public static class HalfGemm
{
    /// <summary>float16 operands, float32 accumulation and C.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<Half> a, int lda, ReadOnlySpan<Half> b, int ldb, float beta, Span<float> c, int ldc)
        => Run(transA, transB, m, n, k, alpha, ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(a)), a.Length, lda,
            ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(b)), b.Length, ldb, PanelSource.Half, beta, c, ldc);

    /// <summary>bfloat16 operands, float32 accumulation and C.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<BFloat16> a, int lda, ReadOnlySpan<BFloat16> b, int ldb, float beta, Span<float> c, int ldc)
        => Run(transA, transB, m, n, k, alpha, ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(a)), a.Length, lda,
            ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(b)), b.Length, ldb, PanelSource.BFloat16, beta, c, ldc);

    /// <summary>
    /// float16 operands and C: C = alpha·op(A)·op(B) accumulated in float32 and rounded once per element, as it is stored
    /// (<see cref="HalfStore"/>): bit for bit the float32-C product converted to float16, without that float32 product.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<Half> a, int lda, ReadOnlySpan<Half> b, int ldb, Span<Half> c, int ldc)
        => RunHalfC(transA, transB, m, n, k, alpha, ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(a)), a.Length, lda,
            ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(b)), b.Length, ldb, PanelSource.Half,
            ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(c)), c.Length, ldc);

    /// <summary>bfloat16 operands and C, rounded once per element as it is stored; see the float16 overload.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<BFloat16> a, int lda, ReadOnlySpan<BFloat16> b, int ldb, Span<BFloat16> c, int ldc)
        => RunHalfC(transA, transB, m, n, k, alpha, ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(a)), a.Length, lda,
            ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(b)), b.Length, ldb, PanelSource.BFloat16,
            ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(c)), c.Length, ldc);

    static unsafe void RunHalfC(bool transA, bool transB, int m, int n, int k, float alpha, ref ushort a, int aLength, int lda,
        ref ushort b, int bLength, int ldb, PanelSource source, ref ushort c, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm ({source}): sizes must be non-negative, got m={m}, n={n}, k={k}");
        Gemm.CheckOperand("A", aLength, transA ? k : m, transA ? m : k, lda);
        Gemm.CheckOperand("B", bLength, transB ? n : k, transB ? k : n, ldb);
        Gemm.CheckOperand("C", cLength, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (ushort* pa = &a)
        fixed (ushort* pb = &b)
        fixed (ushort* pc = &c)
        {
            // nothing to sum: zeros, as the float32 product's beta = 0 (a zero rounds to a zero)
            if (k == 0 || alpha == 0)
            {
                for (int i = 0; i < m; i++) new Span<ushort>(pc + (nint)i * ldc, n).Clear();
                return;
            }
            GemmDriver.Run(new GemmArgs<float>(transA, transB, m, n, k, alpha, (float*)pa, lda, (float*)pb, ldb, 0f, null, ldc,
                aSource: source, bSource: source, cTarget: source, halfC: pc));
        }
    }

    static unsafe void Run(bool transA, bool transB, int m, int n, int k, float alpha, ref ushort a, int aLength, int lda,
        ref ushort b, int bLength, int ldb, PanelSource source, float beta, Span<float> c, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm ({source}): sizes must be non-negative, got m={m}, n={n}, k={k}");
        Gemm.CheckOperand("A", aLength, transA ? k : m, transA ? m : k, lda);
        Gemm.CheckOperand("B", bLength, transB ? n : k, transB ? k : n, ldb);
        Gemm.CheckOperand("C", c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (ushort* pa = &a)
        fixed (ushort* pb = &b)
        fixed (float* pc = &MemoryMarshal.GetReference(c))
        {
            GemmDriver.Run(new GemmArgs<float>(transA, transB, m, n, k, alpha, (float*)pa, lda, (float*)pb, ldb, beta, pc, ldc,
                aSource: source, bSource: source));
        }
    }
}
