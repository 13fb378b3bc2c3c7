using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ember.Data.Transforms;

/// <summary>Span loops over CHW float images shared by the transforms (allocation-free apart from the result).</summary>
internal static class ImageKernels
{
    /// <summary>
    /// Copies the window of size (h, w) whose top-left corner is (top, left) in the image's coordinates; pixels outside
    /// the image (negative or past the edge, as when cropping a padded image) take <paramref name="fill"/>.
    /// </summary>
    public static Tensor CropWithFill(Tensor image, int top, int left, int h, int w, float fill)
    {
        var (c, ih, iw) = DataTensors.Chw(image, "crop");
        var src = DataTensors.Floats(image);
        var dst = DataTensors.NewImage(c, h, w, "crop");
        int y0 = Math.Max(0, -top), y1 = Math.Min(h, ih - top);
        int x0 = Math.Max(0, -left), x1 = Math.Min(w, iw - left);
        bool full = y0 == 0 && y1 == h && x0 == 0 && x1 == w;
        if (!full && fill != 0) dst.AsSpan().Fill(fill);
        if (x1 > x0)
            for (int ch = 0; ch < c; ch++)
                for (int y = y0; y < y1; y++)
                    src.Slice(ch * ih * iw + (top + y) * iw + left + x0, x1 - x0).CopyTo(dst.AsSpan(ch * h * w + y * w + x0));
        return DataTensors.Wrap(dst, c, h, w);
    }

    /// <summary>Mirrors the image left-right.</summary>
    public static Tensor FlipHorizontal(Tensor image)
    {
        var (c, h, w) = DataTensors.Chw(image, "hflip");
        var src = DataTensors.Floats(image);
        var dst = new float[src.Length];
        for (int row = 0; row < c * h; row++)
        {
            var s = src.Slice(row * w, w);
            var d = dst.AsSpan(row * w, w);
            for (int x = 0; x < w; x++) d[x] = s[w - 1 - x];
        }
        return DataTensors.Wrap(dst, c, h, w);
    }

    /// <summary>Mirrors the image top-bottom.</summary>
    public static Tensor FlipVertical(Tensor image)
    {
        var (c, h, w) = DataTensors.Chw(image, "vflip");
        var src = DataTensors.Floats(image);
        var dst = new float[src.Length];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                src.Slice(ch * h * w + (h - 1 - y) * w, w).CopyTo(dst.AsSpan(ch * h * w + y * w, w));
        return DataTensors.Wrap(dst, c, h, w);
    }

    /// <summary>
    /// Bilinear resize of the window (top, left, h, w) of the image to (outH, outW), with PyTorch's
    /// F.interpolate(mode="bilinear", align_corners=False) sampling (no antialiasing): source = (dst + 0.5) × scale − 0.5,
    /// clamped at 0.
    /// </summary>
    public static Tensor ResizeBilinear(Tensor image, int outH, int outW, int top = 0, int left = 0, int h = -1, int w = -1)
    {
        var (c, ih, iw) = DataTensors.Chw(image, "resize");
        if (h < 0) h = ih;
        if (w < 0) w = iw;
        if (outH <= 0 || outW <= 0) throw new ArgumentException($"resize: output size must be positive, got ({outH}, {outW})");
        if (h <= 0 || w <= 0 || top < 0 || left < 0 || top > ih - h || left > iw - w)
            throw new ArgumentException($"resize: expected a non-empty window inside the {ih}×{iw} image, got top {top}, left {left}, size {h}×{w}");
        var src = DataTensors.Floats(image);
        var dst = DataTensors.NewImage(c, outH, outW, "resize");
        double sy = (double)h / outH, sx = (double)w / outW;
        var xi0 = new int[outW]; var xi1 = new int[outW]; var xl = new float[outW];
        for (int x = 0; x < outW; x++)
        {
            double s = Math.Max((x + 0.5) * sx - 0.5, 0);
            int i0 = Math.Min((int)s, w - 1);
            xi0[x] = left + i0; xi1[x] = left + Math.Min(i0 + 1, w - 1); xl[x] = (float)(s - i0);
        }
        for (int y = 0; y < outH; y++)
        {
            double s = Math.Max((y + 0.5) * sy - 0.5, 0);
            int j0 = Math.Min((int)s, h - 1), j1 = Math.Min(j0 + 1, h - 1);
            float ly = (float)(s - j0);
            for (int ch = 0; ch < c; ch++)
            {
                var r0 = src.Slice(ch * ih * iw + (top + j0) * iw, iw);
                var r1 = src.Slice(ch * ih * iw + (top + j1) * iw, iw);
                var d = dst.AsSpan(ch * outH * outW + y * outW, outW);
                // the column indices lie in [left, left + w) ⊂ [0, iw), checked once above: read without bounds checks
                ref float a0 = ref MemoryMarshal.GetReference(r0), b0 = ref MemoryMarshal.GetReference(r1);
                for (int x = 0; x < d.Length; x++)
                {
                    float l = xl[x];
                    int i0 = xi0[x], i1 = xi1[x];
                    float p0 = Unsafe.Add(ref a0, i0), q0 = Unsafe.Add(ref b0, i0);
                    float a = p0 + (Unsafe.Add(ref a0, i1) - p0) * l;
                    float b = q0 + (Unsafe.Add(ref b0, i1) - q0) * l;
                    d[x] = a + (b - a) * ly;
                }
            }
        }
        return DataTensors.Wrap(dst, c, outH, outW);
    }

    /// <summary>A copy of the image's data as a fresh float array (for transforms that edit in place).</summary>
    public static float[] CopyData(Tensor image) => DataTensors.Floats(image).ToArray();
}
