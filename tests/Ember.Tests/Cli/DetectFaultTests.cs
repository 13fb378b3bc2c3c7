using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Interop;
using Ember.Training;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// A one-object detection set (16 training images, 4 batches of 4 per epoch) and one uninterrupted 3-epoch
/// `ember detect train` run on it, made once: the reference every interrupted run must reproduce, and the checkpoints
/// the damage cases copy.
/// </summary>
public sealed class DetectFaultFixture : IDisposable
{
    /// <summary>The temporary root.</summary>
    public string Root { get; }
    /// <summary>The set's data.yaml.</summary>
    public string Data { get; }
    /// <summary>The uninterrupted run.</summary>
    public string Whole { get; }
    /// <summary>The uninterrupted run's metrics.csv rows.</summary>
    public List<double[]> WholeRows { get; }

    public DetectFaultFixture()
    {
        Root = Directory.CreateTempSubdirectory("ember-detect-fault").FullName;
        Data = DetectCommandTests.OneObjectSet(Path.Combine(Root, "set"), train: 16, val: 4).Yaml;
        var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", .. Options(Data), "--project", Path.Combine(Root, "whole")]);
        if (code != 0) throw new InvalidOperationException($"the reference run failed ({code}): {stderr}{stdout}");
        Whole = Path.Combine(Root, "whole", "exp1");
        WholeRows = DetectFaultTests.Rows(Path.Combine(Whole, "metrics.csv"));
    }

    /// <summary>The options of every run here: small, no augmentation, no pictures.</summary>
    public static string[] Options(string data) =>
        ["--data", data, "--img", "64", "--epochs", "3", "--batch-size", "4", "--augment", "false", "--optimizer", "adam", "--lr", "0.01",
         "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--plain"];

    /// <summary>A fresh copy of the uninterrupted run, for a case to damage.</summary>
    public string Copy(string name)
    {
        var copy = Path.Combine(Root, "damaged", name, "exp1");
        if (Directory.Exists(copy)) Directory.Delete(copy, true);
        TestFolders.Copy(Whole, copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// `ember detect train | val | predict | make-data` and `ember export` of a detection run under the faults a user meets:
/// the real process stopped by SIGTERM, Ctrl-C or kill -9 (the run resumes onto the uninterrupted run's metrics), a full
/// disk or a refused write while a checkpoint is saved (the previous checkpoint stays whole), folders that cannot be
/// written, damaged checkpoints and bad data files: each an exit code and a message naming the file, never a stack trace.
/// </summary>
public class DetectFaultTests(DetectFaultFixture fx, ITestOutputHelper output) : IClassFixture<DetectFaultFixture>
{
    internal static List<double[]> Rows(string csv)
        => File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();

    /// <summary>Every column but the wall time equals the uninterrupted run's, bit for bit.</summary>
    void AssertSameRows(string run)
    {
        var rows = Rows(Path.Combine(run, "metrics.csv"));
        Assert.Equal(fx.WholeRows.Count, rows.Count);
        for (int e = 0; e < rows.Count; e++)
            for (int k = 0; k < DetectEpoch.Columns.Length - 1; k++)
                Assert.True(fx.WholeRows[e][k].Equals(rows[e][k]),
                    $"epoch {e + 1} {(k == 0 ? "epoch" : DetectEpoch.Columns[k - 1])}: {rows[e][k]} after resuming, {fx.WholeRows[e][k]} uninterrupted");
    }

    [Theory]
    [InlineData(15, 143, "SIGTERM")]
    [InlineData(2, 130, "Ctrl-C")]
    public void A_signal_mid_epoch_saves_last_and_the_resumed_run_writes_the_uninterrupted_rows(int signal, int exitCode, string name)
    {
        var project = Path.Combine(fx.Root, "signal-" + signal);
        // the first progress line comes after batch 1 of 4 of epoch 1: the signal lands with ≥ 2 epochs still to go
        var (exit, output) = SignalTests.StopAfter(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project], "epoch 1/3 ", signal);
        Assert.True(exit == exitCode, $"exit code {exit}: {output}");
        var run = Path.Combine(project, "exp1");
        Assert.Contains($"interrupted ({name}); resume with: ember detect train --resume {run}", output);
        Assert.DoesNotContain("   at ", output);
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(state.Epoch < 3 || !state.EpochComplete, $"stopped at epoch {state.Epoch}, complete {state.EpochComplete}: not before the end of the run");

        var log = new StringWriter();
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, log));
        Assert.Contains($"resuming {run}", log.ToString());
        AssertSameRows(run);
    }

