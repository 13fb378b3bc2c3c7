using System.Diagnostics;
using System.Runtime.InteropServices;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>The `ember` process itself, signalled as kill, timeout, Docker and job schedulers do.</summary>
public class SignalTests
{
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static extern int Kill(int pid, int signal);

    const int SigTerm = 15, SigKill = 9;

    /// <summary>Starts the built CLI (Ember.Cli.dll beside the tests) with the same dotnet host.</summary>
    internal static Process StartCli(params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ember.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <summary>Collects a child's output and signals when a line starts with <paramref name="prefix"/>.</summary>
    internal static (ProcessOutput Output, ManualResetEventSlim Seen) Watch(Process cli, string prefix)
    {
        var output = new ProcessOutput();
        var seen = new ManualResetEventSlim();
        cli.OutputDataReceived += (_, e) => { output.AppendLine(e.Data); if (e.Data?.StartsWith(prefix, StringComparison.Ordinal) == true) seen.Set(); };
        cli.ErrorDataReceived += (_, e) => output.AppendLine(e.Data);
        cli.BeginOutputReadLine();
        cli.BeginErrorReadLine();
        return (output, seen);
    }

    /// <summary>
    /// A process's output as it arrives, readable while the reader threads still append: an assertion message such as
    /// $"no progress line: {output}" is built even when the assertion holds, and a bare StringBuilder read during an
    /// append threw (CI, session 14).
    /// </summary>
    internal sealed class ProcessOutput
    {
        readonly System.Text.StringBuilder text = new();
        public void AppendLine(string? line) { lock (text) text.AppendLine(line); }
        public override string ToString() { lock (text) return text.ToString(); }
    }

    [Fact]
    public void After_kill_9_the_run_resumes_from_its_last_epoch_onto_the_same_weights()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        // 2048 images in batches of 64: 32 batches per epoch, 3 micro-batches per step; killed a quarter into epoch 2
        string[] options = ["--model", "mlp", "--epochs", "2", "--limit", "2048", "--batch-size", "64", "--schedule", "onecycle", "--accumulate", "3", "--ema", "0.9", "--plain"];
        using (var cli = StartCli(["train", .. options, "--project", project]))
        {
            var (output, seen) = Watch(cli, "epoch 2/2");
            Assert.True(seen.Wait(TimeSpan.FromSeconds(120)), $"no progress line: {output}");
            Assert.Equal(0, Kill(cli.Id, SigKill));
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter()));

        var straight = new TrainConfig
        {
            Model = "mlp", Epochs = 2, Limit = 2048, BatchSize = 64, Schedule = "onecycle", Accumulate = 3, Ema = 0.9, Plain = true, Project = project,
        };
        Assert.Equal(0, TrainJob.Run(straight, null, new StringWriter()));
        foreach (var file in new[] { "last/model.safetensors", "last/ema.safetensors", "best/model.safetensors" })
            Assert.True(ResumeTests.Sha256(Path.Combine(run, file)) == ResumeTests.Sha256(Path.Combine(project, "exp2", file)), $"{file} differs from the uninterrupted run's");
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Directory.Delete(project, true);
    }

    [Fact]
    public void Sigterm_saves_last_after_the_current_batch_and_the_run_resumes()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        // 1024 images in batches of 64: 16 batches per epoch; the first progress line comes after 4 of them
        using var cli = StartCli("train", "--model", "mlp", "--epochs", "2", "--limit", "1024", "--batch-size", "64", "--schedule", "none", "--plain", "--project", project);
        var (output, started) = Watch(cli, "epoch 1/2");
        Assert.True(started.Wait(TimeSpan.FromSeconds(120)), $"no progress line: {output}");
        Assert.Equal(0, Kill(cli.Id, SigTerm));
        Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(60)), "the run did not stop after SIGTERM");
        cli.WaitForExit(); // drains the output
        Assert.True(cli.ExitCode == 143, $"exit code {cli.ExitCode}: {output}");
        var run = Path.Combine(project, "exp1");
        Assert.Contains($"interrupted (SIGTERM); resume with: ember train --resume {run}", output.ToString());
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(state.Epoch < 2 || !state.EpochComplete, "stopped before the end of the run");

        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter()));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Directory.Delete(project, true);
    }
}
