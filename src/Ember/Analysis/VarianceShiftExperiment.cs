using System.Diagnostics;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Analysis;

/// <summary>
/// The notes' variance-shift experiment (Li et al. 2019): one small CNN (three 3×3 conv-BN-ReLU blocks at 16, 32 and 64
/// channels, global average pooling, a linear head) with its noise placed in one of <see cref="Placements"/>, trained
/// with Adam, then scored on the test set and measured by <see cref="VarianceShift.Measure"/>:
/// <list type="bullet">
/// <item>none: no dropout;</item>
/// <item>dropout_before_bn: Dropout(p) before the second and third conv-BN blocks, so each of those BNs sees dropped inputs in training;</item>
/// <item>dropout_after_bn: Dropout(p) once, after the last BN (before the head), where no BN follows it;</item>
/// <item>gaussian_before_bn: <see cref="GaussianDropout"/>(p) where dropout_before_bn has Dropout;</item>
/// <item>uniform_before_bn: <see cref="UniformDropout"/>(β) (Uout) there instead.</item>
/// </list>
/// </summary>
public static class VarianceShiftExperiment
{
    /// <summary>The noise placements, in table order.</summary>
    public static IReadOnlyList<string> Placements { get; } = ["none", "dropout_before_bn", "dropout_after_bn", "gaussian_before_bn", "uniform_before_bn"];

    /// <summary>The CNN with the noise of <paramref name="placement"/> (drop rate <paramref name="p"/>, Uout's β <paramref name="beta"/>).</summary>
    public static Sequential Build(string placement, double p = 0.5, double beta = 0.1, int inChannels = 1, int numClasses = 10)
    {
        if (!Placements.Contains(placement))
            throw new ArgumentException($"VarianceShiftExperiment: unknown placement '{placement}'; valid: {string.Join(", ", Placements)}", nameof(placement));
        Module Noise() => placement switch
        {
            "dropout_before_bn" => new Dropout(p),
            "gaussian_before_bn" => new GaussianDropout(p),
            "uniform_before_bn" => new UniformDropout(beta),
            _ => new Identity(),
        };
        return new Sequential(
            new Conv2d(inChannels, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
            Noise(), new Conv2d(16, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            Noise(), new Conv2d(32, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(),
            new AdaptiveAvgPool2d(1), new Flatten(), placement == "dropout_after_bn" ? new Dropout(p) : new Identity(), new Linear(64, numClasses));
    }

    /// <summary>
    /// Seeds the default generator with <paramref name="seed"/>, builds the <paramref name="placement"/> model, trains it
    /// for <paramref name="epochs"/> epochs of shuffled mini-batches (Adam, lr <paramref name="lr"/>) on
    /// <paramref name="trainImages"/> [N, C, H, W] (normalized) and <paramref name="trainLabels"/>, then reports the test
    /// top-1 and loss in evaluation mode and the variance shift of every BN (both forms) measured on the first
    /// <paramref name="measureBatch"/> test images.
    /// </summary>
    public static VarianceShiftResult Run(string placement, long seed, Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels,
        int epochs = 3, int batchSize = 128, double lr = 2e-3, double p = 0.5, double beta = 0.1, int measureBatch = 1000)
    {
        var clock = Stopwatch.StartNew();
        Torch.ManualSeed(seed);
        var model = Build(placement, p, beta, trainImages.Size(1));
        var optimizer = new Adam(model.Parameters(), new AdamOptions { LearningRate = lr });
        int n = (int)trainImages.Size(0);
        var shuffle = new Generator(seed + 1);
        model.Train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Torch.Randperm(n, shuffle);
            for (int start = 0; start < n; start += batchSize)
            {
                var index = order.Narrow(0, start, Math.Min(batchSize, n - start));
                optimizer.ZeroGrad();
                F.CrossEntropy(model.Call(trainImages.IndexSelect(0, index)), trainLabels.IndexSelect(0, index)).Backward();
                optimizer.Step();
            }
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        model.Eval();
        long right = 0;
        double loss = 0;
        int m = (int)testImages.Size(0);
        using (Torch.NoGrad())
            for (int start = 0; start < m; start += 500)
            {
                int count = Math.Min(500, m - start);
                var output = model.Call(testImages.Narrow(0, start, count));
                var labels = testLabels.Narrow(0, start, count);
                right += (long)output.ArgMax(1).Eq(labels).To(DType.Float64).Sum().Item();
                loss += F.CrossEntropy(output, labels).Item() * count;
            }
        var batch = testImages.Narrow(0, 0, Math.Min(measureBatch, m));
        return new VarianceShiftResult(placement, seed, (double)right / m, loss / m, VarianceShift.Measure(model, batch), VarianceShift.MeasureRunning(model, batch), trainSeconds);
    }
}
