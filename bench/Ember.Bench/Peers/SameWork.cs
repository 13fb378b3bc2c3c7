using Ember.Nn;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// Makes both sides of a pair do the same work: copies an Ember model's weights into its TorchSharp twin (so both start
/// from identical values, not just the same initialization scale), and compares the two sides' outputs once at set-up.
/// </summary>
public static class SameWork
{
    /// <summary>
    /// Copies every entry of <paramref name="ember"/>'s state dict into the entry of the same name in
    /// <paramref name="peer"/>'s; throws, listing every problem, if the names or shapes differ (the architectures differ).
    /// </summary>
    public static void CopyWeights(Module ember, torch.nn.Module peer)
    {
        var source = ember.StateDict();
        var target = peer.state_dict();
        var problems = new List<string>();
        foreach (string name in target.Keys.Where(k => !source.ContainsKey(k))) problems.Add($"TorchSharp has '{name}', Ember has not");
        foreach (var (name, value) in source)
        {
            if (!target.TryGetValue(name, out TT? t)) { problems.Add($"Ember has '{name}', TorchSharp has not"); continue; }
            long[] shape = Enumerable.Range(0, value.Rank).Select(d => (long)value.Size(d)).ToArray();
            if (!t.shape.SequenceEqual(shape)) { problems.Add($"'{name}': Ember {value.Shape}, TorchSharp [{string.Join(", ", t.shape)}]"); continue; }
            using var scope = torch.NewDisposeScope();
            using (torch.no_grad())
            {
                TT copy = value.DType switch
                {
                    DType.Float32 => torch.tensor(value.Contiguous().ToArray<float>(), shape),
                    DType.Int64 => torch.tensor(value.Contiguous().ToArray<long>(), shape),
                    _ => throw new NotSupportedException($"SameWork.CopyWeights: '{name}' has dtype {value.DType}"),
                };
                t.copy_(copy);
            }
        }
        if (problems.Count > 0)
            throw new InvalidOperationException($"SameWork.CopyWeights ({ember.GetType().Name} → {peer.GetType().Name}): the two models differ:\n  " + string.Join("\n  ", problems));
    }

    /// <summary>
    /// Throws when the two outputs differ in shape or by more than <paramref name="tolerance"/> anywhere (times
    /// max(1, max|ember|) with <paramref name="scaleByMagnitude"/>, for deep models whose float32 rounding grows with the
    /// values); otherwise prints the largest difference, so the log shows that the pair was checked.
    /// </summary>
    public static void CheckClose(string what, Tensor ember, TT peer, double tolerance = 1e-4, bool scaleByMagnitude = false)
    {
        long[] shape = Enumerable.Range(0, ember.Rank).Select(d => (long)ember.Size(d)).ToArray();
        if (!peer.shape.SequenceEqual(shape))
            throw new InvalidOperationException($"{what}: Ember output {ember.Shape}, TorchSharp output [{string.Join(", ", peer.shape)}]: the pair does not do the same work");
        float[] a = ember.Detach().Contiguous().ToArray<float>();
        float[] b = peer.detach().contiguous().data<float>().ToArray();
        double maxDiff = 0, maxAbs = 0;
        int at = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (!(d <= maxDiff)) { maxDiff = d; at = i; } // NaN counts as the largest difference
            maxAbs = Math.Max(maxAbs, Math.Abs(a[i]));
        }
        double limit = scaleByMagnitude ? tolerance * Math.Max(1, maxAbs) : tolerance;
        if (!(maxDiff <= limit))
            throw new InvalidOperationException($"{what}: Ember and TorchSharp outputs differ by {maxDiff:G3} at flat index {at} " +
                $"(Ember {a[at]}, TorchSharp {b[at]}; allowed {limit:G3}): the pair does not do the same work");
        Console.WriteLine($"  check: {what}: outputs agree (max |Δ| {maxDiff:G2}, max |y| {maxAbs:G3}, allowed {limit:G2})");
    }
}
