using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ember.Kernels.Gemm;

/// <summary>
/// Per-thread packing memory, kept between calls so a steady stream of GEMMs allocates nothing. The array lives on the
/// pinned object heap, so a raw pointer into it stays valid without a fixed block.
/// </summary>
internal static unsafe class GemmBuffers<T> where T : unmanaged
{
    [ThreadStatic]
    static T[]? buffer;

    /// <summary>A 64-byte-aligned block of at least <paramref name="length"/> elements owned by the calling thread.</summary>
    public static T* Rent(nint length)
    {
        nint pad = 64 / sizeof(T);
        T[]? array = buffer;
        if (array is null || array.Length < length + pad)
        {
            // Round up so that a slowly growing sequence of shapes does not reallocate on every call.
            nint size = (length + pad + 4095) & ~(nint)4095;
            array = GC.AllocateUninitializedArray<T>(checked((int)size), pinned: true);
            buffer = array;
        }
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (T*)(((nint)p + 63) & ~(nint)63);
    }
}
