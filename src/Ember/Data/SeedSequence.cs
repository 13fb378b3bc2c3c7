namespace Ember.Data;

/// <summary>
/// Derives independent 64-bit seeds from a base seed and a few coordinates (epoch, sample position, stream tag) by
/// chaining SplitMix64 finalizers, so that nearby coordinates give unrelated streams. It is what makes a loader's
/// shuffles and augmentations a pure function of (seed, epoch, position) rather than of the order in which threads ran.
/// </summary>
public static class SeedSequence
{
    /// <summary>Stream tag of a loader's per-epoch sampler generator.</summary>
    public const long SamplerStream = 0x5A3D;
    /// <summary>Stream tag of a loader's per-sample generators.</summary>
    public const long SampleStream = 0x5A4E;
    /// <summary>Stream tag of a loader's per-batch generators (batch transforms such as MixUp).</summary>
    public const long BatchStream = 0x5A5F;

    /// <summary>A seed that depends on <paramref name="seed"/> and every coordinate in order.</summary>
    public static long Derive(long seed, params ReadOnlySpan<long> coordinates)
    {
        ulong h = Mix((ulong)seed ^ 0x243F6A8885A308D3UL);
        foreach (var c in coordinates) h = Mix(h ^ Mix((ulong)c + 0x9E3779B97F4A7C15UL));
        return (long)h;
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
