using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>2-D average pooling on contiguous NCHW spans (torch.nn.functional.avg_pool2d) and its gradient. No dilation, as in PyTorch.</summary>
public static unsafe class AvgPool2dKernel
{
    /// <summary>
    /// out[n, c, oh, ow] = Σ_{window ∩ input} x / divisor, the window being rows [oh·sH − pH, oh·sH − pH + kH) and likewise for columns.
    /// divisor = divisorOverride if given, else the window's size clipped to the padded input (count_include_pad) or to the input.
    /// A window lying wholly in the padding gives 0.
    /// </summary>
    /// <param name="g">Sizes; dilation must be 1.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    /// <param name="countIncludePad">Whether padded zeros count in the divisor (PyTorch's default true).</param>
    /// <param name="divisorOverride">A fixed non-zero divisor, or null.</param>
    public static void Forward<T>(in Pool2dGeometry g, ReadOnlySpan<T> input, Span<T> output, bool countIncludePad = true, int? divisorOverride = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AvgPool2d forward";
        Validate(kernel, g, divisorOverride);
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        fixed (T* x = input, y = output)
            PlaneLoop.For(g.Planes, (long)g.OutPlane * g.KernelHeight * g.KernelWidth, new Plane<T>(g, x, y, countIncludePad, divisorOverride ?? 0, false));
    }

    /// <summary>gradInput[window of o] += gradOut[o] / divisor(o) for every output o (gradInput zero elsewhere), in output order.</summary>
    /// <param name="g">Sizes; dilation must be 1.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    /// <param name="countIncludePad">As in the forward.</param>
    /// <param name="divisorOverride">As in the forward.</param>
    public static void Backward<T>(in Pool2dGeometry g, ReadOnlySpan<T> gradOutput, Span<T> gradInput, bool countIncludePad = true, int? divisorOverride = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AvgPool2d backward";
        Validate(kernel, g, divisorOverride);
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        fixed (T* dy = gradOutput, dx = gradInput)
            PlaneLoop.For(g.Planes, (long)g.OutPlane * g.KernelHeight * g.KernelWidth, new Plane<T>(g, dx, dy, countIncludePad, divisorOverride ?? 0, true));
    }

    static void Validate(string kernel, in Pool2dGeometry g, int? divisorOverride)
    {
        if (g.DilationHeight != 1 || g.DilationWidth != 1)
            throw new ArgumentException($"{kernel}: average pooling has no dilation; got {g}");
        if (divisorOverride == 0)
            throw new ArgumentException($"{kernel}: divisor_override must be non-zero; got {g}", nameof(divisorOverride));
    }

    /// <summary>Forward and backward share the window arithmetic: x is the input (or its gradient), y the output (or its gradient).</summary>
    readonly struct Plane<T>(Pool2dGeometry g, T* x, T* y, bool countIncludePad, int divisorOverride, bool backward) : IPlaneKernel
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int h = g.InHeight, w = g.InWidth;
            T* src = x + (long)plane * g.InPlane;
            long o = (long)plane * g.OutPlane;
            if (backward) new Span<T>(src, g.InPlane).Clear();
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = oh * g.StrideHeight - g.PadHeight;
                int h1 = Math.Min(h0 + g.KernelHeight, h + g.PadHeight);
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int w0 = ow * g.StrideWidth - g.PadWidth;
                    int w1 = Math.Min(w0 + g.KernelWidth, w + g.PadWidth);
                    int poolSize = (h1 - h0) * (w1 - w0);
                    int ch0 = Math.Max(h0, 0), cw0 = Math.Max(w0, 0), ch1 = Math.Min(h1, h), cw1 = Math.Min(w1, w);
                    if (ch0 >= ch1 || cw0 >= cw1)
                    {
                        if (!backward) y[o] = T.Zero;
                        continue;
                    }
                    T divisor = T.CreateTruncating(divisorOverride != 0 ? divisorOverride : countIncludePad ? poolSize : (ch1 - ch0) * (cw1 - cw0));
                    if (backward)
                    {
                        T share = y[o] / divisor;
                        for (int ih = ch0; ih < ch1; ih++)
                            for (int iw = cw0; iw < cw1; iw++) src[ih * w + iw] += share;
                    }
                    else
                    {
                        T sum = T.Zero;
                        for (int ih = ch0; ih < ch1; ih++)
                            for (int iw = cw0; iw < cw1; iw++) sum += src[ih * w + iw];
                        y[o] = sum / divisor;
                    }
                }
            }
        }
    }
}
