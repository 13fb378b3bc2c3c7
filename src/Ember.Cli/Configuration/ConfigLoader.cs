using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Ember.Cli.Configuration;

/// <summary>
/// Reads a YAML or JSON config file into a <see cref="TrainConfig"/>: keys are the snake_case option names; an unknown
/// key is an error naming the closest valid key; a wrong value names the key and the expected type.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Property of <see cref="TrainConfig"/> by snake_case key.</summary>
    public static readonly IReadOnlyDictionary<string, PropertyInfo> Keys = typeof(TrainConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .ToDictionary(p => SnakeCase(p.Name), p => p);

    /// <summary>"BatchSize" → "batch_size".</summary>
    public static string SnakeCase(string name)
        => string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Loads a file on top of <paramref name="baseline"/>.</summary>
    public static TrainConfig Load(string path, TrainConfig? baseline = null)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new ConfigException($"config file not found: {path}");
        var text = YamlFile.ReadText(path);
        var values = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ParseJson(text, path) : ParseYaml(text, path);
        return Apply(baseline ?? new TrainConfig(), values, path);
    }

    /// <summary>Applies key/value strings (from a file or from overrides) to a config.</summary>
    public static TrainConfig Apply(TrainConfig config, IReadOnlyDictionary<string, string?> values, string source)
    {
        var copy = config with { };
        foreach (var (rawKey, value) in values)
        {
            var key = rawKey.Replace('-', '_').ToLowerInvariant();
            if (!Keys.TryGetValue(key, out var property))
                throw new ConfigException($"{source}: unknown key '{rawKey}'; did you mean '{Closest(key)}'? Valid keys: {string.Join(", ", Keys.Keys)}");
            property.SetValue(copy, KeyValueBinder.Parse(value, property, rawKey, source));
        }
        return copy;
    }

    /// <summary>The valid key closest to <paramref name="key"/> by edit distance.</summary>
    public static string Closest(string key) => Keys.Keys.MinBy(k => Distance(k, key))!;

    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    static Dictionary<string, string?> ParseYaml(string text, string path)
        => YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Parse(text, path), path, "a mapping of key: value"), path);

    static Dictionary<string, string?> ParseJson(string text, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new ConfigException($"{path}: invalid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ConfigException($"{path}: expected a JSON object");
            var result = new Dictionary<string, string?>();
            foreach (var p in doc.RootElement.EnumerateObject())
                result[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Null => null,
                    JsonValueKind.Object or JsonValueKind.Array => throw new ConfigException($"{path}: key '{p.Name}' must have a single value"),
                    _ => p.Value.GetRawText(),
                };
            return result;
        }
    }

    /// <summary>The default of a key as help shows it (what a run gets when the key is not given).</summary>
    public static string DefaultText(string key) => key switch
    {
        "data" => "fashion-mnist (embedded); also mnist or a folder of IDX files",
        "data_mean" or "data_std" => "the data set's own (computed from its training split when unknown)",
        "classes" => "the data set's own",
        "plain" => "automatic (plain lines when the output is not a terminal)",
        _ => Keys[key].GetValue(new TrainConfig()) switch
        {
            null => "none",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var v => v.ToString() ?? "none",
        },
    };

    /// <summary>Writes the resolved config as YAML (the run folder's args.yaml), through YamlDotNet so any string reads back.</summary>
    public static string ToYaml(TrainConfig config, IEnumerable<string>? comments = null)
        => YamlFile.Write(Keys.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.GetValue(config))), comments);
}
