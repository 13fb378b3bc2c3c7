using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Data.Transforms;

/// <summary>Span loops over CHW float images shared by the transforms (allocation-free apart from the result).</summary>
internal static class ImageKernels
{
    /// <summary>
    /// Copies the window of size (h, w) whose top-left corner is (top, left) in the image's coordinates; pixels outside
    /// the image (negative or past the edge, as when cropping a padded image) take <paramref name="fill"/>. The output
    /// (a crop or letterbox of a fixed size) comes from the storage pool.
    /// </summary>
    public static Tensor CropWithFill(Tensor image, int top, int left, int h, int w, float fill)
    {
        var (c, ih, iw) = DataTensors.Chw(image, "crop");
        var src = DataTensors.Floats(image);
        var result = DataTensors.NewPooledImage(c, h, w, "crop", out var dst);
        int y0 = Math.Max(0, -top), y1 = Math.Min(h, ih - top);
        int x0 = Math.Max(0, -left), x1 = Math.Min(w, iw - left);
        bool full = y0 == 0 && y1 == h && x0 == 0 && x1 == w;
        if (!full) dst.AsSpan().Fill(fill); // a pooled buffer is not cleared: fill 0 too
        if (x1 > x0)
            for (int ch = 0; ch < c; ch++)
                for (int y = y0; y < y1; y++)
                    src.Slice(ch * ih * iw + (top + y) * iw + left + x0, x1 - x0).CopyTo(dst.AsSpan(ch * h * w + y * w + x0));
        return result;
    }

    /// <summary>Mirrors the image left-right; <paramref name="pooled"/>: the output from the storage pool (for sizes that repeat).</summary>
    public static Tensor FlipHorizontal(Tensor image, bool pooled = false)
    {
        var (c, h, w) = DataTensors.Chw(image, "hflip");
        var src = DataTensors.Floats(image);
        float[] dst;
        var result = pooled ? DataTensors.NewPooledImage(c, h, w, "hflip", out dst) : DataTensors.Wrap(dst = new float[src.Length], c, h, w);
        for (int row = 0; row < c * h; row++)
        {
            var s = src.Slice(row * w, w);
            var d = dst.AsSpan(row * w, w);
            for (int x = 0; x < w; x++) d[x] = s[w - 1 - x];
        }
        return result;
    }

    /// <summary>Mirrors the image top-bottom; <paramref name="pooled"/>: the output from the storage pool (for sizes that repeat).</summary>
    public static Tensor FlipVertical(Tensor image, bool pooled = false)
    {
        var (c, h, w) = DataTensors.Chw(image, "vflip");
        var src = DataTensors.Floats(image);
        float[] dst;
        var result = pooled ? DataTensors.NewPooledImage(c, h, w, "vflip", out dst) : DataTensors.Wrap(dst = new float[src.Length], c, h, w);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                src.Slice(ch * h * w + (h - 1 - y) * w, w).CopyTo(dst.AsSpan(ch * h * w + y * w, w));
        return result;
    }

