using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Detection.Data;

/// <summary>
/// YOLOv5's random affine (<c>random_perspective</c> without perspective): M = T·S·R·C, with C moving the image centre to
/// the origin, R a rotation by U(−degrees, degrees) and a scale U(1 − scale, 1 + scale), S a shear of U(−shear, shear)
/// degrees in x and y, and T moving the origin to U(0.5 − translate, 0.5 + translate) of the output size. The image is
/// warped bilinearly (uncovered pixels take <c>fill</c>); each box's four corners are transformed, the new box is their
/// bounding box clipped to the output, and boxes that became too small are dropped by YOLOv5's <c>box_candidates</c>
/// rule: width and height above 2 px, area above 10 % of the scaled original, aspect ratio below 100.
/// </summary>
public sealed class RandomAffine(double degrees = 0, double translate = 0.1, double scale = 0.5, double shear = 0, double fill = 114.0 / 255)
{
    /// <summary>
    /// Warps a CHW image and its pixel boxes [n, 5] (x1, y1, x2, y2, class) into an output of (H + 2·borderY) × (W + 2·borderX):
    /// mosaic passes a border of −size/2 to cut its 2·size canvas back to size.
    /// </summary>
    public (Tensor Image, Tensor Boxes) Apply(Tensor image, Tensor boxes, Generator generator, int borderY = 0, int borderX = 0)
    {
        var (c, h, w) = DataTensors.Chw(image, "RandomAffine");
        int outH = DataTensors.Side(h + 2L * borderY, "RandomAffine", "output height"), outW = DataTensors.Side(w + 2L * borderX, "RandomAffine", "output width");
        if (outH < 1 || outW < 1) throw new ArgumentException($"RandomAffine: borders ({borderY}, {borderX}) leave no output of a {h}×{w} image");
        // the draws in YOLOv5's order: rotation and scale, shear x, shear y, translation x, translation y
        double a = Uniform(generator, -degrees, degrees) * Math.PI / 180, s = Uniform(generator, 1 - scale, 1 + scale);
        double shx = Math.Tan(Uniform(generator, -shear, shear) * Math.PI / 180), shy = Math.Tan(Uniform(generator, -shear, shear) * Math.PI / 180);
        double tx = Uniform(generator, 0.5 - translate, 0.5 + translate) * outW, ty = Uniform(generator, 0.5 - translate, 0.5 + translate) * outH;
        // R as cv2.getRotationMatrix2D(center=(0, 0), angle, scale): [[s·cos, s·sin], [−s·sin, s·cos]]
        double r00 = s * Math.Cos(a), r01 = s * Math.Sin(a), r10 = -r01, r11 = r00;
        // S·R, then C (translate by −w/2, −h/2) folded into the offset, then T
        double m00 = r00 + shx * r10, m01 = r01 + shx * r11, m10 = shy * r00 + r10, m11 = shy * r01 + r11;
        double m02 = -(m00 * w / 2 + m01 * h / 2) + tx, m12 = -(m10 * w / 2 + m11 * h / 2) + ty;
        return Warp(image, boxes, [m00, m01, m02, m10, m11, m12], outH, outW, s, (float)fill);
    }

    static double Uniform(Generator g, double lo, double hi) => lo + (hi - lo) * g.NextDouble();

