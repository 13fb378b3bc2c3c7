using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Configuration;
using Ember.Detection.Optim;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Optim.Schedulers;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect train`'s learning-rate schedule (<see cref="DetectJob.Schedule"/>) with and without --lrf, the epochs
/// --close-mosaic closes, and how both options are checked, written to args.yaml and read back.
/// </summary>
public class DetectScheduleTests
{
    // YOLOv5's three parameter groups (norm weights, weights, biases) over a small net
    static Sgd YoloSgd()
    {
        Torch.ManualSeed(3);
        var net = new Ember.Nn.Sequential([new Conv2d(1, 2, 3), new BatchNorm2d(2), new Conv2d(2, 1, 1)]);
        return YoloParameterGroups.Of(net).Sgd(0.01, 0.937, 5e-4);
    }

    // Each group's rate and group 1's momentum at steps 0..T of a run of `epochs` × `batches` steps (step t: after t Step() calls).
    static List<(double[] Lr, double Momentum)> Steps(Sgd sgd, LRScheduler? scheduler, int total)
    {
        var steps = new List<(double[], double)>();
        for (int t = 0; t <= total; t++)
        {
            if (t > 0) scheduler?.Step();
            steps.Add(([.. sgd.ParamGroups.Select(g => g.LearningRate)], ((SgdOptions)sgd.ParamGroups[1].Options).Momentum));
        }
        return steps;
    }

    static List<(double[] Lr, double Momentum)> Steps(DetectConfig config, int batches)
    {
        var sgd = YoloSgd();
        return Steps(sgd, DetectJob.Schedule(config, sgd, batches).Scheduler, config.Epochs * batches);
    }

    // lr 0.01 over 2 epochs × 5 batches = 10 steps, lrf 0.1, no warm-up
    static DetectConfig WithLrf(string schedule, int warmupEpochs = 0)
        => new() { Schedule = schedule, Lr = 0.01, Lrf = 0.1, Epochs = 2, WarmupEpochs = warmupEpochs, WarmupMinSteps = 0 };

    [Fact]
    public void Cosine_with_lrf_follows_yolov5s_cosine_to_lr_times_lrf()
    {
        // By hand, lr·(((1 − cos(π·t/10)) / 2)·(0.1 − 1) + 1): t 2: (1 − 0.809016994)/2 = 0.0954915028, ·(−0.9) + 1 =
        // 0.914057647; t 5: 0.55; t 6: (1 + 0.309016994)/2 = 0.654508497, ·(−0.9) + 1 = 0.410942353; t 10: 0.1.
        var steps = Steps(WithLrf("cosine"), batches: 5);
        foreach (var (t, lr) in new[] { (0, 0.01), (2, 0.00914057647), (5, 0.0055), (6, 0.00410942353), (10, 0.001) })
            Assert.All(steps[t].Lr, r => Assert.Equal(lr, r, 11));
        Assert.All(steps, s => Assert.Equal(0.937, s.Momentum));
    }

    [Fact]
    public void Linear_with_lrf_follows_yolov5s_linear_to_lr_times_lrf_and_without_it_falls_to_0()
    {
        // lr·((1 − t/10)·(1 − 0.1) + 0.1): t 2: 0.82, t 5: 0.55, t 9: 0.19, t 10: 0.1
        var steps = Steps(WithLrf("linear"), batches: 5);
        foreach (var (t, lr) in new[] { (0, 0.01), (2, 0.0082), (5, 0.0055), (9, 0.0019), (10, 0.001) })
            Assert.All(steps[t].Lr, r => Assert.Equal(lr, r, 12));
        var plain = Steps(WithLrf("linear") with { Lrf = null }, batches: 5);
        foreach (var (t, lr) in new[] { (2, 0.008), (5, 0.005), (10, 0.0) })
            Assert.All(plain[t].Lr, r => Assert.Equal(lr, r, 12));
    }

    [Fact]
    public void Onecycle_with_lrf_ends_at_lr_times_lrf()
    {
        // OneCycleLR over 10 steps: from 0.01/25 = 0.0004 up to 0.01 at step 0.3·10 − 1 = 2, then a cosine down to
        // 0.0004 / (1 / (25·0.1)) = 0.001 at step 9 (the last step's rate); step 5 is 3/7 of the way down:
        // 0.001 + 0.0045·(cos(3π/7) + 1) = 0.001 + 0.0045·1.22252093 = 0.00650134420.
        var steps = Steps(WithLrf("onecycle"), batches: 5);
        foreach (var (t, lr) in new[] { (0, 0.0004), (1, 0.0052), (2, 0.01), (5, 0.0065013442), (9, 0.001) })
            Assert.All(steps[t].Lr, r => Assert.Equal(lr, r, 10));
        // without --lrf it ends at OneCycleLR's own 0.0004 / 1e4
        var plain = Steps(WithLrf("onecycle") with { Lrf = null }, batches: 5);
        Assert.All(plain[9].Lr, r => Assert.Equal(4e-8, r, 15));
    }

    [Fact]
    public void Under_warm_up_lrf_sets_the_rates_the_warm_up_moves_towards()
    {
        // warm-up 1 epoch = 5 steps: at step 2 the weights are 2/5 of the way from 0 to the cosine's 0.00914057647 and
        // the biases 2/5 of the way from 0.1 down to it; from step 5 on the cosine's own rates (step 6: 0.00410942353)
        var config = WithLrf("cosine", warmupEpochs: 1);
        var sgd = YoloSgd();
        var (scheduler, perStep, warmup) = DetectJob.Schedule(config, sgd, 5);
        Assert.IsType<YoloWarmup>(scheduler);
        Assert.Equal((true, 5), (perStep, warmup));
        var steps = Steps(sgd, scheduler, 10);
        Assert.Equal(0.00365623059, steps[2].Lr[0], 11);
        Assert.Equal(0.00365623059, steps[2].Lr[1], 11);
        Assert.Equal(0.0636562306, steps[2].Lr[2], 10);
        Assert.All(steps[6].Lr, r => Assert.Equal(0.00410942353, r, 11));
        Assert.All(steps[10].Lr, r => Assert.Equal(0.001, r, 12));
    }

    [Theory]
    [InlineData("cosine", 0)]
    [InlineData("cosine", 1)]
    [InlineData("onecycle", 0)]
    [InlineData("none", 0)]
    [InlineData("none", 1)]
    public void Without_lrf_every_step_is_bit_identical_to_the_schedule_before_the_option(string schedule, int warmupEpochs)
    {
        // what DetectJob built before --lrf: TrainJob's schedule without warm-up, under YoloWarmup except for onecycle
        var config = new DetectConfig { Schedule = schedule, Lr = 0.01, Epochs = 3, WarmupEpochs = warmupEpochs, WarmupMinSteps = 0 };
        const int batches = 7;
        var before = YoloSgd();
        var (main, _, perStep) = TrainJob.CreateSchedule(new TrainConfig { Schedule = schedule, Epochs = config.Epochs, WarmupSteps = 0, Lr = config.Lr }, before, batches);
        LRScheduler? old = main;
        int warmup = schedule == "onecycle" ? 0 : YoloWarmup.Steps(warmupEpochs, batches, 0);
        if (warmup > 0) { old = new YoloWarmup(before, main, warmup, YoloParameterGroups.BiasGroup, config.WarmupBiasLr, config.WarmupMomentum); perStep = true; }
        var expected = Steps(before, old, config.Epochs * batches);

        var now = YoloSgd();
        var (scheduler, nowPerStep, nowWarmup) = DetectJob.Schedule(config, now, batches);
        Assert.Equal((perStep, warmup), (nowPerStep, nowWarmup));
        Assert.Equal(old?.GetType(), scheduler?.GetType());
        var actual = Steps(now, scheduler, config.Epochs * batches);
        for (int t = 0; t < expected.Count; t++)
        {
            Assert.Equal(expected[t].Lr, actual[t].Lr);   // exact: the same doubles
            Assert.Equal(expected[t].Momentum, actual[t].Momentum);
        }
    }

    [Fact]
    public void Close_mosaic_closes_the_last_n_epochs()
    {
        var config = new DetectConfig { Epochs = 5, CloseMosaic = 2 };
        Assert.Equal(new[] { false, false, false, true, true }, Enumerable.Range(1, 5).Select(e => DetectJob.MosaicClosed(config, e)));
        Assert.DoesNotContain(true, Enumerable.Range(1, 5).Select(e => DetectJob.MosaicClosed(config with { CloseMosaic = 0 }, e)));
        Assert.All(Enumerable.Range(1, 5), e => Assert.True(DetectJob.MosaicClosed(config with { CloseMosaic = 5 }, e)));
    }

    [Theory]
    [InlineData(new[] { "--lrf", "0" }, "lrf (the final lr as a fraction of lr) must be in (0, 1], got 0")]
    [InlineData(new[] { "--lrf", "1.5" }, "lrf (the final lr as a fraction of lr) must be in (0, 1], got 1.5")]
    [InlineData(new[] { "--lrf=-0.01" }, "lrf (the final lr as a fraction of lr) must be in (0, 1], got -0.01")]
    [InlineData(new[] { "--lrf", "x" }, "key 'lrf' expects a finite number, got 'x'")]
    [InlineData(new[] { "--lrf", "0.01", "--schedule", "none" }, "lrf 0.01 needs a schedule to end with (cosine, linear or onecycle); schedule none keeps lr constant")]
    [InlineData(new[] { "--close-mosaic=-1" }, "close_mosaic (the last epochs trained without mosaic) must be between 0 and epochs (30), got -1")]
    [InlineData(new[] { "--close-mosaic", "11", "--epochs", "10" }, "close_mosaic (the last epochs trained without mosaic) must be between 0 and epochs (10), got 11")]
    [InlineData(new[] { "--close-mosaic", "2.5" }, "key 'close_mosaic' expects an integer, got '2.5'")]
    [InlineData(new[] { "--val-img", "100" }, "val_img must be 0 (--img) or a positive multiple of 32, got 100")]
    [InlineData(new[] { "--val-img=-32" }, "val_img must be 0 (--img) or a positive multiple of 32, got -32")]
    public void Bad_lrf_and_close_mosaic_values_are_usage_errors_naming_the_option(string[] options, string message)
    {
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", .. options, "--data", "nowhere/data.yaml"]);
        Assert.Equal(2, code);
        Assert.Contains("command line: " + message, stderr);
    }

    [Fact]
    public void Help_describes_both_options_with_their_defaults()
    {
        var (code, stdout, _) = CliFailureTests.Invoke(["detect", "train", "--help"]);
        Assert.Equal(0, code);
        var text = string.Join(" ", stdout.Split(new[] { ' ', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--lrf", text);
        Assert.Contains("(YOLOv5's lrf, 0.01 there); none: the schedule's own end (cosine and linear 0, onecycle lr/250000); default none", text);
        Assert.Contains("--close-mosaic", text);
        Assert.Contains("(YOLOv8's close_mosaic, 10 there); 0: off; default 0", text);
        Assert.Contains("cosine|linear|onecycle|none", text);
    }

    [Fact]
    public void Args_yaml_keeps_both_options_and_one_without_them_loads_as_before()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-args").FullName;
        try
        {
            var path = Path.Combine(temp, "args.yaml");
            var config = new DetectConfig { Schedule = "linear", Lrf = 0.05, Epochs = 12, CloseMosaic = 3 };
            File.WriteAllText(path, config.ToYaml());
            Assert.Equal(config, DetectConfig.Load(path));
            // an args.yaml from before the options: no lrf or close_mosaic key
            var older = string.Join("\n", new DetectConfig().ToYaml().Split('\n').Where(l => !l.StartsWith("lrf:") && !l.StartsWith("close_mosaic:")));
            Assert.DoesNotContain("lrf", older);
            File.WriteAllText(path, older);
            var loaded = DetectConfig.Load(path);
            Assert.Null(loaded.Lrf);
            Assert.Equal(0, loaded.CloseMosaic);
            // nor a val_img key (session 18): validation at --img, as before
            var noValImg = string.Join("\n", new DetectConfig { Img = 256 }.ToYaml().Split('\n').Where(l => !l.StartsWith("val_img:")));
            File.WriteAllText(path, noValImg);
            Assert.Equal(256, DetectConfig.Load(path).EffectiveValImg);
            Assert.Equal(320, (new DetectConfig { Img = 256, ValImg = 320 }).EffectiveValImg);
            Assert.Equal(new DetectConfig(), loaded);
            Assert.Contains("lrf: null", new DetectConfig().ToYaml());
        }
        finally { Directory.Delete(temp, true); }
    }
}
