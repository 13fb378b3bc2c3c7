using System.Globalization;
using System.Text.RegularExpressions;
using Ember.Analysis;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>
/// The memory check before a run (<see cref="TrainingMemory.RequireFits"/>): a training step, a validation batch or a
/// predicted image measured on two and four samples and extrapolated, refused with exit 7 when it does not fit what the
/// process may use (set through the AvailableBytes seam), never changing the run it lets through. The probe switches the
/// storage pool off and reads the process's resident memory, so these run alone.
/// </summary>
[Collection(Tensors.StoragePoolCollection.Name)]
public class TrainingMemoryTests(DetectFaultFixture fx) : IClassFixture<DetectFaultFixture>
{
    // "needs about 1.2 GiB for …": the bytes the message names first
    static double Needed(string stderr)
    {
        var m = Regex.Match(stderr, @"needs about ([0-9.]+) (KiB|MiB|GiB)");
        Assert.True(m.Success, stderr);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * UnitBytes(m.Groups[2].Value);
    }

    static double UnitBytes(string unit) => unit switch { "B" => 1, "KiB" => 1 << 10, "MiB" => 1 << 20, "GiB" => 1 << 30, _ => throw new FormatException(unit) };

    static (int Code, string Stdout, string Stderr) WithAvailable(double bytes, string[] args)
    {
        TrainingMemory.AvailableBytes.Value = (long)bytes;
        try { return CliFailureTests.Invoke(args); }
        finally { TrainingMemory.AvailableBytes.Value = null; }
    }

    static (int Code, string Stdout, string Stderr) WithFree(long bytes, string[] args)
    {
        TrainingMemory.FreeBytes.Value = bytes;
        try { return CliFailureTests.Invoke(args); }
        finally { TrainingMemory.FreeBytes.Value = null; }
    }

    static (int Code, string Stdout, string Stderr) WithoutProbe(string[] args)
    {
        TrainingMemory.Unchecked.Value = true;
        try { return CliFailureTests.Invoke(args); }
        finally { TrainingMemory.Unchecked.Value = false; }
    }

