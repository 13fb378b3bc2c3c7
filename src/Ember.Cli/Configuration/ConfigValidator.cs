namespace Ember.Cli.Configuration;

/// <summary>Checks the choice-valued keys and numeric ranges of a <see cref="TrainConfig"/>, listing the valid choices on error.</summary>
public static class ConfigValidator
{
    /// <summary>Valid values of each choice key.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Choices = new Dictionary<string, string[]>
    {
        ["model"] = ["mlp", "cnn", "resnet", "vit"],
        ["optimizer"] = ["sgd", "adam", "adamw"],
        ["schedule"] = ["none", "cosine", "onecycle", "step", "plateau"],
        ["amp"] = ["none", "bf16", "fp16"],
    };

    /// <summary>Throws <see cref="ConfigException"/> for an invalid choice or range.</summary>
    public static TrainConfig Validate(TrainConfig c)
    {
        Check("model", c.Model); Check("optimizer", c.Optimizer); Check("schedule", c.Schedule); Check("amp", c.Amp);
        Positive("epochs", c.Epochs); Positive("batch_size", c.BatchSize); Positive("accumulate", c.Accumulate);
        if (c.Lr <= 0) throw new ConfigException($"lr must be positive, got {c.Lr}");
        if (c.LabelSmoothing is < 0 or >= 1) throw new ConfigException($"label_smoothing must be in [0, 1), got {c.LabelSmoothing}");
        if (c.Ema is < 0 or >= 1) throw new ConfigException($"ema must be in [0, 1) (0 disables it), got {c.Ema}");
        if (c.Workers < 0 || c.Limit < 0 || c.Patience < 0 || c.WarmupSteps < 0) throw new ConfigException("workers, limit, patience and warmup_steps must be non-negative");
        return c;
    }

    static void Check(string key, string value)
    {
        if (!Choices[key].Contains(value))
            throw new ConfigException($"unknown {key} '{value}'; valid choices: {string.Join(", ", Choices[key])}");
    }

    static void Positive(string key, int value)
    {
        if (value <= 0) throw new ConfigException($"{key} must be positive, got {value}");
    }
}
