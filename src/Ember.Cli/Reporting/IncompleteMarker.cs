using Ember.Interop;

namespace Ember.Cli.Reporting;

/// <summary>
/// The file that says a folder's command has not finished: written first, before any result, and removed after the last
/// one. A process killed outright (kill -9, a crash, the machine going down) cannot tidy up, so its folder then says what
/// it is — incomplete, and how to go on — instead of looking like an empty or finished run (as a YOLOv5 or Lightning user
/// would otherwise guess from which files are there).
/// </summary>
public static class IncompleteMarker
{
    /// <summary>The marker's name in the folder.</summary>
    public const string FileName = "INCOMPLETE.txt";

    /// <summary>Writes the marker into <paramref name="folder"/> with <paramref name="text"/> (what the folder is and what to do).</summary>
    public static void Write(string folder, string text) => AtomicFile.WriteAllText(Path.Combine(folder, FileName), text.TrimEnd('\n') + "\n");

    /// <summary>Removes the marker (the command finished, or left nothing behind).</summary>
    public static void Remove(string folder) => File.Delete(Path.Combine(folder, FileName));

    /// <summary>Whether <paramref name="folder"/> holds the marker.</summary>
    public static bool IsMarked(string folder) => File.Exists(Path.Combine(folder, FileName));
}
