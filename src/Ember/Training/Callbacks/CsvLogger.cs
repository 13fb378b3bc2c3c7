using Ember.Interop;

namespace Ember.Training.Callbacks;

/// <summary>Writes metrics.csv (one row per epoch: train loss and accuracy, val loss, top-1, top-5, lr, time), rewritten atomically each epoch.</summary>
public sealed class CsvLogger(string path) : Callback
{
    /// <summary>The file written.</summary>
    public string Path { get; } = path;

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
        => AtomicFile.WriteAllText(Path, EpochMetrics.CsvHeader + "\n" + string.Join("\n", state.History.Select(r => r.ToCsv())) + "\n");
}
