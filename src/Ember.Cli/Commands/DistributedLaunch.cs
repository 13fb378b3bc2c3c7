using System.Diagnostics;
using System.Runtime.InteropServices;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember train --nproc N` started outside an MPI launcher: starts Open MPI's mpirun with N copies of this same ember
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
        // --quiet: mpirun's own notes (forwarding a signal, a rank's non-zero exit code) would repeat what rank 0 reports
        info.ArgumentList.Add("--quiet");
        info.ArgumentList.Add("-n");
        info.ArgumentList.Add(processes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // mpirun counts one slot per core and refuses more processes than slots unless told otherwise
        if (processes > Environment.ProcessorCount) info.ArgumentList.Add("--oversubscribe");
        // Each rank is a whole .NET process with its own thread pool: give each its share of the cores rather than
        // mpirun's default of one core per rank (np <= 2) or all of them (oversubscribed), unless the user chose.
        info.ArgumentList.Add("--bind-to");
        info.ArgumentList.Add("none");
        if (Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") is null)
            info.Environment["DOTNET_PROCESSOR_COUNT"] = Math.Max(1, Environment.ProcessorCount / processes).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Open MPI refuses to start as root (containers often are) unless this is said explicitly
        if (Environment.UserName == "root") info.ArgumentList.Add("--allow-run-as-root");
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
