namespace Ember;

/// <summary>
/// A seedable random source (torch.Generator), xoshiro256** seeded through SplitMix64. Draws are sequential, so the
/// same seed gives the same numbers on every machine whatever the thread count. Its state can be saved and restored.
/// </summary>
public sealed class Generator
{
    ulong s0, s1, s2, s3;
    double? spareNormal;

    /// <summary>A generator seeded with <paramref name="seed"/>.</summary>
    public Generator(long seed = 67280421310721) => ManualSeed(seed);

    /// <summary>The seed last set.</summary>
    public long InitialSeed { get; private set; }

    /// <summary>Reseeds (torch.Generator.manual_seed).</summary>
    public Generator ManualSeed(long seed)
    {
        InitialSeed = seed;
        ulong x = (ulong)seed;
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
        spareNormal = null;
        return this;
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits (exactly representable in float32).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's method).</summary>
    public long NextInt64(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "random: upper bound must be positive");
        ulong range = (ulong)bound;
        UInt128 m = (UInt128)NextUInt64() * range;
        ulong low = (ulong)m;
        if (low < range)
        {
            ulong threshold = (0 - range) % range;
            while (low < threshold) { m = (UInt128)NextUInt64() * range; low = (ulong)m; }
        }
        return (long)(m >> 64);
    }

    /// <summary>Standard normal by the Box–Muller transform (pairs are cached).</summary>
    public double NextNormal()
    {
        if (spareNormal is double spare) { spareNormal = null; return spare; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>The full state, for checkpoints (torch.Generator.get_state).</summary>
    public GeneratorState GetState() => new(InitialSeed, [s0, s1, s2, s3], spareNormal);

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(GeneratorState state)
    {
        if (state.Words.Length != 4) throw new ArgumentException($"generator: state must have 4 words, got {state.Words.Length}");
        InitialSeed = state.Seed;
        (s0, s1, s2, s3) = (state.Words[0], state.Words[1], state.Words[2], state.Words[3]);
        spareNormal = state.SpareNormal;
    }

    static readonly Generator processDefault = new();
    [ThreadStatic] static Generator? threadDefault;

    /// <summary>
    /// The default generator (seeded by <see cref="Torch.ManualSeed"/>): the process-wide one, except while a
    /// <see cref="Data.DataLoader{T}"/> loads a sample, when it is that sample's own generator (seeded by seed, epoch and
    /// position). So a data set that draws from the global generator still gives the same samples whatever the number of
    /// workers, as PyTorch's per-worker seeding intends, and loading never advances the process-wide generator.
    /// </summary>
    public static Generator Default => threadDefault ?? processDefault;

    /// <summary>Makes <paramref name="generator"/> this thread's <see cref="Default"/> (null: the process-wide one again); returns the previous override.</summary>
    internal static Generator? OverrideDefault(Generator? generator)
    {
        var previous = threadDefault;
        threadDefault = generator;
        return previous;
    }
}

/// <summary>A snapshot of a <see cref="Generator"/>.</summary>
public sealed record GeneratorState(long Seed, ulong[] Words, double? SpareNormal);
