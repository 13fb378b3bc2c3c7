using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

public class PredictCommandTests
{
    static string Capture(Func<int> action, out int code)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try { code = action(); }
        finally { Console.SetOut(previous); }
        return output.ToString();
    }

    [Fact]
    public void Predicts_several_test_images_as_one_batch_fused_or_not()
    {
        var run = ExportCommandTests.TinyRun();
        var plain = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "1"]).Invoke(), out int code);
        Assert.Equal(0, code);
        Assert.Contains("top-5 for test image 0 (true class: Ankle boot):", plain);
        Assert.Contains("top-5 for test image 1 (true class: Pullover):", plain);
        Assert.Equal(12, plain.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var fused = Capture(() => PredictCommand.Create().Parse([run, "--index", "0", "1", "--fuse", "--checkpoint", "last"]).Invoke(), out code);
        Assert.Equal(0, code);
        Assert.Equal(plain, fused); // the same classes and percentages to two decimals
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    [Fact]
    public void Skips_an_image_too_large_for_the_free_memory_and_one_whose_decoding_runs_out_of_memory_and_predicts_the_others()
    {
        var run = ExportCommandTests.TinyRun("mlp");
        var folder = Path.GetDirectoryName(run)!;
        // three small grayscale images and one of 2000×1500: 3 million pixels, 85.8 MiB at 30 bytes a pixel
        var small = new[] { "a", "b", "c" }.Select(n => Path.Combine(folder, n + ".png")).ToList();
        for (int i = 0; i < small.Count; i++)
            Ember.Detection.Data.DetectionImages.WritePng(small[i], Torch.FromArray(Enumerable.Range(0, 28 * 28).Select(k => k / (28f * 28 * (i + 1))).ToArray(), [1, 28, 28]));
        var large = Path.Combine(folder, "large.png");
        Ember.Detection.Data.DetectionImages.WritePng(large, Torch.Zeros(1, 1500, 2000));
        var need = TrainingMemory.Size(TrainingMemory.GrayBytesPerPixel * 3_000_000);

        // 64 MiB free beyond what the process holds: the large image is skipped before it is decoded; memory runs out
        // while b.png is decoded: skipped too, and the two others predicted as they are without them
        int code; string stdout, stderr;
        TrainingMemory.FreeBytes.Value = 64L << 20;
        PredictCommand.DecodingImage.Value = file => { if (file == small[1]) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."); };
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["predict", run, "--image", small[0], large, small[1], small[2]]); }
        finally { TrainingMemory.FreeBytes.Value = null; PredictCommand.DecodingImage.Value = null; }
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}");
        Assert.StartsWith($"ember: 2 of 4 image(s) were skipped: {large}: 2000×1500 = 3,000,000 pixels need about {need} to decode and resize, more than the ", stderr);
        Assert.Contains(" it holds and 64.0 MiB free; other programs hold the rest", stderr);
        Assert.EndsWith($"; {small[1]}: memory ran out while decoding it (more memory was needed than this process could get, of the " +
            $"{TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use) (the others are predicted above)", stderr.TrimEnd('\n'));
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", stderr + stdout);
        var (alone, others, error) = CliFailureTests.Invoke(["predict", run, "--image", small[0], small[2]]);
        Assert.True(alone == 0, error);
        Assert.Equal(others, stdout);
        Assert.Contains("top-5 for a.png:", stdout);
        Assert.Contains("top-5 for c.png:", stdout);

        // every image skipped: nothing to predict, the same error
        TrainingMemory.FreeBytes.Value = 64L << 20;
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["predict", run, "--image", large]); }
        finally { TrainingMemory.FreeBytes.Value = null; }
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}");
        Assert.StartsWith($"ember: 1 of 1 image(s) were skipped: {large}: 2000×1500 = 3,000,000 pixels need about {need} to decode and resize", stderr);
        Assert.Equal("", stdout);
        Directory.Delete(folder, true);
    }
}
