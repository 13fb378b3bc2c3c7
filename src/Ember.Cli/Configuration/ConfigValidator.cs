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
        ["momentum_form"] = ["pytorch", "velocity"],
        ["loss"] = ["ce", "focal"],
        ["sampler"] = ["random", "weighted"],
        ["oversample"] = ["none", "smote", "smote-tomek"],
        ["undersample"] = ["none", "tomek"],
        ["dropout_kind"] = ["standard", "gaussian", "uniform"],
        ["norm"] = ["bn", "gn", "cmbn"],
    };

    /// <summary>Throws <see cref="ConfigException"/> for an invalid choice or range.</summary>
    public static TrainConfig Validate(TrainConfig c)
    {
        Check("model", c.Model); Check("optimizer", c.Optimizer); Check("schedule", c.Schedule); Check("amp", c.Amp);
        Check("momentum_form", c.MomentumForm); Check("loss", c.Loss); Check("sampler", c.Sampler); Check("oversample", c.Oversample); Check("norm", c.Norm);
        Check("undersample", c.Undersample); Check("dropout_kind", c.DropoutKind);
        if (!(c.DropBlock >= 0 && c.DropBlock < 1)) throw new ConfigException($"drop_block must be 0 (off) or a target drop probability in (0, 1), got {c.DropBlock}");
        if (c.DropBlockSize is < 1 or > 14) throw new ConfigException($"drop_block_size must be between 1 and 14 (the cnn's maps are 14×14 where DropBlock acts), got {c.DropBlockSize}");
        if (!double.IsFinite(c.Imbalance) || (c.Imbalance != 0 && c.Imbalance < 1))
            throw new ConfigException($"imbalance must be 0 (off) or a ratio >= 1 between the largest and the smallest class, got {c.Imbalance}");
        if (c.Labelled < 0) throw new ConfigException($"labelled must be 0 (every image labelled) or a positive number of labelled images, got {c.Labelled}");
        if (!(c.PseudoLabel >= 0 && c.PseudoLabel < 1))
            throw new ConfigException($"pseudo_label must be 0 (off) or a confidence threshold in (0, 1), got {c.PseudoLabel}");
        Positive("epochs", c.Epochs); Positive("batch_size", c.BatchSize); Positive("accumulate", c.Accumulate);
        if (c.Lr <= 0) throw new ConfigException($"lr must be positive, got {c.Lr}");
        if (c.LabelSmoothing is < 0 or >= 1) throw new ConfigException($"label_smoothing must be in [0, 1), got {c.LabelSmoothing}");
        if (c.Ema is < 0 or >= 1) throw new ConfigException($"ema must be in [0, 1) (0 disables it), got {c.Ema}");
        if (c.Workers < 0 || c.Limit < 0 || c.Patience < 0 || c.WarmupSteps < 0) throw new ConfigException("workers, limit, patience and warmup_steps must be non-negative");
        if (!double.IsFinite(c.Lr) || !double.IsFinite(c.Momentum) || !double.IsFinite(c.WeightDecay) || !double.IsFinite(c.ClipGrad) || !double.IsFinite(c.Flooding) || !double.IsFinite(c.Mixup))
            throw new ConfigException("lr, momentum, weight_decay, clip_grad, flooding and mixup must be finite numbers");
        if (c.Momentum is < 0 or >= 1) throw new ConfigException($"momentum must be in [0, 1), got {c.Momentum}");
        if (c.WeightDecay < 0 || c.ClipGrad < 0 || c.Flooding < 0 || c.Mixup < 0) throw new ConfigException("weight_decay, clip_grad, flooding and mixup must be non-negative");
        if (c.Nproc is < 1 or > 4096) throw new ConfigException($"nproc must be between 1 and 4096, got {c.Nproc}");
        if (c.BatchSize % c.Nproc != 0)
            throw new ConfigException($"batch_size {c.BatchSize} does not divide among nproc {c.Nproc} processes; each process trains on batch_size / nproc samples, so use a multiple of {c.Nproc}");
        CheckIgnored(c);
        return c;
    }

    static readonly int DefaultDropBlockSize = new TrainConfig().DropBlockSize;

    /// <summary>The momentum <see cref="TrainConfig"/> starts with; any other value is a request that only SGD can honour.</summary>
    static readonly double DefaultMomentum = new TrainConfig().Momentum;

    /// <summary>The schedules that apply warmup_steps (the others have no warm-up, or their own, like OneCycleLR).</summary>
    public static readonly IReadOnlyList<string> WarmupSchedules = ["cosine", "none"];

    // A setting that the chosen configuration would silently ignore is an error: the run would not be the one asked for.
    // (A value equal to the default cannot be told apart from "not given", so it passes.)
    static void CheckIgnored(TrainConfig c)
    {
        if (c.Optimizer != "sgd" && c.Momentum != DefaultMomentum)
            throw new ConfigException($"momentum {c.Momentum} has no effect with optimizer {c.Optimizer} (Adam and AdamW have betas, not momentum); " +
                "use --optimizer sgd, or drop --momentum");
        if (c.MomentumForm != "pytorch" && (c.Optimizer != "sgd" || c.Momentum == 0))
            throw new ConfigException($"momentum_form {c.MomentumForm} has no effect with optimizer {c.Optimizer}{(c.Optimizer == "sgd" ? " and momentum 0" : "")}; " +
                "it is how SGD's momentum is written: use --optimizer sgd with a momentum, or drop --momentum-form");
        if (c.DropoutKind != "standard" && c.Model is not ("mlp" or "cnn"))
            throw new ConfigException($"dropout_kind {c.DropoutKind} has no effect with model {c.Model} (it has no Dropout layers of its own to replace); use --model mlp or cnn, or drop --dropout-kind");
        if (c.DropBlock > 0 && c.Model != "cnn")
            throw new ConfigException($"drop_block {c.DropBlock} applies to the cnn model only (DropBlock goes after its first max-pool); use --model cnn, or drop --drop-block");
        if (c.DropBlockSize != DefaultDropBlockSize && c.DropBlock == 0)
            throw new ConfigException($"drop_block_size {c.DropBlockSize} has no effect without drop_block; use --drop-block P, or drop --drop-block-size");
        if (c.Oversample != "none" && c.Augment)
            throw new ConfigException($"oversample {c.Oversample} interpolates the stored images, which augment would then crop and flip as if they were real ones; use one of --oversample {c.Oversample} and --augment");
        if (c.Norm != "bn" && c.Model is not ("cnn" or "resnet"))
            throw new ConfigException($"norm {c.Norm} applies to the convolutional models cnn and resnet only ({c.Model} keeps its own normalization: " +
                (c.Model == "vit" ? "LayerNorm" : "BatchNorm1d over single features, where GroupNorm's case of many spatial values per channel does not arise") +
                "); use --model cnn or resnet, or drop --norm");
        if (c.Norm == "cmbn" && c.Accumulate == 1)
            throw new ConfigException("norm cmbn has no effect with accumulate 1 (a window of one mini-batch is a BatchNorm); use --accumulate K > 1, or drop --norm");
        if (c.Norm == "cmbn" && c.SyncBn)
            throw new ConfigException("norm cmbn and sync_bn cannot be combined: CmBN accumulates over mini-batches, SyncBatchNorm over processes; choose one");
        if (c.Lora < 0) throw new ConfigException($"lora must be 0 (off) or a positive adapter rank, got {c.Lora}");
        if (!(c.LoraAlpha > 0) || double.IsInfinity(c.LoraAlpha)) throw new ConfigException($"lora_alpha must be a finite number > 0, got {c.LoraAlpha}");
        if (c.InitFrom is "") throw new ConfigException("init_from must be a run folder (e.g. runs/train/exp1), got an empty value");
        if (c.Lora > 0 && c.InitFrom is null)
            throw new ConfigException($"lora {c.Lora} adapts a trained model, but no init_from names one; use --init-from RUN_DIR (a finished ember train run), or drop --lora");
        if (c.Lora > 0 && c.Ema > 0)
            throw new ConfigException($"lora and ema cannot be combined yet (the EMA would average the frozen base as well); drop --ema or --lora");
        if (c.Lora > 0 && c.Nproc > 1)
            throw new ConfigException("lora trains in one process only for now: use --nproc 1");
        if (c.Lora == 0 && c.LoraAlpha != 16)
            throw new ConfigException($"lora_alpha {c.LoraAlpha} has no effect without lora; use --lora R, or drop --lora-alpha");
        if (c.InitFrom is not null && c.BiasPrior)
            throw new ConfigException("bias_prior has no effect with init_from (the classifier's bias comes from the trained run); drop --bias-prior");
        if (c.PseudoLabel > 0 && c.Labelled == 0)
            throw new ConfigException($"pseudo_label {c.PseudoLabel} has no effect without labelled (every image already has its label); use --labelled N to hide the labels of the others, or drop --pseudo-label");
        if (c.PseudoLabel > 0 && c.Nproc > 1)
            throw new ConfigException("pseudo_label trains its teacher in one process; it cannot be split among processes yet: use --nproc 1");
        if (c.SyncBn && c.Nproc == 1)
            throw new ConfigException("sync_bn has no effect with nproc 1 (one process already normalizes over the whole batch); use --nproc N, or drop --sync-bn");
        if (c.Loss == "focal" && c.LabelSmoothing > 0)
            throw new ConfigException($"label_smoothing {c.LabelSmoothing} has no effect with loss focal (the focal loss has no smoothing term); use --loss ce, or drop --label-smoothing");
        if (c.WarmupSteps > 0 && !WarmupSchedules.Contains(c.Schedule))
            throw new ConfigException($"warmup_steps {c.WarmupSteps} has no effect with schedule {c.Schedule}" +
                (c.Schedule == "onecycle" ? " (OneCycleLR warms up by itself over the first 30% of the steps)" : "") +
                $"; use --schedule {string.Join(" or ", WarmupSchedules)}, or drop --warmup-steps");
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
