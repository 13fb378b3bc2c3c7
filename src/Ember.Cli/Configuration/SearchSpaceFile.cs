using System.Globalization;
using Ember.Tuning;
using YamlDotNet.RepresentationModel;

namespace Ember.Cli.Configuration;

/// <summary>
/// The search space of `ember evolve` over <see cref="TrainConfig"/> keys, in YOLOv5's meta form: a YAML mapping
/// <c>key: [gain, lower, upper]</c>, optionally with a fourth value, the start used when the base config has the key at
/// 0 (the mutation is multiplicative, so a 0 would never move). The mapping form
/// <c>key: {gain: 1, lower: 0, upper: 0.3, start: 0.05}</c> is read too. A file replaces the default space entirely.
/// </summary>
public static class SearchSpaceFile
{
    /// <summary>
    /// The default space: lr, momentum (SGD only: the Adam family has no momentum key), weight_decay, label_smoothing
    /// (start 0.05) and warmup_steps (start 20; only with the cosine and none schedules, which are the ones that warm up),
    /// with YOLOv5's gains.
    /// </summary>
    public static (SearchSpace Space, IReadOnlyDictionary<string, double> Starts) Default(TrainConfig config)
    {
        var space = new SearchSpace().Add("lr", 1.0, 1e-5, 1e-1);
        if (config.Optimizer == "sgd") space.Add("momentum", 0.3, 0.6, 0.98);
        space.Add("weight_decay", 1.0, 0.0, 0.05).Add("label_smoothing", 1.0, 0.0, 0.3);
        if (config.Schedule is "cosine" or "none") space.Add("warmup_steps", 1.0, 0.0, 500); // the other schedules have no warm-up
        return (space, new Dictionary<string, double> { ["label_smoothing"] = 0.05, ["warmup_steps"] = 20 });
    }

    /// <summary>Reads a space file; unknown or non-numeric keys and malformed entries are errors naming the key and the file.</summary>
    public static (SearchSpace Space, IReadOnlyDictionary<string, double> Starts) Load(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new ConfigException($"search space file not found: {path}");
        if (YamlFile.Load(path) is not YamlMappingNode map || map.Children.Count == 0)
            throw new ConfigException($"{path}: expected a mapping of key: [gain, lower, upper] (for example lr: [1.0, 1.0e-5, 0.1])");
        var space = new SearchSpace();
        var starts = new Dictionary<string, double>();
        foreach (var (k, v) in map.Children)
        {
            var key = YamlFile.Key(k, path);
            CheckKey(key, path);
            var (gain, lower, upper, start) = v switch
            {
                YamlSequenceNode seq when seq.Children.Count is 3 or 4 => (Number(seq[0], key, "gain", path), Number(seq[1], key, "lower", path),
                    Number(seq[2], key, "upper", path), seq.Children.Count == 4 ? Number(seq[3], key, "start", path) : (double?)null),
                YamlMappingNode m => FromMapping(m, key, path),
                _ => throw new ConfigException($"{path}: '{key}' must be [gain, lower, upper] or [gain, lower, upper, start], got {v}"),
            };
            try { space.Add(key, gain, lower, upper); }
            catch (ArgumentException e) { throw new ConfigException($"{path}: {e.Message}"); }
            if (start is double s)
            {
                if (s < lower || s > upper) throw new ConfigException($"{path}: the start of '{key}' ({F(s)}) is outside its limits [{F(lower)}, {F(upper)}]");
                starts[key] = s;
            }
        }
        return (space, starts);
    }

    static (double, double, double, double?) FromMapping(YamlMappingNode m, string key, string path)
    {
        var fields = new Dictionary<string, double>();
        foreach (var (fk, fv) in m.Children)
        {
            var name = YamlFile.Key(fk, path);
            if (name is not ("gain" or "lower" or "upper" or "start"))
                throw new ConfigException($"{path}: '{key}' has an unknown field '{name}'; valid fields: gain, lower, upper, start");
            fields[name] = Number(fv, key, name, path);
        }
        foreach (var required in new[] { "gain", "lower", "upper" })
            if (!fields.ContainsKey(required)) throw new ConfigException($"{path}: '{key}' lacks '{required}' (needs gain, lower and upper)");
        return (fields["gain"], fields["lower"], fields["upper"], fields.TryGetValue("start", out var s) ? s : null);
    }