    /// <summary>
    /// Applies the affine map m (row-major 2×3, continuous coordinates where pixel i spans [i, i + 1)) to the image and
    /// its boxes; <paramref name="scale"/> is the map's scale, used by the box filter. <paramref name="vector"/> false keeps
    /// to the one-pixel-at-a-time form (the vector rows' test oracle).
    /// </summary>
    internal static (Tensor Image, Tensor Boxes) Warp(Tensor image, Tensor boxes, double[] m, int outH, int outW, double scale, float fill, bool vector = true)
    {
        var (c, h, w) = DataTensors.Chw(image, "RandomAffine");
        double det = m[0] * m[4] - m[1] * m[3];
        if (Math.Abs(det) < 1e-12) throw new ArgumentException("RandomAffine: the affine map is singular (scale 0?)");
        // inverse map: sample each output pixel centre at its source position
        double i00 = m[4] / det, i01 = -m[1] / det, i10 = -m[3] / det, i11 = m[0] / det;
        double i02 = -(i00 * m[2] + i01 * m[5]), i12 = -(i10 * m[2] + i11 * m[5]);
        var src = DataTensors.Floats(image);
        // every output pixel is written below, so a pooled (uncleared) buffer will do: the output size repeats per item
        var warped = DataTensors.NewPooledImage(c, outH, outW, "RandomAffine", out var dst);
        // the x terms of the inverse map once per column, the y terms once per row: the same products and sums, in the
        // same order, as evaluating i00·(x + ½) + i01·(y + ½) + i02 − ½ per pixel
        var colX = new double[outW];
        var colY = new double[outW];
        for (int x = 0; x < outW; x++) { colX[x] = i00 * (x + 0.5); colY[x] = i10 * (x + 0.5); }
        if (vector && i01 == 0 && i10 == 0) WarpSeparable(src, dst, c, h, w, outH, outW, colX, colY[0], i01 * 0.5, i11, i02, i12, fill);
        else for (int y = 0; y < outH; y++)
        {
            double rowX = i01 * (y + 0.5), rowY = i11 * (y + 0.5);
            int x = vector && Avx2.IsSupported ? WarpRowVector(src, dst, c, h, w, outH, outW, y, colX, colY, rowX, rowY, i02, i12, fill) : 0;
            WarpRowScalar(src, dst, c, h, w, outH, outW, y, x, outW, colX, colY, rowX, rowY, i02, i12, fill);
        }
        var b = DetectionBoxes.Rows(boxes, "RandomAffine", "pixel boxes [n, 5] (x1, y1, x2, y2, class)");
        var kept = new List<float>(b.Length);
        for (int r = 0; r < b.Length; r += 5)
        {
            double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
            for (int k = 0; k < 4; k++)
            {
                double px = k is 0 or 3 ? b[r] : b[r + 2], py = k is 0 or 2 ? b[r + 1] : b[r + 3];
                double qx = m[0] * px + m[1] * py + m[2], qy = m[3] * px + m[4] * py + m[5];
                minX = Math.Min(minX, qx); maxX = Math.Max(maxX, qx); minY = Math.Min(minY, qy); maxY = Math.Max(maxY, qy);
            }
            minX = Math.Clamp(minX, 0, outW); maxX = Math.Clamp(maxX, 0, outW); minY = Math.Clamp(minY, 0, outH); maxY = Math.Clamp(maxY, 0, outH);
            if (!IsCandidate((b[r + 2] - b[r]) * scale, (b[r + 3] - b[r + 1]) * scale, maxX - minX, maxY - minY)) continue;
            kept.Add((float)minX); kept.Add((float)minY); kept.Add((float)maxX); kept.Add((float)maxY); kept.Add(b[r + 4]);
        }
        return (warped, DataTensors.Wrap([.. kept], kept.Count / 5, 5));
    }

    // No rotation or shear (YOLOv5's default hyp): the source column depends on the output column alone and the source
    // row on the output row alone (the cross terms rowX and colY are ±0 for every pixel), so each source row is
    // interpolated along x once per output column and each output pixel is the y blend of two such rows. That is
    // WarpRowScalar's arithmetic in its order (the top and bottom blends along x, then the blend along y; a neighbour
    // outside the image reads as fill), so the bits are the same, with two loads per row pixel instead of four gathers
    // per output pixel.
    static void WarpSeparable(ReadOnlySpan<float> src, float[] dst, int c, int h, int w, int outH, int outW,
        double[] colX, double colY, double rowX, double i11, double i02, double i12, float fill)
    {
        var x0 = new int[outW];
        var x1 = new int[outW];
        var fx = new float[outW];
        // x0 is monotonic in x (affine in it), so the columns with both neighbours inside are one run
        int start = outW, end = outW;
        for (int x = 0; x < outW; x++)
        {
            double sx = colX[x] + rowX + i02 - 0.5;
            x0[x] = (int)Math.Floor(sx);
            x1[x] = x0[x] + 1;
            fx[x] = (float)(sx - x0[x]);
            bool both = (uint)x0[x] < (uint)(w - 1);
            if (both && start == outW) start = x;
            if (!both && start != outW && end == outW) end = x;
        }
        var inside = (start, Math.Max(start, end));
        var top = new float[outW];
        var bottom = new float[outW];
        int plane = h * w, outPlane = outH * outW;
        for (int ch = 0; ch < c; ch++)
        {
            var source = src.Slice(ch * plane, plane);
            int topRow = 0, bottomRow = 0;
            bool rows = false;
            for (int y = 0; y < outH; y++)
            {
                double sy = colY + i11 * (y + 0.5) + i12 - 0.5;
                int y0 = (int)Math.Floor(sy);
                float fy = (float)(sy - y0);
                if (!rows || y0 != topRow)
                {
                    if (rows && y0 == bottomRow) (top, bottom) = (bottom, top);
                    else AlongX(source, h, w, y0, x0, x1, fx, inside, fill, top);
                    AlongX(source, h, w, y0 + 1, x0, x1, fx, inside, fill, bottom);
                    topRow = y0;
                    bottomRow = y0 + 1;
                    rows = true;
                }
                ImageKernels.BlendRows(top, bottom, fy, dst.AsSpan(ch * outPlane + y * outW, outW));
            }
        }
    }

