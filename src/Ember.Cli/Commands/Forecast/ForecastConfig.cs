using System.Globalization;
using System.Reflection;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands.Forecast;

/// <summary>
/// Everything that defines an `ember forecast train` run; written to the run folder's args.yaml (snake_case keys as
/// the options), which `eval` and `predict` read back to rebuild the data split, the scaler's fit and the model.
/// </summary>
public sealed record ForecastConfig
{
    /// <summary>CSV file with a time column and a value column (see Ember.Data.TimeSeriesCsv).</summary>
    public string Data { get; init; } = "data/series/co2_monthly.csv";
    /// <summary>The value column's header (default: the second column).</summary>
    public string? Column { get; init; }
    /// <summary>lstm or gru.</summary>
    public string Cell { get; init; } = "lstm";
    public int Hidden { get; init; } = 64;
    public int Layers { get; init; } = 1;
    /// <summary>Input window length (steps the model reads).</summary>
    public int Lookback { get; init; } = 36;
    /// <summary>Steps forecast from each origin.</summary>
    public int Horizon { get; init; } = 12;
    /// <summary>Seasonal period m (seasonal-naive and the MASE scale).</summary>
    public int Season { get; init; } = 12;
    /// <summary>Stride between training windows.</summary>
    public int Stride { get; init; } = 1;
    /// <summary>Validation steps (before the test period).</summary>
    public int Val { get; init; } = 36;
    /// <summary>Test steps (the end of the series).</summary>
    public int Test { get; init; } = 36;
    public int Epochs { get; init; } = 60;
    public int BatchSize { get; init; } = 32;
    public double Lr { get; init; } = 3e-3;
    public double WeightDecay { get; init; } = 0;
    /// <summary>Gradient-norm clipping (0: none).</summary>
    public double ClipGrad { get; init; } = 1.0;
    public int Seed { get; init; } = 0;
    public string Project { get; init; } = "runs/forecast";
    public bool Plain { get; init; }

    /// <summary>Property by snake_case key.</summary>
    public static readonly IReadOnlyDictionary<string, PropertyInfo> Keys = typeof(ForecastConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance).ToDictionary(p => ConfigLoader.SnakeCase(p.Name), p => p);

    /// <summary>The choices of the string keys that have a fixed set.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Choices = new Dictionary<string, string[]> { ["cell"] = ["lstm", "gru"] };

    /// <summary>Applies key/value strings from <paramref name="source"/> (a file or the command line).</summary>
    public static ForecastConfig Apply(ForecastConfig config, IReadOnlyDictionary<string, string?> values, string source)
    {
        var copy = config with { };
        KeyValueBinder.Assign(copy, Keys, values, source);
        return Validate(copy, source);
    }

    /// <summary>Reads a run's args.yaml.</summary>
    public static ForecastConfig Load(string path)
    {
        // a run folder without its args.yaml is a missing input (exit 3), as for `ember train --resume`
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: is this an `ember forecast train` run folder (runs/forecast/expN)?", path);
        var map = YamlFile.RootMapping(YamlFile.Load(path), path, "a mapping of key: value");
        return Apply(new ForecastConfig(), YamlFile.Scalars(map, path), path);
    }

    /// <summary>The config as YAML (args.yaml).</summary>
    public string ToYaml() => YamlFile.Write(Keys.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.GetValue(this))));

    static ForecastConfig Validate(ForecastConfig c, string source)
    {
        void Positive(string key, double v) { if (!(v > 0)) throw new ConfigException($"{source}: {key} must be positive, got {v.ToString(CultureInfo.InvariantCulture)}"); }
        if (!Choices["cell"].Contains(c.Cell)) throw new ConfigException($"{source}: cell must be one of {string.Join(", ", Choices["cell"])}, got '{c.Cell}'");
        Positive("hidden", c.Hidden); Positive("layers", c.Layers); Positive("lookback", c.Lookback); Positive("horizon", c.Horizon);
        Positive("season", c.Season); Positive("stride", c.Stride); Positive("test", c.Test); Positive("epochs", c.Epochs);
        Positive("batch_size", c.BatchSize); Positive("lr", c.Lr);
        if (c.Val < 0) throw new ConfigException($"{source}: val must be ≥ 0, got {c.Val}");
        if (c.ClipGrad < 0 || c.WeightDecay < 0) throw new ConfigException($"{source}: clip_grad and weight_decay must be ≥ 0, got {c.ClipGrad} and {c.WeightDecay}");
        if (c.Season > c.Lookback)
            throw new ConfigException($"{source}: season {c.Season} is longer than lookback {c.Lookback}: the seasonal-naive baseline needs a full season in the input window");
        return c;
    }
}
