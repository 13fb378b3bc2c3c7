using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]) with weight [C_out, C_in/groups, kH, kW] (torch.nn.functional.conv2d).
    /// Padding 'same' requires stride 1; <paramref name="paddingMode"/> other than zeros pads the input explicitly first.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, ConvPadding padding = default,
        Size2? dilation = null, int groups = 1, PaddingMode paddingMode = PaddingMode.Constant)
    {
        (int H, int W) s = stride ?? 1;
        (int H, int W) d = dilation ?? 1;
        int kH = weight.Size(-2), kW = weight.Size(-1);
        (int Top, int Bottom, int Left, int Right) pad;
        if (padding.IsSame)
        {
            if (s != (1, 1)) throw new ArgumentException($"conv2d: padding='same' is not supported for strided convolutions (stride {s})");
            int th = d.H * (kH - 1), tw = d.W * (kW - 1);
            pad = (th / 2, th - th / 2, tw / 2, tw - tw / 2);
        }
        else pad = (padding.H, padding.H, padding.W, padding.W);
        bool symmetric = pad.Top == pad.Bottom && pad.Left == pad.Right;
        if (paddingMode != PaddingMode.Constant || !symmetric)
        {
            if (pad != (0, 0, 0, 0)) input = Torch.Pad(input, [pad.Left, pad.Right, pad.Top, pad.Bottom], paddingMode);
            return ConvOps.Conv2d(input, weight, bias, s, (0, 0), d, groups);
        }
        return ConvOps.Conv2d(input, weight, bias, s, (pad.Top, pad.Left), d, groups);
    }

    /// <summary>1-D convolution over [N, C, L] (or [C, L]) with weight [C_out, C_in/groups, k] (torch.nn.functional.conv1d).</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, ConvPadding padding = default, int dilation = 1,
        int groups = 1, PaddingMode paddingMode = PaddingMode.Constant)
    {
        if (input.Rank is not (2 or 3)) throw new ArgumentException($"conv1d: expected a 2-D (unbatched) or 3-D input [N, C, L], got shape {input.Shape}");
        if (weight.Rank != 3) throw new ArgumentException($"conv1d: expected a 3-D weight [C_out, C_in/groups, k], got shape {weight.Shape}");
        // checked here, not by conv2d on the [N, C, 1, L] view: the message then names the user's op and shape
        int channels = input.Size(input.Rank - 2);
        if (groups >= 1 && channels != weight.Size(1) * groups)
            throw new ArgumentException($"conv1d: expected input with {weight.Size(1) * groups} channels, got {channels} (input shape {input.Shape}, weight shape {weight.Shape}, groups {groups})");
        var pad2 = padding.IsSame ? ConvPadding.Same : new ConvPadding(0, padding.H);
        var y = Conv2d(input.Unsqueeze(-2), weight.Unsqueeze(2), bias, (1, stride), pad2, (1, dilation), groups, paddingMode);
        return y.Squeeze(-2);
    }

    /// <summary>
    /// Transposed 2-D convolution with weight [C_in, C_out/groups, kH, kW] (torch.nn.functional.conv_transpose2d); each size
    /// an int or an (H, W) pair.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Size2? stride = null, Size2? padding = null,
        Size2? outputPadding = null, int groups = 1, Size2? dilation = null)
        => ConvOps.ConvTranspose2d(input, weight, bias, stride ?? 1, padding ?? 0, outputPadding ?? 0, dilation ?? 1, groups);
}
