using System.Globalization;
using Ember.Cli.Commands;
using Ember.Tuning;
using YamlDotNet.RepresentationModel;

namespace Ember.Cli.Configuration;

/// <summary>
/// An `ember ablate` study file:
/// <code>
/// baseline:                 # train config keys inline, or the path of a config file (relative to this file)
///   model: mlp
///   epochs: 2
/// components:               # name: the config keys it sets
///   label_smoothing: {label_smoothing: 0.1}
///   ema: {ema: 0.999}
/// design: default           # default (singles + full) | singles | full | all_subsets | leave_one_out, or a list
/// seeds: [0, 1, 2]
/// metrics: [top1, val_loss]
/// baseline_name: A          # label of the baseline row
/// time_budget: 60           # optional: seconds per run
/// </code>
/// Every problem is a <see cref="ConfigException"/> naming the file, the key and the closest valid one.
/// </summary>
public sealed record AblationStudy
{
    /// <summary>The top-level keys of a study file.</summary>
    public static readonly IReadOnlyList<string> StudyKeys = ["baseline", "components", "design", "seeds", "metrics", "baseline_name", "decimals", "time_budget"];

    /// <summary>The design names and the designs they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, AblationDesign> DesignNames = new Dictionary<string, AblationDesign>
    {
        ["default"] = AblationDesign.Default, ["singles"] = AblationDesign.Singles, ["full"] = AblationDesign.Full,
        ["all_subsets"] = AblationDesign.AllSubsets, ["leave_one_out"] = AblationDesign.LeaveOneOut,
    };

    /// <summary>The baseline config (its seed is replaced by each of <see cref="Seeds"/>).</summary>
    public required TrainConfig Baseline { get; init; }

    /// <summary>The components in declared order, each with the config keys it sets (as the file wrote them).</summary>
    public required IReadOnlyList<(string Name, IReadOnlyDictionary<string, string?> Overrides)> Components { get; init; }

    /// <summary>Which combinations run.</summary>
    public AblationDesign Design { get; init; } = AblationDesign.Default;

    /// <summary>The seeds every variant runs with.</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [0, 1, 2];

    /// <summary>The table's metrics (names from <see cref="StudyTrial.MetricNames"/>).</summary>
    public IReadOnlyList<string> Metrics { get; init; } = ["top1", "val_loss"];

    /// <summary>The baseline row's label.</summary>
    public string BaselineName { get; init; } = "A";

    /// <summary>Decimals in ablation.md.</summary>
    public int Decimals { get; init; } = 4;

    /// <summary>Seconds per run (null: none).</summary>
    public double? TimeBudget { get; init; }

    /// <summary>The configuration of a variant: the baseline with its components' keys applied in declared order.</summary>
    public TrainConfig Configure(TrainConfig config, string component)
    {
        var (name, overrides) = Components.First(c => c.Name == component);
        return ConfigLoader.Apply(config, overrides, $"component '{name}'");
    }

    /// <summary>Reads and checks a study file (every variant's config is validated before anything runs).</summary>
    public static AblationStudy Load(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new ConfigException($"study file not found: {path}");
        if (YamlFile.Load(path) is not YamlMappingNode root)
            throw new ConfigException($"{path}: expected a mapping with {string.Join(", ", StudyKeys)}");
        var keys = new Dictionary<string, YamlNode>();
        foreach (var (k, v) in root.Children)
        {
            var key = YamlFile.Key(k, path);
            if (!StudyKeys.Contains(key))
                throw new ConfigException($"{path}: unknown key '{key}'; did you mean '{Closest(StudyKeys, key)}'? Valid keys: {string.Join(", ", StudyKeys)}");
            keys[key] = v;
        }
        if (!keys.TryGetValue("baseline", out var baselineNode)) throw new ConfigException($"{path}: 'baseline' is required (train config keys, or the path of a config file)");
        if (!keys.TryGetValue("components", out var componentsNode) || componentsNode is not YamlMappingNode componentMap || componentMap.Children.Count == 0)
            throw new ConfigException($"{path}: 'components' is required: a mapping of name: {{config_key: value, …}}, e.g. ema: {{ema: 0.999}}");

        var baseline = baselineNode switch
        {
            YamlScalarNode { Value: string file } => ConfigLoader.Load(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, file)),
            YamlMappingNode map => ConfigLoader.Apply(new TrainConfig(), Scalars(map, $"{path}: baseline"), $"{path}: baseline"),
            _ => throw new ConfigException($"{path}: 'baseline' must be a mapping of train config keys or the path of a config file"),
        };
        Validate(baseline, $"{path}: baseline");

