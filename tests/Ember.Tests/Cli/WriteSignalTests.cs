using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Cli.Reporting;
using Ember.Interop;
using Ember.Tests.Interop;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// The commands that compute and then write files (export, variance-shift, lora-transfer; detect val and predict are in
/// DetectFaultTests) as real processes signalled while they work, and while a file is being written: the signal is sent
/// to a child frozen (SIGSTOP) with its temporary on disk, so it lands mid-write every time. The write under way ends
/// whole, no temporary is left, the exit code is the signal's and one line says what was written; a kill -9 mid-write
/// leaves a temporary that the command's next run removes. And a real full disk (a tmpfs, as root) under an export: the
/// earlier file unchanged, no temporary, one line saying so.
/// </summary>
public class WriteSignalTests(ITestOutputHelper output)
{
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    const int SigInt = 2, SigKill = 9, SigTerm = 15, SigCont = 18, SigStop = 19;

    static Process Start(string[] args, StringBuilder output, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ember.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var cli = Process.Start(info)!;
        void Take(object _, DataReceivedEventArgs e) { if (e.Data is not null) lock (output) output.AppendLine(e.Data); }
        cli.OutputDataReceived += Take;
        cli.ErrorDataReceived += Take;
        cli.BeginOutputReadLine();
        cli.BeginErrorReadLine();
        return cli;
    }

