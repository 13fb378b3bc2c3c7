namespace Ember.Cli.Reporting;

/// <summary>The next free runs/train/expN folder (N counts up from 1, as YOLOv5 names its runs).</summary>
public static class RunFolder
{
    /// <summary>Creates and returns <paramref name="project"/>/expN for the smallest unused N.</summary>
    public static string Create(string project)
    {
        Directory.CreateDirectory(project);
        for (int n = 1; ; n++)
        {
            var path = Path.Combine(project, $"exp{n}");
            if (Directory.Exists(path)) continue;
            try
            {
                Directory.CreateDirectory(path);
                return path;
            }
            catch (IOException) { } // raced with another run: try the next number
        }
    }
}
