using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Numerics;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// Strided and broadcast elementwise loops. The output is contiguous; each input is read through its strides
/// (stride 0 on broadcast dimensions), without materializing copies. Innermost runs go to <see cref="Contiguous"/>.
/// Large loops are split into fixed chunks; elementwise results never depend on the split.
/// </summary>
public static unsafe class Elementwise
{
    /// <summary>Below this many elements a loop stays on the calling thread.</summary>
    public const int ParallelThreshold = 1 << 16;
    /// <summary>Elements per parallel chunk: fixed, so chunk boundaries never depend on the thread count.</summary>
    public const int Grain = 1 << 15;

    /// <summary>
    /// Elements per chunk for a loop over <paramref name="count"/> elements: at least <see cref="Grain"/>, and large
    /// loops cut into 16 chunks instead (a function of the count alone, never of the thread count). Big contiguous
    /// runs matter: TensorPrimitives writes a run of more than 256 KB with non-temporal stores, which skip reading the
    /// output's lines before overwriting them; a 4M-element add in 32K-element chunks took 1.3-1.8× as long on one
    /// thread as in 256K-element chunks (thread CPU time, one process, 2026-12-03).
    /// </summary>
    public static int GrainFor(int count) => count < ParallelThreshold ? Math.Max(count, 1) : Math.Max(Grain, (int)((count + 15L) / 16));

