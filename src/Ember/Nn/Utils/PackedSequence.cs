namespace Ember.Nn.Utils;

/// <summary>
/// A batch of variable-length sequences packed time step by time step (torch.nn.utils.rnn.PackedSequence).
/// <see cref="Data"/> [Σ lengths, *] holds step 0 of every sequence, then step 1 of those still running, and so on,
/// longest sequences first; <see cref="BatchSizes"/> (int64, one per step, non-increasing) says how many rows each step has.
/// When the batch was sorted by length on packing, <see cref="SortedIndices"/> maps packed position → original batch
/// index and <see cref="UnsortedIndices"/> the other way. Build one with <see cref="RnnUtils.PackPaddedSequence(Tensor, long[], bool, bool)"/>.
/// </summary>
public sealed class PackedSequence
{
    /// <summary>The packed rows [Σ lengths, *].</summary>
    public Tensor Data { get; }
    /// <summary>Rows per time step, int64 [max length].</summary>
    public Tensor BatchSizes { get; }
    /// <summary>Packed position → original batch index (int64 [N]), or null when the input was already sorted.</summary>
    public Tensor? SortedIndices { get; }
    /// <summary>Original batch index → packed position (int64 [N]), or null when the input was already sorted.</summary>
    public Tensor? UnsortedIndices { get; }

    internal int[] Sizes { get; }

    /// <summary>Wraps already-packed data; checks that the batch sizes are positive, non-increasing and add up to the rows of <paramref name="data"/>.</summary>
    public PackedSequence(Tensor data, Tensor batchSizes, Tensor? sortedIndices = null, Tensor? unsortedIndices = null)
    {
        if (batchSizes.Rank != 1 || batchSizes.NumEl == 0)
            throw new ArgumentException($"PackedSequence: expected batch_sizes to be a non-empty 1-D tensor, got shape {batchSizes.Shape}");
        var sizes = batchSizes.To(DType.Int64).ToArray<long>();
        Sizes = new int[sizes.Length];
        long total = 0;
        for (int t = 0; t < sizes.Length; t++)
        {
            if (sizes[t] <= 0 || (t > 0 && sizes[t] > sizes[t - 1]))
                throw new ArgumentException($"PackedSequence: batch_sizes must be positive and non-increasing, got [{string.Join(", ", sizes)}]");
            Sizes[t] = (int)sizes[t];
            total += sizes[t];
        }
        if (data.Rank < 1 || data.Size(0) != total)
            throw new ArgumentException($"PackedSequence: batch_sizes add up to {total} rows but data has shape {data.Shape}");
        if ((sortedIndices is null) != (unsortedIndices is null))
            throw new ArgumentException("PackedSequence: sorted_indices and unsorted_indices must both be given or both be null");
        if (sortedIndices is not null && (sortedIndices.NumEl != Sizes[0] || unsortedIndices!.NumEl != Sizes[0]))
            throw new ArgumentException($"PackedSequence: expected sorted_indices and unsorted_indices of {Sizes[0]} elements (the batch size), got shapes {sortedIndices.Shape} and {unsortedIndices!.Shape}");
        Data = data;
        BatchSizes = batchSizes.To(DType.Int64);
        SortedIndices = sortedIndices;
        UnsortedIndices = unsortedIndices;
    }

    /// <summary>The number of sequences (the batch size of the first step).</summary>
    public int BatchSize => Sizes[0];

    /// <summary>The same packing with other data of the same row count (an RNN's output).</summary>
    public PackedSequence WithData(Tensor data) => new(data, BatchSizes, SortedIndices, UnsortedIndices);

    /// <inheritdoc/>
    public override string ToString() => $"PackedSequence(data={Data.Shape}, batch_sizes=[{string.Join(", ", Sizes)}], sorted={(SortedIndices is null ? "input order" : "by length")})";
}
