namespace Ember.Metrics;

/// <summary>A running mean of per-batch values weighted by batch size (e.g. the epoch's mean loss).</summary>
public sealed class MeanMetric
{
    double sum;
    long count;

    /// <summary>Adds a batch mean <paramref name="value"/> over <paramref name="weight"/> samples.</summary>
    public void Update(double value, long weight = 1) { sum += value * weight; count += weight; }

    /// <summary>The weighted mean (NaN before any update).</summary>
    public double Compute() => count == 0 ? double.NaN : sum / count;

    /// <summary>Samples seen.</summary>
    public long Count => count;

    /// <summary>The weighted sum of the values (the mean's numerator).</summary>
    public double Sum => sum;

    /// <summary>Continues from a saved <see cref="Sum"/> and <see cref="Count"/> (a resumed epoch), bit for bit.</summary>
    public void Restore(double savedSum, long savedCount) { sum = savedSum; count = savedCount; }

    /// <summary>Clears the state.</summary>
    public void Reset() { sum = 0; count = 0; }
}
