namespace Ember.Cli.Commands;

/// <summary>
/// A run folder that another process writes (<see cref="RunFolderLock"/>): exit 5 with "RUN is in use by another
/// process (PID N: ember train …)" and what to do; nothing was read or written.
/// </summary>
public sealed class RunFolderBusyException(string folder, string resume, (int Pid, string? Command)? holder)
    : IOException(Describe(folder, resume, holder))
{
    /// <summary>The process that holds the folder, when it could be seen.</summary>
    public int? HolderPid { get; } = holder?.Pid;

    static string Describe(string folder, string resume, (int Pid, string? Command)? holder)
    {
        string who = "another process", stop = "stop it with Ctrl-C in its terminal or kill: it saves last/ first";
        if (holder is { } h && h.Pid == Environment.ProcessId) (who, stop) = ("this process", "let it end");
        else if (holder is { } other)
            (who, stop) = ($"another process (PID {other.Pid}{(other.Command is null ? "" : $": {other.Command}")})",
                $"stop it with Ctrl-C in its terminal or kill {other.Pid}: it saves last/ first");
        return $"{folder} is in use by {who}: two processes writing one run folder would mix their checkpoints and result rows; " +
               $"wait for it to end (or {stop}), then `{resume} {folder}` goes on from there";
    }
}