    // into[x] = p0 + (p1 − p0)·fx[x] with p0, p1 source row y's pixels x0[x], x0[x] + 1 (fill outside the image); the
    // columns [inside.Start, inside.End), whose two neighbours are both in the row, as the resize's rows (AVX2 gathers).
    static void AlongX(ReadOnlySpan<float> plane, int h, int w, int y, int[] x0, int[] x1, float[] fx, (int Start, int End) inside, float fill, float[] into)
    {
        if ((uint)y >= (uint)h)
        {
            for (int x = 0; x < into.Length; x++) into[x] = fill + (fill - fill) * fx[x];
            return;
        }
        var row = plane.Slice(y * w, w);
        ImageKernels.InterpolateRow(row, x0.AsSpan(inside.Start..inside.End), x1.AsSpan(inside.Start..inside.End), fx.AsSpan(inside.Start..inside.End),
            into.AsSpan(inside.Start..inside.End), vector: true);
        for (int x = 0; x < into.Length; x++)
        {
            if (x == inside.Start) x = inside.End;
            if (x >= into.Length) break;
            int a = x0[x];
            float p0 = (uint)a < (uint)w ? row[a] : fill, p1 = (uint)(a + 1) < (uint)w ? row[a + 1] : fill;
            into[x] = p0 + (p1 - p0) * fx[x];
        }
    }

    // Columns [x, end) of output row y, one pixel at a time: bilinear where all four neighbours are inside, and with
    // outside neighbours reading as fill (OpenCV's BORDER_CONSTANT) elsewhere.
    static void WarpRowScalar(ReadOnlySpan<float> src, float[] dst, int c, int h, int w, int outH, int outW, int y, int x, int end,
        double[] colX, double[] colY, double rowX, double rowY, double i02, double i12, float fill)
    {
        int plane = h * w, outPlane = outH * outW;
        ref float s0 = ref MemoryMarshal.GetReference(src);
        ref float d0 = ref MemoryMarshal.GetArrayDataReference(dst);
        for (; x < end; x++)
        {
            double sx = colX[x] + rowX + i02 - 0.5, sy = colY[x] + rowY + i12 - 0.5;
            int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
            float fx = (float)(sx - x0), fy = (float)(sy - y0);
            int at = y * outW + x;
            if ((uint)x0 < (uint)(w - 1) && (uint)y0 < (uint)(h - 1))
            {
                // all four neighbours inside (most pixels): no fill tests; indices proven in range above
                for (int ch = 0; ch < c; ch++)
                {
                    ref float p = ref Unsafe.Add(ref s0, ch * plane + y0 * w + x0);
                    float p00 = p, p10 = Unsafe.Add(ref p, 1), p01 = Unsafe.Add(ref p, w), p11 = Unsafe.Add(ref p, w + 1);
                    float top = p00 + (p10 - p00) * fx, bottom = p01 + (p11 - p01) * fx;
                    Unsafe.Add(ref d0, ch * outPlane + at) = top + (bottom - top) * fy;
                }
                continue;
            }
            bool in00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h, in10 = x0 + 1 >= 0 && x0 + 1 < w && y0 >= 0 && y0 < h;
            bool in01 = x0 >= 0 && x0 < w && y0 + 1 >= 0 && y0 + 1 < h, in11 = x0 + 1 >= 0 && x0 + 1 < w && y0 + 1 >= 0 && y0 + 1 < h;
            for (int ch = 0; ch < c; ch++)
            {
                int o = ch * plane;
                float p00 = in00 ? src[o + y0 * w + x0] : fill, p10 = in10 ? src[o + y0 * w + x0 + 1] : fill;
                float p01 = in01 ? src[o + (y0 + 1) * w + x0] : fill, p11 = in11 ? src[o + (y0 + 1) * w + x0 + 1] : fill;
                float top = p00 + (p10 - p00) * fx, bottom = p01 + (p11 - p01) * fx;
                dst[ch * outPlane + at] = top + (bottom - top) * fy;
            }
        }
    }

