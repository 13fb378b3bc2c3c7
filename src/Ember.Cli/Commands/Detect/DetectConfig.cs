using System.Globalization;
using System.Reflection;
using Ember.Cli.Configuration;
using Ember.Detection.Data;
using Ember.Detection.Optim;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// Everything that defines an `ember detect train` run, with YOLOv5's names and defaults where it has them
/// (hyp.scratch-low.yaml, train.py); written to the run folder's args.yaml (snake_case keys as the options), which
/// `detect val` and `--resume` read back.
/// </summary>
public sealed record DetectConfig
{
    /// <summary>The data set's data.yaml (YOLO format; `ember detect make-data` writes one).</summary>
    public string Data { get; init; } = MakeDataCommand.DefaultOutput + "/data.yaml";
    /// <summary>Model size: n or s (YOLOv5n, YOLOv5s); m and l also work; or a model definition file (.yaml or .yml, YOLOv5's format).</summary>
    public string Model { get; init; } = "n";
    /// <summary>Training image size in pixels (a multiple of 32), and the validation size unless <see cref="ValImg"/> is set: --img.</summary>
    public int Img { get; init; } = 320;
    /// <summary>
    /// Validation image size (0: --img), as the second number of YOLOv5's `--img-size train test`; `detect val`,
    /// `predict` and `export` of the run default to it.
    /// </summary>
    public int ValImg { get; init; }
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 16;
    /// <summary>Validation batch size (0: twice the training batch, as train.py); rectangular shapes depend on it.</summary>
    public int ValBatchSize { get; init; }
    /// <summary>sgd (YOLOv5's default), adam or adamw.</summary>
    public string Optimizer { get; init; } = "sgd";
    /// <summary>Initial learning rate lr0 (0.01 for SGD as YOLOv5; about 0.001 suits Adam).</summary>
    public double Lr { get; init; } = 0.01;
    /// <summary>SGD momentum (Nesterov), momentum in hyp.scratch-low.</summary>
    public double Momentum { get; init; } = 0.937;
    /// <summary>Weight decay on convolution weights (not on biases and BN), weight_decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>cosine, linear (YOLOv5's default form), onecycle or none; stepped per optimizer step.</summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>
    /// Where the schedule ends, as a fraction of lr (YOLOv5's hyp lrf, 0.01 there), in (0, 1]; null: the schedule's own
    /// end, kept so that runs without the key stay as they were (cosine and linear 0, onecycle lr/250000 as OneCycleLR's).
    /// </summary>
    public double? Lrf { get; init; }
    /// <summary>YOLOv5's warm-up length in epochs (warmup_epochs 3), at least <see cref="WarmupMinSteps"/> steps; 0: no warm-up.</summary>
    public double WarmupEpochs { get; init; } = 3;
    /// <summary>The fewest warm-up steps when warm-up is on (train.py's floor of 100 iterations).</summary>
    public int WarmupMinSteps { get; init; } = 100;
    /// <summary>The bias group's rate at the start of warm-up, falling to lr (warmup_bias_lr).</summary>
    public double WarmupBiasLr { get; init; } = 0.1;
    /// <summary>SGD's momentum at the start of warm-up, rising to momentum (warmup_momentum).</summary>
    public double WarmupMomentum { get; init; } = 0.8;
    /// <summary>EMA decay of the validated weights (0.9999 as YOLOv5's ModelEMA; 0: off).</summary>
    public double Ema { get; init; } = 0.9999;
    /// <summary>EMA ramp time constant in updates (2000 in YOLOv5; short runs need a smaller one to move the EMA at all).</summary>
    public double EmaTau { get; init; } = 2000;
    /// <summary>Run autoanchor before training (report the best possible recall; evolve anchors when it is ≤ 0.98).</summary>
    public bool Autoanchor { get; init; } = true;
    /// <summary>Train-time augmentation on (mosaic, affine, HSV, flips, copy-paste with the values below); false: letterbox only.</summary>
    public bool Augment { get; init; } = true;
    public double Mosaic { get; init; } = 1.0;
    /// <summary>Train the last N epochs without mosaic (YOLOv8's close_mosaic, 10 there; 0: off), on letterboxed images with the other augmentations.</summary>
    public int CloseMosaic { get; init; }
    public double Fliplr { get; init; } = 0.5;
    public double Scale { get; init; } = 0.5;
    public double Translate { get; init; } = 0.1;
    public double HsvH { get; init; } = 0.015;
    public double HsvS { get; init; } = 0.7;
    public double HsvV { get; init; } = 0.4;
    public double CopyPaste { get; init; }
    /// <summary>Box (CIoU) loss gain hyp['box'] before train.py's scaling by 3/nl (0.05).</summary>
    public double Box { get; init; } = 0.05;
    /// <summary>Objectness loss gain hyp['obj'] before the scaling by (img/640)²·3/nl (1.0).</summary>
    public double Obj { get; init; } = 1.0;
    /// <summary>Class loss gain hyp['cls'] before the scaling by nc/80·3/nl (0.5).</summary>
    public double Cls { get; init; } = 0.5;
    /// <summary>The loss options these gains, label smoothing and focal γ describe, scaled as train.py for the model and data.</summary>
    public Detection.Loss.YoloLossOptions LossOptions(int numLevels, int numClasses, int imageSize)
        => new Detection.Loss.YoloLossOptions { Box = Box, Objectness = Obj, Class = Cls, LabelSmoothing = LabelSmoothing, FocalGamma = FocalGamma }
            .ScaledFor(numLevels, numClasses, imageSize);
    /// <summary>Class label smoothing ε (0).</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>Focal-loss γ for objectness and class BCE (0: plain BCE).</summary>
    public double FocalGamma { get; init; }
    /// <summary>Start the head's objectness and class biases from YOLOv5's priors (_initialize_biases); false for ablations.</summary>
    public bool BiasPrior { get; init; } = true;
    /// <summary>Mixed precision for training: none, bf16 or fp16 (with a GradScaler); convolutions then round their inputs.</summary>
    public string Amp { get; init; } = "none";
    /// <summary>Keep decoded training and validation images in memory (YOLOv5's --cache ram).</summary>
    public bool Cache { get; init; } = true;
    /// <summary>Use only the first N training images (0: all), for quick runs.</summary>
    public int Limit { get; init; }
    /// <summary>Validation images drawn with their predicted boxes at the end (val_pred_*.png).</summary>
    public int PlotImages { get; init; } = 4;
    /// <summary>Validate the best weights at the end a second time with augmented inference (val.py --augment); the summary reports both.</summary>
    public bool ValAugment { get; init; }
    public int Workers { get; init; }
    public int Seed { get; init; }
    /// <summary>
    /// Initial weights (YOLOv5's --weights): a checkpoint folder, best/ or last/ of an `ember detect pretrain` or
    /// `ember detect train` run, whose tensors matching the detector's by name and shape are copied; null: from scratch.
    /// </summary>
    public string? Weights { get; init; }
    /// <summary>
    /// Layers to freeze (YOLOv5's --freeze): one number N freezes model.0 … model.N−1 (10: YOLOv5's backbone), several
    /// numbers (separated by spaces or commas) exactly those layers; 0: none. Frozen parameters are not trained; the
    /// BatchNorm layers among them still update their running statistics in train mode, as in YOLOv5. Kept as the
    /// numbers separated by single spaces.
    /// </summary>
    public string Freeze { get; init; } = "0";
    public string Project { get; init; } = "runs/detect";
    public bool Plain { get; init; }

