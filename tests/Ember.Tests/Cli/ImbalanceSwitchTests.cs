using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>The class-imbalance switches of `ember train`: --imbalance, --sampler weighted, --bias-prior, --loss focal, --momentum-form.</summary>
public class ImbalanceSwitchTests
{
    [Fact]
    public void ImbalanceKeepsAnExponentialProfileFromAllToOneHundredth()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => (long)(i % 10)).ToArray();   // 100 per class, interleaved
        var kept = TrainJob.ImbalancedIndices(labels, 10, ratio: 100);
        var perClass = kept.GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.Count()).ToArray();
        var expected = Enumerable.Range(0, 10).Select(k => (int)Math.Ceiling(100 * Math.Pow(100, -k / 9.0) - 1e-9)).ToArray();
        Assert.Equal(expected, perClass);
        Assert.Equal(100, perClass[0]);
        Assert.Equal(1, perClass[9]);
        Assert.Equal(kept.Order(), kept);                                     // file order
        // Each class keeps its first images: exactly the first perClass[k] indices that carry label k.
        for (int k = 0; k < 10; k++)
            Assert.Equal(Enumerable.Range(0, labels.Length).Where(i => labels[i] == k).Take(perClass[k]), kept.Where(i => labels[i] == k));
    }

    static string[] TrainLosses(string project, TrainConfig config)
    {
        Assert.Equal(0, TrainJob.Run(config with { Project = project }, null, new StringWriter()));
        var run = Directory.GetDirectories(project).OrderBy(d => File.GetCreationTimeUtc(d)).ThenBy(d => d, StringComparer.Ordinal).Last();
        return [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')[1])];
    }

    [Fact]
    public void EachSwitchChangesTheRunItIsAddedTo()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var baseline = new TrainConfig { Model = "mlp", Epochs = 1, BatchSize = 64, Limit = 384, Plain = true, Seed = 3, Imbalance = 100, Optimizer = "sgd", Lr = 0.05 };
        var plain = TrainLosses(Path.Combine(project, "a"), baseline);
        // Runs are deterministic for a seed (TrainJobTests), so any difference below is the switch's doing.
        Assert.NotEqual(plain, TrainLosses(Path.Combine(project, "c"), baseline with { Sampler = "weighted" }));
        Assert.NotEqual(plain, TrainLosses(Path.Combine(project, "d"), baseline with { BiasPrior = true }));
        Assert.NotEqual(plain, TrainLosses(Path.Combine(project, "e"), baseline with { Loss = "focal" }));
        // The momentum forms differ only while the learning rate changes, which the default OneCycle schedule does every step.
        Assert.NotEqual(plain, TrainLosses(Path.Combine(project, "f"), baseline with { MomentumForm = "velocity" }));
        Assert.NotEqual(plain, TrainLosses(Path.Combine(project, "g"), baseline with { Oversample = "smote" }));
        Directory.Delete(project, true);
    }

    [Theory]
    [InlineData("--momentum-form velocity", "momentum_form velocity has no effect with optimizer adamw")]
    [InlineData("--loss focal --label-smoothing 0.1", "label_smoothing 0.1 has no effect with loss focal")]
    [InlineData("--imbalance 0.5", "imbalance must be 0 (off) or a ratio >= 1")]
    [InlineData("--sampler balanced", "unknown sampler 'balanced'; valid choices: random, weighted")]
    [InlineData("--loss bce", "unknown loss 'bce'; valid choices: ce, focal")]
    [InlineData("--oversample adasyn", "unknown oversample 'adasyn'; valid choices: none, smote")]
    [InlineData("--oversample smote --augment true", "use one of --oversample smote and --augment")]
    public void MisusedSwitchesAreNamedErrors(string options, string message)
        => TrainSwitchErrors.AssertRefused(options, message);

    [Fact]
    public void SmoteKeepsTheImagesAndAddsSyntheticOnesOnSegmentsOfTheirClassUntilBalanced()
    {
        // class 0: four images, class 1: two (a constant 1 and a constant 3), class 2: one
        float[] values = [0, 0.5f, -0.5f, 2, 1, 3, 7];
        long[] labels = [0, 0, 0, 0, 1, 1, 2];
        var set = new Ember.Data.TransformDataset<int, (Tensor, long)>(new IndexSet(values.Length),
            (i, _) => (Torch.Full([1, 2, 2], values[i]), labels[i]));
        var (resampled, newLabels) = TrainJob.SmoteOversample(set, classes: 3, seed: 1);
        Assert.Equal(12, resampled.Count);
        Assert.Equal([4, 4, 4], Enumerable.Range(0, 3).Select(k => newLabels.Count(l => l == k)));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(labels[i], resampled[i].Label);
            Assert.Equal(Enumerable.Repeat((double)values[i], 4), resampled[i].Image.ToDoubleArray());
        }
        for (int i = values.Length; i < 12; i++)
        {
            var (image, label) = resampled[i];
            var pixels = image.ToDoubleArray();
            Assert.Equal([1, 2, 2], image.Shape.ToArray());
            Assert.All(pixels, p => Assert.Equal(pixels[0], p));
            // a point between the two class-1 images, or a copy of the lone class-2 image
            if (label == 1) Assert.InRange(pixels[0], 1, 3);
            else Assert.Equal((2L, 7.0), (label, pixels[0]));
        }
    }

    sealed class IndexSet(int count) : Ember.Data.IDataset<int>
    {
        public int Count => count;
        public int this[int index] => index;
    }
}
