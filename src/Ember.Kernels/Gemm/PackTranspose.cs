using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The transposing pack for float on x86 (SSE): dst[p·width + j] = src[j·ld + p] in 4×4 register transposes. Four
/// source rows give four 16-byte loads and four 16-byte stores per 4 k, instead of sixteen scalar loads and stores; a
/// remaining pair of rows interleaves with one unpack into 8-byte stores. Pure data movement, so the packed panels
/// (and every GEMM result) are bit for bit those of the scalar pack.
/// </summary>
internal static unsafe class PackTranspose
{
    /// <summary>Whether <see cref="Float"/> runs on this hardware.</summary>
    public static bool Supported => Sse.IsSupported;

    /// <summary>Packs <paramref name="count"/> source rows (stride <paramref name="ld"/>, depth <paramref name="kb"/>) into width-wide groups, zero-padded.</summary>
    public static void Float(float* src, nint ld, int count, int width, int kb, float* dst)
    {
        int j = 0;
        // Eight rows side by side where there are eight: eight sequential read streams and 32 contiguous bytes written
        // per k, the pattern the scalar pack measured best; four rows at a time measured slower for 32-wide B panels.
        for (; j + 8 <= count; j += 8)
        {
            float* s0 = src + j * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
            float* s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
            float* d = dst + j;
            int p = 0;
            for (; p + 4 <= kb; p += 4, d += 4 * width)
            {
                Transpose4(s0 + p, s1 + p, s2 + p, s3 + p, d, width);
                Transpose4(s4 + p, s5 + p, s6 + p, s7 + p, d + 4, width);
            }
            for (; p < kb; p++, d += width)
            {
                d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
                d[4] = s4[p]; d[5] = s5[p]; d[6] = s6[p]; d[7] = s7[p];
            }
        }
        for (; j + 4 <= count; j += 4)
        {
            float* s0 = src + j * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
            float* d = dst + j;
            int p = 0;
            for (; p + 4 <= kb; p += 4, d += 4 * width)
                Transpose4(s0 + p, s1 + p, s2 + p, s3 + p, d, width);
            for (; p < kb; p++, d += width)
            {
                d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p];
            }
        }
        if (j + 2 <= count)
        {
            float* s0 = src + j * ld, s1 = s0 + ld;
            float* d = dst + j;
            int p = 0;
            for (; p + 4 <= kb; p += 4, d += 4 * width)
            {
                Vector128<float> r0 = Sse.LoadVector128(s0 + p), r1 = Sse.LoadVector128(s1 + p);
                Vector128<float> lo = Sse.UnpackLow(r0, r1), hi = Sse.UnpackHigh(r0, r1);
                Sse.StoreLow(d, lo);
                Sse.StoreHigh(d + width, lo);
                Sse.StoreLow(d + 2 * width, hi);
                Sse.StoreHigh(d + 3 * width, hi);
            }
            for (; p < kb; p++, d += width)
            {
                d[0] = s0[p]; d[1] = s1[p];
            }
            j += 2;
        }
        for (; j < count; j++)
        {
            float* s0 = src + j * ld;
            float* d = dst + j;
            for (int p = 0; p < kb; p++, d += width) *d = s0[p];
        }
        for (; j < width; j++)
        {
            float* d = dst + j;
            for (int p = 0; p < kb; p++, d += width) *d = 0f;
        }
    }

    // Four values of four rows to four groups: d[i·width + r] = s_r[i] for r, i < 4.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose4(float* s0, float* s1, float* s2, float* s3, float* d, int width)
    {
        Vector128<float> r0 = Sse.LoadVector128(s0), r1 = Sse.LoadVector128(s1);
        Vector128<float> r2 = Sse.LoadVector128(s2), r3 = Sse.LoadVector128(s3);
        Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackLow(r2, r3);   // (r0[0], r1[0], r0[1], r1[1]), (r2[0], r3[0], ...)
        Vector128<float> t2 = Sse.UnpackHigh(r0, r1), t3 = Sse.UnpackHigh(r2, r3); // (r0[2], r1[2], r0[3], r1[3]), ...
        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
        Sse.Store(d + width, Sse.MoveHighToLow(t1, t0));
        Sse.Store(d + 2 * width, Sse.MoveLowToHigh(t2, t3));
        Sse.Store(d + 3 * width, Sse.MoveHighToLow(t3, t2));
    }
}
