namespace Ember.Training;

/// <summary>
/// A checkpoint folder that failed verification: a file missing, damaged, from another checkpoint or run, a counter out
/// of range, weights that do not fit the model or hold NaN/±Inf. <see cref="File"/> names the file (or the folder when the
/// problem is the set of files), <see cref="Problem"/> says what was wrong; the message reads "checkpoint: FILE PROBLEM".
/// Like <see cref="FileNotFoundException"/> it is an <see cref="IOException"/>: a problem with files, not with the caller's code.
/// </summary>
public sealed class CheckpointException : IOException
{
    /// <summary>
    /// A failure of <paramref name="file"/>; <paramref name="problem"/> continues the sentence after the file name
    /// ("is missing", "is damaged: …", or ": epoch 9 is outside …").
    /// </summary>
    public CheckpointException(string file, string problem, Exception? innerException = null)
        : base(Compose(file, problem), innerException)
    {
        File = file;
        Problem = problem.TrimStart(':', ' ');
    }

    /// <summary>The checkpoint file (or folder) that failed.</summary>
    public string File { get; }

    /// <summary>What was wrong with it.</summary>
    public string Problem { get; }

    static string Compose(string file, string problem)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(problem);
        return problem.StartsWith(':') || problem.StartsWith(';') ? $"checkpoint: {file}{problem}" : $"checkpoint: {file} {problem}";
    }
}
