using System.Numerics;
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

    /// <summary>dst = op(src), dst contiguous over <paramref name="shape"/>.</summary>
    public static void Unary<T>(UnaryOp op, ReadOnlySpan<T> src, int srcOffset, int[] srcStrides, int[] shape, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layout = new StridedLayout(shape, srcStrides, ContiguousStrides(shape));
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            var action = new UnaryAction<T> { Op = op, Src = ps, SrcOffset = srcOffset, Dst = pd, Layout = layout };
            ParallelRange.For(layout.Count, layout.Count >= ParallelThreshold ? Grain : layout.Count, action);
        }
    }

    /// <summary>dst = op(a, b) with a and b already broadcast to <paramref name="shape"/> through their strides.</summary>
    public static void Binary<T>(BinaryOp op, ReadOnlySpan<T> a, int aOffset, int[] aStrides,
        ReadOnlySpan<T> b, int bOffset, int[] bStrides, int[] shape, Span<T> dst) where T : unmanaged, INumber<T>
    {
        var layout = new StridedLayout(shape, aStrides, bStrides, ContiguousStrides(shape));
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pd = dst)
        {
            var action = new BinaryAction<T> { Op = op, A = pa, AOffset = aOffset, B = pb, BOffset = bOffset, Dst = pd, Layout = layout };
            ParallelRange.For(layout.Count, layout.Count >= ParallelThreshold ? Grain : layout.Count, action);
        }
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
        if (typeof(TSrc) == typeof(TDst) && layout.Rank <= 1 && layout.InnerStride(0) == 1 && layout.InnerStride(1) == 1)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<TSrc, TDst>(src.Slice(srcOffset, layout.Count)).CopyTo(dst.Slice(dstOffset, layout.Count));
            return;
        }
        var cursor = new StridedCursor(layout, 0, [srcOffset, dstOffset]);
        int si = layout.InnerStride(0), di = layout.InnerStride(1);
        for (int pos = 0; pos < layout.Count;)
        {
            int len = cursor.RunLength(layout.Count - pos);
            int os = cursor.Offset(0), od = cursor.Offset(1);
            if (typeof(TSrc) == typeof(TDst) && si == 1 && di == 1)
                // Unit-stride runs (a head dimension inside a permute) copy as blocks, not element by element.
                System.Runtime.InteropServices.MemoryMarshal.Cast<TSrc, TDst>(src.Slice(os, len)).CopyTo(dst.Slice(od, len));
            else if (typeof(TSrc) == typeof(TDst))
                for (int i = 0; i < len; i++) dst[od + i * di] = System.Runtime.CompilerServices.Unsafe.As<TSrc, TDst>(ref System.Runtime.CompilerServices.Unsafe.AsRef(in src[os + i * si]));
            else
                for (int i = 0; i < len; i++) dst[od + i * di] = Convert<TSrc, TDst>(src[os + i * si]);
            cursor.Advance(len);
            pos += len;
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

    /// <summary>Element conversion with PyTorch's semantics: float → int truncates toward zero, anything → bool is "non-zero".</summary>
    public static TDst Convert<TSrc, TDst>(TSrc value) where TSrc : unmanaged where TDst : unmanaged
    {
        TSrc copy = value;
        ref byte raw = ref System.Runtime.CompilerServices.Unsafe.As<TSrc, byte>(ref copy);
        double v;
        if (typeof(TSrc) == typeof(float)) v = System.Runtime.CompilerServices.Unsafe.As<byte, float>(ref raw);
        else if (typeof(TSrc) == typeof(double)) v = System.Runtime.CompilerServices.Unsafe.As<byte, double>(ref raw);
        else if (typeof(TSrc) == typeof(long)) v = System.Runtime.CompilerServices.Unsafe.As<byte, long>(ref raw);
        else if (typeof(TSrc) == typeof(int)) v = System.Runtime.CompilerServices.Unsafe.As<byte, int>(ref raw);
        else if (typeof(TSrc) == typeof(bool)) v = System.Runtime.CompilerServices.Unsafe.As<byte, bool>(ref raw) ? 1 : 0;
        else if (typeof(TSrc) == typeof(byte)) v = raw;
        else throw new NotSupportedException($"copy: cannot convert from {typeof(TSrc).Name}");
        // long → long must not round through double
        if (typeof(TSrc) == typeof(long) && typeof(TDst) == typeof(long)) return System.Runtime.CompilerServices.Unsafe.As<TSrc, TDst>(ref copy);
        if (typeof(TDst) == typeof(float)) return (TDst)(object)(float)v;
        if (typeof(TDst) == typeof(double)) return (TDst)(object)v;
        if (typeof(TDst) == typeof(long)) return (TDst)(object)(long)v;
        if (typeof(TDst) == typeof(int)) return (TDst)(object)(int)v;
        if (typeof(TDst) == typeof(bool)) return (TDst)(object)(v != 0);
        if (typeof(TDst) == typeof(byte)) return (TDst)(object)(byte)v;
        throw new NotSupportedException($"copy: cannot convert to {typeof(TDst).Name}");
    }

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
        public readonly void Invoke(int start, int end)
        {
            var cursor = new StridedCursor(Layout, start, [AOffset, BOffset, 0]);
            int ia = Layout.InnerStride(0), ib = Layout.InnerStride(1);
            for (int pos = start; pos < end;)
            {
                int len = cursor.RunLength(end - pos);
                T* a = A + cursor.Offset(0), b = B + cursor.Offset(1);
                var d = new Span<T>(Dst + pos, len);
                if (ia == 1 && ib == 1) Contiguous.Binary(Op, new ReadOnlySpan<T>(a, len), new ReadOnlySpan<T>(b, len), d);
                else if (ia == 1 && ib == 0) Contiguous.BinaryScalarRight(Op, new ReadOnlySpan<T>(a, len), *b, d);
                else if (ia == 0 && ib == 1) Contiguous.BinaryScalarLeft(Op, *a, new ReadOnlySpan<T>(b, len), d);
                else for (int i = 0; i < len; i++) d[i] = ScalarMath.Binary(Op, a[i * ia], b[i * ib]);
                cursor.Advance(len);
                pos += len;
            }
        }
    }
}
