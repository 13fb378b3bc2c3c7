namespace Ember.Data.Imbalance;

/// <summary>
/// Tomek links (Tomek, 1976; imblearn's TomekLinks): two samples of different classes that are each other's nearest
/// neighbour (Euclidean, over all samples) sit on the class boundary or are noise. Removing them cleans the boundary.
/// <see cref="TomekRemoval.NotMinority"/> (imblearn's default) removes the member of each link that is not in the minority
/// class; <see cref="TomekRemoval.Both"/> removes both members (what SMOTE+Tomek uses). The neighbours are exact (the
/// brute-force search's, ties to the lower index) but found with a float32 GEMM and an exact recheck of the close ones.
/// </summary>
public sealed class TomekLinks(TomekRemoval removal = TomekRemoval.NotMinority)
{
    /// <summary>Which members of each link are removed.</summary>
    public TomekRemoval Removal { get; } = Enum.IsDefined(removal) ? removal
        : throw new ArgumentException($"TomekLinks: unknown removal {(int)removal} (expected NotMinority or Both)");

    /// <summary>The links as pairs of row indices (first &lt; second), in increasing order of the first.</summary>
    public static List<(int First, int Second)> Find(Tensor features, Tensor labels)
    {
        var (x, y, n, d) = FeatureRows.Read("TomekLinks", features, labels);
        // Exact neighbours, ties to the lower index, found through a GEMM (see NearestNeighbour): seconds, not the brute
        // force's O(n²·d) scalar work, for the 60,000 Fashion-MNIST images.
        var nearest = NearestNeighbour.Find(x, n, d);
        var links = new List<(int, int)>();
        for (int a = 0; a < n; a++)
        {
            int b = nearest[a];
            if (b > a && nearest[b] == a && y[a] != y[b]) links.Add((a, b));
        }
        return links;
    }

    /// <summary>The indices kept after removing the links' members, in increasing order (for <see cref="Subset{T}"/>).</summary>
    public int[] Resample(Tensor features, Tensor labels, int numClasses)
    {
        var y = ClassWeights.Labels(labels);
        var counts = ClassWeights.Counts(y, numClasses);
        // The minority is the smallest non-empty class; ties go to the lower class id, as imblearn's min over the counter.
        int minority = -1;
        for (int c = 0; c < numClasses; c++)
            if (counts[c] > 0 && (minority < 0 || counts[c] < counts[minority])) minority = c;
        var removed = new bool[y.Length];
        foreach (var (a, b) in Find(features, labels))
        {
            if (Removal == TomekRemoval.Both || y[a] != minority) removed[a] = true;
            if (Removal == TomekRemoval.Both || y[b] != minority) removed[b] = true;
        }
        var kept = new List<int>(y.Length);
        for (int i = 0; i < y.Length; i++) if (!removed[i]) kept.Add(i);
        return [.. kept];
    }

    /// <summary>The features and labels after removing the links' members.</summary>
    public (Tensor Features, Tensor Labels) FitResample(Tensor features, Tensor labels, int numClasses)
    {
        var kept = Resample(features, labels, numClasses);
        var index = Torch.FromArray(kept.Select(i => (long)i).ToArray(), [kept.Length]);
        return (features.IndexSelect(0, index), labels.IndexSelect(0, index));
    }
}
