using System.Numerics;
using System.Numerics.Tensors;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// Direct kernels for convolutions with one input channel per group (depthwise, with any channel multiplier, and C_in = 1).
/// Lowered to GEMM these would be products with an inner dimension of kH·kW (9), which no GEMM runs well; here each
/// kernel tap is a scaled row update vectorised along the output row. Each output plane (or weight row) is computed
/// wholly inside one chunk in a fixed order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class DepthwiseConv2d
{
    public static void Forward<T>(in Conv2dGeometry g, T* x, T* w, T* b, T* y) where T : unmanaged, IFloatingPointIeee754<T>
        => ParallelRange.For(g.Batch * g.OutChannels, Grain(g), new ForwardPlane<T>(g, x, w, b, y));

    public static void BackwardInput<T>(in Conv2dGeometry g, T* dy, T* w, T* b, T* dx) where T : unmanaged, IFloatingPointIeee754<T>
        => ParallelRange.For(g.Batch * g.InChannels, Grain(g), new InputPlane<T>(g, dy, w, b, dx));

    public static void BackwardWeight<T>(in Conv2dGeometry g, T* x, T* dy, T* dw) where T : unmanaged, IFloatingPointIeee754<T>
        => ParallelRange.For(g.OutChannels, 1, new WeightRow<T>(g, x, dy, dw));

    static int Grain(in Conv2dGeometry g) => (int)Math.Clamp(32768L / Math.Max(1L, (long)g.OutPlane * g.KernelHeight * g.KernelWidth), 1, 1024);

    /// <summary>
    /// Visits every (kernel tap, output row) pair whose input row exists: calls row(tap, oh, ih, lo, hi, offW) where output columns
    /// [lo, hi) read input columns ow·sW + offW.
    /// </summary>
    static void ForEachRow<TRow>(in Conv2dGeometry g, ref TRow row) where TRow : struct, IRowVisitor
    {
        int tap = 0;
        for (int i = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++, tap++)
            {
                int offW = j * g.DilationWidth - g.PadWidth;
                (int lo, int hi) = Im2Col.ValidRange(offW, g.StrideWidth, g.InWidth, g.OutWidth);
                if (lo == hi) continue;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int ih = oh * g.StrideHeight + i * g.DilationHeight - g.PadHeight;
                    if ((uint)ih < (uint)g.InHeight) row.Visit(tap, oh, ih, lo, hi, offW);
                }
            }
    }

    interface IRowVisitor
    {
        void Visit(int tap, int oh, int ih, int lo, int hi, int offW);
    }

    /// <summary>y[oh, lo..hi) += w[tap] · x[ih, lo·s + off ..]: one tap's contribution to one output row.</summary>
    struct AddScaledRow<T>(T* x, T* w, T* y, int inWidth, int outWidth, int stride) : IRowVisitor where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Visit(int tap, int oh, int ih, int lo, int hi, int offW)
        {
            T scale = w[tap];
            T* src = x + ih * inWidth + offW;
            T* dst = y + oh * outWidth;
            if (stride == 1)
            {
                var d = new Span<T>(dst + lo, hi - lo);
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(src + lo, hi - lo), scale, d, d);
            }
            else
                for (int ow = lo; ow < hi; ow++) dst[ow] += scale * src[ow * stride];
        }
    }

    /// <summary>dx[ih, lo·s + off ..] += w[tap] · dy[oh, lo..hi): the adjoint of <see cref="AddScaledRow{T}"/>.</summary>
    struct ScatterScaledRow<T>(T* dy, T* w, T* dx, int inWidth, int outWidth, int stride) : IRowVisitor where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Visit(int tap, int oh, int ih, int lo, int hi, int offW)
        {
            T scale = w[tap];
            T* src = dy + oh * outWidth;
            T* dst = dx + ih * inWidth + offW;
            if (stride == 1)
            {
                var d = new Span<T>(dst + lo, hi - lo);
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(src + lo, hi - lo), scale, d, d);
            }
            else
                for (int ow = lo; ow < hi; ow++) dst[ow * stride] += scale * src[ow];
        }
    }

    /// <summary>dw[tap] += Σ_ow x[ih, ow·s + off] · dy[oh, ow].</summary>
    struct DotRow<T>(T* x, T* dy, T* dw, int inWidth, int outWidth, int stride) : IRowVisitor where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Visit(int tap, int oh, int ih, int lo, int hi, int offW)
        {
            T* src = x + ih * inWidth + offW;
            T* grad = dy + oh * outWidth;
            T sum;
            if (stride == 1)
                sum = TensorPrimitives.Dot(new ReadOnlySpan<T>(src + lo, hi - lo), new ReadOnlySpan<T>(grad + lo, hi - lo));
            else
            {
                sum = T.Zero;
                for (int ow = lo; ow < hi; ow++) sum += src[ow * stride] * grad[ow];
            }
            dw[tap] += sum;
        }
    }

    readonly struct ForwardPlane<T>(Conv2dGeometry g, T* x, T* w, T* b, T* y) : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.OutChannelsPerGroup;
            for (int p = start; p < end; p++)
            {
                int n = p / g.OutChannels, co = p % g.OutChannels;
                T* yp = y + (long)p * g.OutPlane;
                new Span<T>(yp, g.OutPlane).Fill(b != null ? b[co] : T.Zero);
                var row = new AddScaledRow<T>(x + ((long)n * g.InChannels + co / multiplier) * g.InPlane, w + (long)co * taps, yp,
                    g.InWidth, g.OutWidth, g.StrideWidth);
                ForEachRow(g, ref row);
            }
        }
    }

    readonly struct InputPlane<T>(Conv2dGeometry g, T* dy, T* w, T* b, T* dx) : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.OutChannelsPerGroup;
            for (int p = start; p < end; p++)
            {
                int n = p / g.InChannels, ci = p % g.InChannels;
                T* dxp = dx + (long)p * g.InPlane;
                // The transposed convolution's bias lands on this plane, which is its output.
                new Span<T>(dxp, g.InPlane).Fill(b != null ? b[ci] : T.Zero);
                for (int m = 0; m < multiplier; m++)
                {
                    int co = ci * multiplier + m;
                    var row = new ScatterScaledRow<T>(dy + ((long)n * g.OutChannels + co) * g.OutPlane, w + (long)co * taps, dxp,
                        g.InWidth, g.OutWidth, g.StrideWidth);
                    ForEachRow(g, ref row);
                }
            }
        }
    }

    readonly struct WeightRow<T>(Conv2dGeometry g, T* x, T* dy, T* dw) : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int taps = g.KernelHeight * g.KernelWidth, multiplier = g.OutChannelsPerGroup;
            for (int co = start; co < end; co++)
            {
                T* dwc = dw + (long)co * taps;
                new Span<T>(dwc, taps).Clear();
                // Images in order: the batch sum has one fixed order whatever the thread count.
                for (int n = 0; n < g.Batch; n++)
                {
                    var row = new DotRow<T>(x + ((long)n * g.InChannels + co / multiplier) * g.InPlane,
                        dy + ((long)n * g.OutChannels + co) * g.OutPlane, dwc, g.InWidth, g.OutWidth, g.StrideWidth);
                    ForEachRow(g, ref row);
                }
            }
        }
    }
}
