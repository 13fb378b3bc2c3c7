using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>Adaptive 2-D max pooling on contiguous NCHW spans (torch.nn.functional.adaptive_max_pool2d with return_indices=True) and its gradient.</summary>
public static unsafe class AdaptiveMaxPool2dKernel
{
    /// <summary>
    /// out[n, c, i, j] = max of x[n, c, ⌊i·H/H_out⌋ .. ⌈(i+1)·H/H_out⌉ − 1, ⌊j·W/W_out⌋ .. ⌈(j+1)·W/W_out⌉ − 1];
    /// indices = ih·W + iw of the maximum (first on ties, NaN wins, as PyTorch).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    /// <param name="indices">[N, C, H_out, W_out] flat indices into each H×W plane, or empty when not needed.</param>
    public static void Forward<T>(in AdaptivePool2dGeometry g, ReadOnlySpan<T> input, Span<T> output, Span<long> indices) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AdaptiveMaxPool2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        if (!indices.IsEmpty) PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        fixed (T* x = input, y = output)
        fixed (long* idx = indices)
            PlaneLoop.For(g.Planes, (long)g.InPlane + g.OutPlane, new ForwardPlane<T>(g, x, y, indices.IsEmpty ? null : idx));
    }

    /// <summary>gradInput[n, c, indices[n, c, o]] += gradOut[n, c, o] for every output o (gradInput zero elsewhere), in output order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="indices">[N, C, H_out, W_out] from <see cref="Forward{T}"/>.</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in AdaptivePool2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<long> indices, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "AdaptiveMaxPool2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        MaxPool2dKernel.ScatterByIndex(kernel, g.Planes, g.InPlane, g.OutPlane, gradOutput, indices, gradInput);
    }

    readonly struct ForwardPlane<T>(AdaptivePool2dGeometry g, T* x, T* y, long* indices) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int h = g.InHeight, w = g.InWidth;
            T* src = x + (long)plane * g.InPlane;
            long o = (long)plane * g.OutPlane;
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = AdaptivePool2dGeometry.Start(oh, h, g.OutHeight), h1 = AdaptivePool2dGeometry.End(oh, h, g.OutHeight);
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int w0 = AdaptivePool2dGeometry.Start(ow, w, g.OutWidth), w1 = AdaptivePool2dGeometry.End(ow, w, g.OutWidth);
                    T best = T.NegativeInfinity;
                    int bestIndex = h0 * w + w0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            T v = src[ih * w + iw];
                            if (v > best || T.IsNaN(v)) { best = v; bestIndex = ih * w + iw; }
                        }
                    y[o] = best;
                    if (indices != null) indices[o] = bestIndex;
                }
            }
        }
    }
}
