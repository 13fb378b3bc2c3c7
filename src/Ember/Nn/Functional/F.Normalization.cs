namespace Ember.Nn.Functional;

// Normalizations. Statistics are computed in two passes (mean, then the mean of squared deviations), which stays
// accurate where E[x²] − E[x]² would cancel; the backward comes from the composition.
public static partial class F
{
    /// <summary>Shape [1, C, 1, …] that broadcasts a per-channel vector against an [N, C, *] input.</summary>
    static int[] ChannelShape(Tensor x, int channels)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[1] = channels;
        return shape;
    }

    static Tensor Affine(Tensor y, Tensor? weight, Tensor? bias, int[] shape)
    {
        if (weight is not null) y = y * weight.Reshape(shape);
        if (bias is not null) y = y + bias.Reshape(shape);
        return y;
    }

    /// <summary>(mean, biased variance) over <paramref name="dims"/>, kept as size-1 dimensions.</summary>
    static (Tensor Mean, Tensor Centered, Tensor Var) Moments(Tensor x, int[] dims)
    {
        var mean = x.Mean(dims, keepDim: true);
        var centered = x - mean;
        return (mean, centered, centered.Square().Mean(dims, keepDim: true));
    }

    /// <summary>running ← (1 − m)·running + m·batch, in place, without recording a gradient.</summary>
    static void UpdateRunning(Tensor running, Tensor batch, double momentum)
    {
        using (Torch.NoGrad())
        {
            var b = batch.Detach().Reshape(running.Shape.ToArray()).To(running.DType);
            running.MulInPlace(1 - momentum).AddInPlace(b * momentum);
        }
    }

    /// <summary>
    /// Batch normalization over an [N, C, *] input (torch.nn.functional.batch_norm). In training the batch's mean and
    /// biased variance normalize x and, when given, the running statistics are updated in place:
    /// running_mean ← (1 − m)·running_mean + m·mean, running_var ← (1 − m)·running_var + m·var·n/(n − 1) (unbiased).
    /// In evaluation the running statistics normalize. Then y·weight + bias per channel.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
        => BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, silu: false);

    /// <summary>
    /// silu(batch_norm(...)) (YOLOv5's Conv block after its convolution). In training on float32/float64 inputs it is one
    /// op whose kernel writes the SiLU output in BN's output pass and whose backward takes the SiLU gradient inside BN's
    /// (<see cref="Kernels.Norm.BatchNormKernel.ForwardSilu{T}"/>): the same values as the two ops, without the BN output
    /// as an extra tensor. Otherwise the two ops.
    /// </summary>
    internal static Tensor BatchNormSilu(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps)
        => training && input.DType is DType.Float32 or DType.Float64
            ? BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps, silu: true)
            : Silu(BatchNorm(input, runningMean, runningVar, weight, bias, training, momentum, eps));

    static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum, double eps, bool silu)
    {
        if (input.Rank < 2) throw new ArgumentException($"batch_norm: expected an input of at least 2 dimensions [N, C, *], got shape {input.Shape}");
        int c = input.Size(1);
        var shape = ChannelShape(input, c);
        CheckChannelVector("batch_norm", "running_mean", runningMean, c);
        CheckChannelVector("batch_norm", "running_var", runningVar, c);
        CheckChannelVector("batch_norm", "weight", weight, c);
        CheckChannelVector("batch_norm", "bias", bias, c);
        if (training)
        {
            int n = input.NumEl / Math.Max(c, 1);
            if (n <= 1) throw new ArgumentException($"batch_norm: expected more than 1 value per channel when training, got input size {input.Shape}");
            var (output, mean, var) = Ops.BatchNormOps.Training(input, weight, bias, eps, silu);
            using (Torch.NoGrad())
            {
                if (runningMean is not null) UpdateRunning(runningMean, mean.Reshape(shape), momentum);
                if (runningVar is not null) UpdateRunning(runningVar, var.Reshape(shape) * ((double)n / (n - 1)), momentum);
            }
            return output;
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new ArgumentException("batch_norm: running_mean and running_var must be given when training=false");
            // PyTorch's inference form: per-channel α = w/√(var + eps) and β = b − mean·α, then one multiply-add pass
            // over the input instead of four.
            // (α and β of a half input are computed in float32 and rounded once, so the output keeps the input's dtype)
            var statsType = input.DType.IsReducedFloat() ? DType.Float32 : input.DType;
            var rm = runningMean.To(statsType).Reshape(shape);
            var alpha = (runningVar.To(statsType).Reshape(shape) + eps).Rsqrt();
            if (weight is not null) alpha = weight.Reshape(shape) * alpha;
            var beta = bias is null ? -(rm * alpha) : bias.Reshape(shape) - rm * alpha;
            return input * alpha.To(input.DType) + beta.To(input.DType);
        }
    }

    static void CheckChannelVector(string op, string name, Tensor? t, int channels)
    {
        if (t is not null && t.NumEl != channels)
            throw new ArgumentException($"{op}: expected {name} with {channels} elements (one per channel), got shape {t.Shape}");
    }

    /// <summary>
    /// Layer normalization over the trailing dimensions <paramref name="normalizedShape"/> (torch.nn.functional.layer_norm):
    /// (x − mean)/√(var + eps)·weight + bias, the biased variance taken over those dimensions.
    /// </summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        int k = normalizedShape.Length;
        if (k == 0 || input.Rank < k || !input.Shape.ToArray()[^k..].AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"layer_norm: expected input with trailing shape {new Shape(normalizedShape)}, got input shape {input.Shape}");
        int cols = normalizedShape.Aggregate(1, (a, b) => a * b);
        if (weight is not null && weight.NumEl != cols)
            throw new ArgumentException($"layer_norm: expected weight of shape {new Shape(normalizedShape)}, got {weight.Shape}");
        if (bias is not null && bias.NumEl != cols)
            throw new ArgumentException($"layer_norm: expected bias of shape {new Shape(normalizedShape)}, got {bias.Shape}");
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"layer_norm: expected a floating-point input, got {input.DType.TorchName()}");
        // autocast keeps normalization in float32; a half input outside autocast is normalized in float32 and rounded back
        input = Ops.PrecisionOps.Float32ForAutocast(input);
        if (input.DType.IsReducedFloat())
            return Ops.LayerNormOps.Forward(input.To(DType.Float32), k, weight, bias, eps).To(input.DType);
        return Ops.LayerNormOps.Forward(input, k, weight, bias, eps);
    }

    /// <summary>
    /// Group normalization (torch.nn.functional.group_norm): the C channels of an [N, C, *] input are split into
    /// <paramref name="numGroups"/> groups, each normalized over its channels and positions; then per-channel affine.
    /// </summary>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        if (input.Rank < 2) throw new ArgumentException($"group_norm: expected an input of at least 2 dimensions [N, C, *], got shape {input.Shape}");
        input = Ops.PrecisionOps.Float32ForAutocast(input);
        int n = input.Size(0), c = input.Size(1);
        if (numGroups <= 0 || c % numGroups != 0)
            throw new ArgumentException($"group_norm: expected number of channels in input ({c}) to be divisible by num_groups ({numGroups}), got input shape {input.Shape}");
        var grouped = input.Reshape(n, numGroups, -1);
        var (_, centered, var) = Moments(grouped, [2]);
        var y = (centered * (var + eps).Rsqrt()).Reshape(input.Shape.ToArray());
        CheckChannelVector("group_norm", "weight", weight, c);
        CheckChannelVector("group_norm", "bias", bias, c);
        return Affine(y, weight, bias, ChannelShape(input, c));
    }

    /// <summary>
    /// Instance normalization (torch.nn.functional.instance_norm): each (sample, channel) of an [N, C, *] input is
    /// normalized over its positions. With <paramref name="useInputStats"/> false the running statistics are used instead;
    /// when they are given and input statistics are used, they move towards the batch average of the per-instance
    /// mean and unbiased variance.
    /// </summary>
    public static Tensor InstanceNorm(Tensor input, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null,
        Tensor? bias = null, bool useInputStats = true, double momentum = 0.1, double eps = 1e-5)
    {
        if (input.Rank < 3) throw new ArgumentException($"instance_norm: expected an input of at least 3 dimensions [N, C, *], got shape {input.Shape}");
        int c = input.Size(1);
        var shape = ChannelShape(input, c);
        CheckChannelVector("instance_norm", "weight", weight, c);
        CheckChannelVector("instance_norm", "bias", bias, c);
        Tensor y;
        if (useInputStats)
        {
            int n = 1; // values per instance and channel (an empty batch has them too)
            for (int d = 2; d < input.Rank; d++) n *= input.Size(d);
            if (n <= 1 && runningMean is not null)
                throw new ArgumentException($"instance_norm: expected more than 1 spatial element when training, got input size {input.Shape}");
            var dims = Enumerable.Range(2, input.Rank - 2).ToArray();
            var (mean, centered, var) = Moments(input, dims);
            y = centered * (var + eps).Rsqrt();
            if (runningMean is not null) UpdateRunning(runningMean, mean.Mean(0).Reshape(c), momentum);
            if (runningVar is not null) UpdateRunning(runningVar, (var * ((double)n / (n - 1))).Mean(0).Reshape(c), momentum);
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new ArgumentException("instance_norm: running_mean and running_var must be given when use_input_stats=false");
            y = (input - runningMean.To(input.DType).Reshape(shape)) * (runningVar.To(input.DType).Reshape(shape) + eps).Rsqrt();
        }
        return Affine(y, weight, bias, shape);
    }
}
