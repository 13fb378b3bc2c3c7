using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Gemm;

/// <summary>
/// Asks for a micro-tile of C before the micro-kernel's k loop, so that its lines arrive while the loop runs instead of
/// stalling the stores at the end. C is swept a column strip at a time (rows ldc apart, a new page per row at large ldc)
/// and revisited once per k slice, so neither the caches nor the hardware prefetchers hold it.
/// </summary>
internal static unsafe class TilePrefetch
{
    /// <summary>Prefetches <paramref name="rows"/> rows of <paramref name="rowBytes"/> bytes (at most 128), <paramref name="ldc"/> elements apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows<T>(T* c, nint ldc, int rows, int rowBytes) where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        byte* p = (byte*)c;
        nint stride = ldc * sizeof(T);
        for (int i = 0; i < rows; i++, p += stride)
        {
            // First, middle and last byte: the two or three lines an unaligned 128-byte row touches.
            Sse.Prefetch0(p);
            Sse.Prefetch0(p + 64);
            Sse.Prefetch0(p + rowBytes - 1);
        }
    }
}
