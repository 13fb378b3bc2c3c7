namespace Ember.Detection.Data;

/// <summary>
/// A problem found while reading a detection data set: the file, the 1-based line (0 when the problem is the whole
/// file) and what was expected and what came. The sample it concerns is skipped, never used half-read.
/// </summary>
public sealed record DetectionProblem(string File, int Line, string Message)
{
    /// <summary>"file:line: message" (or "file: message"), as compilers print.</summary>
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}
