namespace Ember.Tuning;

/// <summary>Settings of <see cref="Evolver"/>; the defaults are YOLOv5's (train.py, <c>--evolve</c>).</summary>
public sealed record EvolverOptions
{
    /// <summary>Seed of all randomness (parent choice and mutations). Generation g draws from a generator seeded by
    /// (Seed, g), so a resumed run proposes exactly what an uninterrupted one would have.</summary>
    public long Seed { get; init; }

    /// <summary>Parents are drawn from the best n results so far (YOLOv5: 5).</summary>
    public int TopN { get; init; } = 5;

    /// <summary>'single' (one parent drawn with fitness weights) or 'weighted' (fitness-weighted mix).</summary>
    public ParentSelection Parent { get; init; } = ParentSelection.Single;

    /// <summary>Probability that a hyper-parameter is mutated in a generation (mp, YOLOv5: 0.8).</summary>
    public double MutationProbability { get; init; } = 0.8;

    /// <summary>Mutation scale (sigma, YOLOv5: 0.2).</summary>
    public double Sigma { get; init; } = 0.2;

    /// <summary>What is maximized; default: "top1" with weight 1.</summary>
    public Fitness Fitness { get; init; } = Fitness.Default;

    /// <summary>Proposals are rounded to this many decimals as YOLOv5 does (5); null keeps full precision.
    /// The result is clipped again after rounding, so the limits always hold.</summary>
    public int? Decimals { get; init; } = 5;

    internal void Validate()
    {
        if (TopN < 1) throw new ArgumentException($"evolver: TopN must be >= 1, got {TopN}");
        if (!(MutationProbability > 0 && MutationProbability <= 1)) throw new ArgumentException($"evolver: mutation probability must be in (0, 1], got {MutationProbability}");
        if (!(Sigma > 0) || double.IsInfinity(Sigma)) throw new ArgumentException($"evolver: sigma must be finite and > 0, got {Sigma}");
        if (Decimals is < 0 or > 15) throw new ArgumentException($"evolver: decimals must be in [0, 15], got {Decimals}");
    }
}
