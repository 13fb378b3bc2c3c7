using System.Runtime.InteropServices;

namespace Ember.Cli.Reporting;

/// <summary>The next free runs/train/expN folder (N counts up from 1, as YOLOv5 names its runs).</summary>
public static class RunFolder
{
    static readonly AsyncLocal<string?> made = new();

    /// <summary>The run folder <see cref="Create"/> made last on this flow (the command's own run), or null.</summary>
    internal static string? Made { get => made.Value; set => made.Value = value; }

    // What a run has written before its first step; a folder holding nothing else holds nothing to keep.
    static readonly string[] BeforeTheFirstStep = ["args.yaml", IncompleteMarker.FileName];

    /// <summary>
    /// Removes the run folder this command made (<see cref="Made"/>) if it holds nothing but what a run writes before
    /// its first step (args.yaml, the incomplete marker); returns the folder removed, or null.
    /// </summary>
    internal static string? RemoveUnused()
    {
        if (Made is not string folder || !Directory.Exists(folder)) return null;
        try
        {
            var entries = Directory.GetFileSystemEntries(folder);
            if (!entries.All(e => File.Exists(e) && BeforeTheFirstStep.Contains(Path.GetFileName(e)))) return null;
            foreach (var file in entries) File.Delete(file);
            Directory.Delete(folder);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; } // the failure to report is the first one
        finally { Made = null; }
    }

    /// <summary>
    /// Creates and returns <paramref name="project"/>/expN for the smallest unused N. A project folder that cannot be
    /// made or written (a file in the way, read-only, permission denied, /proc) is an <see cref="IOException"/> naming it.
    /// </summary>
    public static string Create(string project)
    {
        try
        {
            if (File.Exists(project)) throw new IOException($"'{project}' is a file, not a folder");
            Directory.CreateDirectory(project);
            for (int n = 1; ; n++)
            {
                var path = Path.Combine(project, $"exp{n}");
                if (Directory.Exists(path) || File.Exists(path) || !MadeHere(path)) continue;
                if (!Directory.Exists(path)) throw new IOException($"'{path}' could not be created");
                Made = path;
                return path;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotCreate("a run folder under", project, "--project", e);
        }
    }

    // Makes the folder, false when another process made it first. Two commands started together (a sweep launched in a
    // loop) both found exp1 free and both trained into it, each overwriting the other's checkpoints and rows: mkdir(2)
    // makes a folder or fails with EEXIST, in one step, where Directory.CreateDirectory also succeeds on one that exists.
    static bool MadeHere(string path)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            try
            {
                if (MakeDirectory(path, 0x1ff /* 0777, less the umask, as .NET makes folders */) == 0) return true;
                if (Marshal.GetLastPInvokeError() == 17 /* EEXIST, on Linux and macOS */) return false;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        Directory.CreateDirectory(path); // elsewhere, or another failure: .NET's words for it
        return true;
    }

    [DllImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    static extern int MakeDirectory([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>
    /// Creates <paramref name="folder"/> (an output folder given by <paramref name="option"/>) if it is not there; one that
    /// cannot be made (a file in the way, read-only, permission denied, /proc) is an <see cref="IOException"/> naming it.
    /// </summary>
    public static string CreateOutput(string folder, string option)
    {
        try
        {
            if (File.Exists(folder)) throw new IOException($"'{folder}' is a file, not a folder");
            Directory.CreateDirectory(folder);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotCreate("the folder", folder, option, e);
        }
    }

    // .NET words some of these oddly ("Could not find file '/proc/x'", a FileNotFoundException that would read as missing
    // input data): name the folder and the option instead, as a file-system error.
    static IOException CannotCreate(string what, string folder, string option, Exception e)
    {
        var reason = e switch
        {
            UnauthorizedAccessException => "permission denied or read-only",
            FileNotFoundException or DirectoryNotFoundException => "the file system does not allow it (read-only, or virtual like /proc)",
            _ => e.Message.TrimEnd('.'),
        };
        return new IOException($"cannot create {what} '{folder}' ({option}): {reason}; choose a folder you can write to", e);
    }
}
