namespace Ember.Bench;

/// <summary>A benchmark subcommand: <c>dotnet run -c Release --project bench/Ember.Bench -- NAME [args]</c>.</summary>
public interface IWorkload
{
    /// <summary>The subcommand name.</summary>
    string Name { get; }

    /// <summary>One line for the usage text.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark and prints its results; returns the process exit code.</summary>
    int Run(string[] args);
}
