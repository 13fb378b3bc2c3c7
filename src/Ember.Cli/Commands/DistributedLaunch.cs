using System.Diagnostics;
using System.Runtime.InteropServices;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember train --nproc N` started outside an MPI launcher: starts mpirun (Open MPI's, or MPICH's Hydra) with N copies of this same ember
/// and the same arguments, and waits for them. Each copy sees the launcher's environment and trains as one rank
/// (<see cref="TrainJob"/>); this process only passes signals on and returns mpirun's exit code.
/// </summary>
internal static class DistributedLaunch
{
    /// <summary>Runs the job under mpirun; the arguments are the command line after `ember`.</summary>
    public static int Run(int processes, IReadOnlyList<string> arguments)
    {
        var mpirun = FindOnPath("mpirun")
            ?? throw new ConfigException($"--nproc {processes} starts the processes with Open MPI's mpirun, which is not on PATH; " +
                "install it (Debian/Ubuntu: sudo apt-get install openmpi-bin libopenmpi-dev) or train with --nproc 1");
        // In a session of its own (setsid), mpirun does not get the terminal's Ctrl-C: on SIGINT or SIGTERM it would kill
        // the ranks within seconds. This process catches both and passes them on as SIGUSR1 (Ctrl-C) or SIGUSR2 (SIGTERM),
        // which mpirun forwards untouched; each rank then stops at the next batch and saves, as one process does.
        var setsid = FindOnPath("setsid");
        var info = new ProcessStartInfo(setsid ?? mpirun) { UseShellExecute = false };
        if (setsid is not null) info.ArgumentList.Add(mpirun);
        foreach (var a in LauncherArguments(IsHydra(mpirun), processes, Environment.ProcessorCount, Environment.UserName == "root"))
            info.ArgumentList.Add(a);
        // Each rank is a whole .NET process with its own thread pool: give each its share of the cores, unless the user chose.
        if (Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") is null)
            info.Environment["DOTNET_PROCESSOR_COUNT"] = Math.Max(1, Environment.ProcessorCount / processes).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (host, prefix) = Self();
        info.ArgumentList.Add(host);
        foreach (var a in prefix) info.ArgumentList.Add(a);
        foreach (var a in arguments) info.ArgumentList.Add(a);

        using var job = Process.Start(info) ?? throw new InvalidOperationException($"could not start {mpirun}");
        void Forward(PosixSignalContext context)
        {
            context.Cancel = true; // wait for the ranks to save and exit
            if (!job.HasExited) Kill(job.Id, context.Signal == PosixSignal.SIGTERM ? SigUsr2 : SigUsr1);
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward))
            job.WaitForExit();
        return job.ExitCode;
    }

    /// <summary>
    /// mpirun's options before the program: Open MPI's, or MPICH's when its mpirun is Hydra (Debian's mpich package
    /// makes `mpirun` MPICH's when it is installed instead of Open MPI). Hydra binds no process by default, oversubscribes
    /// without being asked, runs as root and passes the environment (DOTNET_PROCESSOR_COUNT) to the ranks.
    /// </summary>
    internal static string[] LauncherArguments(bool hydra, int processes, int cores, bool root)
    {
        string n = processes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (hydra) return ["-n", n];
        var args = new List<string>
        {
            // --quiet: mpirun's own notes (forwarding a signal, a rank's non-zero exit code) would repeat what rank 0 reports
            "--quiet", "-n", n,
        };
        // Open MPI counts one slot per core and refuses more processes than slots unless told otherwise
        if (processes > cores) args.Add("--oversubscribe");
        // its default binds each rank to one core (np <= 2) or none (oversubscribed); each rank gets cores / N threads instead
        args.AddRange(["--bind-to", "none"]);
        // Open MPI refuses to start as root (containers often are) unless this is said explicitly
        if (root) args.Add("--allow-run-as-root");
        return args.ToArray();
    }

    /// <summary>Whether <paramref name="mpirun"/> is MPICH's Hydra (its --version says "HYDRA"); false when it cannot be asked.</summary>
    static bool IsHydra(string mpirun)
    {
        try
        {
            var info = new ProcessStartInfo(mpirun) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("--version");
            using var p = Process.Start(info);
            if (p is null) return false;
            var error = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000)) { p.Kill(); return false; }
            return IsHydraVersion(output + error.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Reads `mpirun --version`: Hydra prints "HYDRA build details", Open MPI "mpirun (Open MPI) 4.1.4".</summary>
    internal static bool IsHydraVersion(string versionText)
        => versionText.Contains("HYDRA", StringComparison.Ordinal) && !versionText.Contains("Open MPI", StringComparison.Ordinal);

    /// <summary>The signals a rank reads as Ctrl-C and as SIGTERM when mpirun forwards them (Linux numbering).</summary>
    internal const int SigUsr1 = 10, SigUsr2 = 12;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>How to start this ember again: the dotnet host with Ember.Cli.dll, or the apphost itself.</summary>
    static (string Host, string[] Prefix) Self()
    {
        string dll = typeof(DistributedLaunch).Assembly.Location;
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "ember") return (process, []);
        string host = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return (host, [dll]);
    }

    /// <summary>The first executable file named <paramref name="name"/> in a PATH folder, or null.</summary>
    internal static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
