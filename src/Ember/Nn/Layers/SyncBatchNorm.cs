namespace Ember.Nn.Layers;

/// <summary>
/// Batch normalization whose training statistics are computed over the whole global batch, across every rank of the
/// default process group (torch.nn.SyncBatchNorm): with N ranks of batch B, the result equals one BatchNorm over the
/// N·B samples, forward and backward. Takes [N, C, *] inputs of any rank. Evaluation, and training without an
/// initialized group or with one rank, use the local batch exactly as <see cref="BatchNorm2d"/>.
/// </summary>
public sealed class SyncBatchNorm : BatchNorm
{
    /// <summary>PyTorch's defaults; the default process group is the only group.</summary>
    public SyncBatchNorm(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats) => SyncAcrossRanks = true;

    /// <inheritdoc/>
    protected override void CheckInputDim(Tensor input)
    {
        if (input.Rank < 2)
            throw new ArgumentException($"SyncBatchNorm: expected at least 2D input (got {input.Rank}D input, shape {input.Shape})");
    }

    /// <summary>
    /// Makes every batch-norm layer of <paramref name="model"/> synchronise its statistics across ranks
    /// (convert_sync_batchnorm) and returns the model. PyTorch swaps in new SyncBatchNorm modules that share the old
    /// parameters; a C# model holds its layers in fields the swap could not reach, so the layers are switched in place
    /// instead: parameters, buffers, names and state-dict keys stay as they were. Call it before wrapping the model in
    /// DistributedDataParallel, as in PyTorch.
    /// </summary>
    public static Module ConvertSyncBatchNorm(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var module in model.Modules())
            if (module is BatchNorm bn) bn.SyncAcrossRanks = true;
        return model;
    }
}
