using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

public class MemoryEstimatorTests
{
    [Fact]
    public void A_1000_by_1000_float32_matrix_takes_4_MB()
    {
        // Notes 003: 1000×1000×4 Byte = 4MB.
        Assert.Equal(4_000_000L, MemoryEstimator.TensorBytes([1000, 1000]));
        Assert.Equal(2_000_000L, MemoryEstimator.TensorBytes([1000, 1000], StoragePrecision.BFloat16));
        Assert.Equal("3.81 MiB", Units.FormatBytes(4_000_000));
        var ex = Assert.Throws<ArgumentException>(() => MemoryEstimator.TensorBytes([3, -1]));
        Assert.Contains("TensorBytes", ex.Message);
        Assert.Contains("[3, -1]", ex.Message);
    }

    [Fact]
    public void Notes_sizing_rule_for_100M_parameters_at_batch_32()
    {
        // Notes 001: (h·w·32·4 + h·w·32·4 + 100M·4) / 0.8, here with h = w = 224.
        double bytes = MemoryEstimator.NotesRule(224 * 224, 224 * 224, 100_000_000, 32);
        Assert.Equal((224.0 * 224 * 32 * 4 * 2 + 100e6 * 4) / 0.8, bytes, 6);
        Assert.Equal(516_056_320.0, bytes, 6);
        Assert.Equal(bytes / 2, MemoryEstimator.NotesRule(224 * 224, 224 * 224, 100_000_000, 32, StoragePrecision.Float16), 6);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => MemoryEstimator.NotesRule(1, 1, 1, 0));
        Assert.Contains("NotesRule", ex.Message);
    }

    static ProfileReport SmallProfile()
        => Profiler.Profile(new Sequential(new Linear(10, 20), new ReLU(), new Linear(20, 5)), Torch.Zeros(2, 10));

    [Fact]
    public void Training_keeps_activations_gradients_and_optimizer_state()
    {
        var report = SmallProfile();
        Assert.Equal(325L, report.TotalParameters);
        var adam = MemoryEstimator.Estimate(report, batchSize: 8, training: true);
        Assert.Equal(325L * 4, adam.Parameters);
        Assert.Equal(325L * 4, adam.Gradients);
        Assert.Equal(2 * 325L * 4, adam.OptimizerState);
        Assert.Equal((20 + 20 + 5) * 8L * 4, adam.Activations);   // every layer output, per sample × batch
        Assert.Equal(10 * 8L * 4, adam.Input);
        Assert.Equal(1300 + 1300 + 2600 + 1440 + 320L, adam.Total);
        Assert.Equal((long)Math.Ceiling(adam.Total / 0.8), adam.Recommended);
        Assert.Equal(325L * 4, MemoryEstimator.Estimate(report, 8, true, optimizer: OptimizerKind.SgdMomentum).OptimizerState);
        Assert.Equal(0L, MemoryEstimator.Estimate(report, 8, true, optimizer: OptimizerKind.Sgd).OptimizerState);
        var half = MemoryEstimator.Estimate(report, 8, true, StoragePrecision.Float16);
        Assert.Equal(adam.Total / 2, half.Total);
        Assert.Equal(half.Total, MemoryEstimator.Estimate(report, 8, true, StoragePrecision.BFloat16).Total);
    }

    [Fact]
    public void Inference_keeps_only_the_largest_live_pair_and_no_training_state()
    {
        var inference = MemoryEstimator.Estimate(SmallProfile(), batchSize: 8, training: false);
        Assert.Equal(0L, inference.Gradients);
        Assert.Equal(0L, inference.OptimizerState);
        Assert.Equal((20 + 20) * 8L * 4, inference.Activations);  // max(10+20, 20+20, 20+5) per sample
        Assert.Contains("Inference, batch 8, Float32", inference.ToString());
    }

    [Fact]
    public void Recommends_the_smallest_listed_device_that_fits()
    {
        var e = new MemoryEstimate(1, true, StoragePrecision.Float32, 10_000_000_000, 0, 0, 0, 0, 0.8);  // 12.5 GB recommended
        Assert.Equal(12_500_000_000L, e.Recommended);
        Assert.Equal(16.0, e.RecommendedDevice!.MemoryGB);
        Assert.Null(new MemoryEstimate(1, true, StoragePrecision.Float32, 70_000_000_000, 0, 0, 0, 0, 0.8).RecommendedDevice);  // 87.5 GB > A100's 80
    }
}