    /// <summary>dst = op(src), dst contiguous over <paramref name="shape"/>.</summary>
    public static void Unary<T>(UnaryOp op, ReadOnlySpan<T> src, int srcOffset, int[] srcStrides, int[] shape, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = new StridedLayout(shape, srcStrides, ContiguousStrides(shape));
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            var action = new UnaryAction<T> { Op = op, Src = ps, SrcOffset = srcOffset, Dst = pd, Layout = layout };
            ParallelRange.For(layout.Count, GrainFor(layout.Count), action);
        }
    }

    /// <summary>dst = op(a, b) with a and b already broadcast to <paramref name="shape"/> through their strides.</summary>
    public static void Binary<T>(BinaryOp op, ReadOnlySpan<T> a, int aOffset, int[] aStrides,
        ReadOnlySpan<T> b, int bOffset, int[] bStrides, int[] shape, Span<T> dst) where T : unmanaged, INumber<T>
    {
        var layout = new StridedLayout(shape, aStrides, bStrides, ContiguousStrides(shape));
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pd = dst)
        {
            var action = new BinaryAction<T> { Op = op, A = pa, AOffset = aOffset, B = pb, BOffset = bOffset, Dst = pd, Layout = layout,
                Stream = StreamsOutput(layout, sizeof(T)) };
            ParallelRange.For(layout.Count, GrainFor(layout.Count), action);
        }
    }

    // A large output is streamed (NonTemporal) unless the output and the operands read in full (no broadcast dimension)
    // fit in half the L3, where a reused output buffer is still in cache on the next call.
    internal static bool StreamsOutput(StridedLayout layout, int elementSize)
    {
        long output = (long)layout.Count * elementSize;
        if (output < NonTemporal.MinBytes) return false;
        long touched = output;
        for (int operand = 0; operand < 2; operand++)
            if (Array.IndexOf(layout.Strides[operand], 0) < 0) touched += output;
        return touched > NonTemporal.CachedWorkingSetBytes;
    }

    /// <summary>dst = a op b as bool, broadcast through strides.</summary>
    public static void Compare<T>(CompareOp op, ReadOnlySpan<T> a, int aOffset, int[] aStrides,
        ReadOnlySpan<T> b, int bOffset, int[] bStrides, int[] shape, Span<bool> dst) where T : unmanaged, INumber<T>
    {
        var layout = new StridedLayout(shape, aStrides, bStrides, ContiguousStrides(shape));
        var cursor = new StridedCursor(layout, 0, [aOffset, bOffset, 0]);
        int ia = layout.InnerStride(0), ib = layout.InnerStride(1);
        for (int pos = 0; pos < layout.Count;)
        {
            int len = cursor.RunLength(layout.Count - pos);
            int oa = cursor.Offset(0), ob = cursor.Offset(1);
            for (int i = 0; i < len; i++) dst[pos + i] = ScalarMath.Compare(op, a[oa + i * ia], b[ob + i * ib]);
            cursor.Advance(len);
            pos += len;
        }
    }

    /// <summary>dst[strided] = convert(src[strided]): copies between any two layouts, converting the element type.</summary>
    public static void Copy<TSrc, TDst>(ReadOnlySpan<TSrc> src, int srcOffset, int[] srcStrides,
        Span<TDst> dst, int dstOffset, int[] dstStrides, int[] shape)
        where TSrc : unmanaged where TDst : unmanaged
    {
        var layout = new StridedLayout(shape, srcStrides, dstStrides);
        if (layout.Count == 0) return;
        if (typeof(TSrc) == typeof(TDst) && layout.Rank <= 1 && layout.InnerStride(0) == 1 && layout.InnerStride(1) == 1 && layout.Count < ParallelThreshold)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<TSrc, TDst>(src.Slice(srcOffset, layout.Count)).CopyTo(dst.Slice(dstOffset, layout.Count));
            return;
        }
        // The bounds the span indexing checked before: the lowest and highest element each side reaches (strides may be negative).
        long srcLo = srcOffset, srcHi = srcOffset, dstLo = dstOffset, dstHi = dstOffset;
        for (int d = 0; d < shape.Length; d++)
        {
            long s = (long)(shape[d] - 1) * srcStrides[d], t = (long)(shape[d] - 1) * dstStrides[d];
            if (s < 0) srcLo += s; else srcHi += s;
            if (t < 0) dstLo += t; else dstHi += t;
        }
        if (srcLo < 0 || dstLo < 0 || srcHi >= src.Length || dstHi >= dst.Length)
            throw new ArgumentOutOfRangeException(nameof(shape), $"Copy: a layout of shape [{string.Join(", ", shape)}] reaches source elements [{srcLo}, {srcHi}] of {src.Length} and destination elements [{dstLo}, {dstHi}] of {dst.Length}");
        // Large copies (a cat's parts, a permute made contiguous) in parallel chunks: each element is moved alone, so the
        // split cannot change the result.
        fixed (TSrc* ps = src) fixed (TDst* pd = dst)
            ParallelRange.For(layout.Count, GrainFor(layout.Count), new CopyAction<TSrc, TDst> { Src = ps, SrcOffset = srcOffset, Dst = pd, DstOffset = dstOffset, Layout = layout });
    }

    struct CopyAction<TSrc, TDst> : IRangeAction where TSrc : unmanaged where TDst : unmanaged
    {
        public TSrc* Src; public int SrcOffset; public TDst* Dst; public int DstOffset; public StridedLayout Layout;
        public readonly void Invoke(int start, int end)
        {
            var cursor = new StridedCursor(Layout, start, [SrcOffset, DstOffset]);
            int si = Layout.InnerStride(0), di = Layout.InnerStride(1);
            for (int pos = start; pos < end;)
            {
                int len = cursor.RunLength(end - pos);
                TSrc* s = Src + cursor.Offset(0);
                TDst* d = Dst + cursor.Offset(1);
                if (typeof(TSrc) == typeof(TDst) && si == 1 && di == 1)
                    // Unit-stride runs (a head dimension inside a permute) copy as blocks, not element by element.
                    new ReadOnlySpan<TDst>(s, len).CopyTo(new Span<TDst>(d, len));
                else if (typeof(TSrc) == typeof(TDst))
                    for (int i = 0; i < len; i++) d[i * di] = *(TDst*)(s + i * si);
                else
                    for (int i = 0; i < len; i++) d[i * di] = Convert<TSrc, TDst>(s[i * si]);
                cursor.Advance(len);
                pos += len;
            }
        }
    }

    /// <summary>dst = cond ? a : b, all three broadcast through strides.</summary>
    public static void Where<T>(ReadOnlySpan<bool> cond, int cOffset, int[] cStrides, ReadOnlySpan<T> a, int aOffset, int[] aStrides,
        ReadOnlySpan<T> b, int bOffset, int[] bStrides, int[] shape, Span<T> dst) where T : unmanaged
    {
        var layout = new StridedLayout(shape, cStrides, aStrides, bStrides);
        var cursor = new StridedCursor(layout, 0, [cOffset, aOffset, bOffset]);
        int ic = layout.InnerStride(0), ia = layout.InnerStride(1), ib = layout.InnerStride(2);
        for (int pos = 0; pos < layout.Count;)
        {
            int len = cursor.RunLength(layout.Count - pos);
            int oc = cursor.Offset(0), oa = cursor.Offset(1), ob = cursor.Offset(2);
            for (int i = 0; i < len; i++) dst[pos + i] = cond[oc + i * ic] ? a[oa + i * ia] : b[ob + i * ib];
            cursor.Advance(len);
            pos += len;
        }
    }

    /// <summary>
    /// Element conversion with PyTorch's CPU semantics, measured against libtorch 2.10: integer → narrower integer wraps;
    /// float → int64/int32 truncates toward zero, NaN and out-of-range giving the most negative value (x86's cvtt);
    /// float → int8 goes through int32 and float → uint8 through int64, then wrap (so −1.0 → 255); anything → bool is
    /// "non-zero" (NaN is true); anything → float16/bfloat16 goes through float32 first (so a double can round twice),
    /// then rounds to nearest even, overflowing to ±inf.
    /// </summary>
    public static TDst Convert<TSrc, TDst>(TSrc value) where TSrc : unmanaged where TDst : unmanaged
    {
        if (typeof(TSrc) == typeof(TDst)) return Unsafe.As<TSrc, TDst>(ref value);
        if (typeof(TSrc) == typeof(float) || typeof(TSrc) == typeof(double) || typeof(TSrc) == typeof(Half) || typeof(TSrc) == typeof(BFloat16))
        {
            double v = typeof(TSrc) == typeof(float) ? Unsafe.As<TSrc, float>(ref value)
                : typeof(TSrc) == typeof(double) ? Unsafe.As<TSrc, double>(ref value)
                : typeof(TSrc) == typeof(Half) ? (double)Unsafe.As<TSrc, Half>(ref value)
                : (double)Unsafe.As<TSrc, BFloat16>(ref value);
            return FromFloating<TDst>(v);
        }
        long l = typeof(TSrc) == typeof(long) ? Unsafe.As<TSrc, long>(ref value)
            : typeof(TSrc) == typeof(int) ? Unsafe.As<TSrc, int>(ref value)
            : typeof(TSrc) == typeof(sbyte) ? Unsafe.As<TSrc, sbyte>(ref value)
            : typeof(TSrc) == typeof(byte) ? Unsafe.As<TSrc, byte>(ref value)
            : typeof(TSrc) == typeof(bool) ? (Unsafe.As<TSrc, bool>(ref value) ? 1 : 0)
            : throw new NotSupportedException($"copy: cannot convert from {typeof(TSrc).Name}");
        return FromInteger<TDst>(l);
    }

    static TDst FromFloating<TDst>(double v) where TDst : unmanaged
    {
        if (typeof(TDst) == typeof(float)) { float r = (float)v; return Unsafe.As<float, TDst>(ref r); }
        if (typeof(TDst) == typeof(double)) return Unsafe.As<double, TDst>(ref v);
        if (typeof(TDst) == typeof(Half)) { Half r = (Half)(float)v; return Unsafe.As<Half, TDst>(ref r); }
        if (typeof(TDst) == typeof(BFloat16)) { BFloat16 r = (BFloat16)(float)v; return Unsafe.As<BFloat16, TDst>(ref r); }
        if (typeof(TDst) == typeof(bool)) { bool r = v != 0 || double.IsNaN(v); return Unsafe.As<bool, TDst>(ref r); }
        if (typeof(TDst) == typeof(long)) { long r = TruncateInt64(v); return Unsafe.As<long, TDst>(ref r); }
        if (typeof(TDst) == typeof(int)) { int r = TruncateInt32(v); return Unsafe.As<int, TDst>(ref r); }
        if (typeof(TDst) == typeof(sbyte)) { sbyte r = unchecked((sbyte)TruncateInt32(v)); return Unsafe.As<sbyte, TDst>(ref r); }
        if (typeof(TDst) == typeof(byte)) { byte r = unchecked((byte)TruncateInt64(v)); return Unsafe.As<byte, TDst>(ref r); }
        throw new NotSupportedException($"copy: cannot convert to {typeof(TDst).Name}");
    }

    static TDst FromInteger<TDst>(long v) where TDst : unmanaged
    {
        if (typeof(TDst) == typeof(long)) return Unsafe.As<long, TDst>(ref v);
        if (typeof(TDst) == typeof(int)) { int r = unchecked((int)v); return Unsafe.As<int, TDst>(ref r); }
        if (typeof(TDst) == typeof(sbyte)) { sbyte r = unchecked((sbyte)v); return Unsafe.As<sbyte, TDst>(ref r); }
        if (typeof(TDst) == typeof(byte)) { byte r = unchecked((byte)v); return Unsafe.As<byte, TDst>(ref r); }
        if (typeof(TDst) == typeof(bool)) { bool r = v != 0; return Unsafe.As<bool, TDst>(ref r); }
        if (typeof(TDst) == typeof(float)) { float r = v; return Unsafe.As<float, TDst>(ref r); }
        if (typeof(TDst) == typeof(double)) { double r = v; return Unsafe.As<double, TDst>(ref r); }
        // int64 → float32 → half, as c10 (long → float rounds once; going through double could round twice)
        if (typeof(TDst) == typeof(Half)) { Half r = (Half)(float)v; return Unsafe.As<Half, TDst>(ref r); }
        if (typeof(TDst) == typeof(BFloat16)) { BFloat16 r = (BFloat16)(float)v; return Unsafe.As<BFloat16, TDst>(ref r); }
        throw new NotSupportedException($"copy: cannot convert to {typeof(TDst).Name}");
    }

    // .NET saturates out-of-range float → int casts; C++ on x86 (cvttsd2si) gives the "integer indefinite" value instead.
    static long TruncateInt64(double v) => v >= -9.2233720368547758e18 && v < 9.2233720368547758e18 ? (long)v : long.MinValue;
    static int TruncateInt32(double v) => v > -2147483649.0 && v < 2147483648.0 ? (int)v : int.MinValue;

    /// <summary>Row-major strides of a contiguous tensor of <paramref name="shape"/>.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { strides[d] = s; s *= Math.Max(shape[d], 1); }
        return strides;
    }

    struct UnaryAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public UnaryOp Op; public T* Src; public int SrcOffset; public T* Dst; public StridedLayout Layout;
        public readonly void Invoke(int start, int end)
        {
            var cursor = new StridedCursor(Layout, start, [SrcOffset, 0]);
            int si = Layout.InnerStride(0);
            for (int pos = start; pos < end;)
            {
                int len = cursor.RunLength(end - pos);
                T* s = Src + cursor.Offset(0);
                var d = new Span<T>(Dst + pos, len);
                if (si == 1) Contiguous.Unary(Op, new ReadOnlySpan<T>(s, len), d);
                else for (int i = 0; i < len; i++) d[i] = ScalarMath.Unary(Op, s[i * si]);
                cursor.Advance(len);
                pos += len;
            }
        }
    }

    struct BinaryAction<T> : IRangeAction where T : unmanaged, INumber<T>
    {
        public BinaryOp Op; public T* A; public int AOffset; public T* B; public int BOffset; public T* Dst; public StridedLayout Layout;
        // A large output that does not stay in cache (StreamsOutput): runs that BinaryRun handles are written with
        // non-temporal stores.
        public bool Stream;
        public readonly void Invoke(int start, int end)
        {
            if (Layout.Rank == 2) InvokeRows(start, end);
            else
            {
                var cursor = new StridedCursor(Layout, start, [AOffset, BOffset, 0]);
                int ia = Layout.InnerStride(0), ib = Layout.InnerStride(1);
                for (int pos = start; pos < end;)
                {
                    int len = cursor.RunLength(end - pos);
                    Run(Op, A + cursor.Offset(0), ia, B + cursor.Offset(1), ib, Dst + pos, len, Stream);
                    cursor.Advance(len);
                    pos += len;
                }
            }
            if (Stream) NonTemporal.Fence();
        }

        // Two collapsed dimensions (a row or column broadcast, a transposed operand): rows are walked with plain index
        // arithmetic instead of the general cursor, whose per-run bookkeeping cost ~12% of a 4096×1024 broadcast multiply
        // (1024-element runs) against a loop of row calls on one thread.
        readonly void InvokeRows(int start, int end)
        {
            int cols = Layout.Shape[1];
            int[] sa = Layout.Strides[0], sb = Layout.Strides[1];
            int ia = sa[1], ib = sb[1];
            int r = start / cols, c = start % cols;
            if ((typeof(T) == typeof(float) || typeof(T) == typeof(double)) && BinaryRun.Handles(Op, ia, ib))
            {
                // the whole rows of the chunk in one call (a partial first or last row goes through Run)
                int pos = start;
                if (c != 0)
                {
                    int len = Math.Min(cols - c, end - pos);
                    Run(Op, A + AOffset + (long)r * sa[0] + (long)c * ia, ia, B + BOffset + (long)r * sb[0] + (long)c * ib, ib, Dst + pos, len, Stream);
                    pos += len;
                    r++;
                }
                int rows = (end - pos) / cols;
                if (rows > 0)
                {
                    T* a = A + AOffset + (long)r * sa[0], b = B + BOffset + (long)r * sb[0];
                    if (typeof(T) == typeof(float)) BinaryRun.Rows(Op, (float*)a, sa[0], ia, (float*)b, sb[0], ib, (float*)(Dst + pos), rows, cols, Stream);
                    else BinaryRun.Rows(Op, (double*)a, sa[0], ia, (double*)b, sb[0], ib, (double*)(Dst + pos), rows, cols, Stream);
                    pos += rows * cols;
                    r += rows;
                }
                if (pos < end)
                    Run(Op, A + AOffset + (long)r * sa[0], ia, B + BOffset + (long)r * sb[0], ib, Dst + pos, end - pos, Stream);
                return;
            }
            for (int pos = start; pos < end; r++, c = 0)
            {
                int len = Math.Min(cols - c, end - pos);
                Run(Op, A + AOffset + (long)r * sa[0] + (long)c * ia, ia, B + BOffset + (long)r * sb[0] + (long)c * ib, ib, Dst + pos, len, Stream);
                pos += len;
            }
        }

        static void Run(BinaryOp op, T* a, int ia, T* b, int ib, T* dst, int len, bool stream)
        {
            if (stream && BinaryRun.Handles(op, ia, ib))
            {
                if (typeof(T) == typeof(float)) { BinaryRun.Run(op, (float*)a, ia, (float*)b, ib, (float*)dst, len, true); return; }
                if (typeof(T) == typeof(double)) { BinaryRun.Run(op, (double*)a, ia, (double*)b, ib, (double*)dst, len, true); return; }
            }
            var d = new Span<T>(dst, len);
            if (ia == 1 && ib == 1) Contiguous.Binary(op, new ReadOnlySpan<T>(a, len), new ReadOnlySpan<T>(b, len), d);
            else if (ia == 1 && ib == 0) Contiguous.BinaryScalarRight(op, new ReadOnlySpan<T>(a, len), *b, d);
            else if (ia == 0 && ib == 1) Contiguous.BinaryScalarLeft(op, *a, new ReadOnlySpan<T>(b, len), d);
            else for (int i = 0; i < len; i++) d[i] = ScalarMath.Binary(op, a[(long)i * ia], b[(long)i * ib]);
        }
    }
}
