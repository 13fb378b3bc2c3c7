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
        // a study (evolve, ablate) stopped records the trials it finished; the trial it was training is not recorded, and
        // its --resume trains that one again from scratch (StudyTrial), so "it saves last/" would promise what is not used
        bool study = resume is "ember evolve --resume" or "ember ablate --resume";
        string keeps = study ? "it records the trials it finished" : "it saves last/ first";
        string after = study ? " (the trial it was training trains again from scratch)" : "";
        string who = "another process", stop = $"stop it with Ctrl-C in its terminal or kill: {keeps}";
        if (holder is { } h && h.Pid == Environment.ProcessId) (who, stop) = ("this process", "let it end");
        else if (holder is { } other)
            (who, stop) = ($"another process (PID {other.Pid}{(other.Command is null ? "" : $": {other.Command}")})",
                $"stop it with Ctrl-C in its terminal or kill {other.Pid}: {keeps}");
        return $"{folder} is in use by {who}: two processes writing one {(study ? "study" : "run")} folder would mix their " +
               $"{(study ? "trials and result rows" : "checkpoints and result rows")}; wait for it to end (or {stop}), then `{resume} {folder}` goes on from there{after}";
    }
}
