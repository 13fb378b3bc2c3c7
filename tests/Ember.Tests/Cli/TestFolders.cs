namespace Ember.Tests.Cli;

/// <summary>Folder helpers the CLI tests share (copies of a finished run for a case to damage).</summary>
internal static class TestFolders
{
    /// <summary>Copies <paramref name="from"/> with everything under it into <paramref name="to"/>.</summary>
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
