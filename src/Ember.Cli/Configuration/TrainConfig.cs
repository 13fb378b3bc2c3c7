namespace Ember.Cli.Configuration;

/// <summary>
/// Everything that defines an `ember train` run. Options and config files (YAML or JSON, keys in snake_case as
/// written here) fill the same record, so a config file and the equivalent options give the same run.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>mlp, cnn, resnet or vit.</summary>
    public string Model { get; init; } = "cnn";
    /// <summary>fashion-mnist (embedded), mnist (data/mnist) or a folder of IDX files; see <see cref="DataSource"/>.</summary>
    public string? Data { get; init; }
    /// <summary>Pixel mean for normalization (default: the data set's own, computed from its training split when unknown).</summary>
    public double? DataMean { get; init; }
    /// <summary>Pixel standard deviation for normalization (default as <see cref="DataMean"/>).</summary>
    public double? DataStd { get; init; }
    /// <summary>Class names, comma-separated (default: the data set's own; numbered for an unknown folder).</summary>
    public string? Classes { get; init; }
    public int Epochs { get; init; } = 8;
    public int BatchSize { get; init; } = 128;
    /// <summary>sgd, adam or adamw.</summary>
    public string Optimizer { get; init; } = "adamw";
    public double Lr { get; init; } = 2e-3;
    public double Momentum { get; init; } = 0.9;
    /// <summary>SGD momentum as PyTorch writes it (pytorch) or as the notes do (velocity: v = μv − lr·g, θ += v).</summary>
    public string MomentumForm { get; init; } = "pytorch";
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>none, cosine, onecycle, step or plateau.</summary>
    public string Schedule { get; init; } = "onecycle";
    /// <summary>Linear warm-up length in optimizer steps (0: none).</summary>
    public int WarmupSteps { get; init; }
    public double LabelSmoothing { get; init; }
    /// <summary>ce (cross-entropy) or focal (softmax focal loss, γ = 2).</summary>
    public string Loss { get; init; } = "ce";
    /// <summary>random (shuffle) or weighted (each class drawn equally often: inverse-frequency sample weights, with replacement).</summary>
    public string Sampler { get; init; } = "random";
    /// <summary>
    /// none; smote: synthesize minority-class images (SMOTE on the normalized pixels, k = 5) until every class has as many
    /// as the largest; smote-tomek: SMOTE, then remove both members of every Tomek link.
    /// </summary>
    public string Oversample { get; init; } = "none";
    /// <summary>
    /// none, or tomek: remove Tomek links (pairs of nearest neighbours, in normalized pixel space, from different classes),
    /// the member outside the minority class (imblearn's default). Exact nearest neighbours: O(n²) in the training images.
    /// </summary>
    public string Undersample { get; init; } = "none";
    /// <summary>Initialize the classifier's output bias from the training set's class frequencies (log p).</summary>
    public bool BiasPrior { get; init; }
    /// <summary>Make the training split imbalanced (0: off): class k keeps a fraction ratio^(−k/(C−1)) of its images, so the largest and smallest classes differ by this ratio.</summary>
    public double Imbalance { get; init; }
    /// <summary>
    /// Keep the labels of only this many training images (0: all), the first ⌈N/C⌉ or ⌊N/C⌋ of each class in file order;
    /// the other images are unlabelled: left out, or pseudo-labelled with <see cref="PseudoLabel"/>.
    /// </summary>
    public int Labelled { get; init; }
    /// <summary>
    /// Pseudo-labelling threshold (0: off; needs <see cref="Labelled"/>): a teacher trained first on the labelled images
    /// labels the unlabelled ones, those whose top softmax probability reaches the threshold join the training set with
    /// the predicted class, and the run's model trains on both.
    /// </summary>
    public double PseudoLabel { get; init; }
    /// <summary>
    /// The normalization layers of the cnn and resnet models: bn (BatchNorm2d), gn (GroupNorm, 16 channels per group, as the notes recommend)
    /// or cmbn (cross mini-batch normalization over the <see cref="Accumulate"/> mini-batches of each optimizer step).
    /// </summary>
    public string Norm { get; init; } = "bn";
    /// <summary>
    /// The noise of the mlp's and cnn's Dropout layers: standard (Bernoulli dropout), gaussian (GaussianDropout with the
    /// same p: multiplicative N(1, p/(1 − p)) noise) or uniform (UniformDropout, Uout, with β = p: multiplicative 1 + U(−β, β)).
    /// </summary>
    public string DropoutKind { get; init; } = "standard";
    /// <summary>
    /// DropBlock's target drop probability (0: off; cnn only): a DropBlock2d after the cnn's first max-pool (14×14 maps),
    /// whose drop probability rises linearly from 0 to this over training (keep probability 1 → 1 − p), as the notes describe.
    /// </summary>
    public double DropBlock { get; init; }
    /// <summary>DropBlock's block size (the notes: about 7).</summary>
    public int DropBlockSize { get; init; } = 7;
    /// <summary>Score the final weights on the test set with test-time augmentation (flips and scales 0.9, 1, 1.1, softmax averaged), as `ember eval --tta` does.</summary>
    public bool Tta { get; init; }
    /// <summary>
    /// A trained run's folder (e.g. runs/train/exp3) whose weights the model starts from (its best/ checkpoint, or last/
    /// when it has none) instead of a random initialization: fine-tuning. The run must have trained the same model.
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>
    /// LoRA rank (0: off; needs <see cref="InitFrom"/>): wrap every Linear and 1×1 Conv2d layer with a rank-r low-rank
    /// adapter, freeze the base model (weights and BatchNorm statistics), train only the adapters, and save best/ with
    /// the adapters merged into the weights (a plain model for eval, predict and export).
    /// </summary>
    public int Lora { get; init; }
    /// <summary>LoRA's α: each adapter's update is scaled by α/r.</summary>
    public double LoraAlpha { get; init; } = 16;
    /// <summary>EMA decay (0: off).</summary>
    public double Ema { get; init; }
    /// <summary>MixUp alpha (0: off).</summary>
    public double Mixup { get; init; }
    /// <summary>none, bf16 or fp16.</summary>
    public string Amp { get; init; } = "none";
    /// <summary>Micro-batches per optimizer step.</summary>
    public int Accumulate { get; init; } = 1;
    /// <summary>Max gradient norm (0: off).</summary>
    public double ClipGrad { get; init; }
    /// <summary>Early-stopping patience in epochs (0: off).</summary>
    public int Patience { get; init; }
    /// <summary>Flood level b (0: off).</summary>
    public double Flooding { get; init; }
    /// <summary>Random crop with padding 2 and horizontal flips.</summary>
    public bool Augment { get; init; }
    public long Seed { get; init; } = 42;
    /// <summary>Loader worker threads.</summary>
    public int Workers { get; init; }
    /// <summary>Use only the first N training images (0: all) — for quick runs.</summary>
    public int Limit { get; init; }
    /// <summary>Folder under which runs/train/expN are created.</summary>
    public string Project { get; init; } = "runs/train";
    /// <summary>
    /// Processes for data-parallel training (1: this process alone). With N &gt; 1, ember starts itself N times under
    /// Open MPI's mpirun; each process trains on batch_size / N of every batch (DistributedDataParallel).
    /// </summary>
    public int Nproc { get; init; } = 1;
    /// <summary>With several processes: batch-norm statistics over the whole global batch (SyncBatchNorm) instead of each process's share.</summary>
    public bool SyncBn { get; init; }
    /// <summary>Plain line output instead of live bars (automatic when not a terminal).</summary>
    public bool Plain { get; init; }
}
