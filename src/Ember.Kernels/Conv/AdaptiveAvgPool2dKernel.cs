using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>Adaptive 2-D average pooling on contiguous NCHW spans (torch.nn.functional.adaptive_avg_pool2d) and its gradient.</summary>
public static unsafe class AdaptiveAvgPool2dKernel
{
    /// <summary>out[n, c, i, j] = mean of x[n, c, ⌊i·H/H_out⌋ .. ⌈(i+1)·H/H_out⌉ − 1, ⌊j·W/W_out⌋ .. ⌈(j+1)·W/W_out⌉ − 1].</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    public static void Forward<T>(in AdaptivePool2dGeometry g, ReadOnlySpan<T> input, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AdaptiveAvgPool2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        fixed (T* x = input, y = output)
            PlaneLoop.For(g.Planes, (long)g.InPlane + g.OutPlane, new Plane<T>(g, x, y, false));
    }

    /// <summary>gradInput[window of o] += gradOut[o] / |window of o| for every output o (gradInput zero elsewhere), in output order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in AdaptivePool2dGeometry g, ReadOnlySpan<T> gradOutput, Span<T> gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AdaptiveAvgPool2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        fixed (T* dy = gradOutput, dx = gradInput)
            PlaneLoop.For(g.Planes, (long)g.InPlane + g.OutPlane, new Plane<T>(g, dx, dy, true));
    }

    /// <summary>Forward and backward share the window arithmetic: x is the input (or its gradient), y the output (or its gradient).</summary>
    readonly struct Plane<T>(AdaptivePool2dGeometry g, T* x, T* y, bool backward) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int h = g.InHeight, w = g.InWidth;
            T* src = x + (long)plane * g.InPlane;
            long o = (long)plane * g.OutPlane;
            if (backward) new Span<T>(src, g.InPlane).Clear();
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = AdaptivePool2dGeometry.Start(oh, h, g.OutHeight), h1 = AdaptivePool2dGeometry.End(oh, h, g.OutHeight);
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int w0 = AdaptivePool2dGeometry.Start(ow, w, g.OutWidth), w1 = AdaptivePool2dGeometry.End(ow, w, g.OutWidth);
                    T count = T.CreateTruncating((h1 - h0) * (w1 - w0));
                    if (backward)
                    {
                        T share = y[o] / count;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) src[ih * w + iw] += share;
                    }
                    else
                    {
                        T sum = T.Zero;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++) sum += src[ih * w + iw];
                        y[o] = sum / count;
                    }
                }
            }
        }
    }
}
