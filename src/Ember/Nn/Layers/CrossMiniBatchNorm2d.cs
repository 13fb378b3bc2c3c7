using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Cross mini-batch normalization (CmBN, YOLOv4): with gradient accumulation over <see cref="AccumulationSteps"/>
/// mini-batches, the statistics that normalize mini-batch t of a window are those of mini-batches 1…t together, so the
/// last mini-batch of the window is normalized exactly as a BatchNorm over the whole accumulated batch would. The
/// earlier mini-batches' statistics enter as constants (no gradient flows back into them, as in CBN and CmBN); the
/// running statistics move once per window, by the window's mean and unbiased variance. Evaluation uses the running
/// statistics like <see cref="BatchNorm2d"/>.
/// </summary>
public sealed class CrossMiniBatchNorm2d : NormBase
{
    double count;          // samples per channel seen so far in this window
    Tensor? mean, squares; // their per-channel mean and sum of squared deviations, detached
    int step;

    /// <summary>A CmBN over windows of <paramref name="accumulationSteps"/> mini-batches (the trainer's accumulate).</summary>
    public CrossMiniBatchNorm2d(int numFeatures, int accumulationSteps, double eps = 1e-5, double? momentum = 0.1, bool affine = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats: true)
    {
        if (accumulationSteps < 1)
            throw new ArgumentException($"CrossMiniBatchNorm2d: accumulation_steps must be at least 1, got {accumulationSteps}");
        AccumulationSteps = accumulationSteps;
    }

    /// <summary>Mini-batches per window; with 1 this is <see cref="BatchNorm2d"/>.</summary>
    public int AccumulationSteps { get; }

    /// <summary>Which mini-batch of the current window comes next (0-based).</summary>
    public int StepInWindow => step;

    /// <summary>Starts a new window (for example after an interrupted accumulation).</summary>
    public void ResetWindow() { step = 0; count = 0; mean = null; squares = null; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4)
            throw new ArgumentException($"CrossMiniBatchNorm2d: expected 4D input (got {input.Rank}D input, shape {input.Shape})");
        CheckChannels(input, 1);
        int[] shape = [1, NumFeatures, 1, 1];
        if (!Training) return F.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, training: false, eps: Eps);
        int[] dims = [0, 2, 3];
        double n = input.NumEl / NumFeatures;
        if (count + n <= 1)
            throw new ArgumentException($"CrossMiniBatchNorm2d: expected more than 1 value per channel when training, got input size {input.Shape}");
        var batchMean = input.Mean(dims);
        var batchSquares = (input - batchMean.Reshape(shape)).Square().Sum(dims);
        Tensor windowMean, windowSquares;
        if (mean is null || squares is null) (windowMean, windowSquares) = (batchMean, batchSquares);
        else
        {
            // Chan et al.'s pairwise combination of (count, mean, M2): exact, and stable where E[x²] − E[x]² is not
            double total = count + n;
            var delta = batchMean - mean;
            windowMean = mean + delta * (n / total);
            windowSquares = squares + batchSquares + delta.Square() * (count * n / total);
        }
        count += n;
        var variance = windowSquares / count;
        var output = ScaleShift((input - windowMean.Reshape(shape)) * (variance + Eps).Rsqrt().Reshape(shape), shape);
        mean = windowMean.Detach();
        squares = windowSquares.Detach();
        if (++step == AccumulationSteps)
        {
            using (Torch.NoGrad())
            {
                NumBatchesTracked!.AddInPlace(1);
                double m = Momentum ?? 1.0 / NumBatchesTracked.Item();
                RunningMean!.MulInPlace(1 - m).AddInPlace(mean * m);
                RunningVar!.MulInPlace(1 - m).AddInPlace(squares / (count - 1) * m);
            }
            ResetWindow();
        }
        return output;
    }

    Tensor ScaleShift(Tensor normalized, int[] shape)
    {
        if (Weight is not null) normalized = normalized * Weight.Reshape(shape);
        return Bias is null ? normalized : normalized + Bias.Reshape(shape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => base.ExtraRepr() + $", accumulation_steps={AccumulationSteps}";
}