        var components = new List<(string, IReadOnlyDictionary<string, string?>)>();
        foreach (var (k, v) in componentMap.Children)
        {
            var name = YamlFile.Key(k, path);
            var source = $"{path}: component '{name}'";
            if (v is not YamlMappingNode overridesMap || overridesMap.Children.Count == 0)
                throw new ConfigException($"{source} must be a mapping of the train config keys it sets, e.g. {{label_smoothing: 0.1}}");
            var overrides = Scalars(overridesMap, source);
            foreach (var key in overrides.Keys)
                if (key is "seed" or "project") throw new ConfigException($"{source}: '{key}' cannot be a component (the study sets it: seeds come from 'seeds', folders from --project)");
            ConfigLoader.Apply(baseline, overrides, source); // unknown keys and bad values, named with the closest key
            components.Add((name, overrides));
        }

        var study = new AblationStudy
        {
            Baseline = baseline,
            Components = components,
            Design = keys.TryGetValue("design", out var d) ? ParseDesign(d, path) : AblationDesign.Default,
            Seeds = keys.TryGetValue("seeds", out var s) ? List(s).Select(x => Integer(x, "seeds", path)).ToList() : [0, 1, 2],
            Metrics = keys.TryGetValue("metrics", out var m) ? List(m).Select(x => Text(x, "metrics", path)).ToList() : ["top1", "val_loss"],
            BaselineName = keys.TryGetValue("baseline_name", out var b) ? Text(b, "baseline_name", path) : "A",
            Decimals = keys.TryGetValue("decimals", out var dec) ? Int32(dec, "decimals", path) : 4,
            TimeBudget = keys.TryGetValue("time_budget", out var t) ? Number(t, "time_budget", path) : null,
        };
        CheckPathNames(study, path);
        if (study.Seeds.Count == 0) throw new ConfigException($"{path}: 'seeds' must list at least one seed");
        if (study.Seeds.Distinct().Count() != study.Seeds.Count) throw new ConfigException($"{path}: 'seeds' must be distinct, got {string.Join(", ", study.Seeds)}");
        if (study.Metrics.Count == 0) throw new ConfigException($"{path}: 'metrics' must list at least one metric");
        foreach (var metric in study.Metrics) StudyTrial.CheckMetric(metric, path);
        if (study.Decimals is < 0 or > 15) throw new ConfigException($"{path}: 'decimals' must be in [0, 15], got {study.Decimals}");
        if (study.TimeBudget is double tb && !(tb > 0)) throw new ConfigException($"{path}: 'time_budget' must be a positive number of seconds, got {tb}");

