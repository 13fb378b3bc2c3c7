using System.Text.RegularExpressions;
using Ember.Interop;

namespace Ember.Cli.Commands;

/// <summary>
/// The temporaries that a killed writer of a command's output left (<see cref="AtomicFile.RemoveStaleTemporaries"/>),
/// removed when the command runs again there, saying so: kill -9 or a second Ctrl-C mid-write cannot tidy up, and no
/// other command would ever look in an export's or a validation's output folder.
/// </summary>
internal static class StaleTemporaries
{
    /// <summary>
    /// Removes those in <paramref name="folder"/> (and its subfolders when <paramref name="recursive"/>); a folder that
    /// is not there or cannot be read is left to the command's own writes to report.
    /// </summary>
    public static void Remove(string folder, bool recursive, TextWriter log)
    {
        if (!Directory.Exists(folder)) return;
        IReadOnlyList<string> stale;
        try { stale = AtomicFile.RemoveStaleTemporaries(folder, recursive); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        if (stale.Count > 0)
            log.WriteLine($"removed {stale.Count} temporary file(s) that a killed process left in {folder}: " +
                string.Join(", ", stale.Select(p => Path.GetRelativePath(folder, p))));
    }

    /// <summary>
    /// Removes those in the expN run folders of <paramref name="project"/> (each with its subfolders): a command that
    /// writes into a new expN each time (detect predict, variance-shift, lora-transfer) finds a killed run's there.
    /// </summary>
    public static void RemoveInRunFolders(string project, TextWriter log)
    {
        if (!Directory.Exists(project)) return;
        IEnumerable<string> runs;
        try { runs = Directory.EnumerateDirectories(project).Where(d => RunName.IsMatch(Path.GetFileName(d))).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var run in runs) Remove(run, recursive: true, log);
    }

    static readonly Regex RunName = new(@"^exp\d+$", RegexOptions.CultureInvariant);
}
