namespace Ember.Tuning;

/// <summary>Settings of <see cref="Anchors.Compute"/>; the defaults are YOLOv5's (utils/autoanchor.py, kmean_anchors).</summary>
public sealed record AnchorOptions
{
    /// <summary>Anchor-multiple threshold (hyp['anchor_t'], 4.0): a box matches an anchor when neither side differs by more than this factor.</summary>
    public double Threshold { get; init; } = 4.0;

    /// <summary>Generations of the genetic refinement (1000); 0 skips it.</summary>
    public int Generations { get; init; } = 1000;

    /// <summary>Probability that an anchor coordinate is mutated (0.9).</summary>
    public double MutationProbability { get; init; } = 0.9;

    /// <summary>Mutation scale (0.1).</summary>
    public double Sigma { get; init; } = 0.1;

    /// <summary>k-means restarts from random boxes; the one with the lowest mean distance wins (scipy's kmeans(iter=30)).</summary>
    public int KMeansRestarts { get; init; } = 30;

    /// <summary>Cap on Lloyd iterations per restart (each stops earlier once the mean distance changes by ≤ 1e-5).</summary>
    public int KMeansMaxIterations { get; init; } = 300;

    /// <summary>Boxes with both sides below this many pixels are left out of the fit, and anchors never shrink below it (2.0).</summary>
    public double MinSize { get; init; } = 2.0;

    /// <summary>Seed of the k-means initialisation and of the mutations.</summary>
    public long Seed { get; init; }

    internal void Validate()
    {
        if (!(Threshold > 1)) throw new ArgumentException($"anchors: threshold must be > 1, got {Threshold}");
        if (Generations < 0) throw new ArgumentException($"anchors: generations must be >= 0, got {Generations}");
        if (!(MutationProbability > 0 && MutationProbability <= 1)) throw new ArgumentException($"anchors: mutation probability must be in (0, 1], got {MutationProbability}");
        if (!(Sigma > 0)) throw new ArgumentException($"anchors: sigma must be > 0, got {Sigma}");
        if (KMeansRestarts < 1 || KMeansMaxIterations < 1) throw new ArgumentException($"anchors: k-means restarts and iterations must be >= 1, got {KMeansRestarts} and {KMeansMaxIterations}");
        if (!(MinSize >= 0)) throw new ArgumentException($"anchors: min size must be >= 0, got {MinSize}");
    }
}
