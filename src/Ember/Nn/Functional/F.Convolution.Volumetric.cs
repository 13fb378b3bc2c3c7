using Ember.Ops;

namespace Ember.Nn.Functional;

// 3-d convolution and transposed convolution (torch.nn.functional.conv3d / conv_transpose3d).
public static partial class F
{
    /// <summary>
    /// 3-d convolution over [N, C, D, H, W] (or unbatched [C, D, H, W]) with weight [C_out, C_in/groups, kD, kH, kW] and the
    /// same stride, padding and dilation on every spatial dim (torch.nn.functional.conv3d with ints). Output size per dim:
    /// ⌊(in + 2·pad − dilation·(k − 1) − 1) / stride⌋ + 1.
    /// </summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, ConvPadding3d padding = default, int dilation = 1,
        int groups = 1, PaddingMode paddingMode = PaddingMode.Constant)
        => Conv3d(input, weight, bias, (stride, stride, stride), padding, (dilation, dilation, dilation), groups, paddingMode);

    /// <summary>
    /// 3-d convolution with (D, H, W) triples, as PyTorch's tuples. Padding 'same' requires stride 1 and pads the extra one of
    /// an odd total at the end; <paramref name="paddingMode"/> other than zeros pads the input explicitly first (nn.Conv3d's padding_mode).
    /// </summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, ConvPadding3d padding = default,
        (int D, int H, int W)? dilation = null, int groups = 1, PaddingMode paddingMode = PaddingMode.Constant)
    {
        var dl = dilation ?? (1, 1, 1);
        if (weight.Rank != 5) throw new ArgumentException($"conv3d: expected a 5-D weight [C_out, C_in/groups, kD, kH, kW], got shape {weight.Shape}");
        (int Before, int After) pd, ph, pw;
        if (padding.IsSame)
        {
            if (stride != (1, 1, 1)) throw new ArgumentException($"conv3d: padding='same' is not supported for strided convolutions (stride {stride})");
            pd = SamePad(dl.D, weight.Size(2)); ph = SamePad(dl.H, weight.Size(3)); pw = SamePad(dl.W, weight.Size(4));
        }
        else { pd = (padding.D, padding.D); ph = (padding.H, padding.H); pw = (padding.W, padding.W); }
        bool symmetric = pd.Before == pd.After && ph.Before == ph.After && pw.Before == pw.After;
        if (paddingMode != PaddingMode.Constant || !symmetric)
        {
            if (pd != (0, 0) || ph != (0, 0) || pw != (0, 0))
                input = Torch.Pad(input, [pw.Before, pw.After, ph.Before, ph.After, pd.Before, pd.After], paddingMode);
            return Conv3dOps.Conv3d(input, weight, bias, stride, (0, 0, 0), dl, groups);
        }
        return Conv3dOps.Conv3d(input, weight, bias, stride, (pd.Before, ph.Before, pw.Before), dl, groups);
    }

    /// <summary>
    /// Transposed 3-d convolution with weight [C_in, C_out/groups, kD, kH, kW] and the same stride, padding, output padding and
    /// dilation on every spatial dim (torch.nn.functional.conv_transpose3d with ints). Output size per dim:
    /// (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
    /// </summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int groups = 1, int dilation = 1)
        => Conv3dOps.ConvTranspose3d(input, weight, bias, (stride, stride, stride), (padding, padding, padding), (outputPadding, outputPadding, outputPadding),
            (dilation, dilation, dilation), groups);

    /// <summary>Transposed 3-d convolution with (D, H, W) triples, as PyTorch's tuples (argument order as conv_transpose3d's).</summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias, (int D, int H, int W) stride, (int D, int H, int W)? padding = null,
        (int D, int H, int W)? outputPadding = null, int groups = 1, (int D, int H, int W)? dilation = null)
        => Conv3dOps.ConvTranspose3d(input, weight, bias, stride, padding ?? (0, 0, 0), outputPadding ?? (0, 0, 0), dilation ?? (1, 1, 1), groups);

    static (int Before, int After) SamePad(int dilation, int kernel)
    {
        int total = dilation * (kernel - 1);
        return (total / 2, total - total / 2);
    }
}
