using System.Numerics;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Conv;

/// <summary>Nearest-neighbour 2-D upsampling on contiguous NCHW spans (interpolate mode='nearest', PyTorch's legacy rule) and its gradient.</summary>
public static unsafe class UpsampleNearest2dKernel
{
    /// <summary>
    /// out[n, c, oh, ow] = x[n, c, src(oh), src(ow)] with src(d) = min(⌊d·s⌋, In − 1) computed in single precision, where
    /// s = 1/scale_factor if given, else In/Out (and src(d) = d when Out = In, d/2 when Out = 2·In, exactly as PyTorch).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    public static void Forward<T>(in Upsample2dGeometry g, ReadOnlySpan<T> input, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "UpsampleNearest2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        fixed (T* x = input, y = output)
            PlaneLoop.For(g.Planes, g.OutPlane, new Plane<T>(g, x, y, false));
    }

    /// <summary>gradInput[n, c, src(oh), src(ow)] += gradOut[n, c, oh, ow] for every output in order (gradInput zero elsewhere).</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in Upsample2dGeometry g, ReadOnlySpan<T> gradOutput, Span<T> gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "UpsampleNearest2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        fixed (T* dy = gradOutput, dx = gradInput)
            PlaneLoop.For(g.Planes, (long)g.OutPlane + g.InPlane, new Plane<T>(g, dx, dy, true));
    }

    /// <summary>PyTorch's nearest_idx: the source index of output index <paramref name="dst"/>.</summary>
    internal static int SourceIndex(int dst, int input, int output, double? scale)
    {
        if (output == input) return dst;
        if (output == 2 * input) return dst >> 1;
        // PyTorch computes this in float (compute_scales_value<float> then floorf); keep float so indices match at boundaries.
        float s = scale is double sc ? (float)(1.0 / sc) : (float)input / output;
        return Math.Min((int)MathF.Floor(dst * s), input - 1);
    }

    /// <summary>o[2i] = o[2i + 1] = row[i] for i &lt; count.</summary>
    static void DoubleRow<T>(T* row, T* o, int count) where T : unmanaged
    {
        int i = 0;
        if (typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated)
        {
            float* r = (float*)row, f = (float*)o;
            for (; i <= count - 4; i += 4)
            {
                var v = Vector128.Load(r + i);
                Vector128.Shuffle(v, Vector128.Create(0, 0, 1, 1)).Store(f + 2 * i);
                Vector128.Shuffle(v, Vector128.Create(2, 2, 3, 3)).Store(f + 2 * i + 4);
            }
        }
        for (; i < count; i++) o[2 * i] = o[2 * i + 1] = row[i];
    }

    /// <summary>
    /// d[i] = (((0 + r0[2i]) + r0[2i + 1]) + r1[2i]) + r1[2i + 1] for i &lt; count: the ×2 backward of one input row from its
    /// two output rows, the adds in the general loop's order (from zero, row by row, left to right), so the same bits.
    /// </summary>
    static void SumPairs<T>(T* r0, T* r1, T* d, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            float* a = (float*)r0, b = (float*)r1, f = (float*)d;
            // [x0 y0 x1 y1 …] → [x0 x1 x2 x3 | y0 y1 y2 y3]: left elements in the lower half, right ones in the upper
            var split = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (; i <= count - 4; i += 4)
            {
                var top = Vector256.Shuffle(Vector256.Load(a + 2 * i), split);
                var bottom = Vector256.Shuffle(Vector256.Load(b + 2 * i), split);
                var sum = Vector128<float>.Zero + top.GetLower() + top.GetUpper() + bottom.GetLower() + bottom.GetUpper();
                sum.Store(f + i);
            }
        }
        for (; i < count; i++) d[i] = T.Zero + r0[2 * i] + r0[2 * i + 1] + r1[2 * i] + r1[2 * i + 1];
    }

    /// <summary>Forward and backward share the index arithmetic: x is the input (or its gradient), y the output (or its gradient).</summary>
    readonly struct Plane<T>(Upsample2dGeometry g, T* x, T* y, bool backward) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int w = g.InWidth;
            T* src = x + (long)plane * g.InPlane;
            T* dst = y + (long)plane * g.OutPlane;
            if (backward && g.OutHeight == 2 * g.InHeight && g.OutWidth == 2 * w)
            {
                // ×2: each input gradient is the sum of its 2×2 block, added in the order of the general loop below
                for (int ih = 0; ih < g.InHeight; ih++)
                {
                    T* o = dst + 2 * ih * g.OutWidth;
                    SumPairs(o, o + g.OutWidth, src + ih * w, w);
                }
                return;
            }
            if (backward) new Span<T>(src, g.InPlane).Clear();
            else if (g.OutHeight == 2 * g.InHeight && g.OutWidth == 2 * w)
            {
                // ×2 (YOLOv5's neck): every source index is d/2 (see SourceIndex), so each input row is widened once
                // and the widened row copied below itself.
                for (int ih = 0; ih < g.InHeight; ih++)
                {
                    T* o = dst + 2 * ih * g.OutWidth;
                    DoubleRow(src + ih * w, o, w);
                    new ReadOnlySpan<T>(o, g.OutWidth).CopyTo(new Span<T>(o + g.OutWidth, g.OutWidth));
                }
                return;
            }
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                T* row = src + SourceIndex(oh, g.InHeight, g.OutHeight, g.ScaleHeight) * w;
                T* o = dst + oh * g.OutWidth;
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    int iw = SourceIndex(ow, w, g.OutWidth, g.ScaleWidth);
                    if (backward) row[iw] += o[ow];
                    else o[ow] = row[iw];
                }
            }
        }
    }
}