        // Every variant must be a valid config before hours of training start.
        IReadOnlyList<AblationVariant> variants;
        try { variants = Ablation.Variants(components.Select(c => c.Item1).ToList(), study.Design, study.BaselineName); }
        catch (ArgumentException e) { throw new ConfigException($"{path}: {e.Message}"); }
        foreach (var variant in variants)
            Validate(variant.Components.Aggregate(baseline, study.Configure), $"{path}: variant {variant.Name}");
        return study;
    }

    /// <summary>
    /// The study file at <paramref name="path"/> (from which this study was loaded) as a study folder keeps it: the
    /// file's own text when its baseline is inline (comments and all), otherwise the file with the baseline config it
    /// names written inline. Either way the copy loads on its own, wherever the folder is, into this same study.
    /// </summary>
    public string SelfContainedText(string path)
    {
        var text = YamlFile.ReadText(path);
        if (YamlFile.Parse(text, path) is not YamlMappingNode root || !root.Children.TryGetValue(new YamlScalarNode("baseline"), out var node)
            || node is not YamlScalarNode { Value: string file })
            return text;
        var inline = (YamlMappingNode)YamlFile.Parse(ConfigLoader.ToYaml(Baseline), "baseline")!;
        root.Children[new YamlScalarNode("baseline")] = inline;
        var writer = new StringWriter { NewLine = "\n" };
        writer.Write($"# {Path.GetFileName(path)} with its baseline ({file}) written inline, so that the study folder holds the whole study\n");
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\r\n", "\n");
    }

    /// <summary>
    /// What differs between this study and <paramref name="other"/>, one "key: this value vs other value" line per
    /// difference (baseline keys as baseline.KEY, a component's keys as components.NAME); empty when they run the same
    /// runs into the same table. The seed and project of the baseline are set by the study, so they are not compared.
    /// </summary>
    public IReadOnlyList<(string Key, string This, string Other)> Differences(AblationStudy other)
    {
        var result = new List<(string, string, string)>();
        void Compare(string key, string a, string b) { if (a != b) result.Add((key, a, b)); }
        foreach (var (key, property) in ConfigLoader.Keys)
            if (key is not ("seed" or "project"))
                Compare($"baseline.{key}", Format(property.GetValue(Baseline)), Format(property.GetValue(other.Baseline)));
        Compare("components", string.Join(", ", Components.Select(c => c.Name)), string.Join(", ", other.Components.Select(c => c.Name)));
        if (Components.Select(c => c.Name).SequenceEqual(other.Components.Select(c => c.Name)))
            for (int i = 0; i < Components.Count; i++)
                Compare($"components.{Components[i].Name}", Overrides(Components[i].Overrides), Overrides(other.Components[i].Overrides));
        Compare("design", Design.ToString(), other.Design.ToString());
        Compare("seeds", $"[{string.Join(", ", Seeds)}]", $"[{string.Join(", ", other.Seeds)}]");
        Compare("metrics", $"[{string.Join(", ", Metrics)}]", $"[{string.Join(", ", other.Metrics)}]");
        Compare("baseline_name", BaselineName, other.BaselineName);
        Compare("decimals", Format(Decimals), Format(other.Decimals));
        Compare("time_budget", Format(TimeBudget), Format(other.TimeBudget));
        return result;

        // the values the keys take (0.90 and 0.9 are the same setting), in key order
        static string Overrides(IReadOnlyDictionary<string, string?> o)
        {
            var applied = ConfigLoader.Apply(new TrainConfig(), o, "component");
            var keys = o.Keys.Select(k => k.Replace('-', '_').ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal);
            return "{" + string.Join(", ", keys.Select(k => $"{k}: {Format(ConfigLoader.Keys[k].GetValue(applied))}")) + "}";
        }
        static string Format(object? value) => value switch
        {
            null => "none",
            bool b => b ? "true" : "false",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "none",
        };
    }

    /// <summary>The longest component or baseline name: variant names join them into one folder name, which must fit 255 bytes.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// Component names and baseline_name become folder names (trials/A+ema-seed0), so each is confined to
    /// [A-Za-z0-9._+-], does not start with '.', and is at most <see cref="MaxNameLength"/> characters: '../x', '/tmp/x'
    /// or '.' would write runs outside the study folder. Checked before any folder is made.
    /// </summary>
    static void CheckPathNames(AblationStudy study, string path)
    {
        var names = new List<(string Key, string Name)> { ("baseline_name", study.BaselineName) };
        foreach (var (name, _) in study.Components) names.Add(("components", name));
        foreach (var (key, name) in names)
        {
            string? problem = name.Length == 0 ? "is empty"
                : name[0] == '.' ? "starts with '.'"
                : name.Length > MaxNameLength ? $"is {name.Length} characters long, more than {MaxNameLength}"
                : null;
            foreach (char c in name)
                if (problem is null && !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-'))
                    problem = $"holds '{(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())}'";
            if (problem is not null)
                throw new ConfigException($"{path}: '{key}': the name '{name}' {problem}; names become folder names, so use only letters, digits, '.', '_', '+' and '-', not starting with '.'");
        }
        // A variant's folder is BASELINE+C1+C2…-seedN (a long seed has up to 20 characters).
        IReadOnlyList<AblationVariant> variants;
        try { variants = Ablation.Variants([.. study.Components.Select(c => c.Name)], study.Design, study.BaselineName); }
        catch (ArgumentException) { return; } // reported, with the file's name, by Load
        foreach (var variant in variants)
            if (variant.Name.Length + "-seed".Length + 20 > 255)
                throw new ConfigException($"{path}: 'components': the variant {variant.Name} needs a folder name longer than 255 characters; use shorter component names");
    }

    static void Validate(TrainConfig config, string source)
    {
        try { ConfigValidator.Validate(config); }
        catch (ConfigException e) { throw new ConfigException($"{source}: {e.Message}"); }
    }

    static Dictionary<string, string?> Scalars(YamlMappingNode map, string source) => YamlFile.Scalars(map, source);

    static AblationDesign ParseDesign(YamlNode node, string path)
    {
        var design = (AblationDesign)0;
        foreach (var item in List(node))
        {
            var name = Text(item, "design", path).Replace('-', '_');
            if (!DesignNames.TryGetValue(name, out var part))
                throw new ConfigException($"{path}: unknown design '{name}'; did you mean '{Closest(DesignNames.Keys, name)}'? Valid designs: {string.Join(", ", DesignNames.Keys)}");
            design |= part;
        }
        return design == 0 ? AblationDesign.Default : design;
    }

    static IEnumerable<YamlNode> List(YamlNode node) => node is YamlSequenceNode seq ? seq.Children : [node];

    static string Text(YamlNode node, string key, string path)
        => node is YamlScalarNode { Value: string v } && v.Length > 0 ? v : throw new ConfigException($"{path}: '{key}' must hold names, got '{node}'");

    static long Integer(YamlNode node, string key, string path)
        => node is YamlScalarNode { Value: string v } && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long x) ? x
            : throw new ConfigException($"{path}: '{key}' expects integers, got '{node}'");

    // an int key read as long: a (int) cast would wrap 4294967300 to 4, which then passes the range check
    static int Int32(YamlNode node, string key, string path)
        => Integer(node, key, path) is long x and >= int.MinValue and <= int.MaxValue ? (int)x
            : throw new ConfigException($"{path}: '{key}' is out of range, got '{node}'");

    static double Number(YamlNode node, string key, string path)
        => node is YamlScalarNode { Value: string v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x
            : throw new ConfigException($"{path}: '{key}' expects a number, got '{node}'");

    static string Closest(IEnumerable<string> valid, string key) => valid.MinBy(k => ConfigLoader.Distance(k, key))!;
}
