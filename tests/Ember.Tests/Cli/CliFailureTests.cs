using System.IO.Compression;
using System.Security.Cryptography;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>A run folder and a scratch area shared by the cases (built once: an mlp checkpoint as `ember train` leaves it).</summary>
public sealed class CliFailureFixture : IDisposable
{
    /// <summary>The temporary root.</summary>
    public string Root { get; }
    /// <summary>The runs/ folder that no failure may touch.</summary>
    public string Runs => Path.Combine(Root, "runs");
    /// <summary>An intact run inside <see cref="Runs"/>.</summary>
    public string Run => Path.Combine(Runs, "train", "exp1");

    public CliFailureFixture()
    {
        Root = Directory.CreateTempSubdirectory("ember-cli-fail").FullName;
        var tiny = ExportCommandTests.TinyRun("mlp");
        Directory.CreateDirectory(Path.GetDirectoryName(Run)!);
        TestFolders.Copy(tiny, Run);
        Directory.Delete(Path.GetDirectoryName(tiny)!, true);
        File.WriteAllText(Path.Combine(Run, "metrics.csv"), "epoch,train_loss,train_acc,val_loss,top1,top5,lr,time_s\n1,0.5,0.8,0.5,0.8,0.99,0.001,1.0\n");
    }

    /// <summary>A fresh copy of the intact run outside runs/, for a case to damage.</summary>
    public string Copy(string name)
    {
        var copy = Path.Combine(Root, "damaged", name, "exp1");
        if (Directory.Exists(copy)) Directory.Delete(copy, true);
        TestFolders.Copy(Run, copy);
        return copy;
    }

