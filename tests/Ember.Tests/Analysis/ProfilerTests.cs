using Ember.Analysis;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using Xunit.Abstractions;

namespace Ember.Tests.Analysis;

public class ProfilerTests(ITestOutputHelper output)
{
    [Fact]
    public void AlexNet_matches_the_notes_thop_output_exactly()
    {
        // Notes 001: thop.profile(torchvision.models.alexnet(), (randn(1,3,224,224),)) → flops 714206912.0, params 61100840.0.
        var model = new AlexNet();
        var report = Profiler.Profile(model, Torch.Zeros(1, 3, 224, 224));
        Assert.Equal(714_206_912L, report.TotalMacs);
        Assert.Equal(61_100_840L, report.TotalParameters);
        Assert.Equal(61_100_840L, report.Layers.Sum(l => l.Parameters));
        Assert.Empty(report.UncountedTypes);
        var conv1 = report.Layers[0];
        Assert.Equal("features.0", conv1.Path);
        Assert.Equal(new Shape(1, 64, 55, 55), conv1.OutputShape);
        Assert.Equal(64L * 55 * 55 * 3 * 11 * 11, conv1.Macs);  // 70,276,800: bias not counted
        var pool = report.Layers.Single(l => l.Path == "avgpool");
        Assert.Equal(2L * 256 * 6 * 6, pool.Macs);               // (1-element window + 1 divide) per output
        Assert.Equal(4096L * 9216, report.Layers.Single(l => l.Path == "classifier.1").Macs);
        Assert.True(model.Training);                              // the mode is restored
        Assert.Contains("714.21 M", Profiler.FormatTable(report));
    }

    [Fact]
    public void ResNet18_matches_thops_figures()
    {
        // thop's README: resnet18 11.69 M params, 1.82 G MACs. Exactly, by thop's rules:
        // convolutions 1,813,561,344 + fc 512,000 + avgpool 7·7·512 + 512 = 25,600
        // + BatchNorm (affine: 4 per input element) over 2,483,712 elements = 9,934,848 → 1,824,033,792.
        var report = Profiler.Profile(ResNet.ResNet18(), Torch.Zeros(1, 3, 224, 224));
        Assert.Equal(11_689_512L, report.TotalParameters);
        Assert.Equal(1_824_033_792L, report.TotalMacs);
        Assert.Equal(1_813_561_344L, report.Layers.Where(l => l.Rule == "conv").Sum(l => l.Macs));
        Assert.Equal(4L * 2_483_712, report.Layers.Where(l => l.Rule == "norm").Sum(l => l.Macs));
        Assert.Equal(25_600L, report.Layers.Single(l => l.Path == "avgpool").Macs);
        Assert.Equal("1.82 G", Units.Format(report.TotalMacs));
        Assert.Equal("11.69 M", Units.Format(report.TotalParameters));
        // The shared ReLU of a block runs twice: two rows, no parameters either time.
        Assert.Equal(2, report.Layers.Count(l => l.Path == "layer1.0.relu"));
    }

    [Fact]
    public void Notes_004_conv_flops_formula_is_two_times_macs()
    {
        // 3×3 convolution, 64 → 64 channels, output 480×640: 2·k_h·k_w·C_in·C_out·H_out·W_out ≈ 2e10 = 20 GFLOPs.
        long macs = OpCounter.Conv(64L * 480 * 640, 64, 9);
        Assert.Equal(11_324_620_800L, macs);
        Assert.Equal(2L * 3 * 3 * 64 * 64 * 480 * 640, 2 * macs);
        Assert.InRange(2.0 * macs, 1.5e10, 2.5e10);
        // The same layer profiled at a smaller size in the FLOPs convention says so.
        var report = Profiler.Profile(new Conv2d(64, 64, 3, padding: 1), Torch.Zeros(1, 64, 12, 16), OpsConvention.Flops);
        Assert.Equal(2L * 9 * 64 * 64 * 12 * 16, report.TotalOps);
        Assert.Equal(report.TotalMacs * 2, report.TotalFlops);
        var table = Profiler.FormatTable(report);
        Assert.Contains("FLOPs", table.Split('\n')[0]);
        Assert.Contains("FLOPs (= 2 × MACs", table);
        Assert.Equal("Conv2d", report.Layers[0].Path);
    }