    [Fact]
    public void A_step_between_the_old_lower_bound_and_what_it_measures_is_refused_and_one_with_room_is_not()
    {
        var project = Directory.CreateTempSubdirectory("ember-memory").FullName;
        try
        {
            string[] args = ["train", "--model", "cnn", "--batch-size", "512", "--limit", "512", "--epochs", "1", "--plain", "--project", project];
            // session 23's estimate from below: the layer outputs of one image (profiled) times the batch, the weights
            // with their gradients and AdamW's two moments
            var model = TrainJob.CreateModel(new TrainConfig { Model = "cnn" }, 10);
            var report = Profiler.Profile(model, Torch.Zeros(1, 1, 28, 28));
            double perImage = 4.0 * (report.ActivationElements + 28 * 28), lowerBound = 4.0 * report.TotalParameters * 4 + 512 * perImage;
            var (code, stdout, stderr) = WithAvailable(2 * lowerBound, args);
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("--model cnn at --batch-size 512 needs about", stderr);
            Assert.Contains("for 512 images, measured on steps of 2 and 4 images; ", stderr);
            // AdamW's moments of the 431,018 weights: 3.3 MiB, which session 23 printed as "0.0 GB"
            Assert.Contains($"; {TrainingMemory.Size(8.0 * report.TotalParameters)} that the optimizer (and EMA) keep; ", stderr);
            Assert.Contains("3.3 MiB", stderr);
            Assert.Contains($"more than the {TrainingMemory.Size(2 * lowerBound)} this process may use); lower --batch-size (512)", stderr);
            // what the step allocates per image (forward, loss, backward) is about twice the layer outputs
            double stepBytes = Step(stderr);
            Assert.True(stepBytes > 1.5 * 512 * perImage, $"the step's {stepBytes / 1e6:F0} MB against the layer outputs' {512 * perImage / 1e6:F0} MB");
            Assert.True(Needed(stderr) > 2 * lowerBound, stderr);
            // with room for what it said, the run trains
            (code, stdout, stderr) = WithAvailable(1.3 * Needed(stderr), args);
            Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void A_step_that_fits_the_machine_but_not_what_other_programs_leave_free_is_refused_naming_both()
    {
        var project = Directory.CreateTempSubdirectory("ember-memory").FullName;
        string[] args = ["train", "--model", "cnn", "--batch-size", "512", "--limit", "512", "--epochs", "1", "--plain", "--project", project];
        try
        {
            // 64 GiB the process may use, 64 MiB of it free now: the step's few hundred MiB fit the first, not the second
            TrainingMemory.FreeBytes.Value = 64L << 20;
            var (code, stdout, stderr) = WithAvailable(64.0 * (1L << 30), args);
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            // sizes in whatever unit they take: the test host may hold more than a GiB by the time this runs
            var held = Regex.Match(stderr, @"; ([0-9.]+ (?:KiB|MiB|GiB)) that the process holds already\), more than the ([0-9.]+) (KiB|MiB|GiB) it can have now \(([0-9.]+ (?:KiB|MiB|GiB)) it holds and 64.0 MiB free; " +
                @"other programs hold the rest of the 64.0 GiB it may use: close some, or, if they will end first, start it anyway with EMBER_MEMORY_CHECK=off\)\); lower --batch-size \(512\)");
            Assert.True(held.Success, stderr);
            Assert.True(Needed(stderr) > double.Parse(held.Groups[2].Value, CultureInfo.InvariantCulture) * UnitBytes(held.Groups[3].Value), stderr);
            Assert.Contains("was removed (nothing had been trained in it)", stderr);
            Assert.False(Directory.EnumerateFileSystemEntries(project).Any());

            // the same run once the other program is gone: it trains
            TrainingMemory.FreeBytes.Value = 64L << 30;
            (code, stdout, stderr) = WithAvailable(64.0 * (1L << 30), args);
            Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");

            // forecast train's count of weights, gradients and moments (a few kB for 8 hidden units) against nothing free
            var series = ForecastFaultTests.Series(Directory.CreateDirectory(Path.Combine(project, "series")).FullName);
            TrainingMemory.FreeBytes.Value = 0;
            (code, stdout, stderr) = WithAvailable(64.0 * (1L << 30), ["forecast", "train", "--data", series, "--hidden", "8", "--epochs", "1", "--plain", "--project", Path.Combine(project, "forecast")]);
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Contains("the lstm of 1×8 (--layers × --hidden) has ", stderr);
            Assert.Contains(" it holds and 0 B free; other programs hold the rest of the 64.0 GiB it may use", stderr);
            Assert.Contains("lower --hidden (8)", stderr);
        }
        finally
        {
            TrainingMemory.FreeBytes.Value = null;
            Directory.Delete(project, true);
        }
    }

    [Fact]
    public void The_probe_leaves_a_training_run_bit_identical()
    {
        // the cnn draws dropout masks and its initial weights from the default generator, which the probe also uses
        var project = Directory.CreateTempSubdirectory("ember-memory").FullName;
        try
        {
            string[] args = ["train", "--model", "cnn", "--batch-size", "64", "--limit", "256", "--epochs", "2", "--plain", "--project", project];
            var (code, _, stderr) = CliFailureTests.Invoke(args);
            Assert.True(code == 0, stderr);
            (code, _, stderr) = WithoutProbe(args);
            Assert.True(code == 0, stderr);
            string probed = Path.Combine(project, "exp1"), unprobed = Path.Combine(project, "exp2");
            static IEnumerable<string> WithoutTime(string run) => File.ReadAllLines(Path.Combine(run, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]);
            Assert.Equal(WithoutTime(unprobed), WithoutTime(probed));
            Assert.Equal(ResumeTests.Sha256(Path.Combine(unprobed, "last", "model.safetensors")), ResumeTests.Sha256(Path.Combine(probed, "last", "model.safetensors")));
            Assert.Equal(ResumeTests.Sha256(Path.Combine(unprobed, "last", "optimizer.safetensors")), ResumeTests.Sha256(Path.Combine(probed, "last", "optimizer.safetensors")));
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void Forecast_train_measures_its_step_refuses_one_that_cannot_fit_and_is_unchanged_by_the_probe()
    {
        var temp = Directory.CreateTempSubdirectory("ember-memory").FullName;
        try
        {
            var series = ForecastFaultTests.Series(temp);
            string[] Args(string project, int batch = 128) => ["forecast", "train", "--data", series, "--hidden", "64", "--batch-size", $"{batch}", "--lookback", "48", "--epochs", "2",
                "--val", "24", "--test", "12", "--plain", "--project", Path.Combine(temp, project)];
            // 2 MiB free beside what the process holds: room for the 17,347 weights with their gradients and moments
            // (0.3 MiB, the count before the model is built), not for the step's activations over 48 steps of 128 windows
            (int, string, string) WithTwoMiBFree(string[] args)
            {
                TrainingMemory.FreeBytes.Value = 2 << 20;
                try { return WithAvailable(64.0 * (1L << 30), args); }
                finally { TrainingMemory.FreeBytes.Value = null; }
            }
            var (code, stdout, stderr) = WithTwoMiBFree(Args("small"));
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            // 600 months less the 24 + 12 held out, in windows of 48 + 12: 505 windows, so a batch is 128
            Assert.Contains("the lstm of 1×64 (--layers × --hidden) at --batch-size 128 and --lookback 48 needs about ", stderr);
            Assert.Contains(" for one training step (", stderr);
            Assert.Contains(" for 128 windows, measured on steps of 2 and 4 windows; ", stderr);
            Assert.Contains(" it holds and 2.0 MiB free; ", stderr);
            Assert.Contains("); lower --hidden (64), --layers (1), --batch-size (128) or --lookback (48)", stderr);
            Assert.True(!Directory.Exists(Path.Combine(temp, "small")) || !Directory.EnumerateFileSystemEntries(Path.Combine(temp, "small")).Any());
            // the step's tensors grow with the batch: at 3.9× the batch the step needs about 3.9× the bytes
            double step128 = Step(stderr);
            (code, stdout, stderr) = WithTwoMiBFree(Args("small", 512));
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            // (a batch larger than the set is the set)
            Assert.Contains("at --batch-size 512 and --lookback 48 (505 windows a batch) needs about ", stderr);
            Assert.Contains(" for 505 windows, ", stderr);
            Assert.True(Step(stderr) > 3 * step128, stderr);

            (code, _, stderr) = CliFailureTests.Invoke(Args("probed"));
            Assert.True(code == 0, stderr);
            (code, _, stderr) = WithoutProbe(Args("unprobed"));
            Assert.True(code == 0, stderr);
            string probed = Path.Combine(temp, "probed", "exp1"), unprobed = Path.Combine(temp, "unprobed", "exp1");
            static IEnumerable<string> WithoutTime(string run) => File.ReadAllLines(Path.Combine(run, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]);
            Assert.Equal(WithoutTime(unprobed), WithoutTime(probed));
            Assert.Equal(File.ReadAllText(Path.Combine(unprobed, "test_metrics.csv")), File.ReadAllText(Path.Combine(probed, "test_metrics.csv")));
            Assert.Equal(ResumeTests.Sha256(Path.Combine(unprobed, "last", "model.safetensors")), ResumeTests.Sha256(Path.Combine(probed, "last", "model.safetensors")));
        }
        finally { Directory.Delete(temp, true); }
    }

    // "(12.3 MiB for 128 windows": the step's bytes
    static double Step(string stderr)
    {
        var m = Regex.Match(stderr, @"\(([0-9.]+) (B|KiB|MiB|GiB) for \d+ ");
        Assert.True(m.Success, stderr);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * UnitBytes(m.Groups[2].Value);
    }

    [Fact]
    public void The_probe_leaves_a_detection_run_bit_identical()
    {
        // the fixture's run was probed; this one is not: batch-norm statistics, weights and every metric agree
        var project = Path.Combine(fx.Root, "unprobed");
        var (code, stdout, stderr) = WithoutProbe(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var rows = DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv"));
        Assert.Equal(fx.WholeRows.Count, rows.Count);
        for (int e = 0; e < rows.Count; e++) Assert.Equal(fx.WholeRows[e][..^1], rows[e][..^1]); // all but the wall time
        foreach (var file in new[] { "last/model.safetensors", "best/model.safetensors" })
            Assert.True(ResumeTests.Sha256(Path.Combine(fx.Whole, file)) == ResumeTests.Sha256(Path.Combine(project, "exp1", file)), $"{file} differs");
    }

    [Fact]
    public void Detect_val_refuses_a_batch_that_cannot_fit_before_writing_anything_and_validates_with_room()
    {
        var output = Path.Combine(fx.Root, "val-memory");
        string[] args = ["detect", "val", "--weights", Path.Combine(fx.Whole, "best"), "--output", output];
        var (code, stdout, stderr) = WithAvailable(1 << 20, args);
        Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("(yolov5n) at --img 64 and --batch-size 8 (4 images a batch) needs about", stderr);
        Assert.Contains("for one validation batch (", stderr);
        Assert.Contains("for 4 images of ", stderr); // the rectangular batch's shape
        Assert.Contains(", measured on batches of 2 and 4 images of 64 px; ", stderr);
        // beside it, the largest validation image decoding (val reads on the command's thread, without a cache)
        Assert.Contains($"; {TrainingMemory.Size(TrainingMemory.DecodeBytesPerPixel * 64 * 64)} to decode the largest image (64×64, {Path.Combine(Path.GetDirectoryName(fx.Data)!, "images", "val", "000.png")}); ", stderr);
        Assert.DoesNotContain("--cache", stderr);
        Assert.Contains("more than the 1.0 MiB this process may use); lower --img (64) or --batch-size (8)", stderr);
        Assert.False(Directory.Exists(output));
        // with --augment the check counts the augmented passes' copies too
        var (augmentCode, augmentOut, augmentErr) = WithAvailable(1 << 20, [.. args, "--augment"]);
        Assert.True(augmentCode == ExitCodes.OutOfMemory, $"exit {augmentCode}: {augmentErr}{augmentOut}");
        Assert.Contains("(yolov5n) at --img 64 and --batch-size 8 with --augment (4 images a batch) needs about", augmentErr);
        Assert.Contains(", measured on batches of 2 and 4 images of 64 px and the augmented passes' copies; ", augmentErr);
        Assert.False(Directory.Exists(output));
        // (most of what it names is this test process's resident memory, which its collections move: twice that is room)
        (code, stdout, stderr) = WithAvailable(2 * Needed(stderr), args);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.True(File.Exists(Path.Combine(output, "val_metrics.csv")));
    }

    [Fact]
    public void Detect_predict_refuses_an_image_size_that_cannot_fit_before_making_its_folder()
    {
        var project = Path.Combine(fx.Root, "predict-memory");
        var images = Path.Combine(Path.GetDirectoryName(fx.Data)!, "images", "val");
        var (code, stdout, stderr) = WithAvailable(1 << 20, ["detect", "predict", "--weights", Path.Combine(fx.Whole, "best"), "--source", images, "--img", "640", "--project", project]);
        Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("(yolov5n) at --img 640 needs about", stderr);
        Assert.Contains("for one image (", stderr);
        Assert.Contains("more than the 1.0 MiB this process may use); lower --img (640)", stderr);
        Assert.False(Directory.Exists(project) && Directory.EnumerateFileSystemEntries(project).Any());
    }

    // The fixture's set with 100 more training images of 2000×2000 (one black PNG, copied; cheap to scan and decode):
    // 130 MiB to decode one at 34 bytes a pixel, 1.2 GiB for --cache's copies of the 120 images (and the garbage beside them).
    const int LargeImages = 100, LargeSide = 2000;
    const long LargePixels = (long)LargeSide * LargeSide, SetPixels = LargeImages * LargePixels + (16 + 4) * 64 * 64;

    string LargeSet() => DetectFaultTests.SetVariant(fx, "cache-large", root =>
    {
        var first = Path.Combine(root, "images", "train", "large000.png");
        Ember.Detection.Data.DetectionImages.WritePng(first, Torch.Zeros(3, LargeSide, LargeSide));
        for (int i = 0; i < LargeImages; i++)
        {
            var name = $"large{i.ToString("D3", CultureInfo.InvariantCulture)}";
            if (i > 0) File.Copy(first, Path.Combine(root, "images", "train", name + ".png"));
            File.WriteAllText(Path.Combine(root, "labels", "train", name + ".txt"), "0 0.5 0.5 0.2 0.2\n");
        }
    });

    // The first of the largest images, which the message names: large000.png, after the fixture's 000-015.png.
    static string FirstLarge(string[] options) => Path.Combine(Path.GetDirectoryName(options[Array.IndexOf(options, "--data") + 1])!, "images", "train", "large000.png");

    [Fact]
    public void Detect_train_refuses_a_cache_that_cannot_fit_beside_the_step_offers_cache_false_and_trains_without_it()
    {
        // 512 MiB free beyond what the process holds: each image alone fits (the scan keeps them all), and the step beside
        // one image decoding, but not beside the 1.2 GiB --cache (the default) holds by the end of the first epoch
        var options = DetectFaultFixture.Options(LargeSet());
        options[Array.IndexOf(options, "--epochs") + 1] = "1";
        var project = Path.Combine(fx.Root, "cache-large");
        var (code, stdout, stderr) = WithFree(512L << 20, ["detect", "train", .. options, "--project", project]);
        Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("train: 116 images, 116 objects, 0 backgrounds (no label file), no problems", stdout);
        Assert.Contains(" for one training step (", stderr);
        Assert.Contains(" for 4 images, measured on steps of 2 and 4 images of 64 px; ", stderr);
        Assert.Contains($"; {TrainingMemory.Size(TrainingMemory.DecodeBytesPerPixel * LargePixels)} to decode the largest image (2000×2000, {FirstLarge(options)}); " +
            $"{TrainingMemory.Size(3.0 * SetPixels + (24 << 20))} for the 8-bit copies --cache keeps of the 120 images ({SetPixels.ToString("N0", CultureInfo.InvariantCulture)} pixels); ", stderr);
        Assert.Contains(" it holds and 512.0 MiB free; other programs hold the rest of the ", stderr);
        var without = Regex.Match(stderr, @"\); without the cache it needs about ([0-9.]+) (KiB|MiB|GiB), which fits: start it with --cache false \(each image is then decoded every time it is read\)\); " +
            @"lower --img \(64\), --batch-size \(4\), --val-batch-size \(8\) or --workers \(0\), or train a smaller --model than n, or without --cache \(--cache false\); ");
        Assert.True(without.Success, stderr);
        Assert.True(Needed(stderr) - double.Parse(without.Groups[1].Value, CultureInfo.InvariantCulture) * UnitBytes(without.Groups[2].Value)
            > 3.0 * SetPixels - (128 << 20), stderr); // less the cache, give or take the sizes' rounding (0.1 GiB)
        Assert.Contains("was removed (nothing had been trained in it)", stderr);
        Assert.False(Directory.Exists(project) && Directory.EnumerateFileSystemEntries(project).Any());

        // as it says: without the cache the run trains in the same room
        (code, stdout, stderr) = WithFree(512L << 20, ["detect", "train", .. options, "--cache", "false", "--project", project]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Single(DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv")));
    }

    [Fact]
    public void An_image_that_fits_alone_but_not_beside_the_step_or_validation_batch_is_skipped_by_name_and_the_run_uses_the_rest()
    {
        // the fixture's set with one 3000×3000 image in each split (292 MiB to decode at 34 bytes a pixel) against 300 MiB
        // free beyond what the process holds: the scan lets each through alone, but beside the step (or validation batch),
        // the optimizer's state and --cache's copies (3 bytes a pixel of every image, and up to 24 MiB beside them) less is left
        const long HugePixels = 3000L * 3000;
        var data = DetectFaultTests.SetVariant(fx, "huge-beside-step", root =>
        {
            foreach (var split in new[] { "train", "val" })
            {
                Ember.Detection.Data.DetectionImages.WritePng(Path.Combine(root, "images", split, "huge.png"), Torch.Zeros(3, 3000, 3000));
                File.WriteAllText(Path.Combine(root, "labels", split, "huge.txt"), "0 0.5 0.5 0.2 0.2\n");
            }
        });
        string Huge(string split) => Path.Combine(Path.GetDirectoryName(data)!, "images", split, "huge.png");
        string Reason(string split) => $"{Huge(split)}: too large for memory now: 3000×3000 = 9,000,000 pixels need about {TrainingMemory.Size(TrainingMemory.DecodeBytesPerPixel * HugePixels)} to decode and resize, more than the ";
        var project = Path.Combine(fx.Root, "huge-beside-step");
        var (code, stdout, stderr) = WithFree(300L << 20, ["detect", "train", .. DetectFaultFixture.Options(data), "--project", project]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        // counted in the split's summary as the scan's other skipped images, and named on a line of its own with the room
        Assert.Contains($"train: 16 images, 16 objects, 0 backgrounds (no label file), 1 problem in 1 file (skipped; first: {Reason("train")}", stdout);
        Assert.Contains($"val: 4 images, 4 objects, 0 backgrounds (no label file), 1 problem in 1 file (skipped; first: {Reason("val")}", stdout);
        foreach (var (split, beside) in new[] { ("train", "training step of --model n at --img 64 and --batch-size 4"), ("val", "validation batch of --model n at --img 64 and --val-batch-size 8") })
        {
            var skipped = Regex.Match(stdout, $@"{split}: skipped {Regex.Escape(Reason(split))}([0-9.]+) (KiB|MiB|GiB) left beside the {beside}\n");
            Assert.True(skipped.Success, stdout);
            double left = double.Parse(skipped.Groups[1].Value, CultureInfo.InvariantCulture) * UnitBytes(skipped.Groups[2].Value);
            Assert.InRange(left, 1 << 20, (300L << 20) - (3.0 * 2 * HugePixels + (24 << 20))); // the room less the cache's copies and what stands beside them at least
        }
        // the run is the fixture's, which is this set without those images: every epoch's metrics equal, bit for bit
        var rows = DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv"));
        Assert.Equal(fx.WholeRows.Count, rows.Count);
        for (int e = 0; e < rows.Count; e++) Assert.Equal(fx.WholeRows[e][..^1], rows[e][..^1]); // all but the wall time

        // detect val at --img 320 (no cache): beside a batch of 320-px images less than 292 MiB is left; it scores the
        // others as it scores the fixture's set
        string[] Val(string set, string output) => ["detect", "val", "--weights", Path.Combine(fx.Whole, "best"), "--data", set, "--img", "320", "--output", Path.Combine(fx.Root, output)];
        (code, stdout, stderr) = WithFree(300L << 20, Val(data, "huge-val"));
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"val: 4 images, 4 objects, 0 backgrounds (no label file), 1 problem in 1 file (skipped; first: {Reason("val")}", stdout);
        Assert.Contains($"val: skipped {Reason("val")}", stdout);
        Assert.Contains($" left beside the validation batch of {Path.Combine(fx.Whole, "best")} (yolov5n) at --img 320 and --batch-size 8", stdout);
        (code, _, stderr) = WithFree(300L << 20, Val(fx.Data, "huge-val-reference"));
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(fx.Root, "huge-val-reference", "val_metrics.csv")), File.ReadAllText(Path.Combine(fx.Root, "huge-val", "val_metrics.csv")));

        // a training split of two 2000×2000 images (130 MiB each to decode) against 200 MiB free: each fits alone, neither
        // on each of 2 --workers at once beside the step: no image to train on is exit 7, each image named
        var large = DetectFaultTests.SetVariant(fx, "all-beside-step", root =>
        {
            foreach (var file in Directory.GetFiles(Path.Combine(root, "images", "train"))) File.Delete(file);
            foreach (var file in Directory.GetFiles(Path.Combine(root, "labels", "train"))) File.Delete(file);
            for (int i = 0; i < 2; i++)
            {
                Ember.Detection.Data.DetectionImages.WritePng(Path.Combine(root, "images", "train", $"large{i}.png"), Torch.Zeros(3, LargeSide, LargeSide));
                File.WriteAllText(Path.Combine(root, "labels", "train", $"large{i}.txt"), "0 0.5 0.5 0.2 0.2\n");
            }
        });
        (code, stdout, stderr) = WithFree(200L << 20, ["detect", "train", .. DetectFaultFixture.Options(large), "--workers", "2", "--project", Path.Combine(fx.Root, "all-beside-step")]);
        Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
        for (int i = 0; i < 2; i++)
            Assert.Contains($"train: skipped {Path.Combine(Path.GetDirectoryName(large)!, "images", "train", $"large{i}.png")}: too large for memory now: 2000×2000 = 4,000,000 pixels need about " +
                $"{TrainingMemory.Size(2 * TrainingMemory.DecodeBytesPerPixel * LargePixels)} to decode and resize on each of the 2 --workers at once, more than the ", stdout);
        Assert.StartsWith($"ember: out of memory ({large}: no image of the train split fits in the memory free now (0 images, ", stderr);
        Assert.Contains("lower --img (64), --batch-size (4), --val-batch-size (8) or --workers (2)", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    [Fact]
    public void Each_loader_worker_adds_the_largest_image_decoding_to_the_need()
    {
        var data = LargeSet();
        // the term: the largest image the run reads (of the first count: --limit), once per worker, once without workers
        var set = Ember.Detection.Data.YoloDataset.FromConfig(Ember.Detection.Data.YoloDataConfig.Load(data), train: true);
        foreach (var workers in new[] { 0, 1, 3 })
        {
            Assert.Equal(Math.Max(1, workers) * TrainingMemory.DecodeBytesPerPixel * LargePixels, DetectJob.DecodeTerm(set, set.Count, workers).Bytes);
            Assert.Equal(Math.Max(1, workers) * TrainingMemory.DecodeBytesPerPixel * 64 * 64, DetectJob.DecodeTerm(set, 16, workers).Bytes); // 000-015.png sort first
        }

        // in the command, without the cache, against 512 MiB free (each image alone fits, 130 MiB to decode): on each of 3
        // --workers at once the large images fit beside the step and are trained on; on each of 4 (519 MiB) they do not,
        // and the run trains on the 16 small ones
        var options = DetectFaultFixture.Options(data);
        options[Array.IndexOf(options, "--epochs") + 1] = "1";
        var (code, stdout, stderr) = WithFree(512L << 20, ["detect", "train", .. options, "--cache", "false", "--workers", "3", "--project", Path.Combine(fx.Root, "workers-large")]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains("train: 116 images, 116 objects, 0 backgrounds (no label file), no problems", stdout);
        Assert.Contains("116 training / 4 validation images", stdout);
        (code, stdout, stderr) = WithFree(512L << 20, ["detect", "train", .. options, "--cache", "false", "--workers", "4", "--project", Path.Combine(fx.Root, "workers-large")]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"train: 16 images, 16 objects, 0 backgrounds (no label file), {LargeImages} problems in {LargeImages} files (skipped; first: {FirstLarge(options)}: too large for memory now: " +
            $"2000×2000 = 4,000,000 pixels need about {TrainingMemory.Size(4 * TrainingMemory.DecodeBytesPerPixel * LargePixels)} to decode and resize on each of the 4 --workers at once, more than the ", stdout);
        Assert.Contains("16 training / 4 validation images", stdout);
    }

    [Fact]
    public void Detect_train_with_room_for_the_step_the_decoding_and_the_cache_trains_as_without_the_check()
    {
        // 512 MiB free: the fixture's step, its largest image on each of 2 workers and its 20 images' copies fit; the run
        // equals the fixture's (no seam, no workers): nothing changes for a run that fits
        var project = Path.Combine(fx.Root, "room-for-all");
        var (code, stdout, stderr) = WithFree(512L << 20, ["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--workers", "2", "--project", project]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var rows = DetectFaultTests.Rows(Path.Combine(project, "exp1", "metrics.csv"));
        Assert.Equal(fx.WholeRows.Count, rows.Count);
        for (int e = 0; e < rows.Count; e++) Assert.Equal(fx.WholeRows[e][..^1], rows[e][..^1]); // all but the wall time
    }
}
