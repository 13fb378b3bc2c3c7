namespace Ember.Interop;

/// <summary>
/// The check that checked load paths run on weights read from a file: NaN or ±Inf means the run that wrote them diverged
/// or the file was damaged, and loading them would make every prediction NaN. Loaders refuse them unless asked to allow them.
/// </summary>
public static class FiniteWeights
{
    /// <summary>
    /// Throws an <see cref="InvalidDataException"/> naming <paramref name="source"/> (the file) and the first tensor that holds
    /// NaN or ±Inf, with how many of its values are non-finite and how many other tensors are affected.
    /// </summary>
    public static void Require(IEnumerable<KeyValuePair<string, Tensor>> tensors, string source)
    {
        if (Describe(tensors) is string problem) throw new InvalidDataException($"{source}: {problem}");
    }

    /// <summary>
    /// What <see cref="Require"/> would refuse: the first tensor holding NaN or ±Inf, how many of its values and how many other
    /// tensors are affected; null when every floating-point value is finite.
    /// </summary>
    public static string? Describe(IEnumerable<KeyValuePair<string, Tensor>> tensors)
        => FirstNonFinite(tensors) is string problem
            ? problem + "; the run that wrote it diverged or the file is damaged (allow non-finite weights explicitly to load it anyway)"
            : null;

    /// <summary>
    /// The first tensor holding NaN or ±Inf, as "tensor 'name' holds k non-finite values (NaN or ±Inf) of n (and m more
    /// tensors)"; null when every floating-point value is finite.
    /// </summary>
    public static string? FirstNonFinite(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        int bad = 0;
        string? first = null;
        long firstCount = 0;
        int firstSize = 0;
        using (Torch.NoGrad())
            foreach (var (name, tensor) in tensors)
            {
                if (!tensor.DType.IsFloatingPoint()) continue;
                long count = (long)tensor.Detach().IsFinite().LogicalNot().Sum().Item();
                if (count == 0) continue;
                bad++;
                if (first is null) { first = name; firstCount = count; firstSize = tensor.NumEl; }
            }
        if (first is null) return null;
        var others = bad > 1 ? $" (and {bad - 1} more tensor{(bad > 2 ? "s" : "")})" : "";
        return $"tensor '{first}' holds {firstCount} non-finite value{(firstCount == 1 ? "" : "s")} (NaN or ±Inf) of {firstSize}{others}";
    }
}
