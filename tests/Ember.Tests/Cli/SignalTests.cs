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
    static extern int Kill(int pid, int signal);

    const int SigTerm = 15, SigKill = 9;

    /// <summary>Starts the built CLI (Ember.Cli.dll beside the tests) with the same dotnet host, and <paramref name="environment"/> besides this process's.</summary>
    static Process StartCli(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ember.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return Process.Start(info)!;
    }

    /// <summary>
    /// Runs the CLI with <paramref name="args"/> until a line of its output starts with <paramref name="line"/>, sends it
    /// <paramref name="signal"/> and waits for it to end; returns its exit code and whole output. Fails the test when the
    /// line does not come within <paramref name="lineSeconds"/>, the signal cannot be sent, or the process does not end
    /// within <paramref name="exitSeconds"/> (a process left running by a failure is killed).
    /// The thread that reads the line sends the signal at once, before anything else: between the two there is no
    /// thread-pool callback or test-thread wake-up, which under a loaded parallel test run were late enough for a short
    /// run to pass the point a test needed. Each caller still leaves the run far more work after its line than that.
    /// </summary>
    internal static (int ExitCode, string Output) StopAfter(string[] args, string line, int signal, int lineSeconds = 120, int exitSeconds = 60)
    {
        using var cli = StartCli(args);
        int sent = int.MinValue;
        var watch = new Watch(cli, line, () => sent = Kill(cli.Id, signal));
        try
        {
            Assert.True(watch.Seen.Wait(TimeSpan.FromSeconds(lineSeconds)), $"no line starting \"{line}\": {watch.Output}");
            Assert.True(sent == 0, $"kill({cli.Id}, {signal}) returned {sent}: {watch.Output}");
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(exitSeconds)), $"ember {string.Join(' ', args)} did not stop after signal {signal}: {watch.Output}");
            watch.Drain();
            return (cli.ExitCode, watch.Output.ToString());
        }
        finally { EndIfRunning(cli); }
    }

    /// <summary>
    /// Runs the CLI with <paramref name="args"/> until a line of its output starts with <paramref name="line"/>, then runs
    /// <paramref name="whileRunning"/> (given the child's PID) on the test thread while the child goes on, then sends it
    /// <paramref name="signal"/> and waits for it to end; returns its exit code and whole output. Fails the test when the
    /// child ended before the signal (the run must outlast <paramref name="whileRunning"/>).
    /// </summary>
    internal static (int ExitCode, string Output) SignalAfterDoing(string[] args, string line, Action<int> whileRunning, int signal, int lineSeconds = 120, int exitSeconds = 60)
    {
        using var cli = StartCli(args);
        var watch = new Watch(cli, line, onLine: null);
        try
        {
            Assert.True(watch.Seen.Wait(TimeSpan.FromSeconds(lineSeconds)), $"no line starting \"{line}\": {watch.Output}");
            whileRunning(cli.Id);
            Assert.False(cli.HasExited, $"ember {string.Join(' ', args)} ended before it was signalled: {watch.Output}");
            int sent = Kill(cli.Id, signal);
            Assert.True(sent == 0, $"kill({cli.Id}, {signal}) returned {sent}: {watch.Output}");
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(exitSeconds)), $"ember {string.Join(' ', args)} did not stop after signal {signal}: {watch.Output}");
            watch.Drain();
            return (cli.ExitCode, watch.Output.ToString());
        }
        finally { EndIfRunning(cli); }
    }

    /// <summary>Runs the CLI with <paramref name="args"/> (and <paramref name="environment"/>) to its end (at most <paramref name="exitSeconds"/>); returns its exit code and whole output.</summary>
    internal static (int ExitCode, string Output) RunToEnd(string[] args, int exitSeconds, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var cli = StartCli(args, environment);
        var watch = new Watch(cli, line: null, onLine: null);
        try
        {
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(exitSeconds)), $"ember {string.Join(' ', args)} did not finish: {watch.Output}");
            watch.Drain();
            return (cli.ExitCode, watch.Output.ToString());
        }
        finally { EndIfRunning(cli); }
    }

    // A failed assertion must not leave a training process running on beside the next tests.
    static void EndIfRunning(Process cli)
    {
        if (!cli.HasExited) cli.Kill(entireProcessTree: true);
    }

    /// <summary>
    /// Reads a child's standard output and error on two threads of its own (blocking reads, so a line is seen as soon
    /// as the pipe has it, whatever the thread pool is doing), collects them in <see cref="Output"/>, and on the first
    /// output line starting with the awaited line (never when it is null) runs <c>onLine</c> on the reading thread,
    /// then sets <see cref="Seen"/>.
    /// </summary>
    sealed class Watch
    {
        readonly Thread stdout, stderr;
        public ProcessOutput Output { get; } = new();
        public ManualResetEventSlim Seen { get; } = new();

        public Watch(Process cli, string? line, Action? onLine)
        {
            stdout = Read(cli.StandardOutput, text =>
            {
                if (line is not null && !Seen.IsSet && text.StartsWith(line, StringComparison.Ordinal))
                {
                    onLine?.Invoke();
                    Output.AppendLine(text);
                    Seen.Set();
                }
                else Output.AppendLine(text);
            });
            stderr = Read(cli.StandardError, Output.AppendLine);
        }

        static Thread Read(StreamReader reader, Action<string> take)
        {
            var thread = new Thread(() =>
            {
                try { for (string? text; (text = reader.ReadLine()) is not null;) take(text); }
                catch (ObjectDisposedException) { } // the test ended early and disposed the process
                catch (IOException) { }
            }) { IsBackground = true };
            thread.Start();
            return thread;
        }

        /// <summary>After the process has exited: waits until both streams are read to their end.</summary>
        public void Drain()
        {
            Assert.True(stdout.Join(TimeSpan.FromSeconds(30)) && stderr.Join(TimeSpan.FromSeconds(30)), $"the output did not end: {Output}");
        }
    }

    /// <summary>
    /// A process's output as it arrives, readable while the reader threads still append: an assertion message such as
    /// $"no line starting ...: {output}" is built even when the assertion holds, and a bare StringBuilder read during an
    /// append threw (CI, session 14).
    /// </summary>
    sealed class ProcessOutput
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
        StopAfter(["train", .. options, "--project", project], "epoch 2/2", SigKill, exitSeconds: 30);
        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter()));
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories)); // nor a temporary the kill cut short

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
        var (exitCode, output) = StopAfter(["train", "--model", "mlp", "--epochs", "2", "--limit", "1024", "--batch-size", "64", "--schedule", "none", "--plain", "--project", project],
            "epoch 1/2", SigTerm);
        Assert.True(exitCode == 143, $"exit code {exitCode}: {output}");
        var run = Path.Combine(project, "exp1");
        Assert.Contains($"interrupted (SIGTERM); resume with: ember train --resume {run}", output);
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(state.Epoch < 2 || !state.EpochComplete, "stopped before the end of the run");

        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter()));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Directory.Delete(project, true);
    }
}
