namespace Ember.Nn.Utils;

/// <summary>
/// Packing and padding of variable-length batches for the recurrent layers (torch.nn.utils.rnn): pack a padded
/// batch so that an RNN never steps over padding, and pad the packed output back. Both directions are differentiable
/// (gathers by index), so gradients reach the padded input and nothing reaches its padding.
/// </summary>
public static class RnnUtils
{
    /// <summary>
    /// Packs a padded batch (torch.nn.utils.rnn.pack_padded_sequence). <paramref name="input"/>: [L, N, *], or [N, L, *]
    /// when <paramref name="batchFirst"/>; <paramref name="lengths"/>: N lengths in 1..L. With <paramref name="enforceSorted"/>
    /// the lengths must be non-increasing; otherwise the batch is sorted by length (stably) and the permutation kept in the result.
    /// </summary>
    public static PackedSequence PackPaddedSequence(Tensor input, long[] lengths, bool batchFirst = false, bool enforceSorted = true)
    {
        const string op = "pack_padded_sequence";
        if (input.Rank < 2)
            throw new ArgumentException($"{op}: expected input of at least 2 dimensions ({(batchFirst ? "N, L" : "L, N")}, *), got shape {input.Shape}");
        var x = batchFirst ? input.Transpose(0, 1) : input;
        int steps = x.Size(0), batch = x.Size(1);
        if (lengths.Length != batch)
            throw new ArgumentException($"{op}: expected {batch} lengths (one per sequence of the batch, input shape {input.Shape}, batch_first={batchFirst}), got {lengths.Length}");
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] <= 0)
                throw new ArgumentException($"{op}: length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0 (lengths[{b}] = {lengths[b]})");
            if (lengths[b] > steps)
                throw new ArgumentException($"{op}: lengths[{b}] = {lengths[b]} is longer than the input's {steps} time steps (input shape {input.Shape}, batch_first={batchFirst})");
        }
        long[]? sorted = null, unsorted = null;
        if (enforceSorted)
        {
            for (int b = 1; b < batch; b++)
                if (lengths[b] > lengths[b - 1])
                    throw new ArgumentException($"{op}: `lengths` array must be sorted in decreasing order when `enforceSorted` is true, got [{string.Join(", ", lengths)}] (lengths[{b}] = {lengths[b]} > lengths[{b - 1}] = {lengths[b - 1]}). Pass enforceSorted: false to sort the batch inside.");
        }
        else
        {
            sorted = new long[batch];
            for (int b = 0; b < batch; b++) sorted[b] = b;
            // stable, longest first (PyTorch sorts with torch.sort(descending=True); ties keep their order here)
            Array.Sort(sorted, (p, q) => lengths[q] != lengths[p] ? lengths[q].CompareTo(lengths[p]) : p.CompareTo(q));
            unsorted = new long[batch];
            for (int j = 0; j < batch; j++) unsorted[sorted[j]] = j;
        }
        int maxLength = (int)(sorted is null ? lengths[0] : lengths[sorted[0]]);
        var sizes = new long[maxLength];
        var rows = new List<long>();
        for (int t = 0; t < maxLength; t++)
        {
            for (int j = 0; j < batch; j++)
            {
                long b = sorted is null ? j : sorted[j];
                if (lengths[b] <= t) break;
                rows.Add((long)t * batch + b);
                sizes[t]++;
            }
        }
        var rest = input.Shape.ToArray()[2..];
        var data = x.Reshape([steps * batch, .. rest]).IndexSelect(0, Torch.FromArray(rows.ToArray(), [rows.Count]));
        return new PackedSequence(data, Torch.FromArray(sizes, [maxLength]),
            sorted is null ? null : Torch.FromArray(sorted, [batch]), unsorted is null ? null : Torch.FromArray(unsorted, [batch]));
    }

    /// <summary>Packs a padded batch; <paramref name="lengths"/> is a 1-D integer tensor (see the array overload).</summary>
    public static PackedSequence PackPaddedSequence(Tensor input, Tensor lengths, bool batchFirst = false, bool enforceSorted = true)
    {
        if (lengths.Rank != 1) throw new ArgumentException($"pack_padded_sequence: expected 1-D lengths, got shape {lengths.Shape}");
        return PackPaddedSequence(input, lengths.To(DType.Int64).ToArray<long>(), batchFirst, enforceSorted);
    }

    /// <summary>
    /// Pads a packed batch back (torch.nn.utils.rnn.pad_packed_sequence): returns [T, N, *] (or [N, T, *] when
    /// <paramref name="batchFirst"/>) in the original batch order, with T = <paramref name="totalLength"/> or the longest
    /// length, and the lengths (int64 [N]).
    /// </summary>
    public static (Tensor Padded, Tensor Lengths) PadPackedSequence(PackedSequence sequence, bool batchFirst = false, double paddingValue = 0, int? totalLength = null)
    {
        var sizes = sequence.Sizes;
        int maxLength = sizes.Length, batch = sizes[0];
        if (totalLength is int total && total < maxLength)
            throw new ArgumentException($"pad_packed_sequence: expected total_length to be at least the length of the longest sequence in input, but got totalLength={total} and max sequence length being {maxLength}");
        int steps = totalLength ?? maxLength;
        var data = sequence.Data;
        int rows = data.Size(0);
        var rest = data.Shape.ToArray()[1..];
        var lengthOfPosition = new long[batch];
        var offsets = new int[maxLength];
        for (int t = 0; t < maxLength; t++)
        {
            if (t > 0) offsets[t] = offsets[t - 1] + sizes[t - 1];
            for (int j = 0; j < sizes[t]; j++) lengthOfPosition[j]++;
        }
        var unsorted = sequence.UnsortedIndices?.To(DType.Int64).ToArray<long>();
        var index = new long[steps * batch];
        var lengths = new long[batch];
        for (int b = 0; b < batch; b++)
        {
            int j = unsorted is null ? b : (int)unsorted[b];
            lengths[b] = lengthOfPosition[j];
            // padding points one past the data, at the row of padding values appended below
            for (int t = 0; t < steps; t++) index[t * batch + b] = t < lengthOfPosition[j] ? offsets[t] + j : rows;
        }
        var padRow = Torch.Full([1, .. rest], paddingValue, data.DType);
        var padded = Torch.Cat([data, padRow]).IndexSelect(0, Torch.FromArray(index, [index.Length])).Reshape([steps, batch, .. rest]);
        return (batchFirst ? padded.Transpose(0, 1) : padded, Torch.FromArray(lengths, [batch]));
    }

    /// <summary>
    /// Pads a list of [Lᵢ, *] tensors to [max L, N, *] (or [N, max L, *] when <paramref name="batchFirst"/>) with
    /// <paramref name="paddingValue"/> (torch.nn.utils.rnn.pad_sequence).
    /// </summary>
    public static Tensor PadSequence(IReadOnlyList<Tensor> sequences, bool batchFirst = false, double paddingValue = 0)
    {
        if (sequences.Count == 0) throw new ArgumentException("pad_sequence: expected a non-empty list of sequences");
        int maxLength = 0;
        var rest = sequences[0].Shape.ToArray()[1..];
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            if (s.Rank != rest.Length + 1 || !s.Shape.ToArray()[1..].AsSpan().SequenceEqual(rest))
                throw new ArgumentException($"pad_sequence: every sequence must be [L, {string.Join(", ", rest)}] like the first, but sequence {i} has shape {s.Shape}");
            maxLength = Math.Max(maxLength, s.Size(0));
        }
        var padded = new Tensor[sequences.Count];
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i];
            padded[i] = s.Size(0) == maxLength ? s : Torch.Cat([s, Torch.Full([maxLength - s.Size(0), .. rest], paddingValue, s.DType)]);
        }
        return Torch.Stack(padded, batchFirst ? 0 : 1);
    }

    /// <summary>Packs a list of [Lᵢ, *] tensors (torch.nn.utils.rnn.pack_sequence): pad, then pack with their lengths.</summary>
    public static PackedSequence PackSequence(IReadOnlyList<Tensor> sequences, bool enforceSorted = true)
    {
        var lengths = new long[sequences.Count];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = sequences[i].Rank == 0 ? 0 : sequences[i].Size(0);
        return PackPaddedSequence(PadSequence(sequences), lengths, enforceSorted: enforceSorted);
    }
}
