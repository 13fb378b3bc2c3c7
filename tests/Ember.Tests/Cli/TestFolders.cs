namespace Ember.Tests.Cli;

/// <summary>File helpers the CLI fault tests share: copies of a finished run, and the damage done to them.</summary>
internal static class TestFolders
{
    /// <summary>Copies <paramref name="from"/> with everything under it into <paramref name="to"/>.</summary>
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary>Flips bits of the middle byte (a damaged file of the right length).</summary>
    public static void Flip(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Cuts the file to half its length (a write that stopped midway).</summary>
    public static void Truncate(string path)
    {
        using var stream = new FileStream(path, FileMode.Open);
        stream.SetLength(stream.Length / 2);
    }
}
