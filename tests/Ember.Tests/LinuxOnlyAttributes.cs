namespace Ember.Tests;

/// <summary>
/// A test of something only Linux has here (flock on a folder, FIFOs made through libc's mkfifo, /proc/meminfo,
/// signals sent to a child process). Elsewhere it is reported as skipped with the reason, not as passed having run nothing.
/// </summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = LinuxOnly.Reason;
    }
}

/// <summary>As <see cref="LinuxFactAttribute"/>, for a test with cases.</summary>
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = LinuxOnly.Reason;
    }
}

static class LinuxOnly
{
    public const string Reason = "Linux only: it needs flock, mkfifo, /proc or POSIX signals as Ember uses them on Linux";
}
