namespace Ember.Data.Transforms;

/// <summary>
/// MixUp (Zhang et al., 2018) on a batch: with λ ~ Beta(α, α) and a random permutation π of the batch,
/// x' = λ·x + (1 − λ)·x[π] and the soft targets y' = λ·onehot(y) + (1 − λ)·onehot(y[π]), of shape [N, numClasses],
/// which cross-entropy with probability targets accepts.
/// </summary>
public sealed class MixUp(int numClasses, double alpha = 0.2)
{
    /// <summary>The Beta distribution's parameter.</summary>
    public double Alpha { get; } = alpha > 0 ? alpha : throw new ArgumentException($"MixUp: alpha must be positive, got {alpha}");

    /// <summary>The number of classes of the soft targets.</summary>
    public int NumClasses { get; } = numClasses;

    /// <summary>Mixes a batch of inputs [N, ...] and int64 labels [N] (or soft targets [N, C]).</summary>
    public (Tensor Inputs, Tensor Targets, double Lambda) Apply(Tensor inputs, Tensor labels, Generator generator)
    {
        var targets = SoftTargets(labels, NumClasses, "MixUp");
        CheckBatch(inputs, targets, "MixUp");
        double lambda = RandomDraws.Beta(generator, Alpha, Alpha);
        var perm = Permutation(inputs.Size(0), generator);
        using var _ = Torch.NoGrad();
        var mixed = inputs * lambda + inputs.IndexSelect(0, perm) * (1 - lambda);
        var mixedTargets = targets * lambda + targets.IndexSelect(0, perm) * (1 - lambda);
        return (mixed, mixedTargets, lambda);
    }

    /// <summary>For <see cref="DataLoader{T}"/>'s batchTransform: mixes a (inputs, labels) batch.</summary>
    public Batch Apply(Batch batch, Generator generator)
    {
        var (x, y, _) = Apply(batch[0], batch[1], generator);
        return new Batch(x, y);
    }

    internal static Tensor SoftTargets(Tensor labels, int numClasses, string op)
    {
        if (labels.DType == DType.Int64 && labels.Rank == 1)
        {
            var y = labels.Contiguous().ToArray<long>();
            for (int i = 0; i < y.Length; i++)
                if (y[i] < 0 || y[i] >= numClasses)
                    throw new ArgumentException($"{op}: label {y[i]} of sample {i} is outside the class range [0, {numClasses})");
            return Torch.OneHot(labels, numClasses).To(DType.Float32);
        }
        if (labels.DType.IsFloatingPoint() && labels.Rank == 2 && labels.Size(1) == numClasses) return labels;
        throw new ArgumentException($"{op}: expected int64 labels [N] or soft targets [N, {numClasses}], got {labels.DType.TorchName()} of shape {labels.Shape}");
    }

    internal static void CheckBatch(Tensor inputs, Tensor targets, string op)
    {
        if (inputs.Rank < 1 || inputs.Size(0) != targets.Size(0))
            throw new ArgumentException($"{op}: inputs of shape {inputs.Shape} and targets of shape {targets.Shape} disagree on the batch size");
    }

    internal static Tensor Permutation(int n, Generator generator)
    {
        var perm = new int[n];
        RandomSampler.Permute(perm, generator);
        return DataTensors.Wrap(perm.Select(i => (long)i).ToArray(), n);
    }
}
