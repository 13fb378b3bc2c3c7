using System.Globalization;
using System.Security.Cryptography;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect pretrain` (a backbone trained as a classifier on rendered Fashion-MNIST items) and `ember detect train
/// --weights` (a detector started from it), end to end on a few items and a one-object set.
/// </summary>
public class DetectPretrainCommandTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-pretrain-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    // A few steps at 32 px: 64 training items in batches of 16, 40 validation items.
    static DetectPretrainConfig Tiny(string project, int epochs = 2) => DetectPretrainConfig.Apply(new DetectPretrainConfig(), new Dictionary<string, string?>
    {
        ["project"] = project,
        ["img"] = "32",
        ["epochs"] = epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = "16",
        ["limit"] = "64",
        ["val_limit"] = "40",
        ["plain"] = "true",
    }, "test");

    static string Hash(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    [Fact]
    public void PretrainWritesTheRunFolderAndResumesToTheSameBitsAtAnyThreadCount()
    {
        var log = new StringWriter();
        Assert.Equal(0, DetectPretrainJob.Train(Tiny(Path.Combine(root, "a")), plainOutput: log));
        var run = Path.Combine(root, "a", "exp1");
        foreach (var file in new[] { "args.yaml", "metrics.csv", "summary.md", "best/checkpoint.json", "last/checkpoint.json", "last/ema.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"no {file} in {run}\n{log}");
        var csv = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal(EpochMetrics.CsvHeader, csv[0]);
        Assert.Equal(3, csv.Length);
        var summary = File.ReadAllText(Path.Combine(run, "summary.md"));
        Assert.Contains("| all | 40 |", summary);
        Assert.Contains("| Shirt |", summary);
        Assert.Contains("yolov5n backbone (model.0–8) + Classify", log.ToString());
        var state = Checkpoint.ReadState(Path.Combine(run, "best"));
        Assert.Equal("n", state.Metadata[DetectPretrainJob.ModelKey]);
        Assert.Equal(DetectPretrainConfig.Load(Path.Combine(run, "args.yaml")), Tiny(Path.Combine(root, "a")));

        // interrupted after 5 of its 8 batches (exit 130, as Ctrl-C), then resumed: the same weights as the unbroken run;
        // and the same on one thread as on two
        int saved = Torch.NumThreads;
        try
        {
            Torch.NumThreads = 1;
            Assert.Equal(130, DetectPretrainJob.Train(Tiny(Path.Combine(root, "b")), plainOutput: TextWriter.Null, interruptAfterBatches: 5));
        }
        finally { Torch.NumThreads = saved; }
        var cut = Path.Combine(root, "b", "exp1");
        Assert.False(File.Exists(Path.Combine(cut, "summary.md")));
        var resumed = new StringWriter();
        Assert.Equal(0, DetectPretrainJob.Train(new DetectPretrainConfig(), cut, plainOutput: resumed));
        Assert.Contains("resuming", resumed.ToString());
        foreach (var file in new[] { "last/model.safetensors", "last/ema.safetensors", "best/model.safetensors" })
            Assert.True(Hash(Path.Combine(run, file)) == Hash(Path.Combine(cut, file)), $"{file} differs after the resume");
        Assert.Equal(File.ReadAllLines(Path.Combine(run, "metrics.csv")).Select(l => string.Join(',', l.Split(',')[..^1])),
            File.ReadAllLines(Path.Combine(cut, "metrics.csv")).Select(l => string.Join(',', l.Split(',')[..^1]))); // all but time_s

        // detect train --weights: the backbone's tensors are transferred, the count printed, the folder recorded
        var (data, _) = DetectCommandTests.OneObjectSet(Path.Combine(root, "set"), train: 8, val: 2);
        var best = Path.Combine(run, "best");
        string[] train = ["detect", "train", "--data", data, "--img", "64", "--epochs", "1", "--batch-size", "4", "--augment", "false", "--ema", "0",
            "--warmup-epochs", "0", "--plot-images", "0", "--autoanchor", "false", "--plain", "--project", Path.Combine(root, "det")];
        var (code, stdout, stderr) = CliFailureTests.Invoke([.. train, "--weights", best]);
        Assert.True(code == 0, stderr + stdout);
        var detector = new Ember.Detection.Model.YoloV5(1, Ember.Detection.Model.YoloSize.N).StateDict();
        int backbone = detector.Keys.Count(k => int.Parse(k.Split('.')[1], CultureInfo.InvariantCulture) < 9);
        Assert.Contains($"transferred {backbone}/{detector.Count} tensors from {best}", stdout);
        Assert.Contains($"weights: {best}", File.ReadAllText(Path.Combine(root, "det", "exp1", "args.yaml")));

        // fine-tuning from a detect train run's best/: every tensor (the data set has the same single class)
        (code, stdout, stderr) = CliFailureTests.Invoke([.. train, "--weights", Path.Combine(root, "det", "exp1", "best")]);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains($"transferred {detector.Count}/{detector.Count} tensors from", stdout);

        // --weights with --resume is refused: the run continues from its own last/
        (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", Path.Combine(root, "det", "exp1"), "--weights", best]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--weights cannot be combined with --resume", stderr);

        // weights that are not a usable checkpoint: a checkpoint error naming the path, and no run folder made
        var empty = Directory.CreateDirectory(Path.Combine(root, "not-a-checkpoint")).FullName;
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "x");
        var unrelated = Path.Combine(root, "linear");
        Checkpoint.Save(unrelated, new Ember.Nn.Layers.Linear(3, 2), new CheckpointState { Metadata = new() });
        foreach (var (weights, message) in new[]
        {
            (Path.Combine(root, "missing"), "no such folder; --weights takes a checkpoint folder"),
            (run, "is a run folder, not a checkpoint; --weights takes one of its checkpoint folders: " + Path.Combine(run, "best")),
            (empty, "has no checkpoint.json"),
            (unrelated, "shares no tensor (name and shape) with the yolov5n detector"),
        })
        {
            (code, _, stderr) = CliFailureTests.Invoke([.. train[..^1], Path.Combine(root, "refused"), "--weights", weights]);
            Assert.True(code == ExitCodes.Checkpoint, $"{weights}: exit {code}: {stderr}");
            Assert.Contains(message, stderr);
            Assert.False(Directory.Exists(Path.Combine(root, "refused", "exp1")), $"{weights}: a run folder was made");
        }
    }

    [Theory]
    [InlineData("--img", "48", "img must be a multiple of 32")]
    [InlineData("--optimizer", "lion", "optimizer must be one of adam, adamw, sgd, got 'lion'")]
    [InlineData("--model", "big.txt", "model must be one of n, s, m, l or a model definition file")]
    [InlineData("--lrf", "0", "lrf (the final lr as a fraction of lr) must be in (0, 1], got 0")]
    [InlineData("--epochs", "0", "epochs must be at least 1, got 0")]
    [InlineData("--label-smoothing", "1", "label_smoothing must be in [0, 1), got 1")]
    public void BadOptionsAreUsageErrorsNamingTheOption(string option, string value, string message)
    {
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "pretrain", option, value, "--project", Path.Combine(root, "runs")]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "runs")));
    }

    /// <summary>
    /// At --img 32 the backbone's last map is 1×1, so batch norm cannot train on a batch of one item: a set that leaves
    /// one (or --batch-size 1) is refused before a run folder is made, not part-way through the first epoch with
    /// PyTorch's "expected more than 1 value per channel when training" and a run folder holding only args.yaml.
    /// </summary>
    [Theory]
    [InlineData("17", "16", "the 17 training items (--limit 17) leave a last batch of one item")]
    [InlineData("8", "1", "every batch holds one item")]
    public void ABatchOfOneItemAt32PixelsIsRefusedBeforeARunFolderIsMade(string limit, string batch, string message)
    {
        var project = Path.Combine(root, "runs");
        var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "pretrain", "--img", "32", "--limit", limit, "--batch-size", batch, "--val-limit", "8", "--plain",
            "--project", project]);
        Assert.True(code == ExitCodes.Usage, $"exit {code}: {stderr}{stdout}");
        Assert.Equal($"ember: --batch-size {batch} at --img 32: {message}, and batch norm cannot train on a single item where the backbone's last feature map " +
            "is 1×1; change --batch-size or --limit, or use --img 64 or more\n", stderr);
        Assert.False(Directory.Exists(project));
        Assert.Equal("", stdout);
    }

    [Fact]
    public void AMissingModelDefinitionIsNamedBeforeARunFolderIsMade()
    {
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "pretrain", "--model", Path.Combine(root, "none.yaml"), "--project", Path.Combine(root, "runs")]);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains("--model: model definition not found", stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "runs")));
    }
}
