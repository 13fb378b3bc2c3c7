namespace Ember.Interop;

/// <summary>Writes files so that a crash or Ctrl-C never leaves a half-written file: write a temporary file, flush, rename.</summary>
public static class AtomicFile
{
    /// <summary>Test hook: given the target path and the temporary file's stream, returns the stream to write through
    /// (a wrapper that fails part-way stands for a disk that fills up during the write).</summary>
    internal static readonly AsyncLocal<Func<string, Stream, Stream>?> FaultInjection = new();

    /// <summary>Writes through <paramref name="write"/> into a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && Data.UntrustedFile.IsSpecial(full))
        {
            // A device or FIFO (--output /dev/null, /dev/full) is written in place: a rename would replace the device node itself.
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write);
            write(FaultInjection.Value is { } wrapDevice ? wrapDevice(full, device) : device);
            device.Flush();
            return;
        }
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(FaultInjection.Value is { } wrap ? wrap(full, stream) : stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes text atomically.</summary>
    public static void WriteAllText(string path, string text)
        => Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });
}
