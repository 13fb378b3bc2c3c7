using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Detection.Data;

namespace Ember.Tests.Cli;

/// <summary>
/// Size options far beyond what the machine holds (the session-22 walk): one `ember:` line, exit 7 for memory and 2 for a
/// size no tensor can have, the command's own options named with their values, and no run folder left behind.
/// </summary>
public class SizeOptionTests
{
    static void NoRunFolder(string project) => Assert.True(!Directory.Exists(project) || !Directory.EnumerateFileSystemEntries(project).Any(),
        $"{project} holds {string.Join(", ", Directory.Exists(project) ? Directory.EnumerateFileSystemEntries(project) : [])}");

    [Theory]
    // a weight of 100000² values: the tensor cannot exist; the run folder made for it is removed again
    [InlineData("gradient-flow", new[] { "--recurrent", "--hidden", "100000", "--steps", "1" }, "lower --hidden (100000) or --length (100)", "was removed")]
    // 4 × 2³¹ gate rows once wrapped to "negative dimension -4" (and left a run folder): now the estimate refuses it
    [InlineData("forecast train", new[] { "--hidden", "2147483647", "--epochs", "1", "--plain", "--data", "SERIES" }, "the lstm of 1×2147483647 (--layers × --hidden) has", "lower --hidden (2147483647)")]
    // each weight fits a tensor (4·23000 × 23000 < 2³¹ values), the 8 layers do not fit any machine this runs on (about
    // 540 GB with gradients and moments): refused by the estimate, before a byte is allocated (it used to be the OOM killer's)
    [InlineData("forecast train", new[] { "--hidden", "23000", "--layers", "8", "--epochs", "1", "--plain", "--data", "SERIES" }, "the lstm of 8×23000 (--layers × --hidden) has", "lower --hidden (23000), --layers (8)")]
    public void A_size_no_tensor_can_hold_is_exit_7_naming_the_option_and_leaves_no_run(string command, string[] options, string says, string alsoSays)
    {
        var project = Directory.CreateTempSubdirectory("ember-size").FullName;
        try
        {
            var series = ForecastFaultTests.Series(Directory.CreateTempSubdirectory("ember-size-data").FullName);
            var (code, stdout, stderr) = CliFailureTests.Invoke([.. command.Split(' '), .. options.Select(o => o == "SERIES" ? series : o), "--project", project]);
            Directory.Delete(Path.GetDirectoryName(series)!, true);
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Contains(says, stderr);
            Assert.Contains(alsoSays, stderr);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            NoRunFolder(project);
        }
        finally { Directory.Delete(project, true); }
    }

    [Theory]
    [InlineData("train", "2147483616", "img 2147483616 is too large: one mosaic canvas", "the largest is 13376")]
    [InlineData("val", "2147483616", "--img 2147483616 is too large: one image", "the largest is 26752")]
    [InlineData("train", "100000", "img 100000 is too large", "the largest is 13376")]
    public void Detect_img_beyond_a_tensor_is_refused_before_anything_is_made(string which, string img, string says, string largest)
    {
        var temp = Directory.CreateTempSubdirectory("ember-size").FullName;
        try
        {
            var data = DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 4, val: 2).Yaml;
            string[] args = which == "train"
                ? ["detect", "train", "--data", data, "--img", img, "--epochs", "1", "--plain", "--project", Path.Combine(temp, "runs")]
                : ["detect", "val", "--weights", Path.Combine(temp, "nothing"), "--data", data, "--img", img, "--output", Path.Combine(temp, "runs")];
            if (which == "val")
            {
                // a real detector to validate, so that only the size is wrong
                var (trained, _, err) = CliFailureTests.Invoke(["detect", "train", "--data", data, "--img", "64", "--epochs", "1", "--batch-size", "2", "--plot-images", "0", "--plain", "--project", Path.Combine(temp, "trained")]);
                Assert.True(trained == 0, err);
                args[3] = Path.Combine(temp, "trained", "exp1", "best");
            }
            var (code, stdout, stderr) = CliFailureTests.Invoke(args);
            Assert.True(code == ExitCodes.Usage, $"exit {code}: {stderr}{stdout}");
            Assert.Contains(says, stderr);
            Assert.Contains(largest, stderr);
            Assert.DoesNotContain("   at ", stderr);
            NoRunFolder(Path.Combine(temp, "runs"));
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Anchors_img_beyond_a_tensor_is_a_usage_error()
    {
        // it said "anchors.Metrics: boxes must be positive and finite, got -0.31" (label sizes scaled past int)
        var temp = Directory.CreateTempSubdirectory("ember-size").FullName;
        try
        {
            var data = DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 4, val: 2).Yaml;
            var (code, stdout, stderr) = CliFailureTests.Invoke(["anchors", data, "--img", "2147483647"]);
            Assert.True(code == ExitCodes.Usage, $"exit {code}: {stderr}{stdout}");
            Assert.StartsWith("ember: --img 2147483647 is too large", stderr);
        }
        finally { Directory.Delete(temp, true); }
    }

