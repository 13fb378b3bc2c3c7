using System.Collections;

namespace Ember.Data;

/// <summary>
/// Yields dataset indices (torch.utils.data.Sampler). A sampler only yields indices; <see cref="BatchSampler"/> groups
/// any sampler's indices into batches.
/// </summary>
/// <remarks>
/// Random samplers draw from the generator they were built with, or, when built without one, from the generator handed
/// to <see cref="Indices"/>: the <see cref="DataLoader{T}"/> hands a fresh one per epoch derived from (seed, epoch), so
/// the order of each epoch is reproducible and independent of any other random draws in the program.
/// </remarks>
public abstract class Sampler : IEnumerable<int>
{
    /// <summary>The number of indices one pass yields (__len__).</summary>
    public abstract int Count { get; }

    /// <summary>One pass of indices; random samplers without their own generator draw from <paramref name="generator"/>.</summary>
    public abstract IEnumerable<int> Indices(Generator generator);

    /// <summary>
    /// One pass outside a loader. Random samplers without their own generator seed a fresh one from the global generator
    /// (as PyTorch does); a loader never calls this.
    /// </summary>
    public IEnumerator<int> GetEnumerator() => Indices(new Generator((long)Generator.Default.NextUInt64())).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static void CheckCount(int value, string op, string name)
    {
        if (value <= 0) throw new ArgumentException($"{op}: {name} should be a positive integer value, but got {name}={value}");
    }
}
