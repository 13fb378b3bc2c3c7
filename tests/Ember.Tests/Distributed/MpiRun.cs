using System.Diagnostics;
using System.Text;

namespace Ember.Tests.Distributed;

/// <summary>Runs tests/Ember.MpiDriver under mpirun and collects its output (both streams), exit code and duration.</summary>
public static class MpiRun
{
    /// <summary>The mpirun on the PATH, or null.</summary>
    public static string? Launcher { get; } = Ember.Cli.Commands.DistributedLaunch.FindOnPath("mpirun");

    /// <summary>What the job did; <c>RankLines[r]</c> holds the result lines rank r wrote to its own file.</summary>
    public sealed record Result(int ExitCode, string Output, TimeSpan Elapsed, bool TimedOut, string[][] RankLines);

    /// <summary>Starts <paramref name="ranks"/> processes of the driver in <paramref name="mode"/>; kills the job after <paramref name="limit"/>.</summary>
    public static Result Driver(string mode, int ranks, TimeSpan limit, params string[] extra)
    {
        var launcher = Launcher ?? throw new InvalidOperationException(
            $"mpirun not found on PATH, but EMBER_REQUIRE_MPI=1 asks for the multi-process tests: install Open MPI ({Ember.Distributed.MpiLibrary.InstallHint})");
        var driver = Path.Combine(AppContext.BaseDirectory, "Ember.MpiDriver.dll");
        Assert.True(File.Exists(driver), $"the driver {driver} was not built next to the tests");
        var info = new ProcessStartInfo(launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --oversubscribe: more ranks than cores is fine for tests; --allow-run-as-root: CI runs as root.
        foreach (var a in new[] { "--oversubscribe", "--allow-run-as-root", "-n", ranks.ToString(), "dotnet", driver, mode }) info.ArgumentList.Add(a);
        foreach (var a in extra) info.ArgumentList.Add(a);
        // One thread per rank: the ranks share the machine's cores, and the tests check results, not speed.
        info.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        info.Environment["TERM"] = "dumb";
        var results = Directory.CreateTempSubdirectory("ember-mpi-");
        info.Environment["EMBER_MPI_RESULTS"] = results.FullName;
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        bool exited = process.WaitForExit(limit);
        if (!exited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        var rankLines = new string[ranks][];
        for (int r = 0; r < ranks; r++)
        {
            var file = Path.Combine(results.FullName, $"rank{r}.txt");
            rankLines[r] = File.Exists(file) ? File.ReadAllLines(file) : [];
        }
        results.Delete(recursive: true);
        lock (output) return new Result(exited ? process.ExitCode : -1, output.ToString(), clock.Elapsed, !exited, rankLines);
    }
}
