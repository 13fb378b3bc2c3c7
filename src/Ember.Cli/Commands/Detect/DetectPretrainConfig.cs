using System.Globalization;
using System.Reflection;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// Everything that defines an `ember detect pretrain` run, with YOLOv5's classify/train.py names and defaults where they
/// fit a short run on 2 cores (Adam at lr0 0.001, weight decay 5e-5, label smoothing 0.1, the linear schedule to lr·lrf,
/// EMA); written to the run folder's args.yaml (snake_case keys as the options), which --resume reads back.
/// </summary>
public sealed record DetectPretrainConfig
{
    /// <summary>The detector whose backbone (layers 0–8) is pre-trained: n, s, m, l, or a model definition (.yaml, .yml).</summary>
    public string Model { get; init; } = "n";
    /// <summary>The square canvas each Fashion-MNIST item is rendered on, in pixels (a multiple of 32).</summary>
    public int Img { get; init; } = 64;
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 64;
    /// <summary>Validation batch size (0: twice the training batch).</summary>
    public int ValBatchSize { get; init; }
    /// <summary>adam (classify/train.py's default), adamw or sgd; in YOLOv5's three parameter groups (no decay on BN and biases).</summary>
    public string Optimizer { get; init; } = "adam";
    public double Lr { get; init; } = 0.001;
    /// <summary>SGD momentum (Nesterov).</summary>
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-5;
    /// <summary>The linear schedule's end as a fraction of lr (classify/train.py's lrf 0.01), stepped per optimizer step.</summary>
    public double Lrf { get; init; } = 0.01;
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>Dropout before the Linear layer of Classify.</summary>
    public double Dropout { get; init; }
    /// <summary>EMA decay of the validated and saved weights (0: off).</summary>
    public double Ema { get; init; } = 0.9999;
    /// <summary>EMA ramp time constant in updates (YOLOv5's 2000; a short run needs a smaller one for the EMA to move).</summary>
    public double EmaTau { get; init; } = 2000;
    /// <summary>Train on the first N items of Fashion-MNIST's training split (0: all 60,000).</summary>
    public int Limit { get; init; }
    /// <summary>Validate on the first N items of the test split (0: all 10,000).</summary>
    public int ValLimit { get; init; }
    public int Workers { get; init; }
    public int Seed { get; init; }
    public string Project { get; init; } = "runs/detect-pretrain";
    public bool Plain { get; init; }

    /// <summary>Property by snake_case key.</summary>
    public static readonly IReadOnlyDictionary<string, PropertyInfo> Keys = typeof(DetectPretrainConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToDictionary(p => ConfigLoader.SnakeCase(p.Name), p => p);

    /// <summary>The choices of the string keys that have a fixed set.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Choices = new Dictionary<string, string[]>
    {
        ["optimizer"] = ["adam", "adamw", "sgd"],
    };

    /// <summary>The options that may differ from args.yaml when resuming.</summary>
    public static readonly IReadOnlySet<string> ResumableKeys = new HashSet<string> { "epochs", "plain", "workers" };

    /// <summary>Whether --model names a model definition file rather than a built-in size.</summary>
    public bool ModelIsYaml => !DetectConfig.ModelSizes.Contains(Model);

    /// <summary>The validation batch size in use.</summary>
    public int EffectiveValBatchSize => ValBatchSize > 0 ? ValBatchSize : (int)Math.Min(2L * BatchSize, int.MaxValue);

    /// <summary>Applies key/value strings from <paramref name="source"/> (a file or the command line) and validates.</summary>
    public static DetectPretrainConfig Apply(DetectPretrainConfig config, IReadOnlyDictionary<string, string?> values, string source)
    {
        var copy = config with { };
        KeyValueBinder.Assign(copy, Keys, values, source);
        return Validate(copy, source);
    }

    /// <summary>Reads a run's args.yaml.</summary>
    public static DetectPretrainConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: is this an `ember detect pretrain` run folder (runs/detect-pretrain/expN)?", path);
        var map = YamlFile.RootMapping(YamlFile.Load(path), path, "a mapping of key: value");
        return Apply(new DetectPretrainConfig(), YamlFile.Scalars(map, path), path);
    }

    /// <summary>The config as YAML (args.yaml).</summary>
    public string ToYaml() => YamlFile.Write(Keys.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.GetValue(this))));

    static DetectPretrainConfig Validate(DetectPretrainConfig c, string source)
    {
        string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
        if (!Choices["optimizer"].Contains(c.Optimizer)) throw new ConfigException($"{source}: optimizer must be one of {string.Join(", ", Choices["optimizer"])}, got '{c.Optimizer}'");
        if (!DetectConfig.ModelSizes.Contains(c.Model) && !(c.Model.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || c.Model.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)))
            throw new ConfigException($"{source}: model must be one of {string.Join(", ", DetectConfig.ModelSizes)} or a model definition file (.yaml or .yml), got '{c.Model}'");
        if (c.Img < 32 || c.Img % 32 != 0 || c.Img > 1024) throw new ConfigException($"{source}: img must be a multiple of 32 (the backbone's stride) from 32 to 1024, got {c.Img}");
        if (c.Epochs < 1) throw new ConfigException($"{source}: epochs must be at least 1, got {c.Epochs}");
        if (c.BatchSize < 1) throw new ConfigException($"{source}: batch_size must be at least 1, got {c.BatchSize}");
        if (c.ValBatchSize < 0 || c.Limit < 0 || c.ValLimit < 0 || c.Workers < 0)
            throw new ConfigException($"{source}: val_batch_size, limit, val_limit and workers must be ≥ 0, got {c.ValBatchSize}, {c.Limit}, {c.ValLimit}, {c.Workers}");
        if (!(c.Lr > 0)) throw new ConfigException($"{source}: lr must be positive, got {Inv(c.Lr)}");
        if (!(c.Lrf > 0 && c.Lrf <= 1)) throw new ConfigException($"{source}: lrf (the final lr as a fraction of lr) must be in (0, 1], got {Inv(c.Lrf)}");
        if (!(c.Momentum >= 0 && c.Momentum < 1)) throw new ConfigException($"{source}: momentum must be in [0, 1), got {Inv(c.Momentum)}");
        if (!(c.WeightDecay >= 0)) throw new ConfigException($"{source}: weight_decay must be ≥ 0, got {Inv(c.WeightDecay)}");
        if (!(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1)) throw new ConfigException($"{source}: label_smoothing must be in [0, 1), got {Inv(c.LabelSmoothing)}");
        if (!(c.Dropout >= 0 && c.Dropout < 1)) throw new ConfigException($"{source}: dropout must be in [0, 1), got {Inv(c.Dropout)}");
        if (!(c.Ema >= 0 && c.Ema < 1)) throw new ConfigException($"{source}: ema must be in [0, 1) (0: off), got {Inv(c.Ema)}");
        if (!(c.EmaTau > 0)) throw new ConfigException($"{source}: ema_tau must be positive, got {Inv(c.EmaTau)}");
        return c;
    }
}
