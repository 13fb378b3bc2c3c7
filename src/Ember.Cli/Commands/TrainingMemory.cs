using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// Memory running out inside a training loop (`train`, `detect train`, `forecast train`). The step that failed is lost,
/// nothing else: every checkpoint is written whole or not at all, so the run folder keeps its last/ as a kill would
/// leave it. The error then says so, and how the run goes on, besides which options to lower (<see cref="CliErrors.MemoryHint"/>).
/// </summary>
public static class TrainingMemory
{
    /// <summary>
    /// Runs <paramref name="fit"/>; an <see cref="OutOfMemoryException"/> from it is thrown again with what
    /// <paramref name="runDir"/> keeps and the command that continues it (<paramref name="resumeCommand"/>).
    /// </summary>
    public static void Run(Action fit, string runDir, string resumeCommand)
    {
        try { fit(); }
        catch (OutOfMemoryException e)
        {
            if (Kept(runDir, resumeCommand) is not string kept) throw;
            throw new OutOfMemoryException($"{e.Message.Split('\n')[0].Trim().TrimEnd('.')}; {kept}", e);
        }
    }

    /// <summary>What a run folder holds after a failed step and how to go on from it; null before its first checkpoint.</summary>
    internal static string? Kept(string runDir, string resumeCommand)
    {
        var last = Path.Combine(runDir, "last");
        if (!File.Exists(Path.Combine(last, Checkpoint.JsonFile))) return null;
        var state = Checkpoint.ReadState(last);
        var at = state.EpochComplete ? $"the end of epoch {state.Epoch}" : $"epoch {state.Epoch}, batch {state.BatchesDone}";
        return $"{last} is whole (saved at {at}): `{resumeCommand}` continues from there when more memory is free " +
               "(a smaller batch or model needs a new run: the options that define a run cannot change on resume)";
    }
}