    static double Number(YamlNode node, string key, string field, string path)
    {
        if (node is YamlScalarNode { Value: string text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))
            return v;
        throw new ConfigException($"{path}: the {field} of '{key}' must be a finite number, got '{node}'");
    }

    /// <summary>A space key must be a numeric <see cref="TrainConfig"/> key; the error names the closest valid key.</summary>
    internal static void CheckKey(string key, string source)
    {
        if (!ConfigLoader.Keys.TryGetValue(key, out var property))
            throw new ConfigException($"{source}: unknown key '{key}'; did you mean '{NumericKeys.MinBy(k => ConfigLoader.Distance(k, key))}'? Numeric keys: {string.Join(", ", NumericKeys)}");
        if (!IsNumeric(property.PropertyType))
            throw new ConfigException($"{source}: '{key}' is not numeric, so it cannot be evolved; numeric keys: {string.Join(", ", NumericKeys)}");
    }

    static bool IsNumeric(Type t) => t == typeof(double) || t == typeof(int) || t == typeof(long);

    static IEnumerable<string> NumericKeys => ConfigLoader.Keys.Where(kv => IsNumeric(kv.Value.PropertyType)).Select(kv => kv.Key);

    /// <summary>The space as a file <see cref="Load"/> reads back (the run folder's space.yaml).</summary>
    public static string ToYaml(SearchSpace space, IReadOnlyDictionary<string, double> starts)
    {
        var pairs = new List<KeyValuePair<string, object?>>();
        foreach (var p in space)
        {
            List<double> values = [p.Gain, p.Lower, p.Upper];
            if (starts.TryGetValue(p.Name, out double s)) values.Add(s);
            pairs.Add(KeyValuePair.Create(p.Name, (object?)values));
        }
        return YamlFile.Write(pairs, ["ember evolve search space: key: [gain, lower, upper] or [gain, lower, upper, start when the base value is 0]"]);
    }

    /// <summary>The base config's value of each space key, or the key's start where that value is 0.</summary>
    public static Dictionary<string, double> Initial(TrainConfig config, SearchSpace space, IReadOnlyDictionary<string, double> starts)
    {
        var initial = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in space)
        {
            double v = System.Convert.ToDouble(ConfigLoader.Keys[p.Name].GetValue(config), CultureInfo.InvariantCulture);
            initial[p.Name] = v == 0 && starts.TryGetValue(p.Name, out double s) ? s : v;
        }
        return initial;
    }

    /// <summary>
    /// <paramref name="config"/> with the hyper-parameters set (integer keys rounded to the nearest integer), validated;
    /// <paramref name="source"/> names the values in errors.
    /// </summary>
    public static TrainConfig Apply(TrainConfig config, IReadOnlyDictionary<string, double> values, string source)
    {
        var strings = new Dictionary<string, string?>();
        foreach (var (key, v) in values)
            strings[key] = ConfigLoader.Keys[key].PropertyType == typeof(double) ? F(v)
                : Math.Round(v, MidpointRounding.ToEven).ToString("F0", CultureInfo.InvariantCulture);
        var applied = ConfigLoader.Apply(config, strings, source);
        try { return ConfigValidator.Validate(applied); }
        catch (ConfigException e) { throw new ConfigException($"{source}: {e.Message}"); }
    }

    /// <summary>Checks that every value between the limits gives a valid config (tried at both limits), before any training.</summary>
    public static void CheckLimits(TrainConfig config, SearchSpace space, string source)
    {
        foreach (var p in space)
            foreach (var (label, v) in new[] { ("lower", p.Lower), ("upper", p.Upper) })
                Apply(config, new Dictionary<string, double> { [p.Name] = v }, $"{source}: the {label} limit of '{p.Name}' ({F(v)})");
    }

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