    [Fact]
    public void After_kill_9_the_run_resumes_from_its_last_whole_checkpoint()
    {
        var project = Path.Combine(fx.Root, "kill9");
        // epoch 2's first progress line comes after epoch 1's checkpoints were saved
        SignalTests.StopAfter(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project], "epoch 2/3 ", 9, exitSeconds: 30);
        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(state.EpochComplete && state.Epoch >= 1, $"last/ holds epoch {state.Epoch}, complete {state.EpochComplete}");
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, TextWriter.Null));
        AssertSameRows(run);
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories)); // nor a temporary the kill cut short
    }

    [Theory]
    [InlineData("disk full")]
    [InlineData("write refused")]
    public void A_checkpoint_save_that_fails_keeps_the_previous_one_whole_and_the_run_resumes(string fault)
    {
        var project = Path.Combine(fx.Root, "save-fails-" + fault.Replace(' ', '-'));
        // epoch 1 swaps in last/ and best/; the third swap is epoch 2's first save
        int swaps = 0;
        Checkpoint.FaultInjection.Value = file =>
        {
            if (file != "swap" || ++swaps != 3) return;
            if (fault == "disk full") throw new IOException("No space left on device : '" + project + "'", 28);
            throw new UnauthorizedAccessException($"Access to the path '{project}' is denied.");
        };
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]); }
        finally { Checkpoint.FaultInjection.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}");
        Assert.StartsWith("ember: ", stderr);
        Assert.Contains(fault == "disk full" ? "the disk is full" : "permission denied or read-only", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);

        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Empty(Directory.GetDirectories(run, ".*")); // no staging folder left behind
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, TextWriter.Null));
        AssertSameRows(run);
    }

    [Fact]
    public void A_disk_that_fills_up_while_last_is_written_keeps_the_previous_last_whole_and_the_run_resumes()
    {
        var project = Path.Combine(fx.Root, "last-full");
        int seen = 0;
        // the second model.safetensors written into last/'s staging folder (epoch 2's) fails after 1000 bytes, mid-file
        AtomicFile.FaultInjection.Value = (path, stream) =>
            Path.GetFileName(Path.GetDirectoryName(path)) == ".last.new" && Path.GetFileName(path) == Checkpoint.ModelFile && ++seen == 2 ? new FullDiskStream(stream, 1000) : stream;
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]); }
        finally { AtomicFile.FaultInjection.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(seen >= 2, "the fault was never injected");
        Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}");
        Assert.StartsWith("ember: the disk is full", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);

        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Empty(Directory.GetDirectories(run, ".*")); // no staging folder left behind
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories)); // nor the half-written file
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, TextWriter.Null));
        AssertSameRows(run);
    }

    /// <summary>
    /// The same on a real full disk: a tmpfs of 42 MiB (Linux as root; elsewhere the test says it asserted nothing). Epoch 1
    /// leaves best/ (the model, 7.2 MB) and last/ (model and Adam's state, 21.4 MB); epoch 2's save of last/ stages a second
    /// copy beside them and the kernel refuses its optimizer file part-way (ENOSPC).
    /// </summary>
    [Fact]
    public void A_real_disk_that_fills_up_while_last_is_saved_keeps_the_previous_last_whole_and_the_run_resumes()
    {
        var disk = Directory.CreateDirectory(Path.Combine(fx.Root, "real-disk")).FullName;
        if (!WriteFaultTests.MountTmpfs(disk, "42m", output)) return;
        try
        {
            var project = Path.Combine(disk, "runs");
            var run = Path.Combine(project, "exp1");
            var result = WriteFaultTests.WithStagedLast(run, out var staged, ["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]);
            WriteFaultTests.AssertRealDiskFull(result, run, "detect train");
            WriteFaultTests.AssertPreviousLastWhole(run, staged(), epoch: 1);

            WriteFaultTests.Tool("mount", "-o", "remount,size=256m", disk); // the user frees some space
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", run]);
            Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
            WriteFaultTests.AssertNoTemporaries(run);
            AssertSameRows(run);
            foreach (var file in new[] { "last/model.safetensors", "last/optimizer.safetensors", "best/model.safetensors" })
                Assert.True(ResumeTests.Sha256(Path.Combine(run, file)) == ResumeTests.Sha256(Path.Combine(fx.Whole, file)), $"{file} differs from the undisturbed run's");
        }
        finally { WriteFaultTests.Tool("umount", "-l", disk); }
    }

    /// <summary>Ctrl-C as <see cref="SignalStop"/> takes it (the same stop and reason), at the first validation batch of <paramref name="epoch"/>.</summary>
    sealed class CtrlCInValidation(int epoch, string run) : Callback
    {
        public bool Fired { get; private set; }

        public override void OnValidationBatch(TrainerState state, Tensor input, Tensor output, Tensor target)
        {
            if (Fired || state.Epoch != epoch) return;
            Fired = true;
            state.StopReason = $"interrupted (Ctrl-C); resume with: ember detect train --resume {run}";
            state.StopRequested = true;
        }
    }

    [Fact]
    public void Ctrl_C_during_validation_keeps_the_epoch_whole_and_the_resumed_run_writes_the_uninterrupted_rows()
    {
        var project = Path.Combine(fx.Root, "ctrl-c-in-validation");
        var run = Path.Combine(project, "exp1");
        // in-process, at a chosen validation batch: a real signal sent on a printed line could land before or after it
        var ctrlC = new CtrlCInValidation(epoch: 1, run);
        DetectJob.TestCallback.Value = ctrlC;
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]); }
        finally { DetectJob.TestCallback.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(ctrlC.Fired, "epoch 1 was never validated");
        Assert.True(code == ExitCodes.Interrupted, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains($"interrupted (Ctrl-C); resume with: ember detect train --resume {run}", stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);

        // the validation ran to its end: epoch 1 is whole in last/, with its row
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Single(Rows(Path.Combine(run, "metrics.csv")));
        var log = new StringWriter();
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, log));
        Assert.Contains($"resuming {run} at epoch 2", log.ToString());
        AssertSameRows(run);
    }

    /// <summary>Keeps the trainer's state, so that a fault hook can stop the run as <see cref="SignalStop"/> does, at a chosen moment.</summary>
    sealed class StateProbe : Callback
    {
        public TrainerState? State { get; private set; }
        public override void OnEpochStart(TrainerState state) => State = state;
    }

    [Fact]
    public void Ctrl_C_while_a_checkpoint_is_written_lets_the_save_finish_and_the_run_resumes()
    {
        var project = Path.Combine(fx.Root, "ctrl-c-in-save");
        var run = Path.Combine(project, "exp1");
        var probe = new StateProbe();
        bool fired = false;
        // Ctrl-C as SignalStop takes it, arriving after the first file of epoch 2's end-of-epoch save: the save goes on
        // to its swap (the handler only sets the stop), and the run stops before epoch 3
        Checkpoint.FaultInjection.Value = file =>
        {
            if (fired || file != Checkpoint.ModelFile || probe.State is not { Epoch: 2 } state) return;
            fired = true;
            state.StopReason = $"interrupted (Ctrl-C); resume with: ember detect train --resume {run}";
            state.StopRequested = true;
        };
        DetectJob.TestCallback.Value = probe;
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "train", .. DetectFaultFixture.Options(fx.Data), "--project", project]); }
        finally { Checkpoint.FaultInjection.Value = null; DetectJob.TestCallback.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(fired, "no checkpoint was written in epoch 2");
        Assert.True(code == ExitCodes.Interrupted, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains($"interrupted (Ctrl-C); resume with: ember detect train --resume {run}", stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);

        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((2, true), (state.Epoch, state.EpochComplete));
        Assert.Equal(2, Rows(Path.Combine(run, "metrics.csv")).Count);
        Assert.Empty(Directory.GetDirectories(run, ".*")); // the save that the signal met finished: no staging folder
        Assert.Equal(0, DetectJob.Train(new DetectConfig(), run, TextWriter.Null));
        AssertSameRows(run);
    }

    [Theory]
    [InlineData("while the new last/ was written")]
    [InlineData("between the two renames")]
    [InlineData("after the swap, before the old copy was deleted")]
    public void After_kill_9_inside_a_checkpoint_save_val_and_resume_use_the_whole_checkpoint(string moment)
    {
        // what kill -9 leaves at each moment of Checkpoint.Save (a real kill cannot be aimed at one of them)
        var run = fx.Copy("kill9-in-save-" + moment.Split(' ')[0] + moment.Length);
        string last = Path.Combine(run, "last"), staging = Path.Combine(run, ".last.new"), previous = Path.Combine(run, ".last.old");
        var model = File.ReadAllBytes(Path.Combine(last, Checkpoint.ModelFile));
        switch (moment[0])
        {
            case 'w':
                Directory.CreateDirectory(staging);
                File.WriteAllBytes(Path.Combine(staging, Checkpoint.ModelFile), model[..(model.Length / 3)]);
                break;
            case 'b':
                TestFolders.Copy(last, staging);
                TestFolders.Flip(Path.Combine(staging, Checkpoint.ModelFile)); // whatever the staging folder holds is not read
                Directory.Move(last, previous);
                break;
            default:
                TestFolders.Copy(last, previous);
                TestFolders.Flip(Path.Combine(previous, Checkpoint.ModelFile));
                break;
        }
        var output = New(fx, "kill9-val-" + moment.Length);
        var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", last, "--output", output]);
        Assert.True(code == 0, $"{moment}: detect val exit code {code}: {stderr}{stdout}");

        // extended by an epoch: the first three rows stay the uninterrupted run's, and no leftover remains
        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", run, "--epochs", "4"]);
        Assert.True(code == 0, $"{moment}: resume exit code {code}: {stderr}{stdout}");
        Assert.Contains($"resuming {run} at epoch 4", stdout);
        var rows = Rows(Path.Combine(run, "metrics.csv"));
        Assert.Equal(4, rows.Count);
        for (int e = 0; e < 3; e++) Assert.Equal(fx.WholeRows[e], rows[e]);
        Assert.Equal((4, true), (Checkpoint.ReadState(last).Epoch, Checkpoint.ReadState(last).EpochComplete));
        Assert.Empty(Directory.GetDirectories(run, ".*"));
    }

    /// <summary>
    /// Passes writes through until <paramref name="room"/> bytes are written, then fails as a full disk does (ENOSPC);
    /// a flush with no room left fails too, as fsync does on a full disk (so even an empty file's write fails).
    /// </summary>
    internal sealed class FullDiskStream(Stream inner, long room) : Stream
    {
        long written;
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int fits = (int)Math.Min(buffer.Length, Math.Max(0, room - written));
            inner.Write(buffer[..fits]);
            written += fits;
            if (fits < buffer.Length) throw new IOException("No space left on device", 28);
        }
        public override void Flush()
        {
            if (written >= room) throw new IOException("No space left on device", 28);
            inner.Flush();
        }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => written;
        public override long Position { get => written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public void Predict_skips_an_image_too_large_for_the_free_memory_and_one_whose_memory_runs_out_and_writes_the_others()
    {
        // two of the set's 64×64 images and one of 2000×1500: 3 million pixels, 160 MiB at 56 bytes a pixel
        var source = Directory.CreateDirectory(New(fx, "predict-memory-source")).FullName;
        var small = DetectPredictor.Images(Images(fx)).Take(2).Select(f => Path.Combine(source, Path.GetFileName(f))).ToList();
        foreach (var file in small) File.Copy(Path.Combine(Images(fx), Path.GetFileName(file)), file);
        var large = Path.Combine(source, "large.png");
        Ember.Detection.Data.DetectionImages.WritePng(large, Torch.Zeros(3, 1500, 2000));
        string Picture(string output, string image) => Path.Combine(output, Path.GetFileNameWithoutExtension(image) + ".png");
        string Labels(string output, string image) => Path.Combine(output, "labels", Path.GetFileNameWithoutExtension(image) + ".txt");

        // 64 MiB free beyond what the process holds: the small images fit, the large one is skipped before it is decoded
        var project = New(fx, "predict-memory");
        int code; string stdout, stderr;
        TrainingMemory.FreeBytes.Value = 64L << 20;
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", source, "--project", project]); }
        finally { TrainingMemory.FreeBytes.Value = null; }
        var output = Path.Combine(project, "exp1");
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}");
        Assert.StartsWith($"ember: 1 of 3 image(s) did not fit in memory and were skipped: {large}: 2000×1500 = 3,000,000 pixels need about " +
            $"{TrainingMemory.Size(TrainingMemory.PredictBytesPerPixel * 3_000_000)} to decode, predict and draw, more than the ", stderr);
        Assert.Contains(" it holds and 64.0 MiB free; other programs hold the rest", stderr);
        Assert.EndsWith($" (the others are in {output})", stderr.TrimEnd('\n'));
        Assert.Contains($"skipped {large}: too large for memory now: ", stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        foreach (var image in small) Assert.True(File.Exists(Picture(output, image)) && File.Exists(Labels(output, image)), image);
        Assert.False(File.Exists(Picture(output, large)) || File.Exists(Labels(output, large)));

        // memory runs out while the second small image is processed (its annotated picture written, its labels not yet):
        // that image is skipped and its picture removed; the large one, with memory to spare, is written
        project = New(fx, "predict-memory-runs-out");
        DetectPredictor.AfterDrawing.Value = file => { if (file == small[1]) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."); };
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", source, "--project", project]); }
        finally { DetectPredictor.AfterDrawing.Value = null; }
        output = Path.Combine(project, "exp1");
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}");
        Assert.Equal($"ember: 1 of 3 image(s) did not fit in memory and were skipped: {small[1]}: memory ran out while predicting on it (more memory was needed " +
            $"than this process could get, of the {TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use) (the others are in {output})", stderr.TrimEnd('\n'));
        Assert.Contains($"{large}: 2000×1500, ", stdout);
        foreach (var image in new[] { small[0], large }) Assert.True(File.Exists(Picture(output, image)) && File.Exists(Labels(output, image)), image);
        Assert.False(File.Exists(Picture(output, small[1])) || File.Exists(Labels(output, small[1])));
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Train_and_val_skip_an_image_too_large_for_the_free_memory_and_one_whose_reading_runs_out_of_memory_and_use_the_others()
    {
        // the fixture's set with a 3000×3000 image (9 million pixels, 292 MiB at 34 bytes a pixel) in each split; 256 MiB
        // free beyond what the process holds: the step and the small images fit, the large ones are skipped undecoded
        var data = SetVariant(fx, "large-images", root =>
        {
            foreach (var split in new[] { "train", "val" })
            {
                Ember.Detection.Data.DetectionImages.WritePng(Path.Combine(root, "images", split, "large.png"), Torch.Zeros(3, 3000, 3000));
                File.WriteAllText(Path.Combine(root, "labels", split, "large.txt"), "0 0.5 0.5 0.2 0.2\n");
            }
        });
        var root = Path.GetDirectoryName(data)!;
        string Image(string split, string name) => Path.Combine(root, "images", split, name);
        var need = TrainingMemory.Size(TrainingMemory.DecodeBytesPerPixel * 9_000_000);
        string TooLarge(string split) => $"{Image(split, "large.png")}: too large for memory now: 3000×3000 = 9,000,000 pixels need about {need} to decode and resize, more than the ";
        // and memory runs out while one small training image is read
        var ranOut = Image("train", "003.png");
        var options = DetectFaultFixture.Options(data);
        options[Array.IndexOf(options, "--epochs") + 1] = "1";
        var project = New(fx, "train-large");
        int code; string stdout, stderr;
        TrainingMemory.FreeBytes.Value = 256L << 20;
        DetectJob.WeighingImage.Value = image => { if (image == ranOut) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."); };
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", .. options, "--project", project]); }
        finally { TrainingMemory.FreeBytes.Value = null; DetectJob.WeighingImage.Value = null; }
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains($"train: 15 images, 15 objects, 0 backgrounds (no label file), 2 problems in 2 files (skipped; first: {ranOut}: memory ran out while reading it (", stdout);
        Assert.Contains($"train: skipped {TooLarge("train")}", stdout);
        Assert.Contains($"train: skipped {ranOut}: memory ran out while reading it (Insufficient memory to continue the execution of the program.)", stdout);
        Assert.Contains($"val: 4 images, 4 objects, 0 backgrounds (no label file), 1 problem in 1 file (skipped; first: {TooLarge("val")}", stdout);
        Assert.Contains($"val: skipped {TooLarge("val")}", stdout);
        Assert.Contains(" it holds and 256.0 MiB free; other programs hold the rest", stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);

        // the others are used as a set without the skipped images is: the same epoch, bit for bit
        var without = SetVariant(fx, "large-images-removed", removed =>
        {
            foreach (var split in new[] { "train", "val" }) File.Delete(Path.Combine(removed, "images", split, "large.png"));
            File.Delete(Path.Combine(removed, "images", "train", "003.png"));
        });
        var (reference, _, referenceError) = CliFailureTests.Invoke(["detect", "train", .. options.Select(o => o == data ? without : o), "--project", New(fx, "train-large-removed")]);
        Assert.True(reference == 0, referenceError);
        var rows = Rows(Path.Combine(project, "exp1", "metrics.csv"));
        var expected = Rows(Path.Combine(New(fx, "train-large-removed"), "exp1", "metrics.csv"));
        Assert.Single(rows);
        for (int k = 0; k < DetectEpoch.Columns.Length - 1; k++)
            Assert.True(expected[0][k].Equals(rows[0][k]), $"column {k}: {rows[0][k]} with the images skipped, {expected[0][k]} without them");

        // detect val of the fixture's run on the set: the large image skipped, the four others scored
        var output = New(fx, "val-large");
        TrainingMemory.FreeBytes.Value = 256L << 20;
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--data", data, "--output", output]); }
        finally { TrainingMemory.FreeBytes.Value = null; }
        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains($"val: 4 images, 4 objects, 0 backgrounds (no label file), 1 problem in 1 file (skipped; first: {TooLarge("val")}", stdout);
        Assert.Contains($"val: skipped {TooLarge("val")}", stdout);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "val_metrics.csv")).Length);

        // memory that runs out later, while an image is decoded for its batch, ends the command as before (exit 7), now
        // naming the image: the data set was fixed at the scan, so that every epoch and a resume read the same batches
        var decoded = Image("val", "001.png");
        Ember.Detection.Data.YoloDataset.BeforeDecoding.Value = image => { if (image == decoded) throw new OutOfMemoryException(); };
        try { (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--data", data, "--output", New(fx, "val-decode-oom")]); }
        finally { Ember.Detection.Data.YoloDataset.BeforeDecoding.Value = null; }
        Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}");
        Assert.StartsWith($"ember: out of memory (memory ran out while decoding image '{decoded}' (64×64 = 4,096 pixels)); lower --img", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    [Fact]
    public void Predict_skips_an_image_whose_header_claims_a_huge_size_by_name_and_writes_the_others()
    {
        var source = New(fx, "predict-huge-source");
        TestFolders.Copy(Images(fx), source);
        // a valid PNG header (CRC and all) declaring 20000×20000 RGB: 4.5 GiB as float, refused before anything is decoded
        var ihdr = new byte[25];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr, 13);
        "IHDR"u8.CopyTo(ihdr.AsSpan(4));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), 20000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(12), 20000);
        (ihdr[16], ihdr[17]) = (8, 2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(21), Ember.Tests.Interop.HostileFile.Crc32(ihdr.AsSpan(4, 17)));
        var huge = Path.Combine(source, "huge.png");
        File.WriteAllBytes(huge, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. ihdr]);
        var project = New(fx, "predict-huge");
        var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", source, "--project", project]);
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}");
        Assert.StartsWith($"ember: 1 of 5 image(s) could not be read and were skipped: {huge}: ", stderr);
        Assert.Contains("declares 20000×20000 = 400000000 pixels, above the limit of 89478485", stderr);
        Assert.Contains($"skipped {huge}: unreadable image", stdout);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var output = Path.Combine(project, "exp1");
        foreach (var image in DetectPredictor.Images(Images(fx)).Select(Path.GetFileNameWithoutExtension))
        {
            Assert.True(File.Exists(Path.Combine(output, image + ".png")), image);
            Assert.True(File.Exists(Path.Combine(output, "labels", image + ".txt")), image);
        }
        Assert.False(File.Exists(Path.Combine(output, "huge.png")));
        Assert.False(File.Exists(Path.Combine(output, "labels", "huge.txt")));
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".txt")]
    public void A_disk_that_fills_up_while_predict_writes_is_exit_5_and_leaves_no_half_written_file(string failing)
    {
        var project = New(fx, "predict-full" + failing);
        int seen = 0;
        // the second image's annotated PNG fails after 100 bytes, or its labels file (which may be empty) at once
        AtomicFile.FaultInjection.Value = (path, stream) => path.EndsWith(failing, StringComparison.Ordinal) && ++seen == 2 ? new FullDiskStream(stream, failing == ".png" ? 100 : 0) : stream;
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", Images(fx), "--project", project]); }
        finally { AtomicFile.FaultInjection.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}");
        Assert.StartsWith("ember: the disk is full", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.True(seen >= 2, "the fault was never injected");

        var output = Path.Combine(project, "exp1");
        var files = Directory.GetFiles(output, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order(StringComparer.Ordinal).ToList();
        // the first image whole (picture and labels); of the second, only its picture when the labels file failed
        var first = Path.GetFileNameWithoutExtension(DetectPredictor.Images(Images(fx))[0]);
        var second = Path.GetFileNameWithoutExtension(DetectPredictor.Images(Images(fx))[1]);
        List<string> expected = failing == ".png" ? [first + ".png", Path.Combine("labels", first + ".txt")]
            : [first + ".png", second + ".png", Path.Combine("labels", first + ".txt")];
        Assert.Equal(expected.Order(StringComparer.Ordinal), files); // no .tmp, no half-written file under the final name
        foreach (var png in files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
            Assert.Equal(3, Ember.Detection.Data.DetectionImages.Decode(Path.Combine(output, png), 1 << 24).Size(0));
    }

    [Theory]
    [InlineData("confusion_matrix.png")] // a picture, written before the metrics
    [InlineData("val_metrics.csv")]
    public void A_disk_that_fills_up_while_val_writes_is_exit_5_and_leaves_no_half_written_file(string failing)
    {
        var output = New(fx, "val-full-" + failing);
        AtomicFile.FaultInjection.Value = (path, stream) => path.EndsWith(failing, StringComparison.Ordinal) ? new FullDiskStream(stream, 100) : stream;
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--output", output]); }
        finally { AtomicFile.FaultInjection.Value = null; }
        var (code, stdout, stderr) = result;
        Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}{stdout}");
        Assert.StartsWith("ember: the disk is full", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        // no metrics unless whole, no temporary; the pictures written before are whole PNGs
        Assert.False(File.Exists(Path.Combine(output, failing)));
        Assert.False(File.Exists(Path.Combine(output, "val_metrics.csv")));
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
        foreach (var png in Directory.GetFiles(output, "*.png"))
        {
            var bytes = File.ReadAllBytes(png); // ends with the IEND chunk and its CRC
            Assert.True(bytes.Length > 12 && System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4) == "IEND", $"{png} is cut");
        }

        (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--output", output]);
        Assert.True(code == 0, stderr);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "val_metrics.csv")).Length);
    }

    /// <summary>A case: arguments made from the fixture, the exit code and a piece of the message.</summary>
    public sealed record Case(Func<DetectFaultFixture, string[]> Args, int Code, string Message);

    [Theory]
    [InlineData(15, 143, "SIGTERM")]
    [InlineData(2, 130, "Ctrl-C")]
    public void Predict_signalled_mid_way_says_how_many_images_are_whole_and_leaves_no_temporary(int signal, int exitCode, string name)
    {
        var project = New(fx, "predict-signal-" + signal);
        var source = New(fx, "predict-signal-source-" + signal);
        Directory.CreateDirectory(source);
        var images = Directory.GetFiles(Path.Combine(fx.Root, "set", "images", "train"));
        for (int copy = 0; copy < 6; copy++)
            foreach (var image in images) File.Copy(image, Path.Combine(source, $"{copy}_{Path.GetFileName(image)}"));
        int all = 6 * images.Length;
        // the signal follows the line of the first image written
        var (exit, log) = SignalTests.StopAfter(["detect", "predict", "--weights", Best(fx), "--source", source, "--project", project], source, signal);
        Assert.True(exit == exitCode, $"exit code {exit}: {log}");
        var run = Path.Combine(project, "exp1");
        Assert.Empty(WriteSignalTests.Temporaries(project));
        var labels = Directory.GetFiles(Path.Combine(run, "labels"));
        Assert.Contains($"ember: interrupted ({name}); {labels.Length} of {all} image(s) were written whole to {run} (annotated images and labels/*.txt); " +
            "the others were not: run the same command again for all of them (it writes a new expN)", log);
        Assert.DoesNotContain("   at ", log);
        Assert.InRange(labels.Length, 1, all - 1);
        foreach (var label in labels)
            Assert.Equal(3, Ember.Detection.Data.DetectionImages.Decode(Path.Combine(run, Path.GetFileNameWithoutExtension(label) + ".png"), 1 << 24).Size(0));
    }

    [Fact]
    public void Predict_writes_each_picture_and_its_labels_as_one_write_that_a_stop_waits_for()
    {
        // between an image's picture and its labels file the predictor is still inside one write (AtomicFile.AsWrite), so a
        // signal's AtomicFile.StopWrites lets the labels follow the picture instead of leaving the picture alone
        var project = New(fx, "predict-pairs");
        var inWrite = new List<bool>();
        DetectPredictor.AfterDrawing.Value = _ => inWrite.Add(AtomicFile.InWrite);
        try
        {
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", Path.Combine(fx.Root, "set", "images", "train"), "--project", project]);
            Assert.True(code == 0, stderr);
        }
        finally { DetectPredictor.AfterDrawing.Value = null; }
        Assert.NotEmpty(inWrite);
        Assert.All(inWrite, Assert.True);
        Assert.False(AtomicFile.InWrite, "the write lock held after the command");
    }

    [Fact]
    public void Val_and_predict_remove_the_temporaries_a_killed_val_or_predict_left()
    {
        // what kill -9 mid-write leaves: a dead process's temporary in val's folder, and in an earlier predict's expN/labels
        int dead = Interop.AtomicFileTests.DeadPid();
        var output = New(fx, "val-stale");
        var project = New(fx, "predict-stale");
        var valStale = Interop.AtomicFileTests.Temporary(output, "val_metrics.csv", dead);
        var predictStale = Interop.AtomicFileTests.Temporary(Path.Combine(project, "exp1", "labels"), "000.txt", dead);
        var live = Interop.AtomicFileTests.Temporary(output, "confusion_matrix.png", Environment.ProcessId); // a running writer's: kept

        var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--output", output]);
        Assert.True(code == 0, stderr);
        Assert.Contains($"removed 1 temporary file(s) that a killed process left in {output}: {Path.GetFileName(valStale)}", stdout);
        Assert.Equal([live], WriteSignalTests.Temporaries(output));
        File.Delete(live);

        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", Images(fx), "--project", project]);
        Assert.True(code == 0, stderr);
        Assert.Contains($"removed 1 temporary file(s) that a killed process left in {Path.Combine(project, "exp1")}: {Path.Combine("labels", Path.GetFileName(predictStale))}", stdout);
        Assert.Empty(WriteSignalTests.Temporaries(project));
        Assert.True(Directory.Exists(Path.Combine(project, "exp2")));
    }

    [Fact]
    public void Predict_onto_a_real_full_disk_says_how_many_images_are_whole_and_leaves_no_temporary()
    {
        var disk = New(fx, "predict-real-full");
        Directory.CreateDirectory(disk);
        if (!WriteFaultTests.MountTmpfs(disk, "64k", output)) return;
        try
        {
            // 96 annotated images onto 64 KiB: seven fit (a PNG of 64×64 noise and its labels file take about 9 KiB)
            var source = New(fx, "predict-real-full-source");
            Directory.CreateDirectory(source);
            foreach (var image in Directory.GetFiles(Path.Combine(fx.Root, "set", "images", "train")))
                for (int copy = 0; copy < 6; copy++) File.Copy(image, Path.Combine(source, $"{copy}_{Path.GetFileName(image)}"));
            var project = Path.Combine(disk, "predict");
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Best(fx), "--source", source, "--project", project]);
            Assert.True(code == ExitCodes.FileSystem, $"exit code {code}: {stderr}{stdout}");
            var run = Path.Combine(project, "exp1");
            var labels = Directory.GetFiles(Path.Combine(run, "labels"));
            Assert.StartsWith($"ember: the disk is full (No space left on device : '{run}/", stderr);
            Assert.Contains($"'); {labels.Length} of {Directory.GetFiles(source).Length} image(s) were written whole to {run} (annotated images and labels/*.txt); " +
                "the others were not: free some space, then run the same command again for all of them (it writes a new expN)", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.Empty(WriteSignalTests.Temporaries(disk));
            Assert.InRange(labels.Length, 1, Directory.GetFiles(source).Length - 1);
            foreach (var label in labels)
                Assert.Equal(3, Ember.Detection.Data.DetectionImages.Decode(Path.Combine(run, Path.GetFileNameWithoutExtension(label) + ".png"), 1 << 24).Size(0));
        }
        finally { WriteFaultTests.Tool("umount", "-l", disk); }
    }

    [Theory]
    [InlineData(15, 143, "SIGTERM")]
    [InlineData(2, 130, "Ctrl-C")]
    public void Val_signalled_while_it_evaluates_writes_nothing_and_keeps_the_earlier_metrics(int signal, int exitCode, string name)
    {
        var output = New(fx, "val-signal-" + signal);
        // an earlier validation's files in the folder, then one of 240 images, signalled once its data set is scanned
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Best(fx), "--output", output]);
        Assert.True(code == 0, stderr);
        var earlier = Directory.GetFiles(output).ToDictionary(f => f, File.ReadAllBytes);
        var large = DetectCommandTests.OneObjectSet(New(fx, "val-signal-set-" + signal), train: 0, val: 240).Yaml;
        var (exit, log) = SignalTests.StopAfter(["detect", "val", "--weights", Best(fx), "--data", large, "--output", output], "val: ", signal);
        Assert.True(exit == exitCode, $"exit code {exit}: {log}");
        Assert.Contains($"ember: interrupted ({name}); nothing was written to {output} (the val_metrics.csv there is an earlier validation's); run the same command again to validate", log);
        Assert.DoesNotContain("   at ", log);
        Assert.Equal(earlier.Keys.Order(), Directory.GetFiles(output).Order()); // no temporary, nothing new
        foreach (var (file, bytes) in earlier) Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    static string Best(DetectFaultFixture f) => Path.Combine(f.Whole, "best");
    static string Images(DetectFaultFixture f) => Path.Combine(f.Root, "set", "images", "val");
    static string New(DetectFaultFixture f, string name) => Path.Combine(f.Root, "new", name);

    /// <summary>A copy of the run with <paramref name="damage"/> done to one file of its best/ (or last/).</summary>
    static string Damaged(DetectFaultFixture f, string name, string file, Action<string> damage, string checkpoint = "best")
    {
        var copy = f.Copy(name);
        damage(Path.Combine(copy, checkpoint, file));
        return copy;
    }

    static string BadLabels(DetectFaultFixture f)
    {
        var root = Path.Combine(f.Root, "bad-labels");
        if (!Directory.Exists(root))
        {
            var yaml = DetectCommandTests.OneObjectSet(root, train: 2, val: 1).Yaml;
            foreach (var txt in Directory.GetFiles(Path.Combine(root, "labels", "train"))) File.WriteAllText(txt, "0 0.5 0.5 0.2\n");
            return yaml;
        }
        return Path.Combine(root, "data.yaml");
    }

    public static readonly IReadOnlyDictionary<string, Case> Cases = new Dictionary<string, Case>
    {
        // folders that cannot be written (exit 5); the process runs as root here, so read-only means /proc and /sys
        ["train project under /proc"] = new(f => ["detect", "train", "--data", f.Data, "--project", "/proc/ember-runs"], ExitCodes.FileSystem, "cannot create a run folder under '/proc/ember-runs'"),
        ["predict project under /sys"] = new(f => ["detect", "predict", "--weights", Best(f), "--source", Images(f), "--project", "/sys/ember-predict"], ExitCodes.FileSystem, "/sys/ember-predict"),
        ["predict project is /dev/full"] = new(f => ["detect", "predict", "--weights", Best(f), "--source", Images(f), "--project", "/dev/full"], ExitCodes.FileSystem, "/dev/full"),
        ["val output under /proc"] = new(f => ["detect", "val", "--weights", Best(f), "--output", "/proc/ember-val"], ExitCodes.FileSystem, "/proc/ember-val"),
        ["val output is /dev/full"] = new(f => ["detect", "val", "--weights", Best(f), "--output", "/dev/full"], ExitCodes.FileSystem, "/dev/full"),
        ["make-data output under /proc"] = new(f => ["detect", "make-data", "--output", "/proc/ember-data", "--train-images", "2", "--val-images", "1"], ExitCodes.FileSystem, "/proc/ember-data"),
        ["make-data output is a file"] = new(f => ["detect", "make-data", "--output", CliFixtureFile(f, "not-a-folder", "x"), "--train-images", "2", "--val-images", "1"], ExitCodes.FileSystem, "is a file, not a folder"),
        ["export output is /dev/full"] = new(f => ["export", f.Copy("export-full"), "--format", "onnx", "--output", "/dev/full/detector.onnx"], ExitCodes.FileSystem, "/dev/full"),

        // damaged checkpoints (exit 4), each naming the file
        ["val weights flipped"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-flip", "model.safetensors", TestFolders.Flip), "best")], ExitCodes.Checkpoint, "model.safetensors"),
        ["val weights truncated"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-cut", "model.safetensors", TestFolders.Truncate), "best")], ExitCodes.Checkpoint, "model.safetensors"),
        ["val checkpoint.json garbage"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-json", "checkpoint.json", p => File.WriteAllText(p, "{\"Epoch\": ")), "best")], ExitCodes.Checkpoint, "checkpoint.json"),
        ["predict weights truncated"] = new(f => ["detect", "predict", "--weights", Path.Combine(Damaged(f, "pred-cut", "model.safetensors", TestFolders.Truncate), "best"), "--source", Images(f), "--project", New(f, "pred-cut")], ExitCodes.Checkpoint, "model.safetensors"),
        ["predict weights empty"] = new(f => ["detect", "predict", "--weights", Path.Combine(Damaged(f, "pred-empty", "model.safetensors", p => File.WriteAllBytes(p, [])), "best"), "--source", Images(f), "--project", New(f, "pred-empty")], ExitCodes.Checkpoint, "model.safetensors"),
        ["predict weights missing"] = new(f => ["detect", "predict", "--weights", Path.Combine(Damaged(f, "pred-missing", "model.safetensors", File.Delete), "best"), "--source", Images(f), "--project", New(f, "pred-missing")], ExitCodes.Checkpoint, "is missing"),
        ["predict weights folder missing"] = new(f => ["detect", "predict", "--weights", Path.Combine(f.Root, "no-run", "best"), "--source", Images(f), "--project", New(f, "pred-nofolder")], ExitCodes.Checkpoint, "no-run"),
        ["export weights flipped"] = new(f => ["export", Damaged(f, "export-flip", "model.safetensors", TestFolders.Flip), "--format", "onnx", "--output", Path.Combine(f.Root, "new", "flip.onnx")], ExitCodes.Checkpoint, "model.safetensors"),
        ["export checkpoint.json truncated"] = new(f => ["export", Damaged(f, "export-json", "checkpoint.json", TestFolders.Truncate), "--format", "safetensors", "--output", Path.Combine(f.Root, "new", "json.safetensors")], ExitCodes.Checkpoint, "checkpoint.json"),
        ["resume with last weights flipped"] = new(f => ["detect", "train", "--resume", Damaged(f, "resume-flip", "model.safetensors", TestFolders.Flip, "last"), "--epochs", "4"], ExitCodes.Checkpoint, "model.safetensors"),
        ["resume with optimizer truncated"] = new(f => ["detect", "train", "--resume", Damaged(f, "resume-opt", "optimizer.safetensors", TestFolders.Truncate, "last"), "--epochs", "4"], ExitCodes.Checkpoint, "optimizer.safetensors"),
        ["resume with args.yaml garbage"] = new(f => ["detect", "train", "--resume", Damaged(f, "resume-args", "args.yaml", p => File.WriteAllText(p, "img: [64\n"), "."), "--epochs", "4"], ExitCodes.Usage, "args.yaml"),
        ["resume with args.yaml missing"] = new(f => ["detect", "train", "--resume", Damaged(f, "resume-noargs", "args.yaml", File.Delete, "."), "--epochs", "4"], ExitCodes.Data, "args.yaml"),

        // --weights given what is not a detection checkpoint, or weights it cannot use (exit 4), saying what it found
        ["val weights folder missing"] = new(f => ["detect", "val", "--weights", Path.Combine(f.Root, "no-run", "best")], ExitCodes.Checkpoint,
            "no-run/best: no such file or folder; --weights takes a checkpoint folder, best/ or last/ of an `ember detect train` run"),
        ["val weights best of a run that has only last"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-nobest", "best", p => Directory.Delete(p, true), "."), "best")],
            ExitCodes.Checkpoint, "val-nobest/exp1 has no best/ yet (no epoch completed): use --weights "),
        ["val weights empty folder"] = new(f => ["detect", "val", "--weights", Directory.CreateDirectory(Path.Combine(f.Root, "empty-weights")).FullName], ExitCodes.Checkpoint,
            "empty-weights is an empty folder, not a checkpoint; --weights takes a checkpoint folder"),
        ["val weights a classification checkpoint"] = new(f => ["detect", "val", "--weights", ClassificationBest(f)], ExitCodes.Checkpoint,
            "best/checkpoint.json is not a detection checkpoint (its metadata names no YOLOv5 size and classes)"),
        ["val weights of another model size"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-size", "checkpoint.json", OtherSize), "best")], ExitCodes.Checkpoint,
            "from checkpoint, the shape in current model is ["),
        ["val weights NaN"] = new(f => ["detect", "val", "--weights", Path.Combine(Damaged(f, "val-nan", ".", NanWeights, "."), "best")], ExitCodes.Checkpoint,
            "best/model.safetensors: tensor '"),
        ["predict weights NaN"] = new(f => ["detect", "predict", "--weights", Path.Combine(Damaged(f, "pred-nan", ".", NanWeights, "."), "best"), "--source", Images(f), "--project", New(f, "pred-nan")],
            ExitCodes.Checkpoint, "non-finite values (NaN or ±Inf)"),
        ["export weights NaN"] = new(f => ["export", Damaged(f, "export-nan", ".", NanWeights, "."), "--format", "onnx", "--output", Path.Combine(f.Root, "new", "nan.onnx")], ExitCodes.Checkpoint,
            "non-finite values (NaN or ±Inf)"),

        // --weights or --resume given a file where a checkpoint or run folder belongs (exit 4 and 3)
        ["val weights is a file"] = new(f => ["detect", "val", "--weights", Path.Combine(Best(f), Checkpoint.ModelFile)], ExitCodes.Checkpoint, "model.safetensors is a file; --weights takes a checkpoint folder"),
        ["predict weights is a truncated file"] = new(f => ["detect", "predict", "--weights", TruncatedWeightsFile(f), "--source", Images(f), "--project", New(f, "pred-file")], ExitCodes.Checkpoint, "cut.safetensors is a file"),
        ["resume is a file"] = new(f => ["detect", "train", "--resume", Path.Combine(f.Whole, "args.yaml")], ExitCodes.Data, "--resume takes a run folder, got the file"),
        ["train project is a file"] = new(f => ["detect", "train", "--data", f.Data, "--project", Path.Combine(f.Whole, "args.yaml")], ExitCodes.FileSystem, "is a file, not a folder"),

        // data sets a run cannot use (exit 3), naming data.yaml; the first three before a run folder is made
        ["train data.yaml missing"] = new(f => ["detect", "train", "--data", Path.Combine(f.Root, "no-set", "data.yaml"), "--project", New(f, "no-yaml")], ExitCodes.Data, "data set description not found"),
        ["train data.yaml names a missing folder"] = new(f => ["detect", "train", "--data", SetVariant(f, "no-train-folder", root => File.WriteAllText(Path.Combine(root, "data.yaml"), "train: images/gone\nval: images/val\nnames: [square]\n")),
            "--project", New(f, "no-train-folder")], ExitCodes.Data, "data.yaml: 'train' names"),
        ["train images without labels folder"] = new(f => ["detect", "train", "--data", SetVariant(f, "no-labels", root => Directory.Delete(Path.Combine(root, "labels"), true)),
            "--project", New(f, "no-labels")], ExitCodes.Data, "the training images have no labels folder"),
        ["train labels folder empty"] = new(f => ["detect", "train", "--data", SetVariant(f, "empty-labels", root => { foreach (var txt in Directory.GetFiles(Path.Combine(root, "labels", "train"))) File.Delete(txt); }),
            "--img", "64", "--epochs", "1", "--plain", "--project", New(f, "empty-labels")], ExitCodes.Data, "no training image has a label file"),
        ["val data.yaml names a missing folder"] = new(f => ["detect", "val", "--weights", Best(f), "--data", SetVariant(f, "no-val-folder", root => File.WriteAllText(Path.Combine(root, "data.yaml"), "train: images/train\nval: images/gone\nnames: [square]\n")),
            "--output", New(f, "no-val-folder")], ExitCodes.Data, "data.yaml: 'val' names"),

        // bad data files (exit 3), naming the file and line
        ["train data.yaml garbage"] = new(f => ["detect", "train", "--data", CliFixtureFile(f, "garbage-data.yaml", "train: [images\n"), "--project", New(f, "garbage")], ExitCodes.Data, "garbage-data.yaml:2:1"),
        ["anchors every label malformed"] = new(f => ["anchors", BadLabels(f)], ExitCodes.Data, "000.txt:1"),
        ["train every label malformed"] = new(f => ["detect", "train", "--data", BadLabels(f), "--img", "64", "--epochs", "1", "--plain", "--project", New(f, "bad-labels")], ExitCodes.Data, "000.txt:1"),
    };

    /// <summary>A copy of the fixture's data set (made once) with <paramref name="change"/> done to it; returns its data.yaml.</summary>
    internal static string SetVariant(DetectFaultFixture f, string name, Action<string> change)
    {
        var root = Path.Combine(f.Root, "sets", name);
        if (!Directory.Exists(root))
        {
            TestFolders.Copy(Path.GetDirectoryName(f.Data)!, root);
            change(root);
        }
        return Path.Combine(root, "data.yaml");
    }

    /// <summary>best/ of a tiny `ember train` run (a classification checkpoint), made once.</summary>
    static string ClassificationBest(DetectFaultFixture f)
    {
        var run = Path.Combine(f.Root, "classification", "exp1");
        if (!Directory.Exists(run))
        {
            var tiny = ExportCommandTests.TinyRun("mlp");
            TestFolders.Copy(tiny, run);
            Directory.Delete(Path.GetDirectoryName(tiny)!, true);
        }
        return Path.Combine(run, "best");
    }

    /// <summary>checkpoint.json claiming the weights are YOLOv5s's (they are YOLOv5n's): the recorded SHA-256s still hold.</summary>
    static void OtherSize(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal("n", (string?)node["Metadata"]![DetectJob.ModelKey]);
        node["Metadata"]![DetectJob.ModelKey] = "s";
        File.WriteAllText(json, node.ToJsonString());
    }

    /// <summary>best/ saved again with one tensor of NaN (a run that diverged): every SHA-256 matches.</summary>
    static void NanWeights(string run)
    {
        var best = Path.Combine(run, "best");
        var (model, _) = DetectJob.LoadDetector(best);
        var name = model.StateDict().Keys.First();
        using (Torch.NoGrad()) model.StateDict()[name].FillInPlace(double.NaN);
        Checkpoint.Save(best, model, Checkpoint.ReadState(best));
    }

    /// <summary>The run's best weights, cut in half, alone in a file (not a checkpoint folder).</summary>
    static string TruncatedWeightsFile(DetectFaultFixture f)
    {
        var path = Path.Combine(f.Root, "files", "cut.safetensors");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(Path.Combine(Best(f), Checkpoint.ModelFile), path, overwrite: true);
        TestFolders.Truncate(path);
        return path;
    }

    [Theory]
    [InlineData("train data.yaml missing")]
    [InlineData("train data.yaml names a missing folder")]
    [InlineData("train images without labels folder")]
    public void A_data_set_the_run_cannot_use_fails_before_a_run_folder_is_made(string name)
    {
        var args = Cases[name].Args(fx);
        var project = args[Array.IndexOf(args, "--project") + 1];
        var (code, _, stderr) = CliFailureTests.Invoke(args);
        Assert.True(code == ExitCodes.Data, $"{name}: exit code {code}; stderr: {stderr}");
        Assert.False(Directory.Exists(project), $"{name}: {project} was made for a run that could not start");
    }

    static string CliFixtureFile(DetectFaultFixture f, string name, string text)
    {
        var path = Path.Combine(f.Root, "files", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void A_fault_gives_its_exit_code_and_a_message_naming_the_file_without_a_stack_trace(string name)
    {
        var c = Cases[name];
        var args = c.Args(fx);
        var before = CliFailureTests.Snapshot(fx.Whole);
        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        Assert.True(c.Code == code, $"{name}: exit code {code}, expected {c.Code}; stderr: {stderr}");
        Assert.StartsWith("ember: ", stderr);
        Assert.Contains(c.Message, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("   at ", stdout);
        Assert.Equal(before, CliFailureTests.Snapshot(fx.Whole));
    }
}
