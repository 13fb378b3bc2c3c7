namespace Ember.Data;

/// <summary>
/// A chronological train / validation / test split of a series of <see cref="Length"/> steps: train is [0, TrainEnd),
/// validation [TrainEnd, ValidationEnd), test [ValidationEnd, Length); never shuffled across the boundaries. A part's
/// windows are those whose targets lie inside it; their inputs may reach back into earlier parts (values known at the
/// forecast origin), never forward.
/// </summary>
public sealed class TimeSeriesSplit
{
    /// <summary>Splits <paramref name="length"/> steps, the last <paramref name="testLength"/> for test and the <paramref name="validationLength"/> before them for validation.</summary>
    public TimeSeriesSplit(int length, int validationLength, int testLength)
    {
        if (validationLength < 0 || testLength <= 0)
            throw new ArgumentException($"TimeSeriesSplit: validation length must be ≥ 0 and test length > 0, got {validationLength} and {testLength}");
        if ((long)validationLength + testLength >= length)
            throw new ArgumentException($"TimeSeriesSplit: validation ({validationLength}) + test ({testLength}) steps leave nothing to train on in a series of {length}");
        Length = length;
        ValidationEnd = length - testLength;
        TrainEnd = ValidationEnd - validationLength;
    }

    /// <summary>Steps in the whole series.</summary>
    public int Length { get; }
    /// <summary>End (exclusive) of the training part.</summary>
    public int TrainEnd { get; }
    /// <summary>End (exclusive) of the validation part; the test part starts here.</summary>
    public int ValidationEnd { get; }

    /// <summary>Windows whose inputs and targets lie in the training part.</summary>
    public TimeSeriesWindowDataset TrainWindows(Tensor series, int inputLength, int horizon, int stride = 1)
        => Windows("train", series, 0, TrainEnd, inputLength, horizon, stride);

    /// <summary>Windows whose targets lie in the validation part.</summary>
    public TimeSeriesWindowDataset ValidationWindows(Tensor series, int inputLength, int horizon, int stride = 1)
        => Windows("validation", series, TrainEnd, ValidationEnd, inputLength, horizon, stride);

    /// <summary>Windows whose targets lie in the test part.</summary>
    public TimeSeriesWindowDataset TestWindows(Tensor series, int inputLength, int horizon, int stride = 1)
        => Windows("test", series, ValidationEnd, Length, inputLength, horizon, stride);

    TimeSeriesWindowDataset Windows(string part, Tensor series, int start, int end, int inputLength, int horizon, int stride)
    {
        if (series.Size(0) != Length)
            throw new ArgumentException($"TimeSeriesSplit: the split is for a series of {Length} steps, got one of {series.Size(0)} (shape {series.Shape})");
        if (inputLength <= 0 || horizon <= 0) throw new ArgumentException($"TimeSeriesSplit: inputLength and horizon must be positive, got {inputLength} and {horizon}");
        // training windows start at 0; the others' first target is the part's first step
        int from = part == "train" ? 0 : start - inputLength;
        int targetSteps = part == "train" ? end - inputLength : end - start;
        if (from < 0)
            throw new ArgumentException($"TimeSeriesSplit: a window of {inputLength} input steps before the {part} part (which starts at step {start}) reaches before the series' start; use a shorter lookback or a longer training part");
        if (targetSteps < horizon)
            throw new ArgumentException(part == "train"
                ? $"TimeSeriesSplit: the train part has {end - start} steps, fewer than one window ({inputLength} input + {horizon} target steps)"
                : $"TimeSeriesSplit: the {part} part has {end - start} steps, fewer than the horizon {horizon}: not one window fits");
        return new TimeSeriesWindowDataset(series.Narrow(0, from, end - from), inputLength, horizon, stride);
    }
}
