using Ember.Cli.Configuration;

namespace Ember.Cli.Commands;

/// <summary>Turns the errors a user can fix into one clear line on stderr and exit code 2, without a stack trace.</summary>
public static class CliErrors
{
    /// <summary>Runs <paramref name="action"/>, reporting user errors.</summary>
    public static int Run(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is ConfigException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
        {
            Console.Error.WriteLine($"ember: {e.Message}");
            return 2;
        }
    }
}
