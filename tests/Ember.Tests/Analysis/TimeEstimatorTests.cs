using Ember.Analysis;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

public class TimeEstimatorTests
{
    [Fact]
    public void Notes_example_1000_flops_at_10_flops_take_100_seconds()
        => Assert.Equal(100.0, TimeEstimator.MinimumSeconds(1000, 10), 12);

    [Fact]
    public void Device_table_holds_the_notes_fp32_figures()
    {
        Assert.Equal(9, DeviceTable.Known.Count);
        Assert.Equal(19.5, DeviceTable.Find("A100").Fp32Tflops);
        Assert.Equal(35.7, DeviceTable.Find("RTX 3090").Fp32Tflops);
        Assert.Equal(36.45, DeviceTable.Find("3090 Ti").Fp32Tflops);
        Assert.Equal(14.2, DeviceTable.Find("2080 Ti").Fp32Tflops);
        Assert.Equal(11.34, DeviceTable.Find("1080 Ti").Fp32Tflops);
        Assert.Equal(15.7, DeviceTable.Find("V100").Fp32Tflops);
        Assert.Equal(9.3, DeviceTable.Find("P100").Fp32Tflops);
        Assert.Equal(8.1, DeviceTable.Find("T4").Fp32Tflops);
        Assert.Equal(16.3, DeviceTable.Find("RTX 6000").Fp32Tflops);
        var ex = Assert.Throws<ArgumentException>(() => DeviceTable.Find("H100"));
        Assert.Contains("H100", ex.Message);
    }

    [Fact]
    public void Batch_time_scales_with_batch_and_triples_for_training()
    {
        // One Linear(100, 10) profiled at batch 2: 2·100·10 = 2000 MACs → 2000 FLOPs per sample.
        var report = Profiler.Profile(new Linear(100, 10), Torch.Zeros(2, 100));
        var device = new DeviceSpec("test", 1e-9, 1);   // 1000 FLOPS
        Assert.Equal(2000.0 * 64 / 1000, TimeEstimator.MinimumBatchSeconds(report, 64, device), 9);
        Assert.Equal(3 * 2000.0 * 64 / 1000, TimeEstimator.MinimumBatchSeconds(report, 64, device, training: true), 9);
        var table = TimeEstimator.FormatTable(report, 64);
        Assert.Contains("NVIDIA A100", table);
        Assert.Contains("memory bandwidth", table);
    }

    [Fact]
    public void This_machine_is_measured_with_a_plausible_throughput()
    {
        var me = DeviceTable.MeasureThisMachine(n: 128, repeats: 3);
        // Between 0.1 GFLOPS (far below any CPU here) and 100 TFLOPS.
        Assert.InRange(me.Fp32Tflops, 1e-4, 100);
        Assert.True(me.MemoryBytes > 0);
        Assert.StartsWith("This machine", me.Name);
    }
}