    /// <summary>
    /// `train` and `detect train` measure one training step on one and two images before the first batch and refuse a
    /// run that cannot fit with exit 7, naming the options: such a run fits the address space, so it used to meet the
    /// kernel's OOM killer. The memory this process may use comes through a seam (2 GB here), so the case does not
    /// depend on the machine. (TrainingMemoryTests has the runs between the old estimate and the measured need.)
    /// </summary>
    [Theory]
    [InlineData("train", "--model cnn at --batch-size 60000 needs about", "lower --batch-size (60000)")]
    [InlineData("detect", "--model n at --img 1280 and --batch-size 16 (8 images a batch) needs about", "lower --img (1280), --batch-size (16)")]
    public void A_step_the_estimate_says_cannot_fit_is_exit_7_at_once_without_allocating_it(string command, string says, string hint)
    {
        var temp = Directory.CreateTempSubdirectory("ember-size").FullName;
        var project = Path.Combine(temp, "runs");
        string[] args = command == "train"
            ? ["train", "--model", "cnn", "--batch-size", "60000", "--epochs", "1", "--plain", "--project", project]
            : ["detect", "train", "--data", DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 8, val: 4).Yaml, "--img", "1280",
               "--batch-size", "16", "--epochs", "1", "--plain", "--project", project];
        TrainingMemory.AvailableBytes.Value = 2_000_000_000;
        try
        {
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (code, stdout, stderr) = CliFailureTests.Invoke(args);
            var elapsed = clock.Elapsed;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}{stdout}");
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(says, stderr);
            Assert.Contains("for one training step (", stderr);
            Assert.Contains("more than the 1.9 GiB this process may use); " + hint, stderr);
            Assert.Contains("was removed (nothing had been trained in it)", stderr);
            NoRunFolder(project);
            var needed = double.Parse(System.Text.RegularExpressions.Regex.Match(stderr, @"needs about ([0-9.]+) GiB").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture) * (1 << 30);
            // the step would need more than twice what the process may use; the command allocated a fraction of that
            Assert.True(needed > 4e9, stderr);
            Assert.True(allocated < needed / 4, $"allocated {allocated / 1e9:F2} GB before refusing a step of {needed / 1e9:F1} GB");
            Assert.True(elapsed < TimeSpan.FromSeconds(15), $"{elapsed.TotalSeconds:F1} s to refuse");
        }
        finally
        {
            TrainingMemory.AvailableBytes.Value = null;
            Directory.Delete(temp, true);
        }
    }

    [Fact]
    public void A_batch_size_near_int_MaxValue_is_one_batch_of_everything()
    {
        // the batch count once overflowed to 0 (an IndexOutOfRangeException in `detect val --batch-size 2147483647`) and
        // the default validation batch, twice the training one, to a negative number
        var batches = new RectangularBatches([(10, 20), (20, 10), (30, 30)], 64, int.MaxValue);
        Assert.Single(batches.Shapes);
        Assert.Equal(batches.Shapes[0], batches.ShapeAt(2));
        Assert.Equal(int.MaxValue, new DetectConfig { BatchSize = int.MaxValue }.EffectiveValBatchSize);
    }
}
