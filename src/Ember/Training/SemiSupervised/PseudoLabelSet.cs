namespace Ember.Training.SemiSupervised;

/// <summary>
/// The images <see cref="PseudoLabels.Select"/> kept: their indices in the unlabelled set (ascending), the predicted
/// class of each and its softmax probability, out of <paramref name="Candidates"/> unlabelled images.
/// </summary>
public sealed record PseudoLabelSet(int[] Indices, long[] Labels, double[] Confidences, int Candidates)
{
    /// <summary>How many images were kept.</summary>
    public int Count => Indices.Length;

    /// <summary>The fraction of the pseudo-labels equal to <paramref name="trueLabels"/> (indexed like the unlabelled set): known only in an experiment that hid the labels.</summary>
    public double Precision(IReadOnlyList<long> trueLabels)
    {
        if (Count == 0) return double.NaN;
        int right = 0;
        for (int i = 0; i < Count; i++) if (trueLabels[Indices[i]] == Labels[i]) right++;
        return (double)right / Count;
    }
}
