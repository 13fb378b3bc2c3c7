using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Norm;

/// <summary>
/// Layer normalization over the last D values of a contiguous [R, D] block (torch.nn.functional.layer_norm): each row is
/// normalized with its own mean and biased variance (two passes over the row while it sits in L1), then w·x̂ + b per
/// column. Backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = w·dy, dw = Σ_rows dy·x̂, db = Σ_rows dy.
/// Rows run in parallel; the column sums go over fixed chunks of rows added in chunk order, so every result is
/// bit-identical for any thread count.
/// </summary>
public static unsafe class LayerNormKernel
{
    // Chunks of rows for the weight and bias gradients: fixed by the row count, never by the thread count.
    const int GradientChunks = 8;

    /// <summary>y = (x − mean)·rstd·w + b per row; mean and rstd = 1/√(var + eps) are written per row for the backward.</summary>
    /// <param name="x">[R, D].</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">D.</param>
    /// <param name="weight">[D], or empty.</param>
    /// <param name="bias">[D], or empty.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="y">[R, D], overwritten.</param>
    /// <param name="mean">[R], overwritten.</param>
    /// <param name="rstd">[R], overwritten.</param>
    public static void Forward<T>(ReadOnlySpan<T> x, int rows, int cols, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> rstd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long length = (long)rows * cols;
        if (x.Length < length || y.Length < length || mean.Length < rows || rstd.Length < rows
            || (!weight.IsEmpty && weight.Length < cols) || (!bias.IsEmpty && bias.Length < cols))
            throw new ArgumentException($"LayerNormKernel.Forward: spans too short for [{rows}, {cols}]");
        fixed (T* px = x, py = y, pm = mean, pr = rstd, pw = weight, pb = bias)
            ParallelRange.For(rows, Math.Max(1, 16384 / Math.Max(1, cols)),
                new ForwardAction<T>(px, py, pm, pr, weight.IsEmpty ? null : pw, bias.IsEmpty ? null : pb, cols, eps));
    }

    /// <summary>dx (required), and dw, db (when not empty) from the saved per-row mean and rstd.</summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gradOutput, int rows, int cols, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> gradInput, Span<T> gradWeight, Span<T> gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long length = (long)rows * cols;
        if (x.Length < length || gradOutput.Length < length || gradInput.Length < length || mean.Length < rows || rstd.Length < rows
            || (!weight.IsEmpty && weight.Length < cols) || (!gradWeight.IsEmpty && gradWeight.Length < cols) || (!gradBias.IsEmpty && gradBias.Length < cols))
            throw new ArgumentException($"LayerNormKernel.Backward: spans too short for [{rows}, {cols}]");
        bool columnSums = !gradWeight.IsEmpty || !gradBias.IsEmpty;
        int grain = Math.Max(1, (rows + GradientChunks - 1) / GradientChunks);
        int chunks = rows == 0 ? 0 : (rows + grain - 1) / grain;
        // Per chunk: the partial Σ dy·x̂ and Σ dy, side by side.
        T[] partials = ArrayPool<T>.Shared.Rent(Math.Max(1, chunks * 2 * cols));
        try
        {
            fixed (T* px = x, pg = gradOutput, pw = weight, pm = mean, pr = rstd, pdx = gradInput, pp = partials)
                ParallelRange.For(rows, grain, new BackwardAction<T>(px, pg, weight.IsEmpty ? null : pw, pm, pr, pdx, columnSums ? pp : null, cols, grain));
            if (!columnSums) return;
            if (!gradWeight.IsEmpty) gradWeight[..cols].Clear();
            if (!gradBias.IsEmpty) gradBias[..cols].Clear();
            for (int c = 0; c < chunks; c++)
            {
                var part = partials.AsSpan(c * 2 * cols, 2 * cols);
                if (!gradWeight.IsEmpty) TensorPrimitives.Add(gradWeight[..cols], part[..cols], gradWeight[..cols]);
                if (!gradBias.IsEmpty) TensorPrimitives.Add(gradBias[..cols], part[cols..], gradBias[..cols]);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    readonly struct ForwardAction<T>(T* x, T* y, T* mean, T* rstd, T* w, T* b, int cols, T eps) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            T d = T.CreateTruncating(cols);
            for (int r = start; r < end; r++)
            {
                var xr = new ReadOnlySpan<T>(x + (long)r * cols, cols);
                var yr = new Span<T>(y + (long)r * cols, cols);
                T m = TensorPrimitives.Sum(xr) / d;
                TensorPrimitives.Subtract(xr, m, yr);
                T inv = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(yr) / d + eps);
                mean[r] = m;
                rstd[r] = inv;
                TensorPrimitives.Multiply(yr, inv, yr);
                if (w != null && b != null) TensorPrimitives.FusedMultiplyAdd(yr, new ReadOnlySpan<T>(w, cols), new ReadOnlySpan<T>(b, cols), yr);
                else if (w != null) TensorPrimitives.Multiply(yr, new ReadOnlySpan<T>(w, cols), yr);
                else if (b != null) TensorPrimitives.Add(yr, new ReadOnlySpan<T>(b, cols), yr);
            }
        }
    }

    readonly struct BackwardAction<T>(T* x, T* dy, T* w, T* mean, T* rstd, T* dx, T* partials, int cols, int grain) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            T d = T.CreateTruncating(cols);
            T[] scratch = ArrayPool<T>.Shared.Rent(2 * cols);
            var xhat = scratch.AsSpan(0, cols);
            var g = scratch.AsSpan(cols, cols);
            Span<T> dwPart = default, dbPart = default;
            if (partials != null)
            {
                dwPart = new Span<T>(partials + (long)(start / grain) * 2 * cols, cols);
                dbPart = new Span<T>(partials + (long)(start / grain) * 2 * cols + cols, cols);
                dwPart.Clear();
                dbPart.Clear();
            }
            for (int r = start; r < end; r++)
            {
                var xr = new ReadOnlySpan<T>(x + (long)r * cols, cols);
                var dyr = new ReadOnlySpan<T>(dy + (long)r * cols, cols);
                var dxr = new Span<T>(dx + (long)r * cols, cols);
                T inv = rstd[r];
                TensorPrimitives.Subtract(xr, mean[r], xhat);
                TensorPrimitives.Multiply(xhat, inv, xhat);
                if (w != null) TensorPrimitives.Multiply(dyr, new ReadOnlySpan<T>(w, cols), g);
                else dyr.CopyTo(g);
                T meanG = TensorPrimitives.Sum<T>(g) / d;
                T meanGx = TensorPrimitives.Dot<T>(g, xhat) / d;
                // dx = rstd·(g − mean(g) − x̂·mean(g·x̂))
                TensorPrimitives.Subtract(g, meanG, dxr);
                TensorPrimitives.FusedMultiplyAdd(xhat, -meanGx, dxr, dxr);
                TensorPrimitives.Multiply(dxr, inv, dxr);
                if (partials != null)
                {
                    TensorPrimitives.FusedMultiplyAdd(dyr, xhat, dwPart, dwPart);
                    TensorPrimitives.Add(dbPart, dyr, dbPart);
                }
            }
            ArrayPool<T>.Shared.Return(scratch);
        }
    }
}
