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

    /// <summary>
    /// Opens a regular file for reading and returns it with its size. The path is checked first (see
    /// <see cref="RequireRegular"/>) for a clear message, but what decides is the opened handle: the file is opened without
    /// blocking and its type and size are read from the handle itself (statx on the descriptor), so a file swapped for a
    /// FIFO, a device or a folder between the check and the open is refused too (not read, not waited on).
    /// </summary>
    public static (FileStream Stream, long Length) OpenRead(string path, string what)
    {
        RequireRegular(path, what);
        BetweenCheckAndOpen.Value?.Invoke(path);
        var (stream, length, problem) = TryOpenRegular(path, followLinks: true);
        if (problem is not null) throw new InvalidDataException($"{what}: {path} {problem}");
        return (stream!, length);
    }

    /// <summary>Test hook: called with the path after the path checks and before the open (to swap the file in between).</summary>
    internal static readonly AsyncLocal<Action<string>?> BetweenCheckAndOpen = new();

    /// <summary>
    /// Opens <paramref name="path"/> for reading and checks the opened handle: a regular file gives the stream and its size;
    /// anything else gives a problem that continues a sentence after the path ("is a FIFO (named pipe), not a regular
    /// file; refusing to read it", "is a symbolic link; …" when <paramref name="followLinks"/> is false) and no stream.
    /// A missing file is a <see cref="FileNotFoundException"/>, a forbidden one an <see cref="UnauthorizedAccessException"/>.
    /// Where the handle's type cannot be read (not Linux), the path's is used and the open may block on a FIFO swapped in.
    /// </summary>
    internal static (FileStream? Stream, long Length, string? Problem) TryOpenRegular(string path, bool followLinks)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux() || NoFollowFlag() is not int noFollow) return TryOpenRegularByPath(path, followLinks);
        // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (reads of a regular file never block)
        int flags = ORdOnly | ONonBlock | OCloExec | (followLinks ? 0 : noFollow);
        int fd;
        try { fd = Open(path, flags); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return TryOpenRegularByPath(path, followLinks); }
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                ENoEnt or ENotDir => throw new FileNotFoundException($"file not found: {path}", path),
                EAcces or EPerm => throw new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
                ELoop when !followLinks => (null, 0, $"is a symbolic link (to {new FileInfo(path).LinkTarget}); only regular files are read"),
                _ => throw new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno),
            };
        }
        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var buffer = new byte[256];
            if (Statx(fd, "", AtEmptyPath, StatxType | StatxSize, buffer) != 0)
                throw new IOException($"cannot read the type of {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            if (Kind(BitConverter.ToUInt16(buffer, 28)) is string kind)
            {
                handle.Dispose();
                return (null, 0, $"is {kind}, not a regular file; refusing to read it");
            }
            long length = checked((long)BitConverter.ToUInt64(buffer, 40));
            return (new FileStream(handle, FileAccess.Read, bufferSize: 1 << 16), length, null);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    static (FileStream?, long, string?) TryOpenRegularByPath(string path, bool followLinks)
    {
        if (!followLinks && new FileInfo(path).LinkTarget is string target) return (null, 0, $"is a symbolic link (to {target}); only regular files are read");
        if (FileKind(path).Kind is string kind) return (null, 0, $"is {kind}, not a regular file; refusing to read it");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return (stream, stream.Length, null);
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

    /// <summary>
    /// Reads a whole regular file of at most <paramref name="maxBytes"/> bytes into <paramref name="buffer"/>, which is
    /// replaced by a larger one (twice as large at least) when the file does not fit, and returns the file's bytes: the
    /// start of the buffer, valid until the buffer is used again. For a loop over many files (a data set's scan): fresh
    /// arrays of a file's size each, on the large-object heap from 85 KB, set off a full collection every few files.
    /// </summary>
    public static ReadOnlyMemory<byte> ReadAllBytes(string path, string what, long maxBytes, ref byte[]? buffer)
    {
        var (stream, length) = OpenRead(path, what);
        using (stream)
        {
            if (length > maxBytes || length > Array.MaxLength)
                throw new InvalidDataException($"{what}: {path} is {length} bytes, above the {Math.Min(maxBytes, Array.MaxLength)}-byte limit for this kind of file");
            if (buffer is null || buffer.Length < length)
            {
                long size = Math.Max(length, Math.Min(2L * (buffer?.Length ?? 0), Math.Min(maxBytes, Array.MaxLength)));
                buffer = null; // garbage before the larger one is allocated
                buffer = new byte[size];
            }
            ReadExactly(stream, buffer.AsSpan(0, (int)length), path, what);
            return buffer.AsMemory(0, (int)length);
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from the stream; a file that ends first (it shrank while read) is an error naming it.</summary>
    public static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{what}: {path} ended early while it was read (it was truncated or changed)"); }
    }

    /// <summary>True when <paramref name="path"/> (after following symlinks) is known to be a device, FIFO or socket rather than a regular file.</summary>
    internal static bool IsSpecial(string path) => FileKind(path) is (true, not null and not "a folder");

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
        return (true, Kind(BitConverter.ToUInt16(buffer, 28)));
    }

    // What a statx mode's file type is, when it is not a regular file (null when it is).
    static string? Kind(ushort statxMode)
    {
        int mode = statxMode & 0xF000;
        return mode switch
        {
            0x8000 => null,
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            0x4000 => "a folder",
            _ => $"a special file (mode 0x{mode:X4})",
        };
    }

    const int AtFdCwd = -100;
    const int AtEmptyPath = 0x1000;
    const uint StatxType = 0x1, StatxSize = 0x200;
    const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000; // the same on x86-64 and ARM64 Linux
    const int EPerm = 1, ENoEnt = 2, EAcces = 13, ENotDir = 20, ELoop = 40;

    // O_NOFOLLOW differs between architectures; null where we do not know it (then the path's type decides).
    static int? NoFollowFlag() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x20000,
        Architecture.Arm64 or Architecture.Arm => 0x8000,
        _ => null,
    };

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
