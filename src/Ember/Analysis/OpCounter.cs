using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Analysis;

/// <summary>
/// thop's counting rules (ultralytics/thop, thop/vision/basic_hooks.py and calc_func.py), one per layer type, in
/// multiply-accumulates. They are the numbers PyTorch users see from <c>thop.profile</c>:
/// conv = output elements × C_in/groups × k_h·k_w (bias not counted); linear = output elements × in_features;
/// normalization = 2·numel(input), doubled when affine; ReLU, max pooling, dropout, flatten, identity = 0.
/// </summary>
public static class OpCounter
{
    /// <summary>Convolution: output elements × (C_in / groups) × kernel elements (thop's calculate_conv2d_flops).</summary>
    public static long Conv(long outputElements, long inChannelsPerGroup, long kernelElements) => outputElements * inChannelsPerGroup * kernelElements;

    /// <summary>Transposed convolution: it scatters, so thop walks the input: input elements × (C_out / groups) × kernel elements.</summary>
    public static long ConvTranspose(long inputElements, long outChannelsPerGroup, long kernelElements) => inputElements * outChannelsPerGroup * kernelElements;

    /// <summary>Linear: output elements × in_features (thop's calculate_linear).</summary>
    public static long Linear(long outputElements, long inFeatures) => outputElements * inFeatures;

    /// <summary>Batch/instance/group/layer norm: 2·numel(input), twice that with an affine transform (thop's count_normalization).</summary>
    public static long Norm(long inputElements, bool affine) => 2 * inputElements * (affine ? 2 : 1);

    /// <summary>Softmax over rows of <paramref name="features"/>: exp, add and divide per element, one add fewer per row (thop's calculate_softmax).</summary>
    public static long Softmax(long rows, long features) => rows * (features + Math.Max(features - 1, 0) + features);

    /// <summary>
    /// Adaptive average pooling: one add per pooled input plus one divide per output. Along each axis output j pools
    /// [⌊j·I/O⌋, ⌈(j+1)·I/O⌉); an axis left alone (I = O) contributes its length (thop's count_adap_avgpool).
    /// </summary>
    public static long AdaptiveAvgPool(Shape input, Shape output)
    {
        long windows = 1;
        for (int d = 0; d < input.Rank; d++)
        {
            long i = input[d], o = output[d];
            if (i == o) { windows *= o; continue; }
            long sum = 0;
            for (long j = 0; j < o; j++) sum += CeilDiv((j + 1) * i, o) - j * i / o;
            windows *= sum;
        }
        return windows + output.NumEl;
    }

    /// <summary>
    /// Average pooling: one add per input element inside each window (padding included when count_include_pad) plus one
    /// divide per output (thop's count_avgpool).
    /// </summary>
    public static long AvgPool(Shape input, Shape output, Size2 kernelSize, Size2 strides, Size2 paddings, bool countIncludePad)
    {
        long windows = 1;
        for (int d = input.Rank - 2; d < input.Rank; d++)
        {
            bool h = d == input.Rank - 2;
            int kernel = h ? kernelSize.H : kernelSize.W, stride = h ? strides.H : strides.W, padding = h ? paddings.H : paddings.W;
            long size = input[d];
            long lower = countIncludePad ? -padding : 0, upper = countIncludePad ? size + padding : size;
            long sum = 0;
            for (long i = 0; i < output[d]; i++)
            {
                long start = i * stride - padding;
                sum += Math.Max(Math.Min(start + kernel, upper) - Math.Max(start, lower), 0);
            }
            windows *= sum;
        }
        long leading = 1;
        for (int d = 0; d < input.Rank - 2; d++) leading *= input[d];
        return leading * windows + output.NumEl;
    }

    /// <summary>
    /// Multi-head attention (thop's count_multihead_attention) for target length L, attended length S, batch N, embed E:
    /// N·(E·(2·L·E + S·2E) + 2·L·S·E) + softmax over N·H·L rows of S.
    /// </summary>
    public static long MultiheadAttention(long batch, long targetLength, long attendedLength, long embedDim, long numHeads)
    {
        long projections = embedDim * (2 * targetLength * embedDim + attendedLength * 2 * embedDim);
        long attention = 2 * targetLength * attendedLength * embedDim;
        return batch * (projections + attention) + Softmax(batch * numHeads * targetLength, attendedLength);
    }

    /// <summary>The MACs and rule name for one call of <paramref name="m"/>; rule "none" for types thop has no rule for.</summary>
    internal static (long Macs, string Rule) Count(Module m, Tensor input, Tensor output)
    {
        long inEl = input.NumEl, outEl = output.NumEl;
        switch (m)
        {
            // Weight [C_out, C_in/groups, k...]: its second dimension is C_in/groups whatever the layer stores.
            case Conv2d c: return (Conv(outEl, c.Weight.Size(1), c.Weight.Size(2) * c.Weight.Size(3)), "conv");
            case Conv1d c: return (Conv(outEl, c.Weight.Size(1), c.Weight.Size(2)), "conv");
            // Transposed weight [C_in, C_out/groups, k...].
            case ConvTranspose2d c: return (ConvTranspose(inEl, c.Weight.Size(1), c.Weight.Size(2) * c.Weight.Size(3)), "conv");
            case Linear l: return (Linear(outEl, l.InFeatures), "linear");
            case NormBase n: return (Norm(inEl, n.Affine), "norm");
            case GroupNorm g: return (Norm(inEl, g.Affine), "norm");
            case LayerNorm l: return (Norm(inEl, l.ElementwiseAffine), "norm");
            case PReLU p: return (p.Training ? 0 : inEl, "prelu");
            case Softmax s: return (SoftmaxCount(input, s.Dim), "softmax");
            case LogSoftmax s: { var (rows, _) = SoftmaxRows(input, s.Dim); return (SoftmaxCount(input, s.Dim) + rows, "softmax"); }
            case Softmin s: return (SoftmaxCount(input, s.Dim) + inEl, "softmax");
            case AdaptiveAvgPool2d: return (AdaptiveAvgPool(input.Shape, output.Shape), "pool");
            case AvgPool2d a: return (AvgPool(input.Shape, output.Shape, a.KernelSize, a.Stride, a.Padding, a.CountIncludePad), "pool");
            case ReLU or ReLU6 or LeakyReLU or MaxPool2d or AdaptiveMaxPool2d or Dropout or Dropout2d or AlphaDropout
                or Identity or Flatten or Unflatten or Embedding:
                return (0, "zero");
            default: return (0, "none");
        }
    }

    static (long Rows, long Features) SoftmaxRows(Tensor input, int dim)
    {
        long features = input.Rank == 0 ? 1 : input.Size(dim);
        return (features == 0 ? 0 : input.NumEl / features, features);
    }

    static long SoftmaxCount(Tensor input, int dim)
    {
        var (rows, features) = SoftmaxRows(input, dim);
        return Softmax(rows, features);
    }

    static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
