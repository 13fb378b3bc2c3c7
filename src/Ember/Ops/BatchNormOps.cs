using Ember.Autograd;
using Ember.Kernels.Norm;
using Ember.Kernels.Operators;
using Ember.Kernels.Numerics;

namespace Ember.Ops;

/// <summary>
/// Training-mode batch normalization fused into one op: statistics, normalization and the affine transform in two
/// passes, and a closed-form backward kernel. When a graph of the backward is requested (double backward), the same
/// closed form is built from differentiable ops instead.
/// </summary>
internal static class BatchNormOps
{
    /// <summary>
    /// Returns (y, batch mean, biased batch variance) for x [N, C, *]; with <paramref name="silu"/> (float32/float64 x only)
    /// y = silu(bn(x)) from the fused kernels (<see cref="BatchNormKernel.ForwardSilu{T}"/>), as one graph node.
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor Var) Training(Tensor x, Tensor? weight, Tensor? bias, double eps, bool silu = false)
    {
        int n = x.Size(0), c = x.Size(1), s = x.NumEl / Math.Max(1, n * c);
        // A half x (autocast: batch_norm is on neither of PyTorch's float32 lists, so it runs in its input's dtype) is
        // normalized in float32 with float32 statistics and the output rounded once; the graph keeps the half x and
        // the backward widens it again, so the saved activation stays half-sized.
        // Half x: widened one channel at a time inside the kernel (BatchNormKernel.ForwardHalf), y written in half.
        bool half = x.DType.IsReducedFloat();
        var xc = half ? x.Detach().Contiguous() : PrecisionOps.Widened(x);
        var dt = half ? DType.Float32 : xc.DType;
        dt.RequireFloat32Or64("batch_norm");
        if (silu && half) throw new ArgumentException($"batch_norm with SiLU: expected a float32 or float64 input, got {x.DType.TorchName()}");
        var y = Torch.Empty(x.Shape.ToArray(), half ? x.DType : dt);
        var mean = Torch.Empty([c], dt);
        var invStd = Torch.Empty([c], dt);
        var w = weight?.Detach().Contiguous().To(dt);
        var b = bias?.Detach().Contiguous().To(dt);
        if (half)
        {
            ReadOnlySpan<float> ws = w is null ? default : w.Span<float>(), bs = b is null ? default : b.Span<float>();
            if (x.DType == DType.BFloat16)
                BatchNormKernel.ForwardHalf(xc.Span<BFloat16>(), n, c, s, ws, bs, (float)eps, y.Span<BFloat16>(), mean.Span<float>(), invStd.Span<float>());
            else
                BatchNormKernel.ForwardHalf(xc.Span<Half>(), n, c, s, ws, bs, (float)eps, y.Span<Half>(), mean.Span<float>(), invStd.Span<float>());
        }
        else if (silu && dt == DType.Float32)
            BatchNormKernel.ForwardSilu(xc.Span<float>(), n, c, s, w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps,
                y.Span<float>(), mean.Span<float>(), invStd.Span<float>());
        else if (silu)
            BatchNormKernel.ForwardSilu(xc.Span<double>(), n, c, s, w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps,
                y.Span<double>(), mean.Span<double>(), invStd.Span<double>());
        else if (dt == DType.Float32)
            BatchNormKernel.Forward(xc.Span<float>(), n, c, s, w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps,
                y.Span<float>(), mean.Span<float>(), invStd.Span<float>());
        else
            BatchNormKernel.Forward(xc.Span<double>(), n, c, s, w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps,
                y.Span<double>(), mean.Span<double>(), invStd.Span<double>());
        GC.KeepAlive(xc);
        y = PrecisionOps.Narrowed(y, x.DType);
        var keptInput = x.DType.IsReducedFloat() ? null : xc;
        var variance = invStd.Reciprocal().Square() - eps;
        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        var channelShape = Enumerable.Range(0, x.Rank).Select(d => d == 1 ? c : 1).ToArray();
        int[] reduceDims = Enumerable.Range(0, x.Rank).Where(d => d != 1).ToArray();
        // With SiLU this one backward takes the SiLU output's gradient; the graph shows PyTorch's two nodes (ShowAsSilu),
        // and hands it BN's own output gradient instead when the tensor between them has a hook or keeps its gradient.
        var handOff = silu ? new SiluHandOff() : null;
        Recording.Many(y, "NativeBatchNormBackward0", inputs.ToArray(), (g, node) =>
        {
            bool siluGradient = silu && !handOff!.GaveBnGradient;
            if (GradMode.IsEnabled)
                return Composite(x, siluGradient ? SiluGradient(g, Normalized(x, weight, bias, eps, channelShape, reduceDims)) : g, weight, bias, eps, channelShape, reduceDims);
            if (half && g.DType == x.DType) return HalfBackward(x, g, w, weight, bias, mean, invStd, n, c, s);
            var (gc, gStride, gLength) = KernelGradient(g, dt, n, c * s);
            var xk = keptInput ?? PrecisionOps.Widened(x);
            // dx written over g where the engine allows it (the kernels read each element of g before writing dx there):
            // no new activation-sized buffer to fault in, and the first pass's dz lands on lines it has just read
            var dx = gStride == 0 && ReferenceEquals(gc.storage, g.storage) && Engine.MayOverwrite(g) ? gc : Torch.Empty(x.Shape.ToArray(), dt);
            var dw = Torch.Empty([c], dt);
            var db = Torch.Empty([c], dt);
            if (siluGradient && dt == DType.Float32)
                BatchNormKernel.BackwardSilu(xk.Span<float>(), gc.storage.As<float>().AsSpan(gc.offset, gLength), n, c, s, w is null ? default : w.Span<float>(),
                    b is null ? default : b.Span<float>(), mean.Span<float>(), invStd.Span<float>(), dx.Span<float>(), dw.Span<float>(), db.Span<float>(), gStride);
            else if (siluGradient)
                BatchNormKernel.BackwardSilu(xk.Span<double>(), gc.storage.As<double>().AsSpan(gc.offset, gLength), n, c, s, w is null ? default : w.Span<double>(),
                    b is null ? default : b.Span<double>(), mean.Span<double>(), invStd.Span<double>(), dx.Span<double>(), dw.Span<double>(), db.Span<double>(), gStride);
            else if (dt == DType.Float32)
                BatchNormKernel.Backward(xk.Span<float>(), gc.storage.As<float>().AsSpan(gc.offset, gLength), n, c, s, w is null ? default : w.Span<float>(),
                    mean.Span<float>(), invStd.Span<float>(), dx.Span<float>(), dw.Span<float>(), db.Span<float>(), gStride);
            else
                BatchNormKernel.Backward(xk.Span<double>(), gc.storage.As<double>().AsSpan(gc.offset, gLength), n, c, s, w is null ? default : w.Span<double>(),
                    mean.Span<double>(), invStd.Span<double>(), dx.Span<double>(), dw.Span<double>(), db.Span<double>(), gStride);
            GC.KeepAlive(gc); GC.KeepAlive(xk);
            var grads = new List<Tensor?> { PrecisionOps.Narrowed(dx, x.DType) };
            if (weight is not null) grads.Add(dw.To(weight.DType));
            if (bias is not null) grads.Add(db.To(bias.DType));
            return grads.ToArray();
        }, x);
        return (silu ? ShowAsSilu(y, handOff!, g => BnOutputGradient(g, x, xc, w, b, weight, bias, eps, channelShape, reduceDims)) : y, mean, variance);
    }

    /// <summary>
    /// The output gradient as the backward kernels read it, with its image stride (0: packed) and the length of storage from
    /// its first element to the end of its last image: <paramref name="g"/> itself when it has the kernels' dtype and each
    /// image holds its channels packed (a contiguous gradient, or a channel slice of a wider one, as a concatenation's
    /// backward hands to each of its inputs: YOLOv5's C3 branches), else a packed copy. Reading a slice where it lies
    /// saves a copy pass over it, and the kernels do the same operations either way (the same bits).
    /// </summary>
    static (Tensor G, int ImageStride, int Length) KernelGradient(Tensor g, DType dt, int n, int image)
    {
        if (g.DType == dt && n > 0 && image > 0)
        {
            int expected = 1;
            bool packed = true;
            for (int d = g.Rank - 1; d >= 1 && packed; d--)
            {
                if (g.shape[d] != 1) packed = g.strides[d] == expected;
                expected *= g.shape[d];
            }
            int stride = n == 1 ? image : g.strides[0];
            if (packed && stride >= image) return (g.Detach(), stride == image ? 0 : stride, (n - 1) * stride + image);
        }
        var gc = PrecisionOps.Widened(g).To(dt);
        return (gc, 0, n * image);
    }

    /// <summary>
    /// silu(batch_norm(x)) as PyTorch records it, SiluBackward0 whose next function is NativeBatchNormBackward0, without
    /// splitting the fused computation: <paramref name="fused"/> holds the SiLU output and its NativeBatchNormBackward0
    /// node the whole fused backward, so the SiluBackward0 node over it only hands the gradient on. When
    /// <paramref name="fused"/> (PyTorch's BN output) has a gradient hook, retains its gradient or is an input of
    /// <see cref="Torch.Grad(Tensor[], Tensor[], Tensor?[], bool, bool, bool)"/>, the node instead turns
    /// the gradient into BN's output gradient, dL/dy·silu′(bn(x)) (<paramref name="bnOutputGradient"/>), so that the hook,
    /// .Grad and grad see PyTorch's values, and tells the BN node through <paramref name="handOff"/> to run the plain backward.
    /// </summary>
    static Tensor ShowAsSilu(Tensor fused, SiluHandOff handOff, Func<Tensor, Tensor> bnOutputGradient)
    {
        if (fused.Node is null) return fused;
        var y = fused.Detach();
        y.SetGradFn(new Node("SiluBackward0", [fused], (g, _) =>
        {
            handOff.GaveBnGradient = fused.GradIsObserved;
            return [handOff.GaveBnGradient ? bnOutputGradient(g) : g];
        }));
        return y;
    }

    /// <summary>What the SiluBackward0 node of a fused BN+SiLU handed its NativeBatchNormBackward0 node in this backward pass.</summary>
    sealed class SiluHandOff
    {
        /// <summary>True: BN's output gradient (the SiLU already applied); false: the SiLU output's gradient.</summary>
        public bool GaveBnGradient;
    }

    /// <summary>
    /// dL/d bn(x) = g·silu′(bn(x)) from the SiLU output's gradient g. Without a graph, bn(x) is recomputed by the forward
    /// kernel (the same bits as the fused forward's) and the SiLU backward kernel applied: the BN backward on the result
    /// then gives bit for bit what the fused backward gives (BatchNormKernelSiluTests).
    /// </summary>
    static Tensor BnOutputGradient(Tensor g, Tensor x, Tensor xc, Tensor? w, Tensor? b, Tensor? weight, Tensor? bias, double eps, int[] channelShape, int[] dims)
    {
        if (GradMode.IsEnabled) return SiluGradient(g, Normalized(x, weight, bias, eps, channelShape, dims));
        int n = x.Size(0), c = x.Size(1), s = x.NumEl / Math.Max(1, n * c);
        var z = Torch.Empty(x.Shape.ToArray(), xc.DType);
        var mean = Torch.Empty([c], xc.DType);
        var invStd = Torch.Empty([c], xc.DType);
        if (xc.DType == DType.Float32)
            BatchNormKernel.Forward(xc.Span<float>(), n, c, s, w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps,
                z.Span<float>(), mean.Span<float>(), invStd.Span<float>());
        else
            BatchNormKernel.Forward(xc.Span<double>(), n, c, s, w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps,
                z.Span<double>(), mean.Span<double>(), invStd.Span<double>());
        return Backends.Backend.Of(z).ActivationBackward(Activation.Silu, PrecisionOps.Widened(g).To(xc.DType), z);
    }

    /// <summary>The closed-form backward on half x and gradient, widened one channel at a time inside the kernel.</summary>
    static Tensor?[] HalfBackward(Tensor x, Tensor g, Tensor? w, Tensor? weight, Tensor? bias, Tensor mean, Tensor invStd, int n, int c, int s)
    {
        var xh = x.Detach().Contiguous(); var gh = g.Detach().Contiguous();
        var dx = Torch.Empty(x.Shape.ToArray(), x.DType);
        var dw = Torch.Empty([c], DType.Float32);
        var db = Torch.Empty([c], DType.Float32);
        ReadOnlySpan<float> ws = w is null ? default : w.Span<float>();
        if (x.DType == DType.BFloat16)
            BatchNormKernel.BackwardHalf(xh.Span<BFloat16>(), gh.Span<BFloat16>(), n, c, s, ws, mean.Span<float>(), invStd.Span<float>(), dx.Span<BFloat16>(), dw.Span<float>(), db.Span<float>());
        else
            BatchNormKernel.BackwardHalf(xh.Span<Half>(), gh.Span<Half>(), n, c, s, ws, mean.Span<float>(), invStd.Span<float>(), dx.Span<Half>(), dw.Span<float>(), db.Span<float>());
        GC.KeepAlive(xh); GC.KeepAlive(gh);
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(dw.To(weight.DType));
        if (bias is not null) grads.Add(db.To(bias.DType));
        return grads.ToArray();
    }

    /// <summary>bn(x) from differentiable ops (batch statistics, then the affine transform).</summary>
    static Tensor Normalized(Tensor x, Tensor? weight, Tensor? bias, double eps, int[] channelShape, int[] dims)
    {
        var m = x.Mean(dims, keepDim: true);
        var z = (x - m) * ((x - m).Square().Mean(dims, keepDim: true) + eps).Rsqrt();
        if (weight is not null) z = z * weight.Reshape(channelShape);
        return bias is null ? z : z + bias.Reshape(channelShape);
    }

    /// <summary>g·σ(z)·(1 + z·(1 − σ(z))), SiLU's gradient at z, from differentiable ops.</summary>
    static Tensor SiluGradient(Tensor g, Tensor z)
    {
        var sig = z.Sigmoid();
        return g * sig * (z * (1.0 - sig) + 1.0);
    }

    static Tensor?[] Composite(Tensor x, Tensor g, Tensor? weight, Tensor? bias, double eps, int[] channelShape, int[] dims)
    {
        double count = x.NumEl / (double)x.Size(1);
        var m = x.Mean(dims, keepDim: true);
        var inv = ((x - m).Square().Mean(dims, keepDim: true) + eps).Rsqrt();
        var xhat = (x - m) * inv;
        var sumG = g.Sum(dims, keepDim: true);
        var sumGx = (g * xhat).Sum(dims, keepDim: true);
        var w = weight is null ? Torch.OnesLike(sumG) : weight.Reshape(channelShape);
        var dx = w * inv / count * (g * count - sumG - xhat * sumGx);
        var grads = new List<Tensor?> { dx };
        if (weight is not null) grads.Add(sumGx.Reshape(weight.Shape.ToArray()));
        if (bias is not null) grads.Add(sumG.Reshape(bias.Shape.ToArray()));
        return grads.ToArray();
    }
}
