namespace Ember.Distributed;

/// <summary>
/// How DistributedDataParallel groups gradients into all-reduce buckets (PyTorch's compute_bucket_assignment_by_size).
/// Parameters are taken in the order given (DDP passes them in reverse registration order, which is roughly the order
/// backward produces their gradients), one open bucket per dtype; a bucket closes once it holds at least its byte cap,
/// the first bucket of each dtype at <c>firstCapBytes</c> (small, so communication starts early in backward), the
/// rest at <c>capBytes</c>. Buckets are returned in the order their first parameter was taken.
/// </summary>
internal static class GradBuckets
{
    /// <summary>PyTorch's default bucket cap, bucket_cap_mb = 25 (MiB).</summary>
    public const long DefaultCapBytes = 25L * 1024 * 1024;

    /// <summary>PyTorch's first-bucket cap (dist._DEFAULT_FIRST_BUCKET_BYTES, 1 MiB).</summary>
    public const long DefaultFirstCapBytes = 1L * 1024 * 1024;

    /// <summary>
    /// Groups items (byte size and dtype each, in launch order) into buckets; returns each bucket's item indices, in order.
    /// </summary>
    public static List<int[]> Assign(IReadOnlyList<(long Bytes, DType DType)> items, long capBytes, long firstCapBytes)
    {
        if (capBytes <= 0) throw new ArgumentOutOfRangeException(nameof(capBytes), $"DistributedDataParallel: bucket cap must be positive, got {capBytes} bytes");
        if (firstCapBytes <= 0) throw new ArgumentOutOfRangeException(nameof(firstCapBytes), $"DistributedDataParallel: first bucket cap must be positive, got {firstCapBytes} bytes");
        var closed = new List<List<int>>();
        var open = new Dictionary<DType, (List<int> Items, long Bytes, bool First)>();
        for (int i = 0; i < items.Count; i++)
        {
            var (bytes, dtype) = items[i];
            if (!open.TryGetValue(dtype, out var bucket)) bucket = (new List<int>(), 0, !HasBucket(closed, items, dtype));
            bucket.Items.Add(i);
            bucket.Bytes += bytes;
            if (bucket.Bytes >= (bucket.First ? firstCapBytes : capBytes))
            {
                closed.Add(bucket.Items);
                open.Remove(dtype);
            }
            else open[dtype] = bucket;
        }
        foreach (var bucket in open.Values) closed.Add(bucket.Items);
        closed.Sort((a, b) => a[0].CompareTo(b[0]));
        var result = new List<int[]>(closed.Count);
        foreach (var bucket in closed) result.Add(bucket.ToArray());
        return result;
    }

    static bool HasBucket(List<List<int>> closed, IReadOnlyList<(long Bytes, DType DType)> items, DType dtype)
    {
        foreach (var bucket in closed)
            if (items[bucket[0]].DType == dtype) return true;
        return false;
    }
}