    /// <summary>Writes <paramref name="text"/> to a file under the scratch area and returns its path.</summary>
    public string File_(string name, string text)
    {
        var path = Path.Combine(Root, "files", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// Bad inputs and environments through the whole `ember` command line, in-process: each gives its exit code and a
/// short message on stderr, never a stack frame, and leaves every file under an existing runs/ folder as it was.
/// </summary>
public class CliFailureTests(CliFailureFixture fx) : IClassFixture<CliFailureFixture>
{
    /// <summary>A case: a setup that returns the arguments, the exit code and a piece of the message.</summary>
    public sealed record Case(Func<CliFailureFixture, string[]> Args, int Code, string Message);

    static string Deep(int depth) => "model: " + new string('[', depth) + "\n";

    // The divergence case trains for real on a slice of the embedded Fashion-MNIST; the others fail before training.
    public static readonly IReadOnlyDictionary<string, Case> Cases = new Dictionary<string, Case>
    {
        // options (exit 2)
        ["epochs 0"] = new(f => ["train", "--epochs", "0", "--project", P(f)], ExitCodes.Usage, "epochs must be positive"),
        ["epochs not a number"] = new(f => ["train", "--epochs", "many", "--project", P(f)], ExitCodes.Usage, "'epochs' expects an integer"),
        ["unknown model"] = new(f => ["train", "--model", "transformer", "--project", P(f)], ExitCodes.Usage, "valid choices: mlp"),
        ["unknown optimizer"] = new(f => ["train", "--optimizer", "lion", "--project", P(f)], ExitCodes.Usage, "sgd, adam, adamw"),
        ["negative lr"] = new(f => ["train", "--lr", "-1", "--project", P(f)], ExitCodes.Usage, "lr must be positive"),
        ["NaN lr"] = new(f => ["train", "--lr", "NaN", "--project", P(f)], ExitCodes.Usage, "finite"),
        ["label smoothing 1.5"] = new(f => ["train", "--label-smoothing", "1.5", "--project", P(f)], ExitCodes.Usage, "label_smoothing must be in [0, 1)"),
        ["momentum 1.5"] = new(f => ["train", "--optimizer", "sgd", "--momentum", "1.5", "--project", P(f)], ExitCodes.Usage, "momentum must be in [0, 1)"),
        ["momentum with adam"] = new(f => ["train", "--optimizer", "adam", "--momentum", "0.5", "--project", P(f)], ExitCodes.Usage, "no effect with optimizer adam"),
        ["momentum with adamw"] = new(f => ["train", "--momentum", "0.8", "--project", P(f)], ExitCodes.Usage, "no effect with optimizer adamw"),
        ["warmup with onecycle"] = new(f => ["train", "--schedule", "onecycle", "--warmup-steps", "100", "--project", P(f)], ExitCodes.Usage, "warms up by itself"),
        ["warmup with step"] = new(f => ["train", "--schedule", "step", "--warmup-steps", "10", "--project", P(f)], ExitCodes.Usage, "no effect with schedule step"),
        ["ema 1"] = new(f => ["train", "--ema", "1", "--project", P(f)], ExitCodes.Usage, "ema must be in [0, 1)"),
        ["accumulate 0"] = new(f => ["train", "--accumulate", "0", "--project", P(f)], ExitCodes.Usage, "accumulate must be positive"),
        ["negative workers"] = new(f => ["train", "--workers", "-1", "--project", P(f)], ExitCodes.Usage, "non-negative"),
        ["boolean flag with a word"] = new(f => ["train", "--augment", "maybe", "--project", P(f)], ExitCodes.Usage, "'augment' expects true or false"),
        ["unknown option"] = new(f => ["train", "--learning-rate", "0.1", "--project", P(f)], ExitCodes.Usage, "--learning-rate"),
        ["option without value"] = new(f => ["train", "--epochs"], ExitCodes.Usage, "--epochs"),
        ["gradient-flow recurrent output is a device"] = new(f => ["gradient-flow", "--recurrent", "--output", "/dev/null"], ExitCodes.Usage,
            "gradient-flow --recurrent: --output /dev/null is a device, but step_gradient_norms.csv and accuracy.csv are written beside the plot"),
        ["number option with a comma"] = new(f => ["gradient-flow", "--recurrent", "--lr", "1,5", "--project", P(f)], ExitCodes.Usage, "--lr expects a finite number with '.' as its decimal point, got '1,5'"),
        ["number option infinite"] = new(f => ["lora-transfer", "--lora-lr", "1e400", "--project", P(f)], ExitCodes.Usage, "--lora-lr expects a finite number with '.' as its decimal point, got '1e400'"),
        ["number option NaN"] = new(f => ["anchors", "data.yaml", "--threshold", "NaN"], ExitCodes.Usage, "--threshold expects a finite number with '.' as its decimal point, got 'NaN'"),
        ["option typo of a nested command"] = new(f => ["detect", "val", "--weigths", "x"], ExitCodes.Usage, "ember: see `ember detect val --help` for the options"),
        ["unknown command"] = new(f => ["trian"], ExitCodes.Usage, "'trian'. Did you mean train?"),
        ["option typo"] = new(f => ["train", "--epoch", "2", "--project", P(f)], ExitCodes.Usage, "'--epoch'. Did you mean --epochs?"),
        ["profile unknown model"] = new(f => ["profile", "--model", "nope"], ExitCodes.Usage, "unknown model 'nope'"),
        ["profile bad input"] = new(f => ["profile", "--input", "1x3x224"], ExitCodes.Usage, "4 sizes"),
        ["alexnet with 1 channel"] = new(f => ["profile", "--model", "alexnet", "--input", "1x1x224x224"], ExitCodes.Usage, "alexnet takes 3-channel input"),
        ["eval unknown checkpoint"] = new(f => ["eval", f.Run, "--checkpoint", "first"], ExitCodes.Usage, "valid choices: best, last"),
        ["export unknown format"] = new(f => ["export", f.Run, "--format", "tflite"], ExitCodes.Usage, "valid choices: onnx, safetensors"),
        ["evolve without generations"] = new(f => ["evolve", "--project", P(f)], ExitCodes.Usage, "--generations is required"),
        ["evolve unknown fitness metric"] = new(f => ["evolve", "-g", "2", "--fitness", "acc", "--project", P(f)], ExitCodes.Usage, "unknown metric 'acc'"),
        ["evolve momentum with adamw"] = new(f => ["evolve", "-g", "2", "--space", f.File_("space.yaml", "momentum: [0.3, 0.6, 0.98]\n"), "--project", P(f)], ExitCodes.Usage, "no effect with optimizer adamw"),
        ["evolve space nested 100k deep"] = new(f => ["evolve", "-g", "2", "--space", f.File_("deep-space.yaml", Deep(100_000)), "--project", P(f)], ExitCodes.Usage, "nested more than 64 levels"),
        ["ablate study nested 100k deep"] = new(f => ["ablate", f.File_("deep-study.yaml", "baseline: " + new string('{', 100_000) + "\n"), "--project", P(f)], ExitCodes.Usage, "nested more than 64 levels"),
        ["ablate missing study"] = new(f => ["ablate", Path.Combine(f.Root, "nope.yaml"), "--project", P(f)], ExitCodes.Usage, "study file not found"),
        ["ablate component is a list"] = new(f => ["ablate", f.File_("study-list.yaml", "baseline: {model: mlp}\ncomponents:\n  ema: [0.9]\n"), "--project", P(f)], ExitCodes.Usage, "component 'ema' must be a mapping"),

        // config files (exit 2), with the file and line
        ["config missing"] = new(f => ["train", "--config", Path.Combine(f.Root, "none.yaml"), "--project", P(f)], ExitCodes.Usage, "config file not found"),
        ["config is a folder"] = new(f => ["train", "--config", f.Root, "--project", P(f)], ExitCodes.Usage, "is a folder"),
        ["config scanner error"] = new(f => ["train", "--config", f.File_("scan.yaml", "model: mlp\nepochs: a: b\n"), "--project", P(f)], ExitCodes.Usage, "scan.yaml:2:"),
        ["config unclosed flow"] = new(f => ["train", "--config", f.File_("flow.yaml", "model: [mlp, {a: b}\n"), "--project", P(f)], ExitCodes.Usage, "flow.yaml:"),
        ["config tab indentation"] = new(f => ["train", "--config", f.File_("tab.yaml", "model: mlp\n\tepochs: 2\n"), "--project", P(f)], ExitCodes.Usage, "tab.yaml:"),
        ["config nested 100k deep"] = new(f => ["train", "--config", f.File_("deep.yaml", Deep(100_000)), "--project", P(f)], ExitCodes.Usage, "nested more than 64 levels"),
        ["config duplicate key"] = new(f => ["train", "--config", f.File_("dup.yaml", "epochs: 1\nepochs: 2\n"), "--project", P(f)], ExitCodes.Usage, "dup.yaml:2:"),
        ["config is a list"] = new(f => ["train", "--config", f.File_("list.yaml", "- model\n- mlp\n"), "--project", P(f)], ExitCodes.Usage, "expected a mapping"),
        ["config unknown key"] = new(f => ["train", "--config", f.File_("typo.yaml", "learning_rate: 0.1\n"), "--project", P(f)], ExitCodes.Usage, "unknown key 'learning_rate'"),
        ["config nested value"] = new(f => ["train", "--config", f.File_("nested.yaml", "model: {name: mlp}\n"), "--project", P(f)], ExitCodes.Usage, "must have a single value"),
        ["config mapping as key"] = new(f => ["train", "--config", f.File_("key.yaml", "? {a: b}\n: c\n"), "--project", P(f)], ExitCodes.Usage, "a key must be plain text"),
        ["config two documents"] = new(f => ["train", "--config", f.File_("two.yaml", "epochs: 1\n---\nepochs: 2\n"), "--project", P(f)], ExitCodes.Usage, "2 YAML documents"),
        ["config binary garbage"] = new(f => ["train", "--config", f.File_("garbage.yaml", "\u0001\u0002: \u0000\u0007\n"), "--project", P(f)], ExitCodes.Usage, "garbage.yaml"),
        ["config is /dev/zero"] = new(f => ["train", "--config", "/dev/zero", "--project", P(f)], ExitCodes.Usage, "a character device, not a regular file"),
        ["config is a FIFO"] = new(f => ["train", "--config", Fifo(f), "--project", P(f)], ExitCodes.Usage, "a FIFO (named pipe), not a regular file"),
        ["config bad JSON"] = new(f => ["train", "--config", f.File_("bad.json", "{\"epochs\": }"), "--project", P(f)], ExitCodes.Usage, "invalid JSON"),
        ["config JSON nested 1000 deep"] = new(f => ["train", "--config", f.File_("deep.json", "{\"a\": " + new string('[', 1000) + new string(']', 1000) + "}"), "--project", P(f)], ExitCodes.Usage, "invalid JSON"),

        // data and run folders (exit 3)
        ["data folder missing"] = new(f => ["train", "--data", Path.Combine(f.Root, "no-data"), "--project", P(f)], ExitCodes.Data, "no such data set or folder"),
        ["data files are garbage"] = new(f => ["train", "--data", GarbageData(f), "--model", "mlp", "--project", P(f)], ExitCodes.Data, "garbage-data"),
        ["data is a file"] = new(f => ["train", "--data", f.File_("not-a-folder", "x"), "--project", P(f)], ExitCodes.Data, "is a file"),
        ["data folder empty"] = new(f => ["train", "--data", Directory.CreateDirectory(Path.Combine(f.Root, "empty-data")).FullName, "--model", "mlp", "--project", P(f)], ExitCodes.Data, "empty-data"),
        ["eval missing run"] = new(f => ["eval", Path.Combine(f.Root, "runs-elsewhere", "exp9")], ExitCodes.Data, "run folder not found"),
        ["evolve resume missing folder"] = new(f => ["evolve", "--resume", Path.Combine(f.Root, "no-evolve")], ExitCodes.Data, "resume folder not found"),
        ["eval a folder that is no run"] = new(f => ["eval", Directory.CreateDirectory(Path.Combine(f.Root, "not-a-run")).FullName], ExitCodes.Data, "not-a-run is an empty folder, not a classification run"),
        ["eval a folder with no args.yaml"] = new(f => ["eval", Edit(f, "noargs", run => File.Delete(Path.Combine(run, "args.yaml")))], ExitCodes.Data, "is not an ember run folder: it has no args.yaml"),
        ["ablate resume missing folder"] = new(f => ["ablate", "--resume", Path.Combine(f.Root, "no-ablate")], ExitCodes.Data, "resume folder not found"),
        ["ablate resume of a run folder"] = new(f => ["ablate", "--resume", f.Run], ExitCodes.Data, "exp1 is a classification run (`ember train`), not an ablation study folder; resume it with `ember train --resume "),
        ["train resume missing folder"] = new(f => ["train", "--resume", Path.Combine(f.Root, "no-run")], ExitCodes.Data, "resume folder not found"),

        // checkpoints (exit 4)
        ["args.yaml names another model"] = new(f => ["eval", Edit(f, "model", run => File.WriteAllText(Path.Combine(run, "args.yaml"), ConfigLoader.ToYaml(new TrainConfig { Model = "cnn" })))], ExitCodes.Checkpoint, "do not belong together"),
        ["weights damaged"] = new(f => ["eval", Edit(f, "weights", run => Flip(Path.Combine(run, "best", "model.safetensors")))], ExitCodes.Checkpoint, "damaged"),
        ["checkpoint.json garbage"] = new(f => ["eval", Edit(f, "json", run => File.WriteAllText(Path.Combine(run, "best", "checkpoint.json"), "{not json"))], ExitCodes.Checkpoint, "checkpoint.json"),
        ["weights file missing"] = new(f => ["eval", Edit(f, "missing", run => File.Delete(Path.Combine(run, "best", "model.safetensors")))], ExitCodes.Checkpoint, "is missing"),
        ["resume without last/"] = new(f => ["train", "--resume", Edit(f, "nolast", run => Directory.Delete(Path.Combine(run, "last"), true))], ExitCodes.Checkpoint, "last"),
        ["resume of a run killed in its first epoch"] = new(f => ["train", "--resume", Edit(f, "nocheckpoint", run => { Directory.Delete(Path.Combine(run, "last"), true); Directory.Delete(Path.Combine(run, "best"), true); })],
            ExitCodes.Checkpoint, "has no last/ checkpoint: it stopped before its first checkpoint was saved (there is nothing to resume or evaluate); start it again with `ember train --config "),
        ["resume with last weights truncated"] = new(f => ["train", "--resume", Edit(f, "cut-last", run => Truncate(Path.Combine(run, "last", "model.safetensors"))), "--epochs", "2"], ExitCodes.Checkpoint, "model.safetensors"),
        ["no best checkpoint"] = new(f => ["eval", Edit(f, "nobest", run => Directory.Delete(Path.Combine(run, "best"), true))], ExitCodes.Checkpoint, "--checkpoint last"),
        ["predict weights truncated"] = new(f => ["predict", Edit(f, "predict-cut", run => Truncate(Path.Combine(run, "best", "model.safetensors"))), "--index", "0"], ExitCodes.Checkpoint, "model.safetensors"),
        ["predict last checkpoint.json empty"] = new(f => ["predict", Edit(f, "predict-json", run => File.WriteAllBytes(Path.Combine(run, "last", "checkpoint.json"), [])), "--checkpoint", "last", "--index", "0"], ExitCodes.Checkpoint, "checkpoint.json"),
        ["export weights damaged"] = new(f => ["export", Edit(f, "export-flip", run => Flip(Path.Combine(run, "best", "model.safetensors"))), "--format", "onnx", "--output", Path.Combine(f.Root, "new-runs", "flip.onnx")], ExitCodes.Checkpoint, "damaged"),
        ["eval weights of another architecture"] = new(f => ["eval", Edit(f, "arch-eval", OtherArchitecture)], ExitCodes.Checkpoint, "from checkpoint, the shape in current model is [10"),
        ["predict weights of another architecture"] = new(f => ["predict", Edit(f, "arch-predict", OtherArchitecture), "--index", "0"], ExitCodes.Checkpoint, "size mismatch for "),
        ["export weights of another architecture"] = new(f => ["export", Edit(f, "arch-export", OtherArchitecture), "--format", "safetensors", "--output", Path.Combine(f.Root, "new-runs", "arch.safetensors")],
            ExitCodes.Checkpoint, "size mismatch for "),
        ["export with no best checkpoint"] = new(f => ["export", Edit(f, "nobest-export", run => Directory.Delete(Path.Combine(run, "best"), true)), "--format", "safetensors"], ExitCodes.Checkpoint, "--checkpoint last"),

        // the file system (exit 5)
        ["project under /proc"] = new(f => ["train", "--project", "/proc/x", "--model", "mlp"], ExitCodes.FileSystem, "cannot create a run folder under '/proc/x'"),
        ["project is a file"] = new(f => ["train", "--project", f.File_("a-file", "x"), "--model", "mlp"], ExitCodes.FileSystem, "is a file, not a folder"),
        ["project below a file"] = new(f => ["train", "--project", Path.Combine(f.File_("b-file", "x"), "runs")], ExitCodes.FileSystem, "cannot create a run folder"),
        ["evolve project under /proc"] = new(f => ["evolve", "-g", "1", "--project", "/proc/x"], ExitCodes.FileSystem, "/proc/x"),
        ["ablate project is a file"] = new(f => ["ablate", f.File_("study.yaml", "baseline: {model: mlp, epochs: 1}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [0]\n"), "--project", f.File_("c-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["gradient-flow project under /sys"] = new(f => ["gradient-flow", "--project", "/sys/ember-runs"], ExitCodes.FileSystem, "/sys/ember-runs"),
        ["forecast train project under /proc"] = new(f => ["forecast", "train", .. Forecast(f), "--project", "/proc/ember-forecast"], ExitCodes.FileSystem, "cannot create a run folder under '/proc/ember-forecast'"),
        ["forecast train project is a file"] = new(f => ["forecast", "train", .. Forecast(f), "--project", f.File_("d-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["variance-shift project under /sys"] = new(f => ["variance-shift", "--limit", "64", "--test-limit", "64", "--project", "/sys/ember-variance"], ExitCodes.FileSystem, "/sys/ember-variance"),
        ["lora-transfer project is a file"] = new(f => ["lora-transfer", "--pretrain-limit", "64", "--adapt-limit", "64", "--project", f.File_("e-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["evolve project is a file"] = new(f => ["evolve", "-g", "1", "--project", f.File_("g-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["ablate project under /proc"] = new(f => ["ablate", f.File_("study-proc.yaml", "baseline: {model: mlp, epochs: 1}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [0]\n"), "--project", "/proc/ember-ablate"], ExitCodes.FileSystem, "/proc/ember-ablate"),
        ["export output below a file"] = new(f => ["export", f.Run, "--format", "safetensors", "--output", Path.Combine(f.File_("h-file", "x"), "model.safetensors")], ExitCodes.FileSystem, "h-file"),
        ["export output under /proc"] = new(f => ["export", f.Run, "--format", "safetensors", "--output", "/proc/model.safetensors"], ExitCodes.FileSystem,
            "); export writes model.safetensors there; give --output a file in a folder you can write to"),
        ["gradient-flow disk full"] = new(f => ["gradient-flow", "--output", "/dev/full"], ExitCodes.FileSystem, "disk is full"),
        ["gradient-flow output under /proc"] = new(f => ["gradient-flow", "--output", "/proc/flow.png"], ExitCodes.FileSystem,
            "ember: cannot write to /proc (the file system does not allow it: read-only, or virtual like /proc); gradient-flow writes flow.png there"),
        ["gradient-flow recurrent output under /proc"] = new(f => ["gradient-flow", "--recurrent", "--steps", "2", "--length", "4", "--hidden", "2", "--output", "/proc/flow.png"],
            ExitCodes.FileSystem, "); gradient-flow writes flow.png, step_gradient_norms.csv and accuracy.csv there; give --output a file in a folder you can write to"),
        ["gradient-flow project is a file"] = new(f => ["gradient-flow", "--project", f.File_("i-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["variance-shift project is a file"] = new(f => ["variance-shift", "--limit", "64", "--test-limit", "64", "--project", f.File_("j-file", "x")], ExitCodes.FileSystem, "is a file, not a folder"),
        ["lora-transfer project under /sys"] = new(f => ["lora-transfer", "--pretrain-limit", "64", "--adapt-limit", "64", "--project", "/sys/ember-lora"], ExitCodes.FileSystem, "/sys/ember-lora"),

        // training that diverges (exit 6)
        ["loss diverges"] = new(f => ["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e30", "--schedule", "none", "--limit", "256", "--batch-size", "64", "--epochs", "1", "--plain", "--project", P(f)],
            ExitCodes.Diverged, "the last finite loss was"),
        // one step of one batch: the loss was finite, the step made the weights NaN (before: exit 0, NaN weights saved)
        ["weights diverge on the last step"] = new(f => ["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e300", "--schedule", "none", "--limit", "64", "--batch-size", "64", "--epochs", "1", "--plain", "--project", P(f)],
            ExitCodes.Diverged, "the weights became non-finite in epoch 1"),
    };

    static string P(CliFailureFixture f) => Path.Combine(f.Root, "new-runs");

    // a valid series, so that only the project folder is wrong
    static string[] Forecast(CliFailureFixture f)
    {
        var folder = Path.Combine(f.Root, "series");
        Directory.CreateDirectory(folder);
        return ["--data", ForecastFaultTests.Series(folder), "--epochs", "1", "--hidden", "4", "--lookback", "24", "--horizon", "3", "--val", "12", "--test", "12", "--plain"];
    }

    static string Edit(CliFailureFixture f, string name, Action<string> damage)
    {
        var copy = f.Copy(name);
        damage(copy);
        return copy;
    }

    // best/ holding a 5-class mlp's weights, recorded as an mlp with matching SHA-256s: not the 10-class model args.yaml rebuilds
    static void OtherArchitecture(string run)
    {
        var best = Path.Combine(run, "best");
        Directory.Delete(best, true);
        Ember.Training.Checkpoint.Save(best, Ember.Models.ModelZoo.Create("mlp", 5, 1), new Ember.Training.CheckpointState { Metadata = new() { ["model"] = "mlp" } });
    }

    static string Fifo(CliFailureFixture f)
    {
        var path = Path.Combine(f.Root, "files", "fifo.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", path)) mkfifo.WaitForExit();
        return path;
    }

    static void Truncate(string path)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length / 2);
    }

    static void Flip(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }

    static string GarbageData(CliFailureFixture f)
    {
        var folder = Path.Combine(f.Root, "garbage-data");
        Directory.CreateDirectory(folder);
        foreach (var name in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" })
        {
            using var gz = new GZipStream(File.Create(Path.Combine(folder, name)), CompressionLevel.Fastest);
            gz.Write("not an IDX file at all"u8);
        }
        return folder;
    }

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Fact]
    public void The_table_has_at_least_40_cases_and_every_failure_kind()
    {
        Assert.True(Cases.Count >= 40, $"{Cases.Count} cases");
        foreach (var code in new[] { ExitCodes.Usage, ExitCodes.Data, ExitCodes.Checkpoint, ExitCodes.FileSystem, ExitCodes.Diverged })
            Assert.Contains(Cases.Values, c => c.Code == code);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_bad_input_gives_its_exit_code_and_a_message_without_a_stack_trace(string name)
    {
        var c = Cases[name];
        var args = c.Args(fx);
        var before = Snapshot(fx.Runs);
        var (code, stdout, stderr) = Invoke(args);
        Assert.True(c.Code == code, $"{name}: exit code {code}, expected {c.Code}; stderr: {stderr}");
        Assert.StartsWith("ember: ", stderr);
        Assert.Contains(c.Message, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("   at ", stdout);
        Assert.Equal(before, Snapshot(fx.Runs));
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        var (code, _, stderr) = Invoke(["train", "--epochs", "0", "--project", P(fx), "--verbose"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("epochs must be positive", stderr);
        Assert.Contains("   at ", stderr);
    }

    [Fact]
    public void Help_names_the_command_ember_and_the_real_defaults()
    {
        var output = new StringWriter();
        Assert.Equal(0, EmberCommand.Run(["train", "--help"], output, new StringWriter()));
        var help = output.ToString();
        Assert.Contains("ember train [options]", help);
        Assert.DoesNotContain("Ember.Cli", help);
        Assert.Contains("default fashion-mnist (embedded)", help);
        Assert.Contains("default automatic (plain lines when the output is not a terminal)", help);
    }

    [Fact]
    public void A_bare_ember_prints_the_commands_and_exits_with_the_usage_code()
    {
        var output = new StringWriter();
        Assert.Equal(ExitCodes.Usage, EmberCommand.Run([], output, new StringWriter()));
        Assert.Contains("ember [command] [options]", output.ToString());
        foreach (var command in new[] { "train", "eval", "predict", "profile", "gradient-flow", "evolve", "ablate", "export" })
            Assert.Contains($"  {command} ", output.ToString());
    }

    [Theory]
    [InlineData(new[] { "train", "--epochs", "0" }, ExitCodes.Usage, "ember: epochs must be positive, got 0")]
    [InlineData(new[] { "train", "--project", "/proc/x" }, ExitCodes.FileSystem, "ember: cannot create a run folder under '/proc/x'")]
    public async Task The_real_process_exits_with_the_code_and_prints_the_message_on_stderr(string[] args, int code, string message)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Ember.Cli.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = fx.Root };
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "ember did not exit within 60 s");
        Assert.Equal(code, process.ExitCode);
        Assert.StartsWith(message, stderr);
        Assert.DoesNotContain("   at ", stderr + await stdout);
    }

    internal static (int Code, string Stdout, string Stderr) Invoke(string[] args)
    {
        var stderr = new StringWriter();
        var stdout = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(stdout);
        int code;
        try { code = EmberCommand.Run(args, stdout, stderr); }
        finally { Console.SetOut(previous); }
        return (code, stdout.ToString(), stderr.ToString());
    }

    internal static SortedDictionary<string, string> Snapshot(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            result[Path.GetRelativePath(root, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
            result[Path.GetRelativePath(root, dir) + "/"] = "";
        return result;
    }
}
