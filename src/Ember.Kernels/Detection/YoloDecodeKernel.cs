using System.Numerics;
using System.Numerics.Tensors;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Detection;

/// <summary>
/// YOLOv5's inference decode of one detection level in one pass: for raw (N, na, H, W, no) it writes, with s = σ(raw),
/// xy = (2·s + (cell − 0.5))·stride, wh = (2·s)²·anchor and σ(raw) for the rest, into rows
/// [rowOffset + a·H·W + cell] of each image's (totalRows, no) block of the output. The composed form (sigmoid, narrow,
/// arithmetic on the box columns, a cat along the last axis, a cat of the levels) reads and writes the whole output about
/// six times, one thread at a time for the cats; this reads the input once and writes the output once, in parallel.
/// Each element goes through the same operations in the same order as the composed form (σ by TensorPrimitives.Sigmoid,
/// then the products and sums one rounding each), and chunks are cut by the row count only, so results do not depend on
/// the thread count.
/// </summary>
public static unsafe class YoloDecodeKernel
{
    /// <summary>Decodes one level (see the type's summary).</summary>
    /// <param name="raw">(N, na, H, W, no), contiguous.</param>
    /// <param name="anchors">(na, 2): (w, h) in pixels.</param>
    /// <param name="batch">N.</param>
    /// <param name="anchorCount">na.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="outputs">no = 5 + classes (at least 4).</param>
    /// <param name="stride">The level's stride in pixels.</param>
    /// <param name="output">(N, totalRows, no).</param>
    /// <param name="rowOffset">The level's first row in each image's block.</param>
    /// <param name="totalRows">Rows per image over all levels.</param>
    public static void DecodeLevel<T>(ReadOnlySpan<T> raw, ReadOnlySpan<T> anchors, int batch, int anchorCount, int height, int width, int outputs, T stride,
        Span<T> output, int rowOffset, int totalRows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "YOLO decode";
        long levelRows = (long)anchorCount * height * width, rows = batch * levelRows;
        if (outputs < 4) throw new ArgumentException($"{kernel}: expected at least 4 outputs per anchor (x, y, w, h), got {outputs}", nameof(outputs));
        if (raw.Length < rows * outputs) throw new ArgumentException($"{kernel}: raw has {raw.Length} elements but ({batch}, {anchorCount}, {height}, {width}, {outputs}) needs {rows * outputs}", nameof(raw));
        if (anchors.Length < 2 * anchorCount) throw new ArgumentException($"{kernel}: anchors has {anchors.Length} elements but {anchorCount} anchors need {2 * anchorCount}", nameof(anchors));
        if (rowOffset < 0 || rowOffset + levelRows > totalRows || output.Length < (long)batch * totalRows * outputs)
            throw new ArgumentException($"{kernel}: rows [{rowOffset}, {rowOffset + levelRows}) of {totalRows} per image do not fit an output of {output.Length} elements for {batch} image(s) of {outputs} outputs", nameof(output));
        if (rows == 0) return;
        fixed (T* x = raw, a = anchors, y = output)
            // About 16K elements per chunk: long enough to amortize the fork, short enough to balance two threads on a small batch.
            ParallelRange.For((int)rows, Math.Max(1, 16384 / outputs), new Rows<T>(x, a, y, (int)levelRows, height * width, width, outputs, stride, rowOffset, totalRows));
    }

    readonly struct Rows<T>(T* raw, T* anchors, T* output, int levelRows, int plane, int width, int outputs, T stride, int rowOffset, int totalRows) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            T two = T.CreateTruncating(2), half = T.CreateTruncating(0.5);
            while (start < end)
            {
                // A run of rows inside one image: contiguous in the input and in the output.
                int image = start / levelRows, first = start - image * levelRows, count = Math.Min(end - start, levelRows - first);
                T* src = raw + (long)start * outputs;
                T* dst = output + ((long)image * totalRows + rowOffset + first) * outputs;
                TensorPrimitives.Sigmoid(new ReadOnlySpan<T>(src, count * outputs), new Span<T>(dst, count * outputs));
                for (int r = first; r < first + count; r++, dst += outputs)
                {
                    int anchor = r / plane, cell = r - anchor * plane, gy = cell / width, gx = cell - gy * width;
                    dst[0] = (dst[0] * two + (T.CreateTruncating(gx) - half)) * stride;
                    dst[1] = (dst[1] * two + (T.CreateTruncating(gy) - half)) * stride;
                    T w = dst[2] * two, h = dst[3] * two;
                    dst[2] = w * w * anchors[2 * anchor];
                    dst[3] = h * h * anchors[2 * anchor + 1];
                }
                start += count;
            }
        }
    }
}
