using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Loops;

/// <summary>
/// dst = a op b over one run for float32/float64 add, sub, mul and div, where each operand is either contiguous along
/// the run (stride 1) or one value broadcast over it (stride 0): the inner loop of a row-vector or column broadcast
/// ([R, C]·[C], [R, C]·[R, 1]) and of a sliced or transposed operand. Own ISimd loops rather than TensorPrimitives
/// because these runs are short (one row) and a large output should still be streamed (<see cref="NonTemporal"/>):
/// TensorPrimitives streams only runs of more than 256 KB, so a 4096×1024 broadcast multiply written row by row went
/// through write-allocate. The four ops round once per element, so vector and scalar lanes, streamed or not, give the
/// same bits as TensorPrimitives and as the scalar loop.
/// </summary>
public static unsafe class BinaryRun
{
    /// <summary>Whether <see cref="Run{T}"/> handles <paramref name="op"/> with these run strides.</summary>
    public static bool Handles(BinaryOp op, int aStride, int bStride) =>
        op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div
        && aStride is 0 or 1 && bStride is 0 or 1 && (aStride | bStride) == 1;

    /// <summary>
    /// dst[i] = a[i·aStride] op b[i·bStride] for i &lt; <paramref name="length"/>, for an op and strides that
    /// <see cref="Handles"/> accepts. With <paramref name="stream"/> the register-aligned part of dst is written with
    /// non-temporal stores, and the caller calls <see cref="NonTemporal.Fence"/> before the output is handed on.
    /// </summary>
    public static void Run<T>(BinaryOp op, T* a, int aStride, T* b, int bStride, T* dst, int length, bool stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Handles(op, aStride, bStride))
            throw new ArgumentException($"BinaryRun.Run: {op} with run strides ({aStride}, {bStride}); expected add/sub/mul/div with strides 0 or 1, one of them 1");
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: Dispatch<Simd512<T>, T>(op, a, aStride, b, bStride, dst, length, stream); break;
            case SimdWidth.Vector256: Dispatch<Simd256<T>, T>(op, a, aStride, b, bStride, dst, length, stream); break;
            default: Dispatch<Simd128<T>, T>(op, a, aStride, b, bStride, dst, length, stream); break;
        }
    }

    /// <summary>
    /// <see cref="Run{T}"/> over <paramref name="rows"/> rows of <paramref name="length"/> elements: row r reads a from
    /// <paramref name="a"/> + r·<paramref name="aRow"/>, b from <paramref name="b"/> + r·<paramref name="bRow"/> and
    /// writes <paramref name="dst"/> + r·<paramref name="length"/>. One dispatch for all the rows: a row vector or column
    /// broadcast over many short rows paid ~25-30 ns per row in per-run dispatch ([65536, 64] · [65536, 1]: 2.5 ms of
    /// thread CPU against 0.55 ms for the same elements in 1024-element rows, 2026-12-04).
    /// </summary>
    public static void Rows<T>(BinaryOp op, T* a, long aRow, int aStride, T* b, long bRow, int bStride, T* dst, int rows, int length, bool stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Handles(op, aStride, bStride))
            throw new ArgumentException($"BinaryRun.Rows: {op} with run strides ({aStride}, {bStride}); expected add/sub/mul/div with strides 0 or 1, one of them 1");
        var rowSet = new RowSet<T>(a, aRow, aStride, b, bRow, bStride, dst, rows, length, stream);
        switch (SimdPath.Width)
        {
            case SimdWidth.Vector512: DispatchRows<Simd512<T>, T>(op, rowSet); break;
            case SimdWidth.Vector256: DispatchRows<Simd256<T>, T>(op, rowSet); break;
            default: DispatchRows<Simd128<T>, T>(op, rowSet); break;
        }
    }

    readonly struct RowSet<T>(T* a, long aRow, int aStride, T* b, long bRow, int bStride, T* dst, int rows, int length, bool stream) where T : unmanaged
    {
        public readonly T* A = a, B = b, Dst = dst;
        public readonly long ARow = aRow, BRow = bRow;
        public readonly int AStride = aStride, BStride = bStride, Rows = rows, Length = length;
        public readonly bool Stream = stream;
    }

    static void DispatchRows<TVec, T>(BinaryOp op, RowSet<T> set)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: StreamedRows<TVec, T, AddOp>(set); break;
            case BinaryOp.Sub: StreamedRows<TVec, T, SubOp>(set); break;
            case BinaryOp.Mul: StreamedRows<TVec, T, MulOp>(set); break;
            default: StreamedRows<TVec, T, DivOp>(set); break;
        }
    }

    static void StreamedRows<TVec, T, TOp>(RowSet<T> set)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IArithmetic
    {
        for (int r = 0; r < set.Rows; r++)
            Streamed<TVec, T, TOp>(set.A + r * set.ARow, set.AStride, set.B + r * set.BRow, set.BStride, set.Dst + (long)r * set.Length, set.Length, set.Stream);
    }

    static void Dispatch<TVec, T>(BinaryOp op, T* a, int aStride, T* b, int bStride, T* dst, int length, bool stream)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Add: Streamed<TVec, T, AddOp>(a, aStride, b, bStride, dst, length, stream); break;
            case BinaryOp.Sub: Streamed<TVec, T, SubOp>(a, aStride, b, bStride, dst, length, stream); break;
            case BinaryOp.Mul: Streamed<TVec, T, MulOp>(a, aStride, b, bStride, dst, length, stream); break;
            default: Streamed<TVec, T, DivOp>(a, aStride, b, bStride, dst, length, stream); break;
        }
    }

    // Only whole cache lines are streamed: the elements before dst's first line boundary and after its last one are
    // written with plain stores. A line written partly with streamed and partly with plain stores (where the register-
    // aligned body of one row met the scalar tail and head around a row boundary) cost a partial write-combining flush
    // and a read for ownership per row: streamed 128-bit runs of a 4096×1024 multiply by a row took 1.6-2.0× the
    // plain-store time (this Intel Xeon (SPR class)). Without streaming (or dst not aligned to its element size) it is one
    // plain-store body. Every element takes the same op either way: the same bits.
    static void Streamed<TVec, T, TOp>(T* a, int aStride, T* b, int bStride, T* dst, int length, bool stream)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IArithmetic
    {
        int head = stream && TVec.IsSupported ? NonTemporal.HeadToLine(dst, length) : -1;
        if (head < 0)
        {
            Body<TVec, T, TOp, PlainStore>(a, aStride, b, bStride, dst, 0, length);
            return;
        }
        int lineElements = NonTemporal.LineBytes / sizeof(T);
        int lines = head + (length - head) / lineElements * lineElements;
        Body<TVec, T, TOp, PlainStore>(a, aStride, b, bStride, dst, 0, head);
        Body<TVec, T, TOp, NonTemporalStore>(a, aStride, b, bStride, dst, head, lines);
        Body<TVec, T, TOp, PlainStore>(a, aStride, b, bStride, dst, lines, length);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
    static void Body<TVec, T, TOp, TStore>(T* a, int aStride, T* b, int bStride, T* dst, int i, int length)
        where TVec : struct, ISimd<TVec, T> where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IArithmetic where TStore : struct, IVectorStore
    {
        if (TVec.IsSupported)
        {
            int n = TVec.Count;
            if (aStride == 1 && bStride == 1)
                for (; i <= length - n; i += n) TStore.Store(TOp.ApplyVector<TVec, T>(TVec.Load(a + i), TVec.Load(b + i)), dst + i);
            else if (aStride == 1)
            {
                var vb = TVec.Create(*b);
                for (; i <= length - n; i += n) TStore.Store(TOp.ApplyVector<TVec, T>(TVec.Load(a + i), vb), dst + i);
            }
            else
            {
                var va = TVec.Create(*a);
                for (; i <= length - n; i += n) TStore.Store(TOp.ApplyVector<TVec, T>(va, TVec.Load(b + i)), dst + i);
            }
        }
        for (; i < length; i++) dst[i] = TOp.Apply(a[i * aStride], b[i * bStride]);
    }

    interface IArithmetic
    {
        static abstract TVec ApplyVector<TVec, T>(TVec a, TVec b) where TVec : struct, ISimd<TVec, T> where T : unmanaged;
        static abstract T Apply<T>(T a, T b) where T : IFloatingPointIeee754<T>;
    }

    readonly struct AddOp : IArithmetic
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TVec ApplyVector<TVec, T>(TVec a, TVec b) where TVec : struct, ISimd<TVec, T> where T : unmanaged => a + b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Apply<T>(T a, T b) where T : IFloatingPointIeee754<T> => a + b;
    }

    readonly struct SubOp : IArithmetic
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TVec ApplyVector<TVec, T>(TVec a, TVec b) where TVec : struct, ISimd<TVec, T> where T : unmanaged => a - b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Apply<T>(T a, T b) where T : IFloatingPointIeee754<T> => a - b;
    }

    readonly struct MulOp : IArithmetic
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TVec ApplyVector<TVec, T>(TVec a, TVec b) where TVec : struct, ISimd<TVec, T> where T : unmanaged => a * b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Apply<T>(T a, T b) where T : IFloatingPointIeee754<T> => a * b;
    }

    readonly struct DivOp : IArithmetic
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static TVec ApplyVector<TVec, T>(TVec a, TVec b) where TVec : struct, ISimd<TVec, T> where T : unmanaged => a / b;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Apply<T>(T a, T b) where T : IFloatingPointIeee754<T> => a / b;
    }
}
