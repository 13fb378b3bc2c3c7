namespace Ember.Cli.Commands;

/// <summary>
/// A full disk met by a training command in its run folder after the folder's first checkpoint: every file is written
/// whole or not at all, so the checkpoints are whole all the same. <see cref="Failure"/> is what the file system said (the
/// file it refused), <see cref="Advice"/> what is safe and the command that goes on once there is room; the user reads
/// "the disk is full (Failure); Advice" (<see cref="CliErrors"/>), not the advice to start elsewhere that a new run gets.
/// </summary>
public sealed class RunDiskFullException(IOException failure, string advice)
    : IOException($"{CliErrors.FirstLine(failure.Message)}; {advice}", failure)
{
    /// <summary>The file system's words, first line ("No space left on device : 'RUN/results.png'").</summary>
    public string Failure { get; } = CliErrors.FirstLine(failure.Message);

    /// <summary>What the run folder keeps and how the run goes on.</summary>
    public string Advice { get; } = advice;
}
