namespace Ember.Ops;

/// <summary>
/// 1-d and 3-d max and average pooling, composed from the 2-d ops. 1-d pools an [N, C, 1, L] view with a 1×k window.
/// 3-d is separable: pool each depth slice over (H, W), then pool over D with a k×1 window; the output sizes, the
/// divisors (a product of per-dim counts, as ATen computes them) and the max's choice among ties (the first in
/// (d, h, w) scan order) are those of a single 3-d window, and backward (double backward too) comes from the 2-d ops.
/// </summary>
internal static class VolumetricPoolOps
{
    static (Tensor X, bool Unbatched) Batched(Tensor x, int spatial, string op)
    {
        if (x.Rank == spatial + 1) return (x.Unsqueeze(0), true);
        if (x.Rank != spatial + 2)
            throw new ArgumentException($"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D (batched) input, got shape {x.Shape}");
        return (x, false);
    }

    static void CheckPad(string op, int pad, int kernel, int dilation = 1)
    {
        if (kernel <= 0) throw new ArgumentException($"{op}: kernel_size must be greater than zero, got {kernel}");
        if (pad < 0 || pad * 2 > (kernel - 1) * dilation + 1)
            throw new ArgumentException($"{op}: pad should be at most half of effective kernel size, but got pad={pad}, kernel_size={kernel} and dilation={dilation}");
    }

    public static (Tensor Output, Tensor Indices) MaxPool1d(Tensor input, int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        const string op = "max_pool1d";
        var (x, unbatched) = Batched(input, 1, op);
        CheckPad(op, padding, kernel, dilation);
        var (y, i) = PoolOps.MaxPool2d(x.Unsqueeze(2), (1, kernel), (1, stride), (0, padding), (1, dilation), ceilMode);
        y = y.Squeeze(2); i = i.Squeeze(2);        // in a 1×L plane the flat index is the position along L
        return unbatched ? (y.Squeeze(0), i.Squeeze(0)) : (y, i);
    }

    public static Tensor AvgPool1d(Tensor input, int kernel, int stride, int padding, bool ceilMode, bool countIncludePad)
    {
        const string op = "avg_pool1d";
        var (x, unbatched) = Batched(input, 1, op);
        CheckPad(op, padding, kernel);
        var y = PoolOps.AvgPool2d(x.Unsqueeze(2), (1, kernel), (1, stride), (0, padding), ceilMode, countIncludePad, null).Squeeze(2);
        return unbatched ? y.Squeeze(0) : y;
    }

    public static (Tensor Output, Tensor Indices) MaxPool3d(Tensor input, (int D, int H, int W) kernel, (int D, int H, int W) stride,
        (int D, int H, int W) padding, (int D, int H, int W) dilation, bool ceilMode)
    {
        const string op = "max_pool3d";
        var (x, unbatched) = Batched(input, 3, op);
        CheckPad(op, padding.D, kernel.D, dilation.D); CheckPad(op, padding.H, kernel.H, dilation.H); CheckPad(op, padding.W, kernel.W, dilation.W);
        int n = x.shape[0], c = x.shape[1], d = x.shape[2], h = x.shape[3], w = x.shape[4];
        var (planes, planeIndex) = PoolOps.MaxPool2d(x.Reshape(n * c, d, h, w), (kernel.H, kernel.W), (stride.H, stride.W),
            (padding.H, padding.W), (dilation.H, dilation.W), ceilMode);                  // [NC, D, H', W']
        int oh = planes.shape[2], ow = planes.shape[3];
        var (y, depthIndex) = PoolOps.MaxPool2d(planes.Reshape(n * c, 1, d, oh * ow), (kernel.D, 1), (stride.D, 1),
            (padding.D, 0), (dilation.D, 1), ceilMode);                                     // [NC, 1, D', H'W']
        int od = y.shape[2];
        // the winning depth slice (the flat index in the D × H'W' plane, divided by its row length) and, from that
        // slice's (H, W) pooling, the flat position in H × W: d·H·W + (h·W + w), as max_pool3d's indices
        var flat = depthIndex.Contiguous().ToArray<long>();
        for (int i = 0; i < flat.Length; i++) flat[i] /= oh * ow;
        var slice = Torch.FromArray(flat, [n * c, od, oh * ow]);
        var within = planeIndex.Reshape(n * c, d, oh * ow).Gather(1, slice);
        var indices = (slice * (long)(h * w) + within).Reshape(n, c, od, oh, ow);
        y = y.Reshape(n, c, od, oh, ow);
        return unbatched ? (y.Squeeze(0), indices.Squeeze(0)) : (y, indices);
    }

    public static Tensor AvgPool3d(Tensor input, (int D, int H, int W) kernel, (int D, int H, int W) stride, (int D, int H, int W) padding,
        bool ceilMode, bool countIncludePad, int? divisorOverride)
    {
        const string op = "avg_pool3d";
        var (x, unbatched) = Batched(input, 3, op);
        CheckPad(op, padding.D, kernel.D); CheckPad(op, padding.H, kernel.H); CheckPad(op, padding.W, kernel.W);
        if (divisorOverride is <= 0) throw new ArgumentException($"{op}: divisor must be not zero, got {divisorOverride}");
        int n = x.shape[0], c = x.shape[1], d = x.shape[2], h = x.shape[3], w = x.shape[4];
        // with an override, the first stage sums (divisor 1) and the second divides once by the override
        var planes = PoolOps.AvgPool2d(x.Reshape(n * c, d, h, w), (kernel.H, kernel.W), (stride.H, stride.W), (padding.H, padding.W),
            ceilMode, countIncludePad, divisorOverride is null ? null : 1);
        int oh = planes.shape[2], ow = planes.shape[3];
        var y = PoolOps.AvgPool2d(planes.Reshape(n * c, 1, d, oh * ow), (kernel.D, 1), (stride.D, 1), (padding.D, 0), ceilMode,
            countIncludePad, divisorOverride);
        y = y.Reshape(n, c, y.shape[2], oh, ow);
        return unbatched ? y.Squeeze(0) : y;
    }
}