    [Fact]
    public void Normalization_pooling_softmax_and_grouped_conv_follow_thop()
    {
        var x = Torch.Zeros(2, 4, 5, 5);
        Assert.Equal(4L * x.NumEl, Profiler.Profile(new BatchNorm2d(4), x).TotalMacs);
        Assert.Equal(2L * x.NumEl, Profiler.Profile(new BatchNorm2d(4, affine: false), x).TotalMacs);
        Assert.Equal(4L * x.NumEl, Profiler.Profile(new LayerNorm([5]), x).TotalMacs);
        // Adaptive 5 → 3 pools windows [0,2), [1,4), [3,5): 2 + 3 + 2 = 7 per axis, plus one divide per output.
        Assert.Equal(2L * 4 * 7 * 7 + 2 * 4 * 3 * 3, Profiler.Profile(new AdaptiveAvgPool2d(3), x).TotalMacs);
        // AvgPool 3, stride 2, padding 1 over 5: windows start at −1, 1, 3 → 3 each with padding counted (9 per axis).
        Assert.Equal(2L * 4 * 9 * 9 + 2 * 4 * 3 * 3, Profiler.Profile(new AvgPool2d(3, 2, 1), x).TotalMacs);
        // Without count_include_pad the clipped windows hold 2, 3, 2.
        Assert.Equal(2L * 4 * 7 * 7 + 2 * 4 * 3 * 3, Profiler.Profile(new AvgPool2d(3, 2, 1, countIncludePad: false), x).TotalMacs);
        // Softmax over 5 features in 40 rows: 5 exp + 4 add + 5 div.
        Assert.Equal(40L * 14, Profiler.Profile(new Softmax(-1), x).TotalMacs);
        // Depthwise conv: C_in/groups = 1.
        Assert.Equal(2L * 4 * 5 * 5 * 1 * 9, Profiler.Profile(new Conv2d(4, 4, 3, padding: 1, groups: 4), x).TotalMacs);
        // Zero-cost and rule-less layers.
        var seq = new Sequential(new ReLU(), new MaxPool2d(2), new Dropout(), new Flatten(), new GELU());
        var r = Profiler.Profile(seq, x);
        Assert.Equal(0L, r.TotalMacs);
        Assert.Equal(["GELU"], r.UncountedTypes);
        Assert.Equal(["zero", "zero", "zero", "zero", "none"], r.Layers.Select(l => l.Rule));
        Assert.Contains("No counting rule", Profiler.FormatTable(r));
    }

    [Fact]
    public void Attention_is_counted_by_thops_rule_once_per_layer()
    {
        // One encoder layer on [N=2, L=5, E=8], 2 heads: attention N·(E·(2LE + 2LE) + 2·L·L·E) + softmax(N·H·L rows of L),
        // two linears, two LayerNorms (4 per element).
        var layer = new TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0, batchFirst: true);
        var x = Torch.Zeros(2, 5, 8);
        var report = Profiler.Profile(layer, x);
        long attention = 2L * (8 * (2 * 5 * 8 + 5 * 16) + 2 * 5 * 5 * 8) + 2L * 2 * 5 * (5 + 4 + 5);
        Assert.Equal(attention, report.Layers.Single(l => l.Rule == "attention").Macs);
        Assert.Equal(new Shape(2, 5, 8), report.Layers.Single(l => l.Rule == "attention").OutputShape);   // batch-first, as returned
        Assert.Equal(attention + 2 * 5 * 16 * 8 + 2 * 5 * 8 * 16 + 2 * 4L * x.NumEl, report.TotalMacs);
        Assert.DoesNotContain(report.Layers, l => l.Path == "self_attn.out_proj");
        Assert.Equal(layer.ParameterCount(), report.Layers.Sum(l => l.Parameters));
    }

    [Fact]
    public void Per_module_training_flags_are_restored()
    {
        var model = new Sequential(new Linear(3, 4), new Dropout(), new Linear(4, 2));
        model.Train();
        model[1].Eval();
        var report = Profiler.Profile(model, Torch.Ones(1, 3));
        Assert.True(model.Training);
        Assert.False(model[1].Training);
        Assert.True(model[2].Training);
        Assert.Equal(12L + 8, report.TotalMacs);
    }

    [Fact]
    public void Markdown_table_has_header_rows_and_totals()
    {
        var report = Profiler.Profile(new LeNet(), Torch.Zeros(1, 1, 28, 28));
        var lines = Profiler.FormatTable(report, markdown: true).Split('\n');
        Assert.Equal("| # | Layer | Type | Output shape | Params | MACs |", lines[0]);
        Assert.Equal("|---:|---|---|---|---:|---:|", lines[1]);
        Assert.Contains(lines, l => l.StartsWith("|  | Total |", StringComparison.Ordinal) && l.Contains(Units.Format(report.TotalMacs), StringComparison.Ordinal));
        Assert.Equal(report.Layers.Count + 3, lines.TakeWhile(l => l.StartsWith('|')).Count());
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("resnet")]
    [InlineData("vit")]
    [InlineData("lenet")]
    public void Every_small_zoo_model_profiles(string name)
    {
        var model = ModelZoo.Create(name);
        var report = Profiler.Profile(model, Torch.Zeros([1, .. ModelZoo.InputShape(name)]));
        Assert.Equal(model.ParameterCount(), report.TotalParameters);
        Assert.True(report.TotalMacs > 0);
        Assert.Equal(new Shape(1, 10), report.Layers[^1].OutputShape);
        output.WriteLine(Profiler.FormatTable(report, markdown: true));
    }

    [Theory]
    [InlineData(714206912.0, "714.21 M")]
    [InlineData(61100840.0, "61.10 M")]
    [InlineData(1824033792.0, "1.82 G")]
    [InlineData(999.0, "999")]
    [InlineData(1500.0, "1.50 K")]
    [InlineData(2.26e13, "22.60 T")]
    public void Units_use_decimal_prefixes(double value, string expected) => Assert.Equal(expected, Units.Format(value));
}
