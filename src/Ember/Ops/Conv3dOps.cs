using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// 3-d convolution over [N, C, D, H, W], composed from the 2-d one. The depth axis is unfolded into channels: every output
/// depth slice od sees the kD input slices od·sD + kd·dD, stacked as kD·C channels (grouped as [group, kd, channel]), and
/// one conv2d with the weight reshaped to [C_out, kD·C_in/groups, kH, kW] does the rest over (H, W). Why this rather than a
/// vol2col kernel of its own: the (H, W) work runs on conv2d's tuned GEMM paths with one large reduction of length
/// kD·C_in/groups·kH·kW (as a vol2col GEMM would), and every step (pad, strided slice, stack, permute, conv2d) is differentiable,
/// so backward for input, weight and bias, and double backward, come from those ops. The cost is the depth-unfolded copy
/// of the input (kD/sD times its size), which a vol2col would also make in a larger form.
/// </summary>
internal static class Conv3dOps
{
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, (int D, int H, int W) padding,
        (int D, int H, int W) dilation, int groups, string name = "conv3d")
    {
        bool unbatched = input.Rank == 4;
        var x = unbatched ? input.Unsqueeze(0) : input;
        if (x.Rank != 5) throw new ArgumentException($"{name}: expected a 4-D (unbatched) or 5-D (batched) input [N, C, D, H, W], got shape {input.Shape}");
        if (weight.Rank != 5) throw new ArgumentException($"{name}: expected a 5-D weight [C_out, C_in/groups, kD, kH, kW], got shape {weight.Shape}");
        if (!x.DType.IsFloatingPoint() || x.DType != weight.DType)
            throw new ArgumentException($"{name}: expected floating point input and weight of the same dtype, got {x.DType.TorchName()} and {weight.DType.TorchName()}");
        x.DType.RequireFloat32Or64(name);      // here, or conv2d's check would name conv2d (autocast emulates on float32 inputs)
        if (groups <= 0) throw new ArgumentException($"{name}: groups must be positive, got {groups}");
        if (stride.D <= 0 || stride.H <= 0 || stride.W <= 0) throw new ArgumentException($"{name}: stride must be positive, got {stride}");
        if (dilation.D <= 0 || dilation.H <= 0 || dilation.W <= 0) throw new ArgumentException($"{name}: dilation must be positive, got {dilation}");
        if (padding.D < 0 || padding.H < 0 || padding.W < 0) throw new ArgumentException($"{name}: padding must be non-negative, got {padding}");
        int n = x.Size(0), c = x.Size(1), d = x.Size(2), h = x.Size(3), w = x.Size(4);
        int cOut = weight.Size(0), cg = weight.Size(1), kD = weight.Size(2), kH = weight.Size(3), kW = weight.Size(4);
        if (c != cg * groups)
            throw new ArgumentException($"{name}: expected input with {cg * groups} channels, got {c} (input shape {input.Shape}, weight shape {weight.Shape}, groups {groups})");
        if (cOut % groups != 0) throw new ArgumentException($"{name}: out channels ({cOut}, weight shape {weight.Shape}) must be divisible by groups ({groups})");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != cOut))
            throw new ArgumentException($"{name}: expected bias of shape [{cOut}], got {bias.Shape}");
        int span(int k, int dil) => dil * (k - 1) + 1;
        int dp = d + 2 * padding.D, hp = h + 2 * padding.H, wp = w + 2 * padding.W;
        if (dp < span(kD, dilation.D) || hp < span(kH, dilation.H) || wp < span(kW, dilation.W))
            throw new ArgumentException($"{name}: padded input size ({dp} x {hp} x {wp}) is smaller than the dilated kernel size " +
                $"({span(kD, dilation.D)} x {span(kH, dilation.H)} x {span(kW, dilation.W)}) (input shape {input.Shape}, weight shape {weight.Shape})");
        int oD = (dp - span(kD, dilation.D)) / stride.D + 1;

        // depth unfold: [N, Dp, C, H, W] sliced at kd·dD with step sD gives [N, oD, C, H, W] per kd; stacked → [N, oD, kD, C, H, W]
        var xd = x.Permute(0, 2, 1, 3, 4);
        if (padding.D > 0) xd = Torch.Pad(xd, [0, 0, 0, 0, 0, 0, padding.D, padding.D]);
        var slices = new Tensor[kD];
        for (int kd = 0; kd < kD; kd++)
        {
            int start = kd * dilation.D;
            slices[kd] = xd.Slice(1, start, start + (oD - 1) * stride.D + 1, stride.D);
        }
        var cols = kD == 1 ? slices[0].Unsqueeze(2) : Torch.Stack(slices, 2);
        if (groups > 1 && kD > 1)     // the grouped conv2d needs each group's kD·C_in/groups channels adjacent
            cols = cols.Reshape(n, oD, kD, groups, cg, h, w).Permute(0, 1, 3, 2, 4, 5, 6);
        cols = cols.Reshape(n * oD, kD * c, h, w);
        var w2 = weight.Permute(0, 2, 1, 3, 4).Reshape(cOut, kD * cg, kH, kW);
        var y2 = ConvOps.Conv2d(cols, w2, bias, (stride.H, stride.W), (padding.H, padding.W), (dilation.H, dilation.W), groups, name);
        int oH = y2.Size(2), oW = y2.Size(3);
        var y = y2.Reshape(n, oD, cOut, oH, oW).Permute(0, 2, 1, 3, 4).Contiguous();
        y = bias is null ? Recording.Named(y, "ConvolutionBackward0", x, weight) : Recording.Named(y, "ConvolutionBackward0", x, weight, bias);
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>
    /// Transposed 3-d convolution, weight [C_in, C_out/groups, kD, kH, kW], composed the other way round: one conv_transpose2d
    /// over every input depth slice with the kD kernel slices as extra output channels, then each kd's result spread along depth
    /// (zeros between slices for the stride, shifted by kd·dD) and summed; padding crops, output padding extends the far end.
    /// Every step is differentiable, so backward and double backward come from those ops, as for <see cref="Conv3d"/>.
    /// </summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, (int D, int H, int W) padding,
        (int D, int H, int W) outputPadding, (int D, int H, int W) dilation, int groups, string name = "conv_transpose3d")
    {
        bool unbatched = input.Rank == 4;
        var x = unbatched ? input.Unsqueeze(0) : input;
        if (x.Rank != 5) throw new ArgumentException($"{name}: expected a 4-D (unbatched) or 5-D (batched) input [N, C, D, H, W], got shape {input.Shape}");
        if (weight.Rank != 5) throw new ArgumentException($"{name}: expected a 5-D weight [C_in, C_out/groups, kD, kH, kW], got shape {weight.Shape}");
        if (!x.DType.IsFloatingPoint() || x.DType != weight.DType)
            throw new ArgumentException($"{name}: expected floating point input and weight of the same dtype, got {x.DType.TorchName()} and {weight.DType.TorchName()}");
        x.DType.RequireFloat32Or64(name);
        if (groups <= 0) throw new ArgumentException($"{name}: groups must be positive, got {groups}");
        if (stride.D <= 0 || stride.H <= 0 || stride.W <= 0) throw new ArgumentException($"{name}: stride must be positive, got {stride}");
        if (dilation.D <= 0 || dilation.H <= 0 || dilation.W <= 0) throw new ArgumentException($"{name}: dilation must be positive, got {dilation}");
        if (padding.D < 0 || padding.H < 0 || padding.W < 0 || outputPadding.D < 0 || outputPadding.H < 0 || outputPadding.W < 0)
            throw new ArgumentException($"{name}: padding and output padding must be non-negative, got {padding} and {outputPadding}");
        if (outputPadding.D >= Math.Max(stride.D, dilation.D) || outputPadding.H >= Math.Max(stride.H, dilation.H) || outputPadding.W >= Math.Max(stride.W, dilation.W))
            throw new ArgumentException($"{name}: output padding must be smaller than either stride or dilation, got output padding {outputPadding}, stride {stride}, dilation {dilation}");
        int n = x.Size(0), c = x.Size(1), d = x.Size(2), h = x.Size(3), w = x.Size(4);
        int cIn = weight.Size(0), cog = weight.Size(1), kD = weight.Size(2), kH = weight.Size(3), kW = weight.Size(4);
        if (c != cIn) throw new ArgumentException($"{name}: expected input with {cIn} channels, got {c} (input shape {input.Shape}, weight shape {weight.Shape})");
        if (cIn % groups != 0) throw new ArgumentException($"{name}: in channels ({cIn}) must be divisible by groups ({groups})");
        int cOut = cog * groups;
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != cOut))
            throw new ArgumentException($"{name}: expected bias of shape [{cOut}], got {bias.Shape}");
        int full = (d - 1) * stride.D + dilation.D * (kD - 1) + 1;
        int oD = full - 2 * padding.D + outputPadding.D;
        if (oD <= 0) throw new ArgumentException($"{name}: output depth {oD} is not positive (input shape {input.Shape}, weight shape {weight.Shape}, padding {padding})");

        // [N·D, C_in, H, W] through conv_transpose2d with weight [C_in, kD·C_out/groups, kH, kW] → channels [group, kd, c]
        var xs = x.Permute(0, 2, 1, 3, 4).Reshape(n * d, c, h, w);
        var w2 = weight.Permute(0, 2, 1, 3, 4).Reshape(cIn, kD * cog, kH, kW);
        var z = ConvOps.ConvTranspose2d(xs, w2, null, (stride.H, stride.W), (padding.H, padding.W), (outputPadding.H, outputPadding.W),
            (dilation.H, dilation.W), groups, name);
        int oH = z.Size(2), oW = z.Size(3);
        var zk = z.Reshape(n, d, groups, kD, cog, oH, oW);
        Tensor? sum = null;
        for (int kd = 0; kd < kD; kd++)
        {
            var slice = zk.Select(3, kd);                                                   // [N, D, G, C_out/G, oH, oW]
            if (stride.D > 1)                                                                // input slice i lands at i·sD
                slice = Torch.Cat([slice.Unsqueeze(2), Torch.Zeros([n, d, stride.D - 1, groups, cog, oH, oW], x.DType)], 2)
                    .Reshape(n, d * stride.D, groups, cog, oH, oW).Narrow(1, 0, (d - 1) * stride.D + 1);
            int before = kd * dilation.D, after = full - before - slice.Size(1);
            var parts = new List<Tensor>(3);
            if (before > 0) parts.Add(Torch.Zeros([n, before, groups, cog, oH, oW], x.DType));
            parts.Add(slice);
            if (after > 0) parts.Add(Torch.Zeros([n, after, groups, cog, oH, oW], x.DType));
            var placed = parts.Count == 1 ? slice : Torch.Cat(parts.ToArray(), 1);
            sum = sum is null ? placed : sum + placed;
        }
        var y = sum!;
        int keep = Math.Min(oD, full - padding.D);
        y = y.Narrow(1, padding.D, keep);
        if (keep < oD) y = Torch.Cat([y, Torch.Zeros([n, oD - keep, groups, cog, oH, oW], x.DType)], 1);     // output padding past the end
        y = y.Reshape(n, oD, cOut, oH, oW).Permute(0, 2, 1, 3, 4).Contiguous();
        if (bias is not null) y = y + bias.Reshape(1, cOut, 1, 1, 1);
        y = bias is null ? Recording.Named(y, "ConvolutionBackward0", x, weight) : Recording.Named(y, "ConvolutionBackward0", x, weight, bias);
        return unbatched ? y.Squeeze(0) : y;
    }
}
