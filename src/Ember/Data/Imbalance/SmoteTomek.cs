namespace Ember.Data.Imbalance;

/// <summary>
/// SMOTE followed by Tomek-link cleaning (Batista et al., 2004; imblearn's SMOTETomek): oversample the minority classes,
/// then remove both members of every Tomek link, which SMOTE's new points tend to create across the class boundary.
/// </summary>
public sealed class SmoteTomek(int k = 5)
{
    /// <summary>The SMOTE step.</summary>
    public Smote Smote { get; } = new(k);

    /// <summary>The Tomek step (removes both members of a link).</summary>
    public TomekLinks Tomek { get; } = new(TomekRemoval.Both);

    /// <summary>The resampled features and int64 labels.</summary>
    public (Tensor Features, Tensor Labels) FitResample(Tensor features, Tensor labels, int numClasses, Generator generator)
    {
        var (x, y) = Smote.FitResample(features, labels, numClasses, generator);
        return Tomek.FitResample(x, y, numClasses);
    }
}
