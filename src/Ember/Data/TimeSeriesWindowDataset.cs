namespace Ember.Data;

/// <summary>
/// Sliding windows over a series [T] or [T, F] for forecasting: item i is (input = series[s, s + inputLength),
/// target = series[s + inputLength, s + inputLength + horizon)) with s = i · stride. There are
/// ⌊(T − inputLength − horizon) / stride⌋ + 1 items. Items are views of the series (no copy).
/// </summary>
public sealed class TimeSeriesWindowDataset : IDataset<(Tensor Input, Tensor Target)>
{
    readonly Tensor series;

    /// <summary>Windows over <paramref name="series"/>.</summary>
    public TimeSeriesWindowDataset(Tensor series, int inputLength, int horizon = 1, int stride = 1)
    {
        if (series.Rank is not (1 or 2)) throw new ArgumentException($"TimeSeriesWindowDataset: expected a series of shape [T] or [T, F], got {series.Shape}");
        if (inputLength <= 0 || horizon <= 0 || stride <= 0)
            throw new ArgumentException($"TimeSeriesWindowDataset: inputLength, horizon and stride must be positive, got {inputLength}, {horizon}, {stride}");
        if (series.Size(0) < inputLength + horizon)
            throw new ArgumentException($"TimeSeriesWindowDataset: a series of length {series.Size(0)} is shorter than one window (inputLength {inputLength} + horizon {horizon})");
        this.series = series;
        InputLength = inputLength; Horizon = horizon; Stride = stride;
    }

    /// <summary>Steps per input window.</summary>
    public int InputLength { get; }
    /// <summary>Steps to forecast.</summary>
    public int Horizon { get; }
    /// <summary>Steps between consecutive windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public int Count => (series.Size(0) - InputLength - Horizon) / Stride + 1;

    /// <inheritdoc/>
    public (Tensor Input, Tensor Target) this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"TimeSeriesWindowDataset: index {index} is out of range for {Count} windows");
            int s = index * Stride;
            return (series.Narrow(0, s, InputLength), series.Narrow(0, s + InputLength, Horizon));
        }
    }
}