    /// <summary>Property by snake_case key.</summary>
    public static readonly IReadOnlyDictionary<string, PropertyInfo> Keys = typeof(DetectConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToDictionary(p => ConfigLoader.SnakeCase(p.Name), p => p);

    /// <summary>The choices of the string keys that have a fixed set.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Choices = new Dictionary<string, string[]>
    {
        ["optimizer"] = ["sgd", "adam", "adamw"],
        ["schedule"] = ["cosine", "linear", "onecycle", "none"],
        ["amp"] = ["none", "bf16", "fp16"],
    };

    /// <summary>What the help says about a key beyond its name, choices and default.</summary>
    public static readonly IReadOnlyDictionary<string, string> Notes = new Dictionary<string, string>
    {
        ["lrf"] = "the final lr as a fraction of --lr, in (0, 1] (YOLOv5's lrf, 0.01 there); none: the schedule's own end (cosine and linear 0, onecycle lr/250000)",
        ["val_img"] = "validation image size, a multiple of 32 (the second number of YOLOv5's --img-size train test); 0: --img",
        ["close_mosaic"] = "train the last N epochs without mosaic (YOLOv8's close_mosaic, 10 there); 0: off",
        ["weights"] = "initial weights: best/ or last/ of an `ember detect pretrain` run (the backbone) or an `ember detect train` run (fine-tuning); every tensor whose name and shape match the detector's is copied (the EMA weights when saved), the rest start as initialized",
        ["freeze"] = "layers to freeze, as YOLOv5's --freeze: N freezes model.0 … model.N-1 (10: the backbone), several numbers exactly those layers (--freeze 0 1 2); " +
            "frozen parameters are not trained (nor decayed) and their EMA stays equal to them, while the BatchNorm layers among them still update their running statistics " +
            "in train mode, as in YOLOv5; 0: none; best with --weights",
        ["val_augment"] = "validate the best weights at the end also with augmented inference (val.py --augment: scales 1, 0.83, 0.67, a left-right flip); the summary reports both",
    };

    /// <summary>The built-in model sizes of --model (anything else must be a .yaml or .yml model definition).</summary>
    public static readonly string[] ModelSizes = ["n", "s", "m", "l"];

    /// <summary>Whether --model names a model definition file rather than a built-in size.</summary>
    public bool ModelIsYaml => !ModelSizes.Contains(Model);

    /// <summary>The keys whose option takes several values (--freeze 0 1 2), joined by spaces.</summary>
    public static readonly IReadOnlySet<string> ListKeys = new HashSet<string> { "freeze" };

    /// <summary>The numbers of <see cref="Freeze"/> (see <see cref="YoloFreeze"/>).</summary>
    public int[] FreezeNumbers => ParseFreeze(Freeze).Numbers ?? throw new InvalidOperationException($"freeze '{Freeze}' was not validated");

    /// <summary>Whether <see cref="Freeze"/> freezes any layer.</summary>
    public bool Freezes => YoloFreeze.Layers(FreezeNumbers).Length > 0;

    // The numbers of a freeze value (spaces or commas between them), or why it is not one.
    static (int[]? Numbers, string? Error) ParseFreeze(string text)
    {
        var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        const string expected = "a number of layers N (YOLOv5's --freeze 10 freezes layers 0–9; 0: none) or several layer indices (0 1 2)";
        if (parts.Length == 0) return (null, $"freeze expects {expected}, got '{text}'");
        var numbers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
                return (null, $"freeze expects {expected}, got '{text}'");
        if (numbers.FirstOrDefault(n => n < 0, 0) is int negative and < 0) return (null, $"freeze expects numbers ≥ 0 (layer counts or indices), got {negative}");
        if (numbers.Length > 1 && numbers.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return (null, $"freeze expects each layer once, got layer {twice.Key} {twice.Count()} times in '{text}'");
        return (numbers, null);
    }

    /// <summary>The options that may differ from args.yaml when resuming: more epochs, how progress is shown, and the final validation's extra pass.</summary>
    public static readonly IReadOnlySet<string> ResumableKeys = new HashSet<string> { "epochs", "plain", "workers", "val_augment" };

    /// <summary>The validation image size in use (and the run's default inference size).</summary>
    public int EffectiveValImg => ValImg > 0 ? ValImg : Img;

    /// <summary>The validation batch size in use.</summary>
    public int EffectiveValBatchSize => ValBatchSize > 0 ? ValBatchSize : (int)Math.Min(2L * BatchSize, int.MaxValue);

    /// <summary>The training augmentation the config describes.</summary>
    public DetectionAugmentation Hyp => !Augment ? DetectionAugmentation.None : new DetectionAugmentation
    {
        Mosaic = Mosaic,
        FlipLr = Fliplr,
        Scale = Scale,
        Translate = Translate,
        HsvH = HsvH,
        HsvS = HsvS,
        HsvV = HsvV,
        CopyPaste = CopyPaste,
    };

    /// <summary>Applies key/value strings from <paramref name="source"/> (a file or the command line) and validates.</summary>
    public static DetectConfig Apply(DetectConfig config, IReadOnlyDictionary<string, string?> values, string source)
    {
        var copy = config with { };
        KeyValueBinder.Assign(copy, Keys, values, source);
        return Validate(copy, source);
    }

    /// <summary>Reads a run's args.yaml.</summary>
    public static DetectConfig Load(string path)
    {
        // a run folder without its args.yaml is a missing input (exit 3), as for `ember train --resume`
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found: is this an `ember detect train` run folder (runs/detect/expN)?", path);
        var map = YamlFile.RootMapping(YamlFile.Load(path), path, "a mapping of key: value");
        return Apply(new DetectConfig(), YamlFile.Scalars(map, path), path);
    }

    /// <summary>The config as YAML (args.yaml).</summary>
    public string ToYaml() => YamlFile.Write(Keys.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.GetValue(this))));

