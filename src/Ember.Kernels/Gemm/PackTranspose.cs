using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The transposing pack for float on x86 (SSE): dst[p·width + j] = src[j·ld + p] in 4×4 register transposes, or 8×8
/// ones where AVX is available. Four source rows give four 16-byte loads and four 16-byte stores per 4 k, instead of
/// sixteen scalar loads and stores; a remaining pair of rows interleaves with one unpack into 8-byte stores. Pure data movement, so the packed panels
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
            if (Avx.IsSupported)
                for (; p + 8 <= kb; p += 8, d += 8 * width)
                    Transpose8(s0 + p, ld, d, width);
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

    // Eight values of eight rows (s, s + ld, ...) to eight groups: d[i·width + r] = s[r·ld + i] for r, i < 8, in 256-bit
    // registers: half the stores and shuffles per element of two 4×4 transposes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8(float* s, nint ld, float* d, int width)
    {
        Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + ld);
        Vector256<float> r2 = Avx.LoadVector256(s + 2 * ld), r3 = Avx.LoadVector256(s + 3 * ld);
        Vector256<float> r4 = Avx.LoadVector256(s + 4 * ld), r5 = Avx.LoadVector256(s + 5 * ld);
        Vector256<float> r6 = Avx.LoadVector256(s + 6 * ld), r7 = Avx.LoadVector256(s + 7 * ld);
        // Per 128-bit half: t0 = (r0[0], r1[0], r0[1], r1[1] | r0[4], r1[4], r0[5], r1[5]), t1 the same for [2], [3] | [6], [7].
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // u0 = (column 0 of rows 0–3 | column 4 of rows 0–3), u1 columns 1 | 5, u2 columns 2 | 6, u3 columns 3 | 7; u4–u7 rows 4–7.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + width, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * width, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * width, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * width, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * width, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * width, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * width, Avx.Permute2x128(u3, u7, 0x31));
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
