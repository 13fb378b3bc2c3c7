using System.Runtime.InteropServices;

namespace Ember.Data;

/// <summary>
/// Opens files that come from outside (weights, data sets, images) so that a hostile path fails at once with a clear
/// error instead of hanging or reading forever: only regular files are opened (a FIFO would block in open(), a symlink
/// to /dev/zero never ends, a folder is not a file), and reads are bounded by the size the file system reports.
/// Errors name the file and say what it is: <see cref="FileNotFoundException"/> when it is missing,
/// <see cref="InvalidDataException"/> when it is not a regular file or is larger than the caller's cap.
/// </summary>
public static class UntrustedFile
{
    /// <summary>
    /// Checks that <paramref name="path"/> is a regular file (after following symlinks); <paramref name="what"/> prefixes
    /// errors (e.g. "safetensors").
    /// </summary>
    public static void RequireRegular(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new InvalidDataException($"{what}: {path} is a folder, not a file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{what}: file not found: {path}", path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is not { Exists: true })
            throw new FileNotFoundException($"{what}: file not found: {path} is a symbolic link to {info.LinkTarget}, which does not exist", path);
        var (known, kind) = FileKind(path);
        if (kind is not null) throw new InvalidDataException($"{what}: {path} is {kind}, not a regular file; refusing to read it");
        if (!known && (info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info).Length == 0)
            // without statx a FIFO or device looks like an empty file, and opening a FIFO would block: refuse both
            throw new InvalidDataException($"{what}: {path} is empty (or not a regular file)");
    }

    /// <summary>Opens a regular file for reading (see <see cref="RequireRegular"/>) and returns it with its size.</summary>
    public static (FileStream Stream, long Length) OpenRead(string path, string what)
    {
        RequireRegular(path, what);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return (stream, stream.Length); // the opened file's own size (a symlink's would be its target path's length)
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes = long.MaxValue)
    {
        var (stream, length) = OpenRead(path, what);
        using (stream)
        {
            if (length > maxBytes || length > Array.MaxLength)
                throw new InvalidDataException($"{what}: {path} is {length} bytes, above the {Math.Min(maxBytes, Array.MaxLength)}-byte limit for this kind of file");
            var bytes = new byte[length];
            ReadExactly(stream, bytes, path, what);
            return bytes;
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from the stream; a file that ends first (it shrank while read) is an error naming it.</summary>
    public static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{what}: {path} ended early while it was read (it was truncated or changed)"); }
    }

    // The file type from statx(2): Known is false where statx is unavailable (not Linux, an old kernel or libc), and Kind
    // names a file that is not regular ("a FIFO", "a character device", ...). statx's buffer layout is the same on every
    // Linux architecture.
    static (bool Known, string? Kind) FileKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return (false, null);
        var buffer = new byte[256];
        int rc;
        try { rc = Statx(AtFdCwd, path, 0, StatxType, buffer); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return (false, null); }
        if (rc != 0) return (false, null);
        int mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        return (true, mode switch
        {
            0x8000 => null,
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            0x4000 => "a folder",
            _ => $"a special file (mode 0x{mode:X4})",
        });
    }

    const int AtFdCwd = -100;
    const uint StatxType = 0x1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
