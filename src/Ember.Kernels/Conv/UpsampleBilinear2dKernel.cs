using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>Bilinear 2-D upsampling on contiguous NCHW spans (interpolate mode='bilinear', antialias=False) and its gradient.</summary>
public static unsafe class UpsampleBilinear2dKernel
{
    /// <summary>
    /// out[n, c, oh, ow] = Σ over the 2×2 neighbours of (src(oh), src(ow)) of x · (1 − |distance|) per axis, with PyTorch's source index:
    /// align_corners: src(d) = d·(In − 1)/(Out − 1) (0 when Out = 1); otherwise src(d) = max(s·(d + ½) − ½, 0) with s = 1/scale_factor
    /// if given, else In/Out. i0 = ⌊src⌋, i1 = min(i0 + 1, In − 1), λ1 = src − i0, λ0 = 1 − λ1, computed in T.
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="alignCorners">PyTorch's align_corners.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    public static void Forward<T>(in Upsample2dGeometry g, bool alignCorners, ReadOnlySpan<T> input, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "UpsampleBilinear2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        fixed (T* x = input, y = output)
            PlaneLoop.For(g.Planes, 4L * g.OutPlane, new Plane<T>(g, alignCorners, x, y, false));
    }

    /// <summary>The adjoint: each gradOut[n, c, oh, ow] is added to its four source neighbours with the forward's weights, outputs in order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="alignCorners">PyTorch's align_corners.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in Upsample2dGeometry g, bool alignCorners, ReadOnlySpan<T> gradOutput, Span<T> gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "UpsampleBilinear2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        fixed (T* dy = gradOutput, dx = gradInput)
            PlaneLoop.For(g.Planes, 4L * g.OutPlane + g.InPlane, new Plane<T>(g, alignCorners, dx, dy, true));
    }

    /// <summary>PyTorch's area_pixel_compute_scale.</summary>
    static T Scale<T>(int input, int output, bool alignCorners, double? scale) where T : IFloatingPointIeee754<T>
    {
        if (alignCorners) return output > 1 ? T.CreateTruncating(input - 1) / T.CreateTruncating(output - 1) : T.Zero;
        return scale is double s ? T.CreateTruncating(1.0 / s) : T.CreateTruncating(input) / T.CreateTruncating(output);
    }

    /// <summary>Source neighbours and weights of output index <paramref name="dst"/> (PyTorch's area_pixel_compute_source_index and compute_indices_weights_linear).</summary>
    static void Source<T>(int dst, int input, T scale, bool alignCorners, out int i0, out int i1, out T lambda0, out T lambda1) where T : IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        T real = alignCorners ? scale * T.CreateTruncating(dst) : T.Max(scale * (T.CreateTruncating(dst) + half) - half, T.Zero);
        i0 = int.CreateTruncating(real);
        i1 = i0 < input - 1 ? i0 + 1 : i0;
        lambda1 = T.Clamp(real - T.CreateTruncating(i0), T.Zero, T.One);
        lambda0 = T.One - lambda1;
    }

    /// <summary>Forward and backward share the index arithmetic: x is the input (or its gradient), y the output (or its gradient).</summary>
    readonly struct Plane<T>(Upsample2dGeometry g, bool alignCorners, T* x, T* y, bool backward) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int w = g.InWidth;
            T* src = x + (long)plane * g.InPlane;
            T* dst = y + (long)plane * g.OutPlane;
            if (backward) new Span<T>(src, g.InPlane).Clear();
            T scaleH = Scale<T>(g.InHeight, g.OutHeight, alignCorners, g.ScaleHeight);
            T scaleW = Scale<T>(w, g.OutWidth, alignCorners, g.ScaleWidth);
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                Source(oh, g.InHeight, scaleH, alignCorners, out int h0, out int h1, out T hl0, out T hl1);
                T* r0 = src + h0 * w;
                T* r1 = src + h1 * w;
                T* o = dst + oh * g.OutWidth;
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    Source(ow, w, scaleW, alignCorners, out int w0, out int w1, out T wl0, out T wl1);
                    if (backward)
                    {
                        T d = o[ow];
                        r0[w0] += hl0 * wl0 * d;
                        r0[w1] += hl0 * wl1 * d;
                        r1[w0] += hl1 * wl0 * d;
                        r1[w1] += hl1 * wl1 * d;
                    }
                    else
                        o[ow] = hl0 * (wl0 * r0[w0] + wl1 * r0[w1]) + hl1 * (wl0 * r1[w0] + wl1 * r1[w1]);
                }
            }
        }
    }
}
