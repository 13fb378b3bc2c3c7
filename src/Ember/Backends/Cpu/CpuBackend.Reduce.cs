using System.Numerics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Loops;
using Ember.Kernels.Numerics;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public Tensor Reduce(ReduceOp op, Tensor x, int[] dims, bool keepDim)
    {
        using var scope = StoragePool.EnterOp();
        // half types accumulate in float32 and round the result once; narrow integers reduce in int64 (callers have
        // already turned sum/prod of integers into int64 results, so only max/min come back narrowed, and exactly)
        var wide = Widened(x.DType);
        if (wide != x.DType)
        {
            var x32 = Convert(x, wide);
            var y32 = Reduce(op, x32, dims, keepDim);
            Recycle(x32, x);
            return Round(y32, x.DType);
        }
        var (src, outer, reduced, inner) = AsBlock(x, dims);
        var outShape = ReducedShape(x.shape, dims, keepDim);
        var y = Empty(x.DType, outShape, false);
        switch (x.DType)
        {
            case DType.Float32: Reduction.Reduce(op, src.Span<float>(), outer, reduced, inner, y.Span<float>()); break;
            case DType.Float64: Reduction.Reduce(op, src.Span<double>(), outer, reduced, inner, y.Span<double>()); break;
            case DType.Int64: Reduction.Reduce(op, src.Span<long>(), outer, reduced, inner, y.Span<long>()); break;
            default: throw DTypeExtensions.NotSupported(op.ToString().ToLowerInvariant(), x.DType, "convert with To(DType.Int64)");
        }
        return y;
    }

    public Tensor Mean(Tensor x, int[] dims, bool keepDim)
    {
        x.DType.RequireFloat32Or64("mean");
        using var scope = StoragePool.EnterOp();
        var (src, outer, reduced, inner) = AsBlock(x, dims);
        var y = Empty(x.DType, ReducedShape(x.shape, dims, keepDim), false);
        if (x.DType == DType.Float32) Reduction.Mean(src.Span<float>(), outer, reduced, inner, y.Span<float>());
        else Reduction.Mean(src.Span<double>(), outer, reduced, inner, y.Span<double>());
        return y;
    }

    public (Tensor Values, Tensor Indices) ArgReduce(bool max, Tensor x, int dim, bool keepDim)
    {
        using var scope = StoragePool.EnterOp();
        var wide = Widened(x.DType);
        if (wide != x.DType)
        {
            var (v, i) = ArgReduce(max, Convert(x, wide), dim, keepDim);
            return (Convert(v, x.DType), i);
        }
        var (src, outer, reduced, inner) = AsBlock(x, [dim]);
        var outShape = ReducedShape(x.shape, [dim], keepDim);
        var values = Empty(x.DType, outShape, false);
        var indices = Empty(DType.Int64, (int[])outShape.Clone(), false);
        switch (x.DType)
        {
            case DType.Float32: Reduction.ArgReduce(max, src.Span<float>(), outer, reduced, inner, values.Span<float>(), indices.Span<long>()); break;
            case DType.Float64: Reduction.ArgReduce(max, src.Span<double>(), outer, reduced, inner, values.Span<double>(), indices.Span<long>()); break;
            case DType.Int64: Reduction.ArgReduce(max, src.Span<long>(), outer, reduced, inner, values.Span<long>(), indices.Span<long>()); break;
            default: throw DTypeExtensions.NotSupported(max ? "max" : "min", x.DType);
        }
        return (values, indices);
    }

    /// <summary>The dtype reductions run in: float32 for the half types, int64 for the narrow integers, else the dtype itself.</summary>
    static DType Widened(DType dtype) => dtype.IsReducedFloat() ? DType.Float32 : dtype is DType.Int32 or DType.Int8 or DType.UInt8 ? DType.Int64 : dtype;

    public Tensor Softmax(Tensor x, int dim, bool log)
    {
        using var scope = StoragePool.EnterOp();
        if (x.DType.IsReducedFloat()) return Widened(x, x, x.DType, (x32, _) => Softmax(x32, dim, log));
        var src = x.IsContiguous ? x : x.Detach().Contiguous(); // detached: the backend records no graph
        var y = Empty(x.DType, (int[])x.shape.Clone(), false);
        int outer = 1, reduced = x.shape[dim], inner = 1;
        for (int d = 0; d < dim; d++) outer *= x.shape[d];
        for (int d = dim + 1; d < x.Rank; d++) inner *= x.shape[d];
        switch (x.DType)
        {
            case DType.Float32: Reduction.Softmax(src.Span<float>(), outer, reduced, inner, y.Span<float>(), log); break;
            case DType.Float64: Reduction.Softmax(src.Span<double>(), outer, reduced, inner, y.Span<double>(), log); break;
            default: throw new NotSupportedException($"softmax: expected a floating point tensor, got {x.DType.TorchName()}");
        }
        return y;
    }

    public Tensor SoftmaxBackward(Tensor grad, Tensor output, int dim, bool log)
    {
        using var scope = StoragePool.EnterOp();
        if (output.DType.IsReducedFloat())
            return Widened(grad, output, output.DType, (g, y) => SoftmaxBackward(g, y, dim, log));
        var g = grad.Contiguous(); var y = output.Contiguous();
        var dx = Empty(output.DType, (int[])output.shape.Clone(), false);
        int outer = 1, reduced = output.shape[dim], inner = 1;
        for (int d = 0; d < dim; d++) outer *= output.shape[d];
        for (int d = dim + 1; d < output.Rank; d++) inner *= output.shape[d];
        switch (output.DType)
        {
            case DType.Float32: Reduction.SoftmaxBackward(g.Span<float>(), y.Span<float>(), outer, reduced, inner, dx.Span<float>(), log); break;
            case DType.Float64: Reduction.SoftmaxBackward(g.Span<double>(), y.Span<double>(), outer, reduced, inner, dx.Span<double>(), log); break;
            default: throw new NotSupportedException($"softmax backward: expected a floating point tensor, got {output.DType.TorchName()}");
        }
        GC.KeepAlive(g); GC.KeepAlive(y);
        return dx;
    }

    /// <summary>
    /// Views x as a contiguous [outer, reduced, inner] block for reducing <paramref name="dims"/> (sorted, distinct).
    /// Adjacent dims of a contiguous tensor need no copy; otherwise the reduced dims are permuted last and copied.
    /// </summary>
    static (Tensor Src, int Outer, int Reduced, int Inner) AsBlock(Tensor x, int[] dims)
    {
        int rank = x.Rank;
        int reduced = 1;
        foreach (var d in dims) reduced *= x.shape[d];
        bool adjacent = true;
        for (int i = 1; i < dims.Length; i++) adjacent &= dims[i] == dims[i - 1] + 1;
        if (dims.Length == 0) return (x.IsContiguous ? x : x.Detach().Contiguous(), x.NumEl, 1, 1);
        if (adjacent)
        {
            int outer = 1, inner = 1;
            for (int d = 0; d < dims[0]; d++) outer *= x.shape[d];
            for (int d = dims[^1] + 1; d < rank; d++) inner *= x.shape[d];
            return (x.IsContiguous ? x : x.Detach().Contiguous(), outer, reduced, inner);
        }
        var perm = new List<int>(rank);
        for (int d = 0; d < rank; d++) if (Array.IndexOf(dims, d) < 0) perm.Add(d);
        perm.AddRange(dims);
        var permuted = x.Detach().Permute(perm.ToArray()).Contiguous();
        int kept = 1;
        for (int d = 0; d < rank; d++) if (Array.IndexOf(dims, d) < 0) kept *= x.shape[d];
        return (permuted, kept, reduced, 1);
    }

    static int[] ReducedShape(int[] shape, int[] dims, bool keepDim)
    {
        var result = new List<int>(shape.Length);
        for (int d = 0; d < shape.Length; d++)
        {
            if (Array.IndexOf(dims, d) >= 0) { if (keepDim) result.Add(1); }
            else result.Add(shape[d]);
        }
        return result.ToArray();
    }

    public Tensor MatMul(Tensor a, Tensor b, double alpha = 1, int[]? outputOrder = null)
    {
        // half types: widened to float32 inside the GEMM's packing (HalfGemm), multiplied with float32 accumulation and
        // rounded once per element as the GEMM stores it (no float32 product)
        if (!a.DType.IsReducedFloat()) a.DType.RequireFloat32Or64("matmul");
        if (b.DType != a.DType)
            throw new ArgumentException($"matmul: expected both operands to have the same dtype, got {a.DType.TorchName()} and {b.DType.TorchName()}");
        int rank = a.Rank;
        int m = a.shape[^2], k = a.shape[^1], n = b.shape[^1];
        int[] outShape = [.. a.shape[..^2], m, n];
        var y = outputOrder is null ? Empty(a.DType, outShape, false) : EmptyInOrder(a.DType, outShape, outputOrder);
        int batch = 1;
        for (int d = 0; d < rank - 2; d++) batch *= a.shape[d];
        var (aTrans, lda) = GemmOperand(ref a);
        var (bTrans, ldb) = GemmOperand(ref b);
        // Each product's offset from the batch strides, whatever they are (a permuted, sliced or expanded view is read
        // where it lies: attention heads [N, H, L, d] cut from an [N, L, E] projection need no copy); the output's too,
        // which the GEMM writes in place with its row stride whether it is contiguous or laid out in outputOrder.
        int[] aOffsets = BatchOffsets(a, batch), bOffsets = BatchOffsets(b, batch), yOffsets = BatchOffsets(y, batch);
        int ldc = Math.Max(1, y.strides[rank - 2]);
        float alpha32 = (float)alpha;
        // Many small products (attention heads: 64×64×32 each) are below the GEMM's own threading threshold, so the
        // batch is split instead; every product is still computed whole by one thread, so the result is unchanged.
        if (batch > 1 && (long)m * n * k < SmallGemmWork && ParallelRange.MaxThreads > 1)
        {
            if (a.DType == DType.Float32)
                ParallelRange.For(batch, 1, new BatchedGemm<float>(alpha, aTrans, bTrans, m, n, k, a.storage.As<float>(), aOffsets, lda,
                    b.storage.As<float>(), bOffsets, ldb, y.storage.As<float>(), yOffsets, ldc));
            else if (a.DType == DType.Float64)
                ParallelRange.For(batch, 1, new BatchedGemm<double>(alpha, aTrans, bTrans, m, n, k, a.storage.As<double>(), aOffsets, lda,
                    b.storage.As<double>(), bOffsets, ldb, y.storage.As<double>(), yOffsets, ldc));
            else if (a.DType == DType.Float16)
                ParallelRange.For(batch, 1, new BatchedGemm<Half>(alpha, aTrans, bTrans, m, n, k, a.storage.As<Half>(), aOffsets, lda,
                    b.storage.As<Half>(), bOffsets, ldb, y.storage.As<Half>(), yOffsets, ldc));
            else
                ParallelRange.For(batch, 1, new BatchedGemm<BFloat16>(alpha, aTrans, bTrans, m, n, k, a.storage.As<BFloat16>(), aOffsets, lda,
                    b.storage.As<BFloat16>(), bOffsets, ldb, y.storage.As<BFloat16>(), yOffsets, ldc));
            return y;
        }
        for (int i = 0; i < batch; i++)
        {
            switch (a.DType)
            {
                case DType.Float32:
                    Gemm.Sgemm(aTrans, bTrans, m, n, k, alpha32, a.storage.As<float>().AsSpan(aOffsets[i]), lda,
                        b.storage.As<float>().AsSpan(bOffsets[i]), ldb, 0f, y.storage.As<float>().AsSpan(yOffsets[i]), ldc);
                    break;
                case DType.Float64:
                    Gemm.Dgemm(aTrans, bTrans, m, n, k, alpha, a.storage.As<double>().AsSpan(aOffsets[i]), lda,
                        b.storage.As<double>().AsSpan(bOffsets[i]), ldb, 0d, y.storage.As<double>().AsSpan(yOffsets[i]), ldc);
                    break;
                case DType.Float16:
                    HalfGemm.Multiply(aTrans, bTrans, m, n, k, alpha32, a.storage.As<Half>().AsSpan(aOffsets[i]), lda,
                        b.storage.As<Half>().AsSpan(bOffsets[i]), ldb, y.storage.As<Half>().AsSpan(yOffsets[i]), ldc);
                    break;
                default:
                    HalfGemm.Multiply(aTrans, bTrans, m, n, k, alpha32, a.storage.As<BFloat16>().AsSpan(aOffsets[i]), lda,
                        b.storage.As<BFloat16>().AsSpan(bOffsets[i]), ldb, y.storage.As<BFloat16>().AsSpan(yOffsets[i]), ldc);
                    break;
            }
        }
        return y;
    }

    public Tensor AddMm(Tensor bias, Tensor a, Tensor b)
    {
        a.DType.RequireFloat32Or64("addmm");
        if (b.DType != a.DType || bias.DType != a.DType)
            throw new ArgumentException($"addmm: expected bias, mat1 and mat2 of one dtype, got {bias.DType.TorchName()}, {a.DType.TorchName()} and {b.DType.TorchName()}");
        if (a.Rank != 2 || b.Rank != 2 || bias.Rank != 1 || a.shape[1] != b.shape[0] || bias.shape[0] != b.shape[1])
            throw new ArgumentException($"addmm: expected bias [n], mat1 [m, k] and mat2 [k, n], got {bias.Shape}, {a.Shape} and {b.Shape}");
        int m = a.shape[0], k = a.shape[1], n = b.shape[1];
        var y = Empty(a.DType, [m, n], false);
        var (aTrans, lda) = GemmOperand(ref a);
        var (bTrans, ldb) = GemmOperand(ref b);
        if (!bias.IsContiguous) bias = bias.Detach().Contiguous();
        if (a.DType == DType.Float32)
            Gemm.SgemmWithBias(aTrans, bTrans, m, n, k, 1f, a.storage.As<float>().AsSpan(a.offset), lda, b.storage.As<float>().AsSpan(b.offset), ldb,
                bias.Span<float>(), y.Span<float>(), n);
        else
            Gemm.DgemmWithBias(aTrans, bTrans, m, n, k, 1d, a.storage.As<double>().AsSpan(a.offset), lda, b.storage.As<double>().AsSpan(b.offset), ldb,
                bias.Span<double>(), y.Span<double>(), n);
        return y;
    }

    // Products smaller than this (multiply-adds) run single-threaded inside the GEMM (its own threading threshold is 80³).
    const long SmallGemmWork = 80L * 80 * 80;

    /// <summary>The storage offset of each matrix of <paramref name="t"/>'s batch (all dims but the last two), in row-major batch order.</summary>
    static int[] BatchOffsets(Tensor t, int batch)
    {
        var offsets = new int[batch];
        int dims = t.Rank - 2;
        if (dims <= 0)
        {
            offsets[0] = t.offset;
            return offsets;
        }
        // Odometer over the batch dims: the last one moves fastest.
        Span<int> index = stackalloc int[dims];
        long offset = t.offset;
        for (int i = 0; i < batch; i++)
        {
            offsets[i] = checked((int)offset);
            for (int d = dims - 1; d >= 0; d--)
            {
                offset += t.strides[d];
                if (++index[d] < t.shape[d]) break;
                offset -= (long)t.strides[d] * t.shape[d];
                index[d] = 0;
            }
        }
        return offsets;
    }

    /// <summary>An uninitialized tensor of <paramref name="shape"/> whose dims lie in memory in <paramref name="order"/> (outermost first): a contiguous block of the permuted shape, viewed back.</summary>
    Tensor EmptyInOrder(DType dtype, int[] shape, int[] order)
    {
        var physical = new int[order.Length];
        var back = new int[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            physical[i] = shape[order[i]];
            back[order[i]] = i;
        }
        return Empty(dtype, physical, false).Permute(back);
    }

    /// <summary>Products [start, end) of a batch, <paramref name="y"/> of the operands' type.</summary>
    readonly struct BatchedGemm<T>(double alpha, bool aTrans, bool bTrans, int m, int n, int k, T[] a, int[] aOffsets, int lda,
        T[] b, int[] bOffsets, int ldb, T[] y, int[] yOffsets, int ldc) : IRangeAction where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                if (typeof(T) == typeof(float))
                    Gemm.Sgemm(aTrans, bTrans, m, n, k, (float)alpha, ((float[])(object)a).AsSpan(aOffsets[i]), lda,
                        ((float[])(object)b).AsSpan(bOffsets[i]), ldb, 0f, ((float[])(object)y).AsSpan(yOffsets[i]), ldc);
                else if (typeof(T) == typeof(double))
                    Gemm.Dgemm(aTrans, bTrans, m, n, k, alpha, ((double[])(object)a).AsSpan(aOffsets[i]), lda,
                        ((double[])(object)b).AsSpan(bOffsets[i]), ldb, 0d, ((double[])(object)y).AsSpan(yOffsets[i]), ldc);
                else if (typeof(T) == typeof(Half))
                    HalfGemm.Multiply(aTrans, bTrans, m, n, k, (float)alpha, ((Half[])(object)a).AsSpan(aOffsets[i]), lda,
                        ((Half[])(object)b).AsSpan(bOffsets[i]), ldb, ((Half[])(object)y).AsSpan(yOffsets[i]), ldc);
                else
                    HalfGemm.Multiply(aTrans, bTrans, m, n, k, (float)alpha, ((BFloat16[])(object)a).AsSpan(aOffsets[i]), lda,
                        ((BFloat16[])(object)b).AsSpan(bOffsets[i]), ldb, ((BFloat16[])(object)y).AsSpan(yOffsets[i]), ldc);
            }
        }
    }

    /// <summary>A matrix operand as (transposed?, leading dim): row-major or column-major views need no copy; anything else is made contiguous in place of <paramref name="t"/>.</summary>
    static (bool Transposed, int Ld) GemmOperand(ref Tensor t)
    {
        int r = t.Rank;
        int rows = t.shape[r - 2], cols = t.shape[r - 1];
        int rs = t.strides[r - 2], cs = t.strides[r - 1];
        if ((cs == 1 || cols == 1) && rs >= Math.Max(1, cols)) return (false, Math.Max(rs, 1));
        if ((rs == 1 || rows == 1) && cs >= Math.Max(1, rows)) return (true, Math.Max(cs, 1));
        t = t.Detach().Contiguous();
        return (false, Math.Max(cols, 1));
    }
}
