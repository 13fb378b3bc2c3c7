using Ember.Autograd;
using Ember.Kernels.Conv;
using Ember.Kernels.Numerics;

namespace Ember.Ops;

/// <summary>
/// 2-D convolution and transposed convolution over NCHW tensors. They are each other's adjoint: conv's input gradient is a
/// transposed convolution of the output gradient and vice versa, so the input gradients are themselves differentiable.
/// </summary>
internal static class ConvOps
{
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups, string name = "conv2d")
    {
        bool unbatched = x.Rank == 3;
        if (unbatched) x = x.Unsqueeze(0);
        if (x.Rank != 4) throw new ArgumentException($"{name}: expected a 3-D (unbatched) or 4-D (batched) input [N, C, H, W], got shape {x.Shape}");
        if (weight.Rank != 4) throw new ArgumentException($"{name}: expected a 4-D weight [C_out, C_in/groups, kH, kW], got shape {weight.Shape}");
        if (Training.Amp.Autocast.Active is not null) (x, weight, bias) = ForAutocast(x, weight, bias);
        CheckFloat(x, weight, name);
        int cIn = x.Size(1);
        if (cIn != weight.Size(1) * groups)
            throw new ArgumentException($"{name}: expected input with {weight.Size(1) * groups} channels, got {cIn} (input shape {x.Shape}, weight shape {weight.Shape}, groups {groups})");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != weight.Size(0)))
            throw new ArgumentException($"{name}: expected bias of shape [{weight.Size(0)}], got {bias.Shape}");
        var g = new Conv2dGeometry(x.Size(0), cIn, x.Size(2), x.Size(3), weight.Size(0), weight.Size(2), weight.Size(3),
            stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups);
        // half inputs: the kernel widens a few images at a time and rounds its float32 result into the half output
        // (HalfConv2dKernel); the graph keeps the half x
        var y = x.DType.IsReducedFloat() ? HalfForward(x, weight, bias, g) : FloatForward(x, weight, bias, g);
        var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
        int outPadH = g.InHeight - ((g.OutHeight - 1) * g.StrideHeight - 2 * g.PadHeight + g.DilationHeight * (g.KernelHeight - 1) + 1);
        int outPadW = g.InWidth - ((g.OutWidth - 1) * g.StrideWidth - 2 * g.PadWidth + g.DilationWidth * (g.KernelWidth - 1) + 1);
        Recording.Many(y, "ConvolutionBackward0", inputs, (grad, node) =>
        [
            node.NeedsInputGrad(0) ? ConvTranspose2d(grad, weight, null, stride, padding, (outPadH, outPadW), dilation, groups) : null,
            node.NeedsInputGrad(1) ? WeightGrad(x, grad, g, stride, padding, (outPadH, outPadW), dilation, groups) : null,
            .. bias is null ? Array.Empty<Tensor?>() : [node.NeedsInputGrad(2) ? BiasGrad(grad, g) : null],
        ], x, weight);
        return unbatched ? y.Squeeze(0) : y;
    }

    static Tensor FloatForward(Tensor x, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        var xc = x.Detach().Contiguous(); var wc = weight.Detach().Contiguous(); var bc = bias?.Detach().Contiguous();
        xc.DType.RequireFloat32Or64("conv2d");
        var y = Torch.Empty([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], xc.DType);
        if (xc.DType == DType.Float32)
            Conv2dKernel.Forward(g, xc.Span<float>(), wc.Span<float>(), bc is null ? default : bc.Span<float>(), y.Span<float>());
        else
            Conv2dKernel.Forward(g, xc.Span<double>(), wc.Span<double>(), bc is null ? default : bc.Span<double>(), y.Span<double>());
        GC.KeepAlive(xc); GC.KeepAlive(wc); GC.KeepAlive(bc);
        return y;
    }

    static Tensor HalfForward(Tensor x, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        var xc = x.Detach().Contiguous(); var wc = PrecisionOps.Widened(weight); var bc = bias is null ? null : PrecisionOps.Widened(bias);
        var y = Torch.Empty([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], x.DType);
        ReadOnlySpan<float> b = bc is null ? default : bc.Span<float>();
        if (x.DType == DType.BFloat16) HalfConv2dKernel.Forward(g, xc.Span<BFloat16>(), wc.Span<float>(), b, y.Span<BFloat16>());
        else HalfConv2dKernel.Forward(g, xc.Span<Half>(), wc.Span<float>(), b, y.Span<Half>());
        GC.KeepAlive(xc); GC.KeepAlive(wc); GC.KeepAlive(bc);
        return y;
    }

    /// <summary>
    /// act(conv2d(x, weight)·scale[c] + shift[c]) in one output pass (the eval-mode Conv → BatchNorm → activation chain).
    /// Records no graph: callers use it only when no gradient is needed. x is 4-D, of weight's dtype; scale and shift are
    /// [C_out] of that dtype (either may be null); <paramref name="residual"/>, when given, has the output's shape and is
    /// added before the activation (after it for <see cref="ConvActivation.SiluThenResidual"/>). <paramref name="output"/>,
    /// when given, receives the result and is returned: a tensor of the output's shape and dtype whose images may lie
    /// apart (a channel slice of a wider tensor, <c>cat.Narrow(1, offset, C_out)</c>, so a concatenated result is
    /// written in place), each image's channels packed.
    /// </summary>
    public static Tensor Conv2dFused(Tensor x, Tensor weight, Tensor? scale, Tensor? shift, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, int groups, ConvActivation activation, Tensor? residual = null, Tensor? output = null)
    {
        if (x.Rank != 4 || weight.Rank != 4) throw new ArgumentException($"conv2d (fused): expected 4-D input and weight, got shapes {x.Shape} and {weight.Shape}");
        CheckFloat(x, weight, "conv2d (fused)");
        int cIn = x.Size(1);
        if (cIn != weight.Size(1) * groups)
            throw new ArgumentException($"conv2d (fused): expected input with {weight.Size(1) * groups} channels, got {cIn} (input shape {x.Shape}, weight shape {weight.Shape}, groups {groups})");
        var g = new Conv2dGeometry(x.Size(0), cIn, x.Size(2), x.Size(3), weight.Size(0), weight.Size(2), weight.Size(3),
            stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups);
        var xc = x.Detach().Contiguous(); var wc = weight.Detach().Contiguous();
        var sc = scale?.Detach().To(x.DType).Contiguous(); var bc = shift?.Detach().To(x.DType).Contiguous();
        var y = output ?? Torch.Empty([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], x.DType);
        int imageStride = output is null ? 0 : OutputImageStride(output, g, x.DType);
        if (residual is not null && (residual.DType != x.DType || !residual.Shape.SequenceEqual(y.Shape)))
            throw new ArgumentException($"conv2d (fused): expected a residual of shape {y.Shape} and dtype {x.DType.TorchName()}, got {residual.Shape} and {residual.DType.TorchName()}");
        var rc = residual?.Detach().Contiguous();
        // The images' span in storage: from the first element to the end of the last image.
        int outputLength = g.Batch == 0 ? 0 : (g.Batch - 1) * (imageStride == 0 ? g.OutChannels * g.OutPlane : imageStride) + g.OutChannels * g.OutPlane;
        if (x.DType == DType.Float32)
            Conv2dKernel.ForwardFused(g, xc.Span<float>(), wc.Span<float>(), sc is null ? default : sc.Span<float>(), bc is null ? default : bc.Span<float>(), activation,
                y.storage.As<float>().AsSpan(y.offset, outputLength), rc is null ? default : rc.Span<float>(), imageStride);
        else
            Conv2dKernel.ForwardFused(g, xc.Span<double>(), wc.Span<double>(), sc is null ? default : sc.Span<double>(), bc is null ? default : bc.Span<double>(), activation,
                y.storage.As<double>().AsSpan(y.offset, outputLength), rc is null ? default : rc.Span<double>(), imageStride);
        if (output is not null) output.BumpVersion();
        GC.KeepAlive(xc); GC.KeepAlive(wc); GC.KeepAlive(sc); GC.KeepAlive(bc); GC.KeepAlive(rc);
        return y;
    }

    /// <summary>The distance between the images of a fused conv's given output, after checking it can hold the result.</summary>
    static int OutputImageStride(Tensor output, Conv2dGeometry g, DType dtype)
    {
        int[] shape = [g.Batch, g.OutChannels, g.OutHeight, g.OutWidth];
        if (output.DType != dtype || !output.Shape.SequenceEqual(shape))
            throw new ArgumentException($"conv2d (fused): expected an output of shape [{string.Join(", ", shape)}] and dtype {dtype.TorchName()}, got {output.Shape} and {output.DType.TorchName()}");
        int plane = g.OutPlane, image = g.OutChannels * plane;
        var st = output.strides;
        bool packed = (g.OutWidth <= 1 || st[3] == 1) && (g.OutHeight <= 1 || st[2] == g.OutWidth) && (g.OutChannels <= 1 || st[1] == plane);
        if (!packed || g.Batch > 1 && st[0] < image)
            throw new ArgumentException($"conv2d (fused): expected an output whose images each hold their channels packed (strides [≥{image}, {plane}, {g.OutWidth}, 1]), got strides [{string.Join(", ", st)}]");
        return g.Batch > 1 ? st[0] : image;
    }

    /// <summary>Σ over batch and plane of the output gradient; the kernel is ~10× faster than the generic reduction when no graph is needed.</summary>
    static Tensor BiasGrad(Tensor grad, Conv2dGeometry g)
    {
        if (GradMode.IsEnabled) return grad.Sum([0, 2, 3]);
        if (grad.DType.IsReducedFloat())
        {
            // each plane widened on its own inside the kernel, not the whole gradient as a float32 copy
            var gh = grad.Detach().Contiguous();
            var sums = Torch.Empty([g.OutChannels], DType.Float32);
            if (gh.DType == DType.BFloat16) HalfConv2dKernel.BackwardBias(g, gh.Span<BFloat16>(), sums.Span<float>());
            else HalfConv2dKernel.BackwardBias(g, gh.Span<Half>(), sums.Span<float>());
            GC.KeepAlive(gh);
            return PrecisionOps.Narrowed(sums, grad.DType);
        }
        var gc = PrecisionOps.Widened(grad);
        var gb = Torch.Empty([g.OutChannels], gc.DType);
        if (gc.DType == DType.Float32) Conv2dKernel.BackwardBias(g, gc.Span<float>(), gb.Span<float>());
        else Conv2dKernel.BackwardBias(g, gc.Span<double>(), gb.Span<double>());
        GC.KeepAlive(gc);
        return PrecisionOps.Narrowed(gb, grad.DType);
    }

    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding, (int H, int W) dilation, int groups, string name = "conv_transpose2d")
    {
        bool unbatched = x.Rank == 3;
        if (unbatched) x = x.Unsqueeze(0);
        if (x.Rank != 4) throw new ArgumentException($"{name}: expected a 3-D or 4-D input [N, C, H, W], got shape {x.Shape}");
        if (weight.Rank != 4) throw new ArgumentException($"{name}: expected a 4-D weight [C_in, C_out/groups, kH, kW], got shape {weight.Shape}");
        if (Training.Amp.Autocast.Active is not null) (x, weight, bias) = ForAutocast(x, weight, bias);
        CheckFloat(x, weight, name);
        if (x.Size(1) != weight.Size(0))
            throw new ArgumentException($"{name}: expected input with {weight.Size(0)} channels, got {x.Size(1)} (input shape {x.Shape}, weight shape {weight.Shape})");
        var g = new ConvTranspose2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), weight.Size(1) * groups, weight.Size(2), weight.Size(3),
            stride.H, stride.W, padding.H, padding.W, outputPadding.H, outputPadding.W, dilation.H, dilation.W, groups);
        Tensor y;
        var xc = x.Detach().Contiguous(); var wc = PrecisionOps.Widened(weight); var bc = bias is null ? null : PrecisionOps.Widened(bias);
        if (x.DType.IsReducedFloat())
        {
            // The conv's input gradient on half tensors, a few images at a time (the conv's backward comes here)
            y = Torch.Empty([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], x.DType);
            ReadOnlySpan<float> b = bc is null ? default : bc.Span<float>();
            if (x.DType == DType.BFloat16) HalfConv2dKernel.BackwardInput(g.Conv, xc.Span<BFloat16>(), wc.Span<float>(), b, y.Span<BFloat16>());
            else HalfConv2dKernel.BackwardInput(g.Conv, xc.Span<Half>(), wc.Span<float>(), b, y.Span<Half>());
        }
        else
        {
            xc.DType.RequireFloat32Or64("conv_transpose2d");
            y = Torch.Empty([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], xc.DType);
            if (xc.DType == DType.Float32)
                ConvTranspose2dKernel.Forward(g, xc.Span<float>(), wc.Span<float>(), bc is null ? default : bc.Span<float>(), y.Span<float>());
            else
                ConvTranspose2dKernel.Forward(g, xc.Span<double>(), wc.Span<double>(), bc is null ? default : bc.Span<double>(), y.Span<double>());
        }
        GC.KeepAlive(xc); GC.KeepAlive(wc); GC.KeepAlive(bc);
        var inputs = bias is null ? new[] { x, weight } : new[] { x, weight, bias };
        Recording.Many(y, "ConvolutionBackward0", inputs, (grad, node) =>
        [
            node.NeedsInputGrad(0) ? Conv2d(grad, weight, null, stride, padding, dilation, groups) : null,
            node.NeedsInputGrad(1) ? TransposeWeightGrad(x, grad, g, stride, padding, outputPadding, dilation, groups) : null,
            .. bias is null ? Array.Empty<Tensor?>() : [node.NeedsInputGrad(2) ? grad.Sum([0, 2, 3]) : null],
        ], x, weight);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>
    /// ∂L/∂W of a convolution. It is bilinear in (x, gradOutput): ⟨ggW, ∂L/∂W⟩ = ⟨gradOutput, conv(x, ggW)⟩, so its own
    /// backward is a convolution for gradOutput and the conv's input gradient (a transposed convolution) for x.
    /// </summary>
    static Tensor WeightGrad(Tensor x, Tensor gradOutput, Conv2dGeometry g, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, (int H, int W) dilation, int groups)
    {
        Tensor gw;
        if (x.DType.IsReducedFloat() && gradOutput.DType == x.DType)
        {
            // half x and gradient: widened chunk by chunk inside the kernel, not as whole float32 copies
            var xh = x.Detach().Contiguous(); var gh = gradOutput.Detach().Contiguous();
            gw = Torch.Empty([g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth], DType.Float32);
            if (x.DType == DType.BFloat16) HalfConv2dKernel.BackwardWeight(g, xh.Span<BFloat16>(), gh.Span<BFloat16>(), gw.Span<float>());
            else HalfConv2dKernel.BackwardWeight(g, xh.Span<Half>(), gh.Span<Half>(), gw.Span<float>());
            GC.KeepAlive(xh); GC.KeepAlive(gh);
        }
        else
        {
            var xc = PrecisionOps.Widened(x); var gc = PrecisionOps.Widened(gradOutput);
            gw = Torch.Empty([g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth], xc.DType);
            if (xc.DType == DType.Float32) Conv2dKernel.BackwardWeight(g, xc.Span<float>(), gc.Span<float>(), gw.Span<float>());
            else Conv2dKernel.BackwardWeight(g, xc.Span<double>(), gc.Span<double>(), gw.Span<double>());
            GC.KeepAlive(xc); GC.KeepAlive(gc);
        }
        gw = PrecisionOps.Narrowed(gw, x.DType);
        return Recording.Binary(gw, "ConvolutionBackwardBackward0", x, gradOutput,
            ggw => ConvTranspose2d(gradOutput, ggw, null, stride, padding, outputPadding, dilation, groups),
            ggw => Conv2d(x, ggw, null, stride, padding, dilation, groups), x, gradOutput);
    }

    /// <summary>∂L/∂W of a transposed convolution: ⟨ggW, ∂L/∂W⟩ = ⟨gradOutput, conv_transpose(x, ggW)⟩ (see <see cref="WeightGrad"/>).</summary>
    static Tensor TransposeWeightGrad(Tensor x, Tensor gradOutput, ConvTranspose2dGeometry g, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, (int H, int W) dilation, int groups)
    {
        Tensor gw;
        int[] weightShape = [g.InChannels, g.OutChannels / g.Conv.Groups, g.Conv.KernelHeight, g.Conv.KernelWidth];
        if (x.DType.IsReducedFloat() && gradOutput.DType == x.DType)
        {
            // The transposed conv's weight gradient is the conv weight gradient with gradOutput as the conv's input and x
            // as its output gradient (ConvTranspose2dKernel.BackwardWeight): widened chunk by chunk inside the kernel.
            var xh = x.Detach().Contiguous(); var gh = gradOutput.Detach().Contiguous();
            gw = Torch.Empty(weightShape, DType.Float32);
            if (x.DType == DType.BFloat16) HalfConv2dKernel.BackwardWeight(g.Conv, gh.Span<BFloat16>(), xh.Span<BFloat16>(), gw.Span<float>());
            else HalfConv2dKernel.BackwardWeight(g.Conv, gh.Span<Half>(), xh.Span<Half>(), gw.Span<float>());
            GC.KeepAlive(xh); GC.KeepAlive(gh);
        }
        else
        {
            var xc = PrecisionOps.Widened(x); var gc = PrecisionOps.Widened(gradOutput);
            gw = Torch.Empty(weightShape, xc.DType);
            if (xc.DType == DType.Float32) ConvTranspose2dKernel.BackwardWeight(g, xc.Span<float>(), gc.Span<float>(), gw.Span<float>());
            else ConvTranspose2dKernel.BackwardWeight(g, xc.Span<double>(), gc.Span<double>(), gw.Span<double>());
            GC.KeepAlive(xc); GC.KeepAlive(gc);
        }
        gw = PrecisionOps.Narrowed(gw, x.DType);
        return Recording.Binary(gw, "ConvolutionBackwardBackward0", x, gradOutput,
            ggw => Conv2d(gradOutput, ggw, null, stride, padding, dilation, groups),
            ggw => ConvTranspose2d(x, ggw, null, stride, padding, outputPadding, dilation, groups), x, gradOutput);
    }

    /// <summary>Autocast's lower-precision list: input, weight and bias all cast to the autocast dtype.</summary>
    static (Tensor X, Tensor Weight, Tensor? Bias) ForAutocast(Tensor x, Tensor weight, Tensor? bias)
        => (PrecisionOps.ForAutocast(x), PrecisionOps.ForAutocast(weight), bias is null ? null : PrecisionOps.ForAutocast(bias));

    static void CheckFloat(Tensor x, Tensor w, string name)
    {
        if (!x.DType.IsFloatingPoint() || x.DType != w.DType)
            throw new ArgumentException($"{name}: expected floating point input and weight of the same dtype, got {x.DType.TorchName()} and {w.DType.TorchName()}");
    }
}
