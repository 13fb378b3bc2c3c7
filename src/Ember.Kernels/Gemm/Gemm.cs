using System.Numerics;
using System.Runtime.InteropServices;

namespace Ember.Kernels.Gemm;

/// <summary>
/// General matrix multiply on row-major spans: C = alpha·op(A)·op(B) + beta·C, where op(A) is m×k and op(B) is k×n.
/// A transposed operand is read through its leading dimension, never copied by the caller.
/// </summary>
/// <remarks>
/// Packed, cache-blocked and multi-threaded over a fixed partition (see <see cref="Threading.ParallelRange"/>): results are
/// bit-identical for any thread count. beta == 0 never reads C, so C may hold garbage.
/// </remarks>
public static unsafe class Gemm
{
    /// <summary>Single-precision GEMM. <paramref name="lda"/>, <paramref name="ldb"/>, <paramref name="ldc"/> are row strides of the stored matrices.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>Double-precision GEMM (used by gradcheck and accuracy-sensitive paths).</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// C = alpha·op(A)·op(B) + bias, <paramref name="bias"/> (n values) added to every row of C (torch.addmm with a
    /// broadcast bias and beta 1). Each tile starts from the bias as the GEMM first stores it, so the bias costs no pass
    /// over C; the product then rounds as Sgemm with beta 1 onto a C filled with the bias does.
    /// </summary>
    public static void SgemmWithBias(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias, Span<float> c, int ldc)
        => RunWithBias(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, c, ldc);

    /// <summary>Double-precision <see cref="SgemmWithBias"/>.</summary>
    public static void DgemmWithBias(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, ReadOnlySpan<double> bias, Span<double> c, int ldc)
        => RunWithBias(transA, transB, m, n, k, alpha, a, lda, b, ldb, bias, c, ldc);

    static void RunWithBias<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Span<T> c, int ldc)
        where T : unmanaged, INumber<T>
    {
        if (bias.Length != Math.Max(n, 0))
            throw new ArgumentException($"gemm: expected a bias of n = {n} values, got {bias.Length}");
        fixed (T* pbias = &MemoryMarshal.GetReference(bias))
            Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, T.Zero, c, ldc, pbias);
    }

    static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, T* bias = null)
        where T : unmanaged, INumber<T>
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm: sizes must be non-negative, got m={m}, n={n}, k={k}");
        // The kernels use raw pointers, so every extent is checked here once instead of per access.
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (T* pa = &MemoryMarshal.GetReference(a))
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        {
            GemmDriver.Run(new GemmArgs<T>(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, bias: bias));
        }
    }

    internal static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (ld < cols)
            throw new ArgumentException($"gemm: ld{name.ToLowerInvariant()}={ld} is smaller than the {cols} columns of stored {name} ({rows}×{cols})");
        if (rows > 0 && cols > 0 && length < (long)(rows - 1) * ld + cols)
            throw new ArgumentException($"gemm: {name} has {length} elements, a {rows}×{cols} matrix with row stride {ld} needs {(long)(rows - 1) * ld + cols}");
    }

    /// <summary>Naive triple loop: the living definition that the fast kernels are tested against.</summary>
    internal static void Reference<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T acc = T.Zero;
                for (int p = 0; p < k; p++)
                    acc += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                ref T dst = ref c[i * ldc + j];
                dst = beta == T.Zero ? alpha * acc : alpha * acc + beta * dst;
            }
    }
}
