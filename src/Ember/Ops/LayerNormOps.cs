using Ember.Autograd;
using Ember.Kernels.Norm;

namespace Ember.Ops;

/// <summary>
/// Layer normalization fused into one op: per-row statistics, normalization and the affine transform in one kernel,
/// and a closed-form backward kernel. When a graph of the backward is requested (double backward), the same closed
/// form is built from differentiable ops instead.
/// </summary>
internal static class LayerNormOps
{
    /// <summary>y for x [*, D] normalized over its last <paramref name="normalizedRank"/> dimensions (D values per row).</summary>
    public static Tensor Forward(Tensor x, int normalizedRank, Tensor? weight, Tensor? bias, double eps)
    {
        int cols = 1;
        for (int d = x.Rank - normalizedRank; d < x.Rank; d++) cols *= x.Size(d);
        int rows = cols == 0 ? 0 : x.NumEl / cols;
        var xc = x.Detach().Contiguous();
        var y = Torch.Empty(x.Shape.ToArray(), x.DType);
        var mean = Torch.Empty([rows], x.DType);
        var rstd = Torch.Empty([rows], x.DType);
        var w = weight?.Detach().Contiguous().To(x.DType);
        var b = bias?.Detach().Contiguous().To(x.DType);
        // The spans live only inside this scope, so the pool may recycle what they touched once it closes (StoragePool.EnterOp).
        using (Backends.Cpu.StoragePool.EnterOp())
        {
            x.DType.RequireFloat32Or64("layer_norm");
            if (x.DType == DType.Float32)
                LayerNormKernel.Forward(xc.Span<float>(), rows, cols, w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps,
                    y.Span<float>(), mean.Span<float>(), rstd.Span<float>());
            else
                LayerNormKernel.Forward(xc.Span<double>(), rows, cols, w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps,
                    y.Span<double>(), mean.Span<double>(), rstd.Span<double>());
        }
        GC.KeepAlive(xc);
        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        int[] dims = Enumerable.Range(x.Rank - normalizedRank, normalizedRank).ToArray();
        return Recording.Many(y, "NativeLayerNormBackward0", inputs.ToArray(), (g, node) =>
        {
            if (GradMode.IsEnabled) return Composite(x, g, weight, bias, eps, dims);
            var gc = g.Contiguous();
            var dx = Torch.Empty(x.Shape.ToArray(), x.DType);
            var dw = weight is null ? null : Torch.Empty([cols], x.DType);
            var db = bias is null ? null : Torch.Empty([cols], x.DType);
            using (Backends.Cpu.StoragePool.EnterOp())
            {
                if (x.DType == DType.Float32)
                    LayerNormKernel.Backward(xc.Span<float>(), gc.Span<float>(), rows, cols, w is null ? default : w.Span<float>(), mean.Span<float>(), rstd.Span<float>(),
                        dx.Span<float>(), dw is null ? default : dw.Span<float>(), db is null ? default : db.Span<float>());
                else
                    LayerNormKernel.Backward(xc.Span<double>(), gc.Span<double>(), rows, cols, w is null ? default : w.Span<double>(), mean.Span<double>(), rstd.Span<double>(),
                        dx.Span<double>(), dw is null ? default : dw.Span<double>(), db is null ? default : db.Span<double>());
            }
            GC.KeepAlive(gc);
            GC.KeepAlive(xc);
            var grads = new List<Tensor?> { dx };
            if (weight is not null) grads.Add(dw!.Reshape(weight.Shape.ToArray()).To(weight.DType));
            if (bias is not null) grads.Add(db!.Reshape(bias.Shape.ToArray()).To(bias.DType));
            return grads.ToArray();
        }, x);
    }

    static Tensor?[] Composite(Tensor x, Tensor g, Tensor? weight, Tensor? bias, double eps, int[] dims)
    {
        var m = x.Mean(dims, keepDim: true);
        var centered = x - m;
        var inv = (centered.Square().Mean(dims, keepDim: true) + eps).Rsqrt();
        var xhat = centered * inv;
        var gw = weight is null ? g : g * weight;
        var dx = inv * (gw - gw.Mean(dims, keepDim: true) - xhat * (gw * xhat).Mean(dims, keepDim: true));
        int[] leading = Enumerable.Range(0, x.Rank - dims.Length).ToArray();
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(leading.Length == 0 ? g * xhat : (g * xhat).Sum(leading));
        if (bias is not null) grads.Add(leading.Length == 0 ? g : g.Sum(leading));
        return grads.ToArray();
    }
}
