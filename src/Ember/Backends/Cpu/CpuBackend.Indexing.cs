using System.Numerics;

namespace Ember.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>out[…, i, …] = x[…, index[…, i, …], …] along dim; out has index's shape (torch.gather).</summary>
    public Tensor Gather(Tensor x, int dim, Tensor index)
    {
        using var scope = StoragePool.EnterOp();
        var y = Empty(x.DType, (int[])index.shape.Clone(), false);
        var idx = index.Contiguous().Span<long>();
        var xs = x.strides; int rank = x.Rank;
        var coord = new int[rank];
        int size = x.shape[dim];
        for (int p = 0; p < idx.Length; p++)
        {
            long i = idx[p];
            if (i < -size || i >= size)
                throw new IndexOutOfRangeException($"gather: index {i} is out of bounds for dimension {dim} with size {size} (at position {p} of the index)");
            if (i < 0) i += size;
            int off = x.offset;
            for (int d = 0; d < rank; d++) off += (d == dim ? (int)i : coord[d]) * xs[d];
            CopyElement(x, off, y, p);
            Next(coord, index.shape);
        }
        return y;
    }

    /// <summary>x[…, index[…, i, …], …] (+)= src[…, i, …] in place on a contiguous x (torch.scatter_ / scatter_add_).</summary>
    public void Scatter(Tensor x, int dim, Tensor index, Tensor src, bool accumulate)
    {
        using var scope = StoragePool.EnterOp();
        var idx = index.Contiguous().Span<long>();
        var s = src.Contiguous(); // src arrives with index's shape
        int rank = x.Rank, size = x.shape[dim];
        var coord = new int[rank];
        for (int p = 0; p < idx.Length; p++)
        {
            long i = idx[p];
            if (i < -size || i >= size)
                throw new IndexOutOfRangeException($"scatter: index {i} is out of bounds for dimension {dim} with size {size} (at position {p} of the index)");
            if (i < 0) i += size;
            int off = x.offset;
            for (int d = 0; d < rank; d++) off += (d == dim ? (int)i : coord[d]) * x.strides[d];
            if (accumulate) AddElement(s, s.offset + p, x, off); else CopyElement(s, s.offset + p, x, off);
            Next(coord, index.shape);
        }
    }

    /// <summary>Rows (along dim) of x picked by a 1-D index (torch.index_select).</summary>
    public Tensor IndexSelect(Tensor x, int dim, Tensor index)
    {
        using var scope = StoragePool.EnterOp();
        var shape = (int[])x.shape.Clone();
        shape[dim] = index.NumEl;
        var y = Empty(x.DType, shape, false);
        var idx = index.Contiguous().Span<long>();
        int size = x.shape[dim];
        for (int j = 0; j < idx.Length; j++)
        {
            long i = idx[j];
            if (i < -size || i >= size)
                throw new IndexOutOfRangeException($"index_select: index {i} is out of bounds for dimension {dim} with size {size} (at position {j})");
            if (i < 0) i += size;
            Copy(x.Detach().Narrow(dim, (int)i, 1), y.Narrow(dim, j, 1));
        }
        return y;
    }

    /// <summary>x.narrow(dim, index[j], 1) += src.narrow(dim, j, 1) in place, in index order (torch.index_add_).</summary>
    public void IndexAdd(Tensor x, int dim, Tensor index, Tensor src)
    {
        using var scope = StoragePool.EnterOp();
        var idx = index.Contiguous().Span<long>();
        int size = x.shape[dim];
        for (int j = 0; j < idx.Length; j++)
        {
            long i = idx[j];
            if (i < -size || i >= size)
                throw new IndexOutOfRangeException($"index_add: index {i} is out of bounds for dimension {dim} with size {size} (at position {j})");
            if (i < 0) i += size;
            var dst = x.Narrow(dim, (int)i, 1);
            Copy(Binary(Kernels.Operators.BinaryOp.Add, dst, src.Detach().Narrow(dim, j, 1)), dst);
        }
    }

    /// <summary>Stable sort along the last dim of a contiguous tensor: values and int64 indices.</summary>
    public (Tensor Values, Tensor Indices) SortLastDim(Tensor x, bool descending)
    {
        using var scope = StoragePool.EnterOp();
        var values = Empty(x.DType, (int[])x.shape.Clone(), false);
        var indices = Empty(DType.Int64, (int[])x.shape.Clone(), false);
        switch (x.DType)
        {
            case DType.Float32: SortRows<float>(x, values, indices, descending); break;
            case DType.Float64: SortRows<double>(x, values, indices, descending); break;
            case DType.Int64: SortRows<long>(x, values, indices, descending); break;
            case DType.Int32: SortRows<int>(x, values, indices, descending); break;
            case DType.Int8: SortRows<sbyte>(x, values, indices, descending); break;
            case DType.UInt8: SortRows<byte>(x, values, indices, descending); break;
            case DType.Float16: SortRows<Half>(x, values, indices, descending); break;
            case DType.BFloat16:
            {
                // widening to float32 is exact and keeps the order; the sorted values convert back exactly
                var (wide, order) = SortLastDim(x.Detach().To(DType.Float32), descending);
                Copy(wide, values);
                return (values, order);
            }
            default: throw DTypeExtensions.NotSupported("sort", x.DType);
        }
        return (values, indices);
    }

    static void SortRows<T>(Tensor x, Tensor values, Tensor indices, bool descending) where T : unmanaged, INumber<T>
    {
        var srcArray = x.ToArray<T>();
        var v = values.Span<T>(); var ix = indices.Span<long>();
        ReadOnlySpan<T> src = srcArray;
        int n = x.Rank == 0 ? 1 : x.shape[^1];
        if (n == 0) return;
        var order = new int[n];
        // NaN sorts as the largest value, as in PyTorch
        Comparison<int> MakeComparison(int rowStart) => (i, j) =>
        {
            T a = srcArray[rowStart + i], b = srcArray[rowStart + j];
            int c = T.IsNaN(a) ? (T.IsNaN(b) ? 0 : 1) : T.IsNaN(b) ? -1 : a.CompareTo(b);
            if (descending) c = -c;
            return c != 0 ? c : i.CompareTo(j);
        };
        for (int row = 0; row < src.Length / n; row++)
        {
            int start = row * n;
            for (int i = 0; i < n; i++) order[i] = i;
            Array.Sort(order, MakeComparison(start));
            for (int i = 0; i < n; i++) { v[start + i] = src[start + order[i]]; ix[start + i] = order[i]; }
        }
    }

    /// <summary>Coordinates of non-zero elements, [count, rank] int64 (torch.nonzero).</summary>
    public Tensor Nonzero(Tensor x)
    {
        using var scope = StoragePool.EnterOp();
        var mask = x.DType == DType.Bool ? x.Contiguous() : x.Ne(0.0).Contiguous();
        var m = mask.Span<bool>();
        int count = 0;
        foreach (var b in m) if (b) count++;
        var y = Empty(DType.Int64, [count, x.Rank], false);
        var o = y.Span<long>();
        var coord = new int[x.Rank];
        for (int p = 0, k = 0; p < m.Length; p++)
        {
            if (m[p]) for (int d = 0; d < x.Rank; d++) o[k++] = coord[d];
            Next(coord, x.shape);
        }
        return y;
    }

    static void Next(int[] coord, int[] shape)
    {
        for (int d = coord.Length - 1; d >= 0; d--)
        {
            if (++coord[d] < shape[d]) return;
            coord[d] = 0;
        }
    }

    static void CopyElement(Tensor src, int srcIndex, Tensor dst, int dstIndex)
    {
        switch (src.DType)
        {
            case DType.Float32: dst.storage.As<float>()[dstIndex] = src.storage.As<float>()[srcIndex]; break;
            case DType.Float64: dst.storage.As<double>()[dstIndex] = src.storage.As<double>()[srcIndex]; break;
            case DType.Int64: dst.storage.As<long>()[dstIndex] = src.storage.As<long>()[srcIndex]; break;
            // the other dtypes: one element through Array.Copy, which checks that both arrays hold the same type
            default: Array.Copy(src.storage.Data, srcIndex, dst.storage.Data, dstIndex, 1); break;
        }
    }

    static void AddElement(Tensor src, int srcIndex, Tensor dst, int dstIndex)
    {
        switch (src.DType)
        {
            case DType.Float32: dst.storage.As<float>()[dstIndex] += src.storage.As<float>()[srcIndex]; break;
            case DType.Float64: dst.storage.As<double>()[dstIndex] += src.storage.As<double>()[srcIndex]; break;
            case DType.Int64: dst.storage.As<long>()[dstIndex] += src.storage.As<long>()[srcIndex]; break;
            case DType.Int32: dst.storage.As<int>()[dstIndex] += src.storage.As<int>()[srcIndex]; break;
            case DType.Int8: dst.storage.As<sbyte>()[dstIndex] += src.storage.As<sbyte>()[srcIndex]; break;
            case DType.UInt8: dst.storage.As<byte>()[dstIndex] += src.storage.As<byte>()[srcIndex]; break;
            // half types add in float32 and round once per element, as PyTorch's CPU scatter_add
            case DType.Float16: { var d = dst.storage.As<Half>(); d[dstIndex] = (Half)((float)d[dstIndex] + (float)src.storage.As<Half>()[srcIndex]); break; }
            case DType.BFloat16:
            {
                var d = dst.storage.As<Kernels.Numerics.BFloat16>();
                d[dstIndex] = (Kernels.Numerics.BFloat16)(d[dstIndex] + (float)src.storage.As<Kernels.Numerics.BFloat16>()[srcIndex]);
                break;
            }
            default: throw DTypeExtensions.NotSupported("scatter_add", src.DType);
        }
    }
}
