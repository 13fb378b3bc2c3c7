namespace Ember.Cli.Configuration;

/// <summary>A configuration or usage problem the user can fix (exit code 2); the CLI prints the message without a stack trace.</summary>
public sealed class ConfigException(string message) : Exception(message);
