namespace Ember.Cli.Commands;

/// <summary>The process exit codes of `ember` (docs/training.md has the table); each kind of failure has its own.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>An unexpected error: a bug in Ember (run again with --verbose for the stack trace and report it).</summary>
    public const int Internal = 1;
    /// <summary>A bad option, config file or study/space file.</summary>
    public const int Usage = 2;
    /// <summary>Missing or invalid input data or run folder.</summary>
    public const int Data = 3;
    /// <summary>A damaged checkpoint, or one that does not match the run's model.</summary>
    public const int Checkpoint = 4;
    /// <summary>The file system refused: permission denied, read-only, a file where a folder belongs, disk full.</summary>
    public const int FileSystem = 5;
    /// <summary>The training loss became NaN or infinite.</summary>
    public const int Diverged = 6;
    /// <summary>Memory ran out.</summary>
    public const int OutOfMemory = 7;
    /// <summary>Interrupted (Ctrl-C or SIGTERM), as shells count 128 + SIGINT.</summary>
    public const int Interrupted = 130;
}
