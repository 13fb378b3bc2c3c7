namespace Ember.Tuning;

/// <summary>
/// What one evolution trial (one training run with proposed hyper-parameters) reports: named metrics such as
/// "top1", "top5" or "val_loss". Every trial of one evolve.csv must report the same metric names.
/// </summary>
public sealed record TrialResult
{
    /// <summary>A result with the given metrics (their order becomes the evolve.csv column order).</summary>
    public TrialResult(IReadOnlyDictionary<string, double> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var names = new List<string>();
        var copy = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in metrics) { names.Add(k); copy[k] = v; }
        Metrics = copy;
        MetricNames = names;
    }

    /// <summary>A result from (name, value) pairs, in that order.</summary>
    public TrialResult(params (string Name, double Value)[] metrics)
        : this(ToDictionary(metrics)) { }

    static Dictionary<string, double> ToDictionary((string Name, double Value)[] metrics)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (n, v) in metrics)
            if (!d.TryAdd(n, v)) throw new ArgumentException($"trial result: metric '{n}' given twice");
        return d;
    }

    /// <summary>The metrics by name.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>The metric names in the order they were given.</summary>
    public IReadOnlyList<string> MetricNames { get; }
}
