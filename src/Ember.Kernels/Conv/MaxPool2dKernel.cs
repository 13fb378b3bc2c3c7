using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>
/// 2-D max pooling on contiguous NCHW spans (torch.nn.functional.max_pool2d with return_indices=True) and its gradient.
/// </summary>
public static unsafe class MaxPool2dKernel
{
    /// <summary>
    /// out[n, c, oh, ow] = max over i &lt; kH, j &lt; kW of x[n, c, oh·sH − pH + i·dH, ow·sW − pW + j·dW], positions outside the
    /// input counting as −∞; indices[n, c, oh, ow] = ih·W + iw of the maximum (the first one on ties, the last NaN if any, as PyTorch).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    /// <param name="indices">[N, C, H_out, W_out] flat indices into each H×W plane, or empty when not needed (inference).</param>
    public static void Forward<T>(in Pool2dGeometry g, ReadOnlySpan<T> input, Span<T> output, Span<long> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "MaxPool2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        if (!indices.IsEmpty) PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        fixed (T* x = input, y = output)
        fixed (long* idx = indices)
            PlaneLoop.For(g.Planes, (long)g.OutPlane * g.KernelHeight * g.KernelWidth, new ForwardPlane<T>(g, x, y, indices.IsEmpty ? null : idx));
    }

    /// <summary>gradInput[n, c, indices[n, c, o]] += gradOut[n, c, o] for every output o (gradInput zero elsewhere), in output order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="indices">[N, C, H_out, W_out] from <see cref="Forward{T}"/>.</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in Pool2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<long> indices, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "MaxPool2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        ScatterByIndex(kernel, g.Planes, g.InPlane, g.OutPlane, gradOutput, indices, gradInput);
    }

    /// <summary>The max-pooling gradient shared with adaptive max pooling: per plane, zero then scatter-add by index.</summary>
    internal static void ScatterByIndex<T>(string kernel, int planes, int inPlane, int outPlane, ReadOnlySpan<T> gradOutput, ReadOnlySpan<long> indices, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Validate first: an index from elsewhere must not write outside its plane.
        foreach (long i in indices[..(planes * outPlane)])
            if ((ulong)i >= (ulong)inPlane)
                throw new ArgumentException($"{kernel}: index {i} is outside the {inPlane}-element input plane", nameof(indices));
        fixed (T* dy = gradOutput, dx = gradInput)
        fixed (long* idx = indices)
            PlaneLoop.For(planes, inPlane + outPlane, new ScatterPlane<T>(inPlane, outPlane, dy, idx, dx));
    }

    readonly struct ForwardPlane<T>(Pool2dGeometry g, T* x, T* y, long* indices) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int h = g.InHeight, w = g.InWidth, dH = g.DilationHeight, dW = g.DilationWidth;
            T* src = x + (long)plane * g.InPlane;
            long o = (long)plane * g.OutPlane;
            if (IsPlainTwoByTwo(g)) { RunTwoByTwo(src, o); return; }
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = oh * g.StrideHeight - g.PadHeight;
                int h1 = Math.Min(h0 + (g.KernelHeight - 1) * dH + 1, h);
                while (h0 < 0) h0 += dH;
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int w0 = ow * g.StrideWidth - g.PadWidth;
                    int w1 = Math.Min(w0 + (g.KernelWidth - 1) * dW + 1, w);
                    while (w0 < 0) w0 += dW;
                    // PyTorch's rule: start from −∞ at the first tap, take strictly greater values, and let NaN win.
                    T best = T.NegativeInfinity;
                    int bestIndex = h0 * w + w0;
                    for (int ih = h0; ih < h1; ih += dH)
                        for (int iw = w0; iw < w1; iw += dW)
                        {
                            T v = src[ih * w + iw];
                            if (v > best || T.IsNaN(v)) { best = v; bestIndex = ih * w + iw; }
                        }
                    y[o] = best;
                    if (indices != null) indices[o] = bestIndex;
                }
            }
        }

        // Same rule as the general loop (taps in row-major order, strictly greater or NaN wins), unrolled.
        void RunTwoByTwo(T* src, long o)
        {
            int w = g.InWidth;
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int rowStart = 2 * oh * w;
                T* r0 = src + rowStart, r1 = r0 + w;
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int c = 2 * ow;
                    T best = r0[c]; int at = rowStart + c;
                    T v = r0[c + 1]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + c + 1; }
                    v = r1[c]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + w + c; }
                    v = r1[c + 1]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + w + c + 1; }
                    y[o] = best;
                    if (indices != null) indices[o] = at;
                }
            }
        }
    }

    // The common 2×2, stride-2 window without padding or dilation, every window inside the input.
    static bool IsPlainTwoByTwo(in Pool2dGeometry g)
        => g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0
           && g.DilationHeight == 1 && g.DilationWidth == 1 && 2 * g.OutHeight <= g.InHeight && 2 * g.OutWidth <= g.InWidth;

    readonly struct ScatterPlane<T>(int inPlane, int outPlane, T* dy, long* indices, T* dx) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            var target = new Span<T>(dx + (long)plane * inPlane, inPlane);
            target.Clear();
            long o = (long)plane * outPlane;
            for (int k = 0; k < outPlane; k++)
                target[(int)indices[o + k]] += dy[o + k];
        }
    }
}
