using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands;

/// <summary>
/// The options a run command makes from its config's keys (--batch-size for batch_size), as `train`, `detect train`,
/// `detect pretrain` and `forecast train` take them: one string option per key, parsed later by the config's own binder,
/// so every command reports a bad value the same way; a bare boolean flag means true, and a key of a list (YOLOv5's
/// --freeze 0 1 2) takes several values, joined by spaces.
/// </summary>
internal sealed class ConfigKeyOptions
{
    readonly List<(string Key, Option Option, Func<ParseResult, string?> Value)> options = [];

    /// <summary>
    /// Adds one option per key of <paramref name="keys"/> to <paramref name="command"/>, described by
    /// <paramref name="describe"/>; those of <paramref name="lists"/> take one or more values.
    /// </summary>
    public ConfigKeyOptions(Command command, IReadOnlyDictionary<string, PropertyInfo> keys, Func<string, PropertyInfo, string> describe, IReadOnlySet<string>? lists = null)
    {
        foreach (var (key, property) in keys)
        {
            var name = "--" + key.Replace('_', '-');
            if (lists?.Contains(key) == true)
            {
                var list = new Option<string[]>(name) { Description = describe(key, property), Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };
                command.Options.Add(list);
                options.Add((key, list, parse => string.Join(' ', parse.GetValue(list) ?? [])));
                continue;
            }
            var option = new Option<string?>(name) { Description = describe(key, property) };
            if (property.PropertyType == typeof(bool)) option.Arity = ArgumentArity.ZeroOrOne;
            command.Options.Add(option);
            options.Add((key, option, parse => parse.GetValue(option) ?? "true"));
        }
    }

    /// <summary>The keys given on the command line, with their values ("true" for a bare boolean flag).</summary>
    public Dictionary<string, string?> Values(ParseResult parse)
    {
        var values = new Dictionary<string, string?>();
        foreach (var (key, option, value) in options)
            if (parse.GetResult(option) is not null) values[key] = value(parse);
        return values;
    }

    /// <summary>
    /// <paramref name="updated"/> (a resumed run's <paramref name="recorded"/> config with the command line's options) when
    /// only <paramref name="resumable"/> keys changed; else a <see cref="ConfigException"/> naming the options that cannot
    /// change, since <paramref name="argsFile"/> defines the run.
    /// </summary>
    public static T ApplyOnResume<T>(string argsFile, T recorded, T updated, IReadOnlyDictionary<string, PropertyInfo> keys, IReadOnlySet<string> resumable)
    {
        var frozen = keys.Where(kv => !resumable.Contains(kv.Key) && !Equals(kv.Value.GetValue(recorded), kv.Value.GetValue(updated)))
            .Select(kv => $"--{kv.Key.Replace('_', '-')}").ToList();
        if (frozen.Count > 0)
            throw new ConfigException($"--resume: {string.Join(", ", frozen)} cannot change when resuming, since {argsFile} defines the run; " +
                $"only {string.Join(", ", resumable.Select(k => "--" + k))} can (start a new run to change the others)");
        return updated;
    }

    /// <summary>A default as the option descriptions show it: invariant culture, lower-case booleans, "none" for null.</summary>
    public static string DefaultText(object? value) => value switch
    {
        null => "none",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
