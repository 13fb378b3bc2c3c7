using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Numerics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The store of a GEMM whose C is float16 or bfloat16 (<see cref="GemmArgs{T}.CTarget"/>): on the last k-slice each
/// micro-tile's float32 sums, still in the L1 scratch tile, are finished as the float32 store would finish them
/// (alpha·acc + beta·partial) and rounded to nearest even straight into the half C. The same float32 values rounded by
/// the same rule as computing a float32 C and converting it afterwards, so the same bits, without the float32 product
/// in memory and the second pass over it.
/// </summary>
internal static unsafe class HalfStore
{
    [ThreadStatic]
    static float[]? partials;

    /// <summary>
    /// The calling thread's float32 buffer of at least <paramref name="length"/> elements for a half C's partial sums
    /// between k-slices (only products deeper than one slice need it); kept between calls, on the pinned heap.
    /// </summary>
    public static float* Partials(nint length)
    {
        float[]? array = partials;
        if (array is null || array.Length < length + 16)
        {
            nint size = (length + 16 + 4095) & ~(nint)4095;
            array = GC.AllocateUninitializedArray<float>(checked((int)size), pinned: true);
            partials = array;
        }
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>
    /// Rounds the <paramref name="rows"/>×<paramref name="cols"/> tile <paramref name="acc"/> (row stride
    /// <paramref name="nr"/>; alpha 1, beta 0 sums) at (<paramref name="row"/>, <paramref name="col"/>) of the driver's C
    /// into the half C, after adding alpha and beta·C's partial sums as <c>GemmDriver.StoreEdge</c> does. A transposed C
    /// (<see cref="GemmArgs{T}.TransposedC"/>) gets the tile's element (i, j) at C[col + j, row + i]. Overwrites acc.
    /// </summary>
    public static void Tile<T>(in GemmArgs<T> g, T* acc, int nr, int row, int col, int rows, int cols, T beta)
        where T : unmanaged, INumber<T>
    {
        if (typeof(T) != typeof(float)) throw new NotSupportedException($"gemm: a half C needs float32 accumulation, got {typeof(T).Name}");
        float* tile = (float*)acc;
        float* c = (float*)g.C;
        T alphaT = g.Alpha;
        float alpha = *(float*)&alphaT, b = *(float*)&beta;
        nint ldc = g.Ldc;
        bool transposed = g.TransposedC;
        if (b != 0 || alpha != 1)
            for (int i = 0; i < rows; i++)
            {
                float* t = tile + (nint)i * nr;
                if (b == 0)
                    for (int j = 0; j < cols; j++) t[j] = alpha * t[j];
                else if (transposed)
                    for (int j = 0; j < cols; j++) t[j] = alpha * t[j] + b * c[(nint)(col + j) * ldc + row + i];
                else if (alpha == 1 && b == 1)
                    AddRow(t, c + (nint)(row + i) * ldc + col, cols);
                else
                {
                    float* ci = c + (nint)(row + i) * ldc + col;
                    for (int j = 0; j < cols; j++) t[j] = alpha * t[j] + b * ci[j];
                }
            }
        bool bfloat = g.CTarget == PanelSource.BFloat16;
        if (!transposed)
        {
            for (int i = 0; i < rows; i++)
                Narrow(bfloat, (uint*)(tile + (nint)i * nr), g.HalfC + (nint)(row + i) * ldc + col, cols);
            return;
        }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                uint bits = BitConverter.SingleToUInt32Bits(tile[(nint)i * nr + j]);
                g.HalfC[(nint)(col + j) * ldc + row + i] = bfloat ? BFloat16Conversion.Round(bits) : Float16Conversion.Narrow(bits);
            }
    }

    // t[j] += c[j]: alpha = beta = 1, the later slices' case; an IEEE add per element, as StoreEdge's alpha·t + beta·c.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRow(float* t, float* c, int count)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= count; j += 16) (Vector512.Load(t + j) + Vector512.Load(c + j)).Store(t + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8) (Vector256.Load(t + j) + Vector256.Load(c + j)).Store(t + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 4 <= count; j += 4) (Vector128.Load(t + j) + Vector128.Load(c + j)).Store(t + j);
        for (; j < count; j++) t[j] += c[j];
    }

    // A row of at most NR (≤ 32) floats rounded into half: inline, as HalfPacking.Widen, because a span conversion's
    // per-call checks would cost as much as the 32 conversions.
    /// <summary>dst[j] = round(src[j]) for j &lt; count, src as float32 bits, to bfloat16 or float16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Narrow(bool bfloat, uint* src, ushort* dst, int count)
    {
        int j = 0;
        if (bfloat)
        {
            if (Vector512.IsHardwareAccelerated)
                for (; j + 32 <= count; j += 32)
                    Vector512.Narrow(BFloat16Conversion.Round(Vector512.Load(src + j)), BFloat16Conversion.Round(Vector512.Load(src + j + 16))).Store(dst + j);
            if (Vector256.IsHardwareAccelerated)
                for (; j + 16 <= count; j += 16)
                    Vector256.Narrow(BFloat16Conversion.Round(Vector256.Load(src + j)), BFloat16Conversion.Round(Vector256.Load(src + j + 8))).Store(dst + j);
            if (Vector128.IsHardwareAccelerated)
                for (; j + 8 <= count; j += 8)
                    Vector128.Narrow(BFloat16Conversion.Round(Vector128.Load(src + j)), BFloat16Conversion.Round(Vector128.Load(src + j + 4))).Store(dst + j);
            for (; j < count; j++) dst[j] = BFloat16Conversion.Round(src[j]);
            return;
        }
        if (Vector512.IsHardwareAccelerated)
            for (; j + 32 <= count; j += 32)
                Vector512.Narrow(Float16Conversion.Narrow(Vector512.Load(src + j)), Float16Conversion.Narrow(Vector512.Load(src + j + 16))).Store(dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 16 <= count; j += 16)
                Vector256.Narrow(Float16Conversion.Narrow(Vector256.Load(src + j)), Float16Conversion.Narrow(Vector256.Load(src + j + 8))).Store(dst + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
                Vector128.Narrow(Float16Conversion.Narrow(Vector128.Load(src + j)), Float16Conversion.Narrow(Vector128.Load(src + j + 4))).Store(dst + j);
        for (; j < count; j++) dst[j] = Float16Conversion.Narrow(src[j]);
    }
}
