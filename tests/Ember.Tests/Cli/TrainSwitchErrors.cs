using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>What the switch tests share: `train` options as a user types them, resolved into the config error they must give.</summary>
internal static class TrainSwitchErrors
{
    /// <summary>
    /// Resolves <paramref name="options"/> ("--name value" pairs, dashes as the command line has them) as `train` would
    /// and asserts that the config is refused with a message containing <paramref name="message"/>.
    /// </summary>
    public static void AssertRefused(string options, string message)
    {
        var parts = options.Split(' ');
        var overrides = new Dictionary<string, string?>();
        for (int i = 0; i < parts.Length; i += 2) overrides[parts[i][2..].Replace('-', '_')] = parts[i + 1];
        var e = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, overrides));
        Assert.Contains(message, e.Message);
    }
}
