using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Interop;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>`train --resume` continues the same run: bit for bit, with its best-metric and early-stopping state, and only the options that may change.</summary>
public class ResumeTests
{
    // 512 images in batches of 64: 8 batches per epoch
    static TrainConfig Tiny(string project, int epochs, int accumulate = 1, string schedule = "none", double ema = 0, int patience = 0) => new()
    {
        Model = "mlp", Epochs = epochs, BatchSize = 64, Limit = 512, Project = project, Plain = true, Seed = 5,
        Schedule = schedule, Accumulate = accumulate, Ema = ema, Patience = patience,
    };

    internal static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    static Dictionary<string, string> Hashes(string run)
        => Directory.GetFiles(run, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(run, f), Sha256);

    static string[] Columns(string line, params int[] k) => k.Select(i => line.Split(',')[i]).ToArray();

    [Theory]
    [InlineData(1, "onecycle", 13)]  // Ctrl-C in epoch 2, after batch 5
    [InlineData(3, "onecycle", 13)]  // ... with 3 micro-batches per step: it stops after batch 6, at the step
    [InlineData(1, "plateau", 13)]
    [InlineData(3, "plateau", 8)]    // at the end of epoch 1 (as a kill -9 during epoch 2 would leave it)
    public void An_interrupted_run_resumes_onto_the_same_final_weights(int accumulate, string schedule, int interruptAfter)
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var config = Tiny(project, 2, accumulate, schedule, ema: 0.9, patience: schedule == "plateau" ? 1 : 0);
        Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
        Assert.Equal(130, TrainJob.Run(config, null, new StringWriter(), interruptAfterBatches: interruptAfter));
        string straight = Path.Combine(project, "exp1"), cut = Path.Combine(project, "exp2");
        var state = Checkpoint.ReadState(Path.Combine(cut, "last"));
        int expectedDone = interruptAfter == 8 ? 8 : accumulate == 1 ? 5 : 6; // never between micro-batches of one step
        Assert.Equal((interruptAfter == 8 ? 1 : 2, expectedDone, interruptAfter == 8), (state.Epoch, state.BatchesDone, state.EpochComplete));

        Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter()));
        foreach (var file in new[] { "last/model.safetensors", "last/optimizer.safetensors", "last/ema.safetensors", "best/model.safetensors" })
            Assert.True(Sha256(Path.Combine(straight, file)) == Sha256(Path.Combine(cut, file)), $"{file} differs from the uninterrupted run's");
        var a = File.ReadAllLines(Path.Combine(straight, "metrics.csv"));
        var b = File.ReadAllLines(Path.Combine(cut, "metrics.csv"));
        Assert.Equal(3, b.Length); // header + one row per epoch
        // every column but time_s, the cut epoch's train_loss and train_acc included (last/ carries their running sums)
        Assert.Equal(Columns(a[1], 0, 1, 2, 3, 4, 5, 6), Columns(b[1], 0, 1, 2, 3, 4, 5, 6));
        Assert.Equal(Columns(a[2], 0, 1, 2, 3, 4, 5, 6), Columns(b[2], 0, 1, 2, 3, 4, 5, 6));
        if (!state.EpochComplete) Assert.Equal(expectedDone * 64L, state.PartialEpoch!.Samples);
        Directory.Delete(project, true);
    }

    [Fact]
    public void Resume_keeps_the_best_metric_and_early_stopping_state_and_extends_with_epochs()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        Assert.Equal(0, TrainJob.Run(Tiny(project, 1, patience: 1), null, new StringWriter()));
        var run = Path.Combine(project, "exp1");
        // as if epoch 1 had scored 99.9%: no later epoch of this tiny run can beat it
        var json = Path.Combine(run, "last", "checkpoint.json");
        var node = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        node["Callbacks"]!["ModelCheckpoint"]!["best"] = 0.999;
        node["Callbacks"]!["EarlyStopping"]!["best"] = 0.999;
        File.WriteAllText(json, node.ToJsonString());
        var best = Sha256(Path.Combine(run, "best", "model.safetensors"));

        // --model repeats the recorded value (accepted); --epochs extends the run
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "3", ["model"] = "mlp" }));
        Assert.Contains("epochs: 3\n", File.ReadAllText(Path.Combine(run, "args.yaml")));
        Assert.Equal(best, Sha256(Path.Combine(run, "best", "model.safetensors"))); // best/ is only replaced by a better epoch
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(run, "best")).Epoch);
        // patience 1 with the restored best: epoch 2 did not improve, so early stopping ended the run before epoch 3
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, "last")).Epoch);
        Directory.Delete(project, true);
    }

    [Fact]
    public void Resume_rejects_options_that_would_change_the_run_and_bad_checkpoints_without_writing_anything()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        Assert.Equal(0, TrainJob.Run(Tiny(project, 1), null, new StringWriter()));
        var run = Path.Combine(project, "exp1");
        var before = Hashes(run);

        var ex = Assert.Throws<ConfigException>(() => TrainJob.Run(new TrainConfig(), run, new StringWriter(),
            resumeOverrides: new Dictionary<string, string?> { ["lr"] = "0.5", ["batch-size"] = "32", ["epochs"] = "4" }));
        Assert.Contains("--resume: --batch-size 32 (the run has 64), --lr 0.5 (the run has 0.002) cannot change when resuming", ex.Message);
        Assert.Contains("only --epochs, --plain, --nproc can", ex.Message);

        // a hand-edited counter: refused before anything is loaded or written
        var json = Path.Combine(run, "last", "checkpoint.json");
        var original = File.ReadAllText(json);
        var node = JsonNode.Parse(original)!.AsObject();
        node["Epoch"] = int.MaxValue;
        File.WriteAllText(json, node.ToJsonString());
        var edited = Hashes(run);
        var range = Assert.Throws<CheckpointException>(() => TrainJob.Run(new TrainConfig(), run, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "3" }));
        Assert.Contains($"checkpoint: {json}: epoch 2147483647 is outside this run's 1..3", range.Message);
        Assert.Equal(edited, Hashes(run));
        File.WriteAllText(json, original);

        // args.yaml naming another model than the checkpoint holds
        var args = Path.Combine(run, "args.yaml");
        File.WriteAllText(args, File.ReadAllText(args).Replace("model: mlp", "model: cnn"));
        var mismatch = Assert.Throws<CheckpointException>(() => TrainJob.Run(new TrainConfig(), run, new StringWriter()));
        Assert.Contains($"holds a 'mlp' model but {args} names 'cnn'", mismatch.Message);
        var eval = Assert.Throws<CheckpointException>(() => EvalCommand.Load(run, "best"));
        Assert.Contains($"holds a 'mlp' model but {args} names 'cnn'", eval.Message);
        File.WriteAllText(args, File.ReadAllText(args).Replace("model: cnn", "model: mlp"));

        // a last/ from another run of the same model (here: args.yaml with another seed) does not belong to this one
        File.WriteAllText(args, File.ReadAllText(args).Replace("seed: 5", "seed: 6"));
        var other = Assert.Throws<CheckpointException>(() => TrainJob.Run(new TrainConfig(), run, new StringWriter()));
        Assert.Contains($"was written by a run with other options than {args} records", other.Message);
        File.WriteAllText(args, File.ReadAllText(args).Replace("seed: 6", "seed: 5"));
        Assert.Equal(before, Hashes(run));
        Directory.Delete(project, true);
    }

    [Fact]
    public void With_ema_best_holds_the_ema_weights_which_eval_predict_and_export_use()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        Assert.Equal(0, TrainJob.Run(Tiny(project, 1, ema: 0.9), null, new StringWriter()));
        var run = Path.Combine(project, "exp1");
        var best = SafeTensors.Load(Path.Combine(run, "best", "model.safetensors"));
        var shadow = SafeTensors.Load(Path.Combine(run, "last", "ema.safetensors"));
        var live = SafeTensors.Load(Path.Combine(run, "last", "model.safetensors"));
        Assert.Equal(shadow["layers.1.weight"].ToArray<float>(), best["layers.1.weight"].ToArray<float>());
        Assert.NotEqual(live["layers.1.weight"].ToArray<float>(), best["layers.1.weight"].ToArray<float>());
        Assert.True(Checkpoint.ReadState(Path.Combine(run, "best")).ModelIsEma);

        // eval on best/ prints exactly the top-1 that train reported for the epoch
        var top1 = double.Parse(File.ReadAllLines(Path.Combine(run, "metrics.csv"))[1].Split(',')[4], System.Globalization.CultureInfo.InvariantCulture);
        var output = Capture(() => EvalCommand.Create().Parse([run]).Invoke(), out int code);
        Assert.Equal(0, code);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"top-1 {100 * top1:F2}%"), output);
        // export writes the same weights, from best/ and from last/
        foreach (var which in new[] { "best", "last" })
        {
            var exported = ExportCommand.Export(run, "safetensors", Path.Combine(project, $"{which}.safetensors"), which, 13, false, TextWriter.Null);
            Assert.Equal(shadow["layers.1.weight"].ToArray<float>(), SafeTensors.Load(exported)["layers.1.weight"].ToArray<float>());
        }
        // a run interrupted before its first epoch ended has no best/: eval points to last/
        Directory.Delete(Path.Combine(run, "best"), true);
        var none = Assert.Throws<DirectoryNotFoundException>(() => EvalCommand.Load(run, "best"));
        Assert.Contains($"{run} has no best/ checkpoint yet (no epoch finished); use --checkpoint last", none.Message);
        Directory.Delete(project, true);
    }

    static string Capture(Func<int> action, out int code)
    {
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try { code = action(); }
        finally { Console.SetOut(previous); }
        return output.ToString();
    }
}
