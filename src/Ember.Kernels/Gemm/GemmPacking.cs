using System.Runtime.CompilerServices;

namespace Ember.Kernels.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layout the micro-kernel streams through: A as MR-row panels stored
/// k-major (MR values per k), B as NR-column panels stored k-major (NR values per k). Partial panels are zero-padded so
/// the kernel always runs full tiles. Transposition is absorbed here, so callers never copy an operand.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows [i0, i0+mb) and depth [p0, p0+kb) of op(A) into <paramref name="dst"/> (ceil(mb/MR)·MR·kb values).</summary>
    public static void PackA<T, TKernel>(T* a, nint lda, bool transA, int i0, int mb, int p0, int kb, T* dst)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR;
        for (int ir = 0; ir < mb; ir += mr, dst += (nint)mr * kb)
        {
            int rows = Math.Min(mr, mb - ir);
            if (transA)
            {
                // A is stored k×m: the MR values of one k are contiguous.
                T* src = a + (nint)p0 * lda + i0 + ir;
                T* d = dst;
                for (int p = 0; p < kb; p++, src += lda, d += mr)
                {
                    int ii = 0;
                    for (; ii < rows; ii++) d[ii] = src[ii];
                    for (; ii < mr; ii++) d[ii] = default;
                }
            }
            else
            {
                // A is stored m×k: walk each row contiguously and scatter it with stride MR (the panel stays in L1).
                for (int ii = 0; ii < rows; ii++)
                {
                    T* src = a + (nint)(i0 + ir + ii) * lda + p0;
                    T* d = dst + ii;
                    for (int p = 0; p < kb; p++, d += mr) *d = src[p];
                }
                for (int ii = rows; ii < mr; ii++)
                {
                    T* d = dst + ii;
                    for (int p = 0; p < kb; p++, d += mr) *d = default;
                }
            }
        }
    }

    /// <summary>Packs depth [p0, p0+kb) and columns [j0, j0+nb) of op(B) into <paramref name="dst"/> (ceil(nb/NR)·NR·kb values).</summary>
    public static void PackB<T, TKernel>(T* b, nint ldb, bool transB, int p0, int kb, int j0, int nb, T* dst)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        int nr = TKernel.NR;
        for (int jr = 0; jr < nb; jr += nr, dst += (nint)nr * kb)
        {
            int cols = Math.Min(nr, nb - jr);
            if (!transB)
            {
                // B is stored k×n: each k contributes NR contiguous values.
                T* src = b + (nint)p0 * ldb + j0 + jr;
                T* d = dst;
                if (cols == nr)
                {
                    for (int p = 0; p < kb; p++, src += ldb, d += nr)
                        Unsafe.CopyBlockUnaligned(d, src, (uint)(nr * sizeof(T)));
                }
                else
                {
                    for (int p = 0; p < kb; p++, src += ldb, d += nr)
                    {
                        int jj = 0;
                        for (; jj < cols; jj++) d[jj] = src[jj];
                        for (; jj < nr; jj++) d[jj] = default;
                    }
                }
            }
            else
            {
                // B is stored n×k: walk each column of op(B) contiguously and scatter it with stride NR.
                for (int jj = 0; jj < cols; jj++)
                {
                    T* src = b + (nint)(j0 + jr + jj) * ldb + p0;
                    T* d = dst + jj;
                    for (int p = 0; p < kb; p++, d += nr) *d = src[p];
                }
                for (int jj = cols; jj < nr; jj++)
                {
                    T* d = dst + jj;
                    for (int p = 0; p < kb; p++, d += nr) *d = default;
                }
            }
        }
    }
}
