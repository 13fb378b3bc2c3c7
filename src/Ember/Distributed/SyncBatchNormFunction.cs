namespace Ember.Distributed;

/// <summary>
/// Batch normalization in training whose statistics cover every rank's batch (the forward of
/// torch.nn.SyncBatchNorm). Written from differentiable ops around <see cref="DistributedFunctional.AllReduceSum"/>, so
/// the backward reduces Σ∂L/∂y and Σ∂L/∂y·x̂ across ranks exactly as PyTorch's SyncBatchNorm backward does.
/// </summary>
internal static class SyncBatchNormFunction
{
    /// <summary>
    /// Three all-reduces: the element count (int64, ranks may hold batches of different sizes), the C per-channel sums,
    /// then the C sums of squared deviations from the global mean (two passes, not E[x²] − E[x]², which loses digits
    /// when |mean| ≫ std).
    /// </summary>
    public static Tensor Training(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        double momentum, double eps, string module)
    {
        int c = input.Size(1);
        var dims = new int[input.Rank - 1];
        dims[0] = 0;
        for (int d = 2; d < input.Rank; d++) dims[d - 1] = d;
        var shape = new int[input.Rank];
        Array.Fill(shape, 1);
        shape[1] = c;

        var counts = Torch.Full([1], input.NumEl / c, DType.Int64);
        Distributed.AllReduce(counts);
        double count = counts.Item();
        if (count <= 1)
            throw new ArgumentException($"{module}: expected more than 1 value per channel across all ranks when training, got {count} (input shape {input.Shape} on this rank)");
        var mean = DistributedFunctional.AllReduceSum(input.Sum(dims)) / count;
        var centered = input - mean.Reshape(shape);
        var variance = DistributedFunctional.AllReduceSum((centered * centered).Sum(dims)) / count;
        var output = centered * (variance + eps).Rsqrt().Reshape(shape);
        if (weight is not null) output = output * weight.Reshape(shape);
        if (bias is not null) output = output + bias.Reshape(shape);

        using (Torch.NoGrad())
        {
            if (runningMean is not null)
                runningMean.MulInPlace(1 - momentum).AddInPlace(mean.Detach().To(runningMean.DType) * momentum);
            if (runningVar is not null)
                runningVar.MulInPlace(1 - momentum).AddInPlace(variance.Detach().To(runningVar.DType) * (momentum * count / (count - 1)));
        }
        return output;
    }
}
