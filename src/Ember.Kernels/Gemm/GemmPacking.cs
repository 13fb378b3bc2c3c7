using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layout the micro-kernel streams through: A as MR-row panels stored
/// k-major (MR values per k), B as NR-column panels stored k-major (NR values per k). Partial panels are zero-padded so
/// the kernel always runs full tiles. Transposition is absorbed here, so callers never copy an operand.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows [i0, i0+mb) and depth [p0, p0+kb) of op(A) into <paramref name="dst"/> (ceil(mb/MR)·MR·kb·ACopies values).</summary>
    public static void PackA<T, TKernel>(T* a, nint lda, bool transA, int i0, int mb, int p0, int kb, T* dst, PanelSource source = PanelSource.Float)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        if (source != PanelSource.Float)
        {
            HalfPacking.PackA((ushort*)a, source, lda, transA, i0, mb, p0, kb, (float*)dst, TKernel.MR);
            return;
        }
        int mr = TKernel.MR;
        if (TKernel.ACopies > 1)
        {
            PackBroadcast(a, lda, transA, i0, mb, p0, kb, mr, TKernel.ACopies, dst);
            return;
        }
        if (transA)
        {
            CopyPanels(a + (nint)p0 * lda + i0, lda, mb, mr, kb, dst); // A is k×m: MR values per k are contiguous
            return;
        }
        for (int ir = 0; ir < mb; ir += mr, dst += (nint)mr * kb)
            Interleave(a + (nint)(i0 + ir) * lda + p0, lda, Math.Min(mr, mb - ir), mr, kb, dst);
    }

    /// <summary>Packs depth [p0, p0+kb) and columns [j0, j0+nb) of op(B) into <paramref name="dst"/> (ceil(nb/NR)·NR·kb values).</summary>
    public static void PackB<T, TKernel>(T* b, nint ldb, bool transB, int p0, int kb, int j0, int nb, T* dst, PanelSource source = PanelSource.Float)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        if (source != PanelSource.Float)
        {
            HalfPacking.PackB((ushort*)b, source, ldb, transB, p0, kb, j0, nb, (float*)dst, TKernel.NR);
            return;
        }
        int nr = TKernel.NR;
        if (!transB)
        {
            CopyPanels(b + (nint)p0 * ldb + j0, ldb, nb, nr, kb, dst); // B is k×n: NR values per k are contiguous
            return;
        }
        for (int jr = 0; jr < nb; jr += nr, dst += (nint)nr * kb)
            Interleave(b + (nint)(j0 + jr) * ldb + p0, ldb, Math.Min(nr, nb - jr), nr, kb, dst);
    }

    /// <summary>
    /// A's panels for a kernel that loads broadcasts (<see cref="IMicroKernel{T}.ACopies"/>): per MR-row panel and step,
    /// each of the MR values written <paramref name="copies"/> times, the rows past <paramref name="mb"/> as zeros.
    /// </summary>
    static void PackBroadcast<T>(T* a, nint lda, bool transA, int i0, int mb, int p0, int kb, int mr, int copies, T* dst)
        where T : unmanaged
    {
        // Element (i, p) of op(A) lies at a[i·lda + p], or at a[p·lda + i] when A is stored transposed.
        nint rowStep = transA ? 1 : lda, depthStep = transA ? lda : 1;
        for (int ir = 0; ir < mb; ir += mr)
        {
            int rows = Math.Min(mr, mb - ir);
            T* src = a + (i0 + ir) * rowStep + p0 * depthStep;
            int p = 0;
            if (typeof(T) == typeof(float) && !transA && copies == 4 && Sse.IsSupported)
            {
                // Rows of A: four steps of a row in one load, each lane then spread by a shuffle (the kernel this
                // feeds runs only where Sse is), instead of a scalar load per value.
                for (; p + 4 <= kb; p += 4, src += 4, dst += 4 * mr * copies)
                    for (int r = 0; r < mr; r++)
                    {
                        Vector128<float> v = r < rows ? Sse.LoadVector128((float*)src + r * rowStep) : Vector128<float>.Zero;
                        float* d = (float*)dst + r * copies;
                        Sse.Store(d, Sse.Shuffle(v, v, 0x00));
                        Sse.Store(d + mr * copies, Sse.Shuffle(v, v, 0x55));
                        Sse.Store(d + 2 * mr * copies, Sse.Shuffle(v, v, 0xAA));
                        Sse.Store(d + 3 * mr * copies, Sse.Shuffle(v, v, 0xFF));
                    }
            }
            for (; p < kb; p++, src += depthStep)
            {
                for (int r = 0; r < mr; r++, dst += copies)
                {
                    T value = r < rows ? src[r * rowStep] : default;
                    if (copies == Vector128<T>.Count) Vector128.Create(value).Store(dst);
                    else for (int l = 0; l < copies; l++) dst[l] = value;
                }
            }
        }
    }

    /// <summary>
    /// Panels of <paramref name="width"/> columns of a row-major kb×count block (rows <paramref name="ld"/> apart):
    /// dst[panel][p·width + j] = src[p·ld + panel·width + j], the last panel zero-padded. A group of panels goes row by
    /// row, so each source row is read as whole cache lines; panel by panel, a 6-wide A panel read 24 bytes of each of
    /// kb rows and left the rest of their lines to the next panel, by which time rows whose stride maps them to a few L1
    /// sets (512 bytes: the transformer's weight gradients) had been evicted. At most 8 panels a group (up to 128
    /// values): the panels are width·kb apart, often a multiple of 4 KiB, so all their write streams can share one L1 set
    /// (12 ways); 21 six-wide panels at kb = 512 did, and the weight gradient's pack ran slower than panel by panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyPanels<T>(T* src, nint ld, int count, int width, int kb, T* dst) where T : unmanaged
    {
        int full = count / width;
        int group = Math.Clamp(128 / width, 1, 8);
        nint panelSize = (nint)width * kb;
        for (int g0 = 0; g0 < full; g0 += group)
        {
            int g1 = Math.Min(full, g0 + group);
            T* s = src + g0 * width;
            T* d = dst + g0 * panelSize;
            for (int p = 0; p < kb; p++, s += ld, d += width)
            {
                T* dp = d;
                for (int q = g0; q < g1; q++, dp += panelSize)
                    Unsafe.CopyBlockUnaligned(dp, s + (q - g0) * width, (uint)(width * sizeof(T)));
            }
        }
        if (full * width < count)
            CopyLines(src + full * width, ld, count - full * width, width, kb, dst + full * panelSize);
    }

    /// <summary>dst[p·width + j] = src[p·ld + j] for j &lt; count, zero up to width: the panel is already k-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyLines<T>(T* src, nint ld, int count, int width, int kb, T* dst) where T : unmanaged
    {
        if (count == width)
        {
            for (int p = 0; p < kb; p++, src += ld, dst += width)
                Unsafe.CopyBlockUnaligned(dst, src, (uint)(width * sizeof(T)));
            return;
        }
        for (int p = 0; p < kb; p++, src += ld, dst += width)
        {
            int j = 0;
            for (; j < count; j++) dst[j] = src[j];
            for (; j < width; j++) dst[j] = default;
        }
    }

    /// <summary>
    /// dst[p·width + j] = src[j·ld + p] for j &lt; count, zero up to width: a transpose of <paramref name="count"/> source
    /// rows. Eight rows are read side by side (eight sequential streams, eight contiguous stores per k); one row at a
    /// time scatters every store, and all 32 rows at once outrun the prefetchers (X·Wᵀ measured 85 → 127 GFLOP/s).
    /// </summary>
    static void Interleave<T>(T* src, nint ld, int count, int width, int kb, T* dst) where T : unmanaged
    {
        if (typeof(T) == typeof(float) && PackTranspose.Supported)
        {
            // 4×4 register transposes: about three times the scalar rate (PackTranspose).
            PackTranspose.Float((float*)src, ld, count, width, kb, (float*)dst);
            return;
        }
        int j = 0;
        for (; j + 8 <= count; j += 8)
        {
            T* s0 = src + j * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
            T* s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
            T* d = dst + j;
            for (int p = 0; p < kb; p++, d += width)
            {
                d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
                d[4] = s4[p]; d[5] = s5[p]; d[6] = s6[p]; d[7] = s7[p];
            }
        }
        for (; j + 4 <= count; j += 4)
        {
            T* s0 = src + j * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
            T* d = dst + j;
            for (int p = 0; p < kb; p++, d += width)
            {
                d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
            }
        }
        for (; j < count; j++)
        {
            T* s0 = src + j * ld;
            T* d = dst + j;
            for (int p = 0; p < kb; p++, d += width) *d = s0[p];
        }
        for (; j < width; j++)
        {
            T* d = dst + j;
            for (int p = 0; p < kb; p++, d += width) *d = default;
        }
    }
}