    /// <summary>
    /// Runs the CLI until a temporary appears in <paramref name="folder"/>, freezes it there (SIGSTOP), sends
    /// <paramref name="signal"/>, lets it go on (SIGCONT) and waits for its end; returns its exit code and output.
    /// </summary>
    internal static (int ExitCode, string Output) SignalMidWrite(string[] args, string folder, int signal, int seconds = 120)
    {
        var output = new StringBuilder();
        using var cli = Start(args, output);
        try
        {
            var clock = Stopwatch.StartNew();
            while (!WriteTemporaries(folder).Any())
            {
                Assert.False(cli.HasExited, $"ember {string.Join(' ', args)} ended before a temporary appeared in {folder}: {output}");
                Assert.True(clock.Elapsed.TotalSeconds < seconds, $"no temporary in {folder} after {seconds} s: {output}");
                Thread.SpinWait(100);
            }
            Assert.Equal(0, Kill(cli.Id, SigStop));
            Assert.True(WriteTemporaries(folder).Any(), "the write had ended before the child was frozen"); // frozen mid-write
            Assert.Equal(0, Kill(cli.Id, signal));
            Assert.Equal(0, Kill(cli.Id, SigCont));
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(60)), $"did not end after signal {signal}: {output}");
            cli.WaitForExit(); // the output to its end
            lock (output) return (cli.ExitCode, output.ToString());
        }
        finally { if (!cli.HasExited) cli.Kill(entireProcessTree: true); }
    }

    // The temporaries of file writes, not the writability probe that export makes and removes first (a child frozen
    // there would be stopped before its write began).
    static IEnumerable<string> WriteTemporaries(string folder)
        => Temporaries(folder).Where(t => !Path.GetFileName(t).StartsWith(".ember-write-probe.", StringComparison.Ordinal));

    internal static IEnumerable<string> Temporaries(string folder)
        => Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.tmp", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }) : [];

    /// <summary>
    /// Runs the CLI until it waits inside the write of <paramref name="fifo"/> (a named pipe where one of its output files
    /// goes: <see cref="AtomicFile"/> writes a FIFO in place, so the open waits for a reader, and the child holds still
    /// inside that write for as long as the test pleases, however small the file), sends <paramref name="signal"/>, gives
    /// the handler a second to take it, then reads the pipe to its end and waits for the child's end. Returns its exit
    /// code, output, and what it wrote into the pipe (null when it never opened it after the signal: no handler); the pipe
    /// is removed.
    /// </summary>
    internal static (int ExitCode, string Output, byte[]? Written) SignalInFifoWrite(string[] args, string fifo, int signal)
        => SignalInFifoWrite(args, () => fifo, signal);

    /// <summary>
    /// As <see cref="SignalInFifoWrite(string[], string, int)"/>, for a pipe that can only be made once the child runs (in
    /// a run folder it makes): <paramref name="fifoOnceReady"/>, asked before the child starts and then every 10 ms, gives
    /// its path when the time has come (null before), and the pipe is made there.
    /// </summary>
    internal static (int ExitCode, string Output, byte[]? Written) SignalInFifoWrite(string[] args, Func<string?> fifoOnceReady, int signal)
    {
        string? fifo = null;
        void MakeWhenReady()
        {
            if (fifo is not null || fifoOnceReady() is not { } path) return;
            Assert.True(HostileFile.MakeFifo(path), $"mkfifo {path}");
            fifo = path;
        }
        MakeWhenReady();
        var output = new StringBuilder();
        // without the runtime's diagnostics its startup waits on no FIFO of its own
        using var cli = Start(args, output, new Dictionary<string, string> { ["DOTNET_EnableDiagnostics"] = "0" });
        try
        {
            var clock = Stopwatch.StartNew();
            string Said() { lock (output) return output.ToString(); } // the output so far, for a failure's message
            while (fifo is null || !WaitsForReader(cli.Id))
            {
                MakeWhenReady();
                if (cli.HasExited) Assert.Fail($"ember {string.Join(' ', args)} ended before it opened {fifo ?? "the pipe (not made yet)"}: {Said()}");
                if (clock.Elapsed.TotalSeconds > 120) Assert.Fail($"ember {string.Join(' ', args)} did not open {fifo ?? "the pipe (not made yet)"} in 120 s: {Said()}");
                Thread.Sleep(10);
            }
            string pipe = fifo; // made: the loop ended
            Assert.Equal(0, Kill(cli.Id, signal));
            Thread.Sleep(1000); // the runtime starts a thread for the handler; it takes the signal within milliseconds
            var reading = Task.Run(() => File.ReadAllBytes(pipe)); // its open lets the child's open go on
            clock.Restart();
            while (!reading.Wait(100) && !cli.HasExited)
                if (clock.Elapsed.TotalSeconds > 60) Assert.Fail($"ember {string.Join(' ', args)} neither wrote {pipe} nor ended in 60 s after the signal: {Said()}");
            byte[]? written = null;
            if (reading.Wait(TimeSpan.FromSeconds(5))) written = reading.Result;
            else
            {
                // the child died waiting (no handler): open the pipe for reading and writing, which never waits, so that
                // the reader's open goes on and then meets the end of the pipe
                using (new FileStream(pipe, FileMode.Open, FileAccess.ReadWrite)) { }
                Assert.True(reading.Wait(TimeSpan.FromSeconds(10)), $"the reader of {pipe} did not end");
            }
            if (!cli.WaitForExit(TimeSpan.FromSeconds(60))) Assert.Fail($"did not end after signal {signal}: {Said()}");
            cli.WaitForExit(); // the output to its end
            lock (output) return (cli.ExitCode, output.ToString(), written);
        }
        finally
        {
            if (!cli.HasExited) cli.Kill(entireProcessTree: true);
            if (fifo is not null) File.Delete(fifo); // what was written is returned; a pipe left there would hold a later reader of the folder
        }
    }

    // Whether the main thread of process `pid` (where the command runs) waits in the open of a FIFO for the other end
    // (the kernel's wait_for_partner); not any thread: the runtime's debugger thread waits so on a FIFO of its own.
    static bool WaitsForReader(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/task/{pid}/wchan") is "wait_for_partner" or "fifo_open"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; } // it ended meanwhile
    }

    // A run whose safetensors export is large enough (ResNet-50, about 94 MB) for the write to be caught under way.
    static string LargeRun() => ExportCommandTests.TinyRun("resnet50");

    // Such a run, in a scratch folder that also holds the export's (empty) output folder and its target path.
    static (string Run, string Scratch, string OutFolder, string Target) ExportScratch()
    {
        var run = LargeRun();
        var scratch = Path.GetDirectoryName(run)!;
        var outFolder = Path.Combine(scratch, "out");
        Directory.CreateDirectory(outFolder);
        return (run, scratch, outFolder, Path.Combine(outFolder, "model.safetensors"));
    }

    [Theory]
    [InlineData(SigTerm, 143, "SIGTERM", false)]
    [InlineData(SigInt, 130, "Ctrl-C", false)]
    [InlineData(SigTerm, 143, "SIGTERM", true)]
    public void Export_signalled_mid_write_finishes_the_file_and_leaves_no_temporary(int signal, int exitCode, string name, bool earlier)
    {
        var (run, scratch, outFolder, target) = ExportScratch();
        try
        {
            if (earlier) File.WriteAllText(target, "an earlier export");
            var (exit, log) = SignalMidWrite(["export", run, "--format", "safetensors", "--output", target, .. earlier ? new[] { "--force" } : []], outFolder, signal);
            Assert.True(Directory.GetFiles(outFolder).SequenceEqual([target]), $"left in {outFolder}: {string.Join(", ", Directory.GetFiles(outFolder).Select(Path.GetFileName))}; {log}");
            Assert.True(exit == exitCode, $"exit code {exit}: {log}");
            Assert.Contains($"ember: interrupted ({name}); {target} was written whole before the stop", log);
            Assert.DoesNotContain("   at ", log);
            // whole: every tensor of the run's weights, bit for bit
            var written = SafeTensors.Load(target);
            var weights = SafeTensors.Load(Path.Combine(run, "best", "model.safetensors"));
            Assert.Equal(weights.Count, written.Count);
            foreach (var (key, tensor) in weights)
                Assert.True(tensor.ToDoubleArray().AsSpan().SequenceEqual(written[key].ToDoubleArray()), key);
        }
        finally { Directory.Delete(scratch, true); }
    }

    [Fact]
    public void Export_killed_mid_write_leaves_a_temporary_that_the_next_export_removes()
    {
        var (run, scratch, outFolder, target) = ExportScratch();
        try
        {
            string[] args = ["export", run, "--format", "safetensors", "--output", target];
            var (exit, _) = SignalMidWrite(args, outFolder, SigKill);
            Assert.Equal(128 + SigKill, exit);
            var left = Assert.Single(Temporaries(outFolder)); // kill -9 cannot tidy up
            Assert.False(File.Exists(target));

            var (code, stdout, stderr) = CliFailureTests.Invoke(args);
            Assert.True(code == 0, stderr);
            Assert.Contains($"removed 1 temporary file(s) that a killed process left in {outFolder}: {Path.GetFileName(left)}", stdout);
            Assert.Equal([target], Directory.GetFiles(outFolder));
        }
        finally { Directory.Delete(scratch, true); }
    }

    [Fact]
    public void Export_onto_a_real_full_disk_keeps_the_earlier_file_and_says_what_to_do()
    {
        var run = LargeRun();
        var scratch = Path.GetDirectoryName(run)!;
        var disk = Path.Combine(scratch, "disk");
        Directory.CreateDirectory(disk);
        if (!WriteFaultTests.MountTmpfs(disk, "16m", output)) { Directory.Delete(scratch, true); return; }
        try
        {
            var target = Path.Combine(disk, "model.safetensors");
            File.WriteAllText(target, "an earlier export");
            // about 94 MB onto 16 MiB: the kernel refuses the write part-way
            var (code, stdout, stderr) = CliFailureTests.Invoke(["export", run, "--format", "safetensors", "--output", target, "--force"]);
            Assert.True(code == 5, $"exit code {code}: {stderr}{stdout}");
            Assert.Equal($"ember: the disk is full (No space left on device : '{target}'); {target} was not written (the file there is unchanged); " +
                "free some space, then run the same export again to write it", stderr.TrimEnd('\n'));
            Assert.Equal([target], Directory.GetFiles(disk)); // no temporary
            Assert.Equal("an earlier export", File.ReadAllText(target));
        }
        finally
        {
            WriteFaultTests.Tool("umount", "-l", disk);
            Directory.Delete(scratch, true);
        }
    }

    [Theory]
    [InlineData("variance-shift", "--epochs 500 --limit 512 --test-limit 256 --seeds 0")]
    [InlineData("lora-transfer", "--epochs 500 --pretrain-limit 512 --adapt-limit 256 --seeds 0")]
    public void An_experiment_signalled_mid_run_says_which_rows_are_whole_and_leaves_no_temporary(string command, string options)
    {
        var project = Directory.CreateTempSubdirectory($"ember-{command}-signal").FullName;
        try
        {
            // many epochs: the signal follows the line printed before the first run trains
            var (exit, log) = SignalTests.StopAfter([command, .. options.Split(' '), "--project", project], $"ember {command}:", SigTerm);
            Assert.True(exit == 143, $"exit code {exit}: {log}");
            var folder = Path.Combine(project, "exp1");
            Assert.Contains($"ember: interrupted (SIGTERM); {folder} holds args.yaml and no finished run (no metrics.csv), whole, but not {command}.md; " +
                $"run `ember {command}` again with the same options for all of it (it writes a new expN)", log);
            Assert.DoesNotContain("   at ", log);
            Assert.Equal([Path.Combine(folder, "args.yaml")], Directory.GetFiles(project, "*", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(project, true); }
    }

    [LinuxFact]
    public void Gradient_flow_signalled_while_it_writes_its_plot_ends_with_the_signal_and_the_plot_whole()
    {
        var folder = Directory.CreateTempSubdirectory("ember-gradflow-signal").FullName;
        try
        {
            var plot = Path.Combine(folder, "flow.png");
            var (exit, log, written) = SignalInFifoWrite(["gradient-flow", "--output", plot], plot, SigTerm);
            Assert.True(exit == 143, $"exit code {exit}: {log}");
            Assert.Contains($"ember: interrupted (SIGTERM); flow.png was written whole to {folder} before the stop", log);
            Assert.DoesNotContain("wrote ", log);
            Assert.DoesNotContain("   at ", log);
            // whole: the PNG signature, and the IEND chunk at the very end
            Assert.NotNull(written);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, written[..4]);
            Assert.Equal("IEND"u8.ToArray(), written[^8..^4]);
            Assert.Empty(Temporaries(folder));
        }
        finally { Directory.Delete(folder, true); }
    }

    [LinuxFact]
    public void Gradient_flow_recurrent_signalled_while_it_writes_its_first_file_writes_no_other_and_says_which_is_whole()
    {
        var folder = Directory.CreateTempSubdirectory("ember-gradflow-rnn-signal").FullName;
        try
        {
            var plot = Path.Combine(folder, "flow.png");
            var (exit, log, written) = SignalInFifoWrite(["gradient-flow", "--recurrent", "--length", "8", "--steps", "2", "--hidden", "3", "--output", plot],
                Path.Combine(folder, "accuracy.csv"), SigInt);
            Assert.True(exit == 130, $"exit code {exit}: {log}");
            Assert.Contains($"ember: interrupted (Ctrl-C); accuracy.csv was written whole to {folder}, not step_gradient_norms.csv and flow.png: " +
                "run the same command again for all of them", log);
            Assert.DoesNotContain("   at ", log);
            Assert.NotNull(written);
            var rows = System.Text.Encoding.UTF8.GetString(written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(7, rows.Length); // the header and the six runs: whole
            Assert.Empty(Directory.GetFileSystemEntries(folder)); // no other file, no temporary (the pipe in accuracy.csv's place is gone)
        }
        finally { Directory.Delete(folder, true); }
    }

    /// <summary>
    /// The same stop in a run folder (no --output): the folder stays, marked incomplete, and its INCOMPLETE.txt now says
    /// which file is whole. The command makes the folder itself, so the pipe goes in once its marker is there, while the
    /// six training runs still take their time (seconds; the files are written only after them).
    /// </summary>
    [LinuxFact]
    public void Gradient_flow_recurrent_in_a_run_folder_signalled_while_it_writes_its_first_file_says_in_its_marker_which_is_whole()
    {
        var project = Directory.CreateTempSubdirectory("ember-gradflow-run-signal").FullName;
        try
        {
            var run = Path.Combine(project, "exp1");
            var marker = Path.Combine(run, IncompleteMarker.FileName);
            var (exit, log, written) = SignalInFifoWrite(["gradient-flow", "--recurrent", "--length", "8", "--steps", "300", "--hidden", "3", "--project", project],
                () => File.Exists(marker) ? Path.Combine(run, "accuracy.csv") : null, SigTerm);
            Assert.True(exit == 143, $"exit code {exit}: {log}");
            const string again = "run `ember gradient-flow --recurrent` again with the same options for all of them (it writes a new expN)";
            Assert.Contains($"ember: interrupted (SIGTERM); accuracy.csv was written whole to {run}, not step_gradient_norms.csv and recurrent-gradient-flow.png: {again}", log);
            Assert.DoesNotContain("   at ", log);
            Assert.NotNull(written);
            var rows = System.Text.Encoding.UTF8.GetString(written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(7, rows.Length); // the header and the six runs: whole
            // the run folder stays, holding the marker alone (no other file, no temporary; the pipe in accuracy.csv's place is gone)
            Assert.Equal([marker], Directory.GetFileSystemEntries(project, "*", SearchOption.AllDirectories).Where(e => e != run));
            Assert.Equal("ember gradient-flow was stopped while it wrote its files: accuracy.csv is whole, step_gradient_norms.csv and " +
                $"recurrent-gradient-flow.png were not written; {again}", File.ReadAllText(marker).Trim());
        }
        finally { Directory.Delete(project, true); }
    }

    // A trained forecast run (1 epoch, tiny), in a scratch folder.
    static string ForecastRun()
    {
        var scratch = Directory.CreateTempSubdirectory("ember-forecast-signal").FullName;
        var project = Path.Combine(scratch, "runs");
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", ForecastFaultTests.Series(scratch), "--epochs", "1", "--hidden", "4",
            "--lookback", "24", "--horizon", "3", "--val", "12", "--test", "12", "--plain", "--project", project]);
        Assert.True(code == 0, $"forecast train: exit {code}: {stderr}{stdout}");
        return Path.Combine(project, "exp1");
    }

    [LinuxFact]
    public void Forecast_eval_signalled_while_it_writes_its_first_file_finishes_it_writes_no_other_and_says_so()
    {
        var run = ForecastRun();
        try
        {
            File.Delete(Path.Combine(run, "test_metrics.csv")); // the FIFO stands in its place
            var before = CliFailureTests.Snapshot(run);
            var (exit, log, written) = SignalInFifoWrite(["forecast", "eval", run], Path.Combine(run, "test_metrics.csv"), SigTerm);
            Assert.True(exit == 143, $"exit code {exit}: {log}");
            Assert.Contains($"ember: interrupted (SIGTERM); test_metrics.csv was written whole to {run}, not forecast.png, summary.md: " +
                $"run `ember forecast eval {run}` again to write them all", log);
            Assert.DoesNotContain("   at ", log);
            Assert.NotNull(written);
            Assert.Equal(4, System.Text.Encoding.UTF8.GetString(written).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the header and three methods: whole
            Assert.Equal(before, CliFailureTests.Snapshot(run)); // forecast.png and summary.md as they were, no temporary
        }
        finally { Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(run))!, true); }
    }

    [LinuxFact]
    public void Forecast_predict_signalled_while_it_writes_finishes_the_file_and_says_so()
    {
        var run = ForecastRun();
        try
        {
            var before = CliFailureTests.Snapshot(run);
            var (exit, log, written) = SignalInFifoWrite(["forecast", "predict", run], Path.Combine(run, "predictions.csv"), SigInt);
            Assert.True(exit == 130, $"exit code {exit}: {log}");
            Assert.Contains($"ember: interrupted (Ctrl-C); predictions.csv was written whole to {run} before the stop", log);
            Assert.DoesNotContain("   at ", log);
            Assert.NotNull(written);
            var lines = System.Text.Encoding.UTF8.GetString(written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length); // the header and the 3 steps of the horizon
            Assert.Equal(before, CliFailureTests.Snapshot(run)); // the run as it was, no temporary
        }
        finally { Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(run))!, true); }
    }
}