    // Output row y eight columns at a time, with WarpRowScalar's arithmetic: source positions in double, the fractions
    // rounded to float, the blends as separate multiplies and adds, so the pixels are bit for bit the same. A group whose
    // eight pixels all have their four neighbours inside the image is gathered with AVX2; any other (the border, the fill
    // around a shrunk mosaic) goes to WarpRowScalar. Returns the first column of the tail left to the caller.
    static unsafe int WarpRowVector(ReadOnlySpan<float> src, float[] dst, int c, int h, int w, int outH, int outW, int y,
        double[] colX, double[] colY, double rowX, double rowY, double i02, double i12, float fill)
    {
        const int Lanes = 8;
        int plane = h * w, outPlane = outH * outW;
        var half = Vector256.Create(0.5);
        var offX = Vector256.Create(rowX);
        var offY = Vector256.Create(rowY);
        var biasX = Vector256.Create(i02);
        var biasY = Vector256.Create(i12);
        var lastX = Vector256.Create((double)(w - 2));
        var lastY = Vector256.Create((double)(h - 2));
        var width = Vector256.Create(w);
        int x = 0;
        fixed (float* s = src)
        fixed (float* d = dst)
        fixed (double* cx = colX)
        fixed (double* cy = colY)
            for (; x <= outW - Lanes; x += Lanes)
            {
                var sxLo = Avx.LoadVector256(cx + x) + offX + biasX - half;
                var sxHi = Avx.LoadVector256(cx + x + 4) + offX + biasX - half;
                var syLo = Avx.LoadVector256(cy + x) + offY + biasY - half;
                var syHi = Avx.LoadVector256(cy + x + 4) + offY + biasY - half;
                var x0Lo = Vector256.Floor(sxLo);
                var x0Hi = Vector256.Floor(sxHi);
                var y0Lo = Vector256.Floor(syLo);
                var y0Hi = Vector256.Floor(syHi);
                // inside: 0 ≤ x0 ≤ w − 2 and 0 ≤ y0 ≤ h − 2 in every lane (false for NaN)
                var inside = Vector256.GreaterThanOrEqual(x0Lo, Vector256<double>.Zero) & Vector256.LessThanOrEqual(x0Lo, lastX)
                    & Vector256.GreaterThanOrEqual(x0Hi, Vector256<double>.Zero) & Vector256.LessThanOrEqual(x0Hi, lastX)
                    & Vector256.GreaterThanOrEqual(y0Lo, Vector256<double>.Zero) & Vector256.LessThanOrEqual(y0Lo, lastY)
                    & Vector256.GreaterThanOrEqual(y0Hi, Vector256<double>.Zero) & Vector256.LessThanOrEqual(y0Hi, lastY);
                if (!Vector256.EqualsAll(inside.AsInt64(), Vector256<long>.AllBitsSet))
                {
                    WarpRowScalar(src, dst, c, h, w, outH, outW, y, x, x + Lanes, colX, colY, rowX, rowY, i02, i12, fill);
                    continue;
                }
                var fx = Vector256.Narrow(sxLo - x0Lo, sxHi - x0Hi);
                var fy = Vector256.Narrow(syLo - y0Lo, syHi - y0Hi);
                // the floors are whole numbers inside the image, exact as float and as int
                var index = Vector256.ConvertToInt32(Vector256.Narrow(y0Lo, y0Hi)) * width + Vector256.ConvertToInt32(Vector256.Narrow(x0Lo, x0Hi));
                int at = y * outW + x;
                for (int ch = 0; ch < c; ch++)
                {
                    float* p = s + ch * plane;
                    var p00 = Avx2.GatherVector256(p, index, 4);
                    var p10 = Avx2.GatherVector256(p + 1, index, 4);
                    var p01 = Avx2.GatherVector256(p + w, index, 4);
                    var p11 = Avx2.GatherVector256(p + w + 1, index, 4);
                    var top = p00 + (p10 - p00) * fx;
                    var bottom = p01 + (p11 - p01) * fx;
                    (top + (bottom - top) * fy).Store(d + ch * outPlane + at);
                }
            }
        return x;
    }

    /// <summary>
    /// YOLOv5's <c>box_candidates</c>: a transformed box (w2, h2) of an original (w1, h1) already multiplied by the
    /// transform's scale is kept when w2 and h2 exceed 2 px, its area is more than 10 % of the original's and its aspect
    /// ratio is below 100 (a box mostly cut off by the border, or squashed to a sliver, teaches nothing).
    /// </summary>
    public static bool IsCandidate(double w1, double h1, double w2, double h2)
    {
        const double eps = 1e-16;
        double ar = Math.Max(w2 / (h2 + eps), h2 / (w2 + eps));
        return w2 > 2 && h2 > 2 && w2 * h2 / (w1 * h1 + eps) > 0.1 && ar < 100;
    }
}
