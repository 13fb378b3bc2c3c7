using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Conv;

/// <summary>
/// The two lane shuffles the Winograd transforms need at one vector width: the tiles of a row sit in the lanes, two
/// input columns apart, so the input transform splits a row into its even and odd columns and the output transform
/// weaves a tile's two output columns back together.
/// </summary>
internal unsafe interface IWinogradLanes<TVec> where TVec : struct, ISimd<TVec, float>
{
    /// <summary>even[l] = p[2l], odd[l] = p[2l + 1] for the lanes l; reads 2·Count floats.</summary>
    static abstract void Deinterleave(float* p, out TVec even, out TVec odd);

    /// <summary>p[2l] = even[l], p[2l + 1] = odd[l], only the first <paramref name="count"/> (≤ 2·Count) floats written.</summary>
    static abstract void StoreInterleaved(float* p, TVec even, TVec odd, int count);
}

/// <summary>AVX-512: two-table permutes, masked stores for a row's last tiles.</summary>
internal readonly unsafe struct WinogradLanes512 : IWinogradLanes<Simd512<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* p, out Simd512<float> even, out Simd512<float> odd)
    {
        Vector512<float> a = Vector512.Load(p), b = Vector512.Load(p + 16);
        even = new(Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b));
        odd = new(Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved(float* p, Simd512<float> even, Simd512<float> odd, int count)
    {
        Vector512<float> lo = Avx512F.PermuteVar16x32x2(even.Value, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd.Value);
        Vector512<float> hi = Avx512F.PermuteVar16x32x2(even.Value, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd.Value);
        if (count >= 32) { lo.Store(p); hi.Store(p + 16); }
        else if (count > 16) { lo.Store(p); Avx512F.MaskStore(p + 16, FirstLanes(count - 16), hi); }
        else Avx512F.MaskStore(p, FirstLanes(count), lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();
}

/// <summary>AVX2: in-lane shuffles plus a cross-lane permute, masked stores for a row's last tiles.</summary>
internal readonly unsafe struct WinogradLanes256 : IWinogradLanes<Simd256<float>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* p, out Simd256<float> even, out Simd256<float> odd)
    {
        Vector256<float> a = Vector256.Load(p), b = Vector256.Load(p + 8);
        // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit quarters reordered 0, 2, 1, 3.
        even = new(Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle());
        odd = new(Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved(float* p, Simd256<float> even, Simd256<float> odd, int count)
    {
        Vector256<float> lo = Avx.UnpackLow(even.Value, odd.Value), hi = Avx.UnpackHigh(even.Value, odd.Value);
        Vector256<float> first = Avx.Permute2x128(lo, hi, 0x20), second = Avx.Permute2x128(lo, hi, 0x31);
        if (count >= 16) { first.Store(p); second.Store(p + 8); }
        else if (count > 8) { first.Store(p); Avx.MaskStore(p + 8, FirstLanes(count - 8), second); }
        else Avx.MaskStore(p, FirstLanes(count), first);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
}

/// <summary>
/// Vector128 (SSE on x64, NEON on ARM64): two-source shuffles (shufps and unpcklps/unpckhps, or uzp and zip), and a
/// row's last tiles stored through a partial copy (SSE has no plain masked store).
/// </summary>
internal readonly unsafe struct WinogradLanes128 : IWinogradLanes<Simd128<float>>
{
    /// <summary>Whether this machine has the shuffles.</summary>
    public static bool IsSupported => Sse.IsSupported || AdvSimd.Arm64.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Deinterleave(float* p, out Simd128<float> even, out Simd128<float> odd)
    {
        Vector128<float> a = Vector128.Load(p), b = Vector128.Load(p + 4);
        if (Sse.IsSupported)
        {
            even = new(Sse.Shuffle(a, b, 0b10_00_10_00));
            odd = new(Sse.Shuffle(a, b, 0b11_01_11_01));
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            even = new(AdvSimd.Arm64.UnzipEven(a, b));
            odd = new(AdvSimd.Arm64.UnzipOdd(a, b));
        }
        else throw new PlatformNotSupportedException("WinogradLanes128: neither SSE nor ARM64 NEON");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreInterleaved(float* p, Simd128<float> even, Simd128<float> odd, int count)
    {
        Simd128<float> first, second;
        if (Sse.IsSupported)
        {
            first = new(Sse.UnpackLow(even.Value, odd.Value));
            second = new(Sse.UnpackHigh(even.Value, odd.Value));
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            first = new(AdvSimd.Arm64.ZipLow(even.Value, odd.Value));
            second = new(AdvSimd.Arm64.ZipHigh(even.Value, odd.Value));
        }
        else throw new PlatformNotSupportedException("WinogradLanes128: neither SSE nor ARM64 NEON");
        if (count >= 8) { first.Store(p); second.Store(p + 4); }
        else if (count > 4) { first.Store(p); second.StorePartial(p + 4, count - 4); }
        else first.StorePartial(p, count);
    }
}