    /// <summary>
    /// Refuses an image size whose one 3-channel image (with mosaic, its canvas of twice the size per side) would have more
    /// values than a tensor holds: such a run would fail at its first batch, after making its run folder.
    /// </summary>
    internal static void CheckImgFits(string what, int img, bool mosaic)
    {
        long side = mosaic ? 2L * img : img, fits = (long)Math.Sqrt(Array.MaxLength / 3.0); // compared by side: 3·side² can overflow long
        if (side <= fits) return;
        int largest = (int)(fits / (mosaic ? 2 : 1) / 32 * 32);
        throw new ConfigException($"{what} {img} is too large: one {(mosaic ? "mosaic canvas" : "image")} of 3×{side}×{side} values would exceed what a tensor holds " +
            $"({Array.MaxLength:N0} values); the largest is {largest}{(mosaic ? " (with mosaic 0: twice that)" : "")}");
    }

    static DetectConfig Validate(DetectConfig c, string source)
    {
        string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, choices) in Choices)
        {
            var value = (string?)Keys[key].GetValue(c);
            if (value is null || !choices.Contains(value)) throw new ConfigException($"{source}: {key} must be one of {string.Join(", ", choices)}, got '{value}'");
        }
        if (!ModelSizes.Contains(c.Model) && !(c.Model.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || c.Model.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)))
            throw new ConfigException($"{source}: model must be one of {string.Join(", ", ModelSizes)} or a model definition file (.yaml or .yml), got '{c.Model}'");
        if (c.Img < 32 || c.Img % 32 != 0) throw new ConfigException($"{source}: img must be a positive multiple of 32 (the largest stride), got {c.Img}");
        if (c.ValImg < 0 || c.ValImg % 32 != 0) throw new ConfigException($"{source}: val_img must be 0 (--img) or a positive multiple of 32, got {c.ValImg}");
        CheckImgFits(source + ": img", c.Img, mosaic: c.Mosaic > 0);
        CheckImgFits(source + ": val_img", c.EffectiveValImg, mosaic: false);
        if (c.Epochs < 1) throw new ConfigException($"{source}: epochs must be at least 1, got {c.Epochs}");
        if (c.BatchSize < 1) throw new ConfigException($"{source}: batch_size must be at least 1, got {c.BatchSize}");
        if (c.ValBatchSize < 0 || c.Limit < 0 || c.Workers < 0 || c.PlotImages < 0)
            throw new ConfigException($"{source}: val_batch_size, limit, workers and plot_images must be ≥ 0, got {c.ValBatchSize}, {c.Limit}, {c.Workers}, {c.PlotImages}");
        if (!(c.Lr > 0)) throw new ConfigException($"{source}: lr must be positive, got {Inv(c.Lr)}");
        if (c.Lrf is double lrf)
        {
            if (!(lrf > 0 && lrf <= 1)) throw new ConfigException($"{source}: lrf (the final lr as a fraction of lr) must be in (0, 1], got {Inv(lrf)}");
            if (c.Schedule == "none") throw new ConfigException($"{source}: lrf {Inv(lrf)} needs a schedule to end with (cosine, linear or onecycle); schedule none keeps lr constant");
        }
        if (c.CloseMosaic < 0 || c.CloseMosaic > c.Epochs)
            throw new ConfigException($"{source}: close_mosaic (the last epochs trained without mosaic) must be between 0 and epochs ({c.Epochs}), got {c.CloseMosaic}");
        if (!(c.Momentum >= 0 && c.Momentum < 1)) throw new ConfigException($"{source}: momentum must be in [0, 1), got {Inv(c.Momentum)}");
        if (c.WarmupMinSteps < 0) throw new ConfigException($"{source}: warmup_min_steps must be ≥ 0, got {c.WarmupMinSteps}");
        if (!(c.WarmupBiasLr >= 0)) throw new ConfigException($"{source}: warmup_bias_lr must be ≥ 0, got {Inv(c.WarmupBiasLr)}");
        if (!(c.WarmupMomentum >= 0 && c.WarmupMomentum < 1)) throw new ConfigException($"{source}: warmup_momentum must be in [0, 1), got {Inv(c.WarmupMomentum)}");
        if (!(c.WeightDecay >= 0) || !(c.WarmupEpochs >= 0)) throw new ConfigException($"{source}: weight_decay and warmup_epochs must be ≥ 0, got {Inv(c.WeightDecay)} and {Inv(c.WarmupEpochs)}");
        if (!(c.Ema >= 0 && c.Ema < 1)) throw new ConfigException($"{source}: ema must be in [0, 1) (0: off), got {Inv(c.Ema)}");
        if (!(c.EmaTau > 0)) throw new ConfigException($"{source}: ema_tau must be positive, got {Inv(c.EmaTau)}");
        foreach (var (key, v) in new[] { ("mosaic", c.Mosaic), ("fliplr", c.Fliplr), ("copy_paste", c.CopyPaste) })
            if (!(v >= 0 && v <= 1)) throw new ConfigException($"{source}: {key} is a probability in [0, 1], got {Inv(v)}");
        foreach (var (key, v) in new[] { ("scale", c.Scale), ("translate", c.Translate), ("hsv_h", c.HsvH), ("hsv_s", c.HsvS), ("hsv_v", c.HsvV) })
            if (!(v >= 0 && v < 1)) throw new ConfigException($"{source}: {key} must be in [0, 1), got {Inv(v)}");
        if (!(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1)) throw new ConfigException($"{source}: label_smoothing must be in [0, 1), got {Inv(c.LabelSmoothing)}");
        foreach (var (key, v) in new[] { ("box", c.Box), ("obj", c.Obj), ("cls", c.Cls) })
            if (!(v >= 0)) throw new ConfigException($"{source}: {key} (a loss gain) must be ≥ 0, got {Inv(v)}");
        if (!(c.FocalGamma >= 0)) throw new ConfigException($"{source}: focal_gamma must be ≥ 0, got {Inv(c.FocalGamma)}");
        // kept in one spelling, so that args.yaml and a resume's --freeze compare as numbers
        var (freeze, error) = ParseFreeze(c.Freeze);
        if (freeze is null) throw new ConfigException($"{source}: {error}");
        return c with { Freeze = string.Join(' ', freeze) };
    }
}