    /// <summary>
    /// Bilinear resize of the window (top, left, h, w) of the image to (outH, outW), with PyTorch's
    /// F.interpolate(mode="bilinear", align_corners=False) sampling (no antialiasing): source = (dst + 0.5) × scale − 0.5,
    /// clamped at 0. With <paramref name="into"/> the result is written there (it must hold C·outH·outW values; a scratch
    /// buffer the caller reuses, which the result then shares) instead of into a new array. <paramref name="vector"/> false
    /// interpolates one column at a time (the gathering rows' test oracle).
    /// </summary>
    public static Tensor ResizeBilinear(Tensor image, int outH, int outW, int top = 0, int left = 0, int h = -1, int w = -1, float[]? into = null, bool vector = true)
    {
        var (c, ih, iw) = DataTensors.Chw(image, "resize");
        if (h < 0) h = ih;
        if (w < 0) w = iw;
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"resize: output size must be positive, got ({outH}, {outW})");
        if (h <= 0 || w <= 0 || top < 0 || left < 0 || top > ih - h || left > iw - w)
            throw new ArgumentException($"resize: expected a non-empty window inside the {ih}×{iw} image, got top {top}, left {left}, size {h}×{w}");
        var src = DataTensors.Floats(image);
        var dst = into ?? DataTensors.NewImage(c, outH, outW, "resize");
        if (dst.Length < (long)c * outH * outW) throw new ArgumentException($"resize: the destination holds {dst.Length} values, fewer than {c}×{outH}×{outW}");
        double sy = (double)h / outH, sx = (double)w / outW;
        var xi0 = new int[outW]; var xi1 = new int[outW]; var xl = new float[outW];
        for (int x = 0; x < outW; x++)
        {
            double s = Math.Max((x + 0.5) * sx - 0.5, 0);
            int i0 = Math.Min((int)s, w - 1);
            xi0[x] = left + i0; xi1[x] = left + Math.Min(i0 + 1, w - 1); xl[x] = (float)(s - i0);
        }
        // Each source row is interpolated across once and kept while output rows still blend it (up to two rows live):
        // the same values the per-output-row form computes, with the horizontal work done once per source row.
        var upper = new float[outW]; var lower = new float[outW];
        for (int ch = 0; ch < c; ch++)
        {
            int upperRow = -1, lowerRow = -1;
            for (int y = 0; y < outH; y++)
            {
                double s = Math.Max((y + 0.5) * sy - 0.5, 0);
                int j0 = Math.Min((int)s, h - 1), j1 = Math.Min(j0 + 1, h - 1);
                float ly = (float)(s - j0);
                if (j0 != upperRow)
                {
                    if (j0 == lowerRow) { (upper, lower) = (lower, upper); (upperRow, lowerRow) = (lowerRow, -1); }
                    else { InterpolateRow(src.Slice(ch * ih * iw + (top + j0) * iw, iw), xi0, xi1, xl, upper, vector); upperRow = j0; }
                }
                if (j1 != lowerRow) { InterpolateRow(src.Slice(ch * ih * iw + (top + j1) * iw, iw), xi0, xi1, xl, lower, vector); lowerRow = j1; }
                BlendRows(upper, lower, ly, dst.AsSpan(ch * outH * outW + y * outW, outW));
            }
        }
        return DataTensors.Wrap(dst, c, outH, outW);
    }

    // r[i0] + (r[i1] − r[i0])·l per output column, eight columns per pair of AVX2 gathers (the same separate multiply and
    // add); the column indices lie inside the row, checked by the caller
    internal static unsafe void InterpolateRow(ReadOnlySpan<float> row, ReadOnlySpan<int> xi0, ReadOnlySpan<int> xi1, ReadOnlySpan<float> xl, Span<float> result, bool vector)
    {
        int x = 0;
        if (vector && Avx2.IsSupported)
            fixed (float* r = row)
            fixed (int* i0 = xi0)
            fixed (int* i1 = xi1)
            fixed (float* l = xl)
            fixed (float* d = result)
                for (; x <= result.Length - Vector256<float>.Count; x += Vector256<float>.Count)
                {
                    var p = Avx2.GatherVector256(r, Avx.LoadVector256(i0 + x), 4);
                    var q = Avx2.GatherVector256(r, Avx.LoadVector256(i1 + x), 4);
                    (p + (q - p) * Avx.LoadVector256(l + x)).Store(d + x);
                }
        ref float r0 = ref MemoryMarshal.GetReference(row);
        for (; x < result.Length; x++)
        {
            float p = Unsafe.Add(ref r0, xi0[x]);
            result[x] = p + (Unsafe.Add(ref r0, xi1[x]) - p) * xl[x];
        }
    }

    // a + (b − a)·ly elementwise: separate multiply and add in every lane (no fused multiply-add), as the scalar tail
    internal static void BlendRows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, float ly, Span<float> d)
    {
        int x = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var l = Vector256.Create(ly);
            for (; x <= d.Length - Vector256<float>.Count; x += Vector256<float>.Count)
            {
                var va = Vector256.Create(a.Slice(x, Vector256<float>.Count));
                var vb = Vector256.Create(b.Slice(x, Vector256<float>.Count));
                (va + (vb - va) * l).CopyTo(d.Slice(x));
            }
        }
        for (; x < d.Length; x++) d[x] = a[x] + (b[x] - a[x]) * ly;
    }

    /// <summary>A copy of the image's data as a fresh float array (for transforms that edit in place).</summary>
    public static float[] CopyData(Tensor image) => DataTensors.Floats(image).ToArray();
}
