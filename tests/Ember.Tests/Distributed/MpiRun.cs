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
        // --oversubscribe: more ranks than cores is fine for tests; --allow-run-as-root: CI runs as root.
        return Run(launcher, ["--oversubscribe", "--allow-run-as-root", "-n", ranks.ToString()], new Dictionary<string, string>(), mode, ranks, limit, extra);
    }

    /// <summary>
    /// The MPICH prefix named by EMBER_MPICH_PREFIX (a folder with bin/mpiexec.hydra and lib/x86_64-linux-gnu/libmpich.so.12,
    /// e.g. Debian's mpich, libmpich12 and libslurm38 packages unpacked with dpkg -x), or null.
    /// </summary>
    public static string? MpichPrefix { get; } = Environment.GetEnvironmentVariable("EMBER_MPICH_PREFIX") is { Length: > 0 } p ? p : null;

    /// <summary>Starts the driver under MPICH's own launcher (Hydra) from <see cref="MpichPrefix"/>, with its libmpich.</summary>
    public static Result MpichDriver(string mode, int ranks, TimeSpan limit, params string[] extra)
    {
        var prefix = MpichPrefix ?? throw new InvalidOperationException("EMBER_MPICH_PREFIX is not set");
        var lib = Path.Combine(prefix, "lib", "x86_64-linux-gnu");
        var env = new Dictionary<string, string>
        {
            ["EMBER_MPI_LIBRARY"] = Path.Combine(lib, "libmpich.so.12"),
            ["LD_LIBRARY_PATH"] = lib,
            // Hydra starts its proxy (hydra_pmi_proxy) from PATH.
            ["PATH"] = Path.Combine(prefix, "bin") + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        };
        return Run(Path.Combine(prefix, "bin", "mpiexec.hydra"), ["-n", ranks.ToString()], env, mode, ranks, limit, extra);
    }

    static Result Run(string launcher, string[] launcherArgs, Dictionary<string, string> env, string mode, int ranks, TimeSpan limit, string[] extra)
    {
        var driver = Path.Combine(AppContext.BaseDirectory, "Ember.MpiDriver.dll");
        Assert.True(File.Exists(driver), $"the driver {driver} was not built next to the tests");
        var info = new ProcessStartInfo(launcher)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in launcherArgs) info.ArgumentList.Add(a);
        foreach (var a in new[] { "dotnet", driver, mode }) info.ArgumentList.Add(a);
        foreach (var a in extra) info.ArgumentList.Add(a);
        foreach (var (name, value) in env) info.Environment[name] = value;
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
