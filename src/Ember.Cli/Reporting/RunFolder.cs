namespace Ember.Cli.Reporting;

/// <summary>The next free runs/train/expN folder (N counts up from 1, as YOLOv5 names its runs).</summary>
public static class RunFolder
{
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
                if (Directory.Exists(path) || File.Exists(path)) continue;
                Directory.CreateDirectory(path);
                if (!Directory.Exists(path)) throw new IOException($"'{path}' could not be created");
                return path;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // .NET words some of these oddly ("Could not find file '/proc/x'"): name the folder and the option instead.
            var reason = e switch
            {
                UnauthorizedAccessException => "permission denied or read-only",
                FileNotFoundException or DirectoryNotFoundException => "the file system does not allow it (read-only, or virtual like /proc)",
                _ => e.Message.TrimEnd('.'),
            };
            throw new IOException($"cannot create a run folder under '{project}' (--project): {reason}; choose a folder you can write to", e);
        }
    }
}
