using System.Globalization;

namespace Ember.Tuning;

/// <summary>
/// The value evolution maximizes: a weighted sum of named metrics (YOLOv5's <c>utils.metrics.fitness</c>, which weighs
/// [P, R, mAP@0.5, mAP@0.5:0.95] by [0, 0, 0.1, 0.9]). The default is validation top-1 with weight 1.
/// </summary>
public sealed class Fitness
{
    readonly (string Name, double Weight)[] terms;

    /// <summary>Fitness = Σ weight·metric over the given terms.</summary>
    public Fitness(params (string Metric, double Weight)[] weights)
    {
        if (weights.Length == 0) throw new ArgumentException("fitness: at least one weighted metric is required");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (n, w) in weights)
        {
            if (string.IsNullOrWhiteSpace(n)) throw new ArgumentException("fitness: metric name must not be empty");
            if (!seen.Add(n)) throw new ArgumentException($"fitness: metric '{n}' weighted twice");
            if (!double.IsFinite(w)) throw new ArgumentException($"fitness: weight of '{n}' must be finite, got {w}");
        }
        terms = [.. weights];
    }

    /// <summary>Validation top-1 accuracy with weight 1 (the key "top1", as the trainer's metrics.csv names it).</summary>
    public static Fitness Default { get; } = new(("top1", 1.0));

    /// <summary>The weights by metric name, in order.</summary>
    public IReadOnlyList<(string Metric, double Weight)> Weights => terms;

    /// <summary>
    /// Parses "top1" or "top1:0.9,top5:0.1" (a bare name has weight 1; a negative weight minimizes, e.g. "val_loss:-1").
    /// </summary>
    public static Fitness Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var list = new List<(string, double)>();
        foreach (var p in parts)
        {
            int colon = p.LastIndexOf(':');
            if (colon < 0) { list.Add((p, 1.0)); continue; }
            var name = p[..colon].Trim();
            if (!double.TryParse(p[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
                throw new FormatException($"fitness: cannot read the weight in '{p}' (expected name:number, e.g. top1:0.9)");
            list.Add((name, w));
        }
        return new Fitness([.. list]);
    }

    /// <summary>Σ weight·metric; a missing metric is an error naming it and the metrics that were reported.</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> metrics)
    {
        double f = 0;
        foreach (var (n, w) in terms)
        {
            if (!metrics.TryGetValue(n, out double v))
                throw new KeyNotFoundException($"fitness: metric '{n}' was not reported; got {string.Join(", ", metrics.Keys)}");
            f += w * v;
        }
        return f;
    }

    /// <summary>"top1:1" style text (round-trips through <see cref="Parse"/>).</summary>
    public override string ToString()
        => string.Join(",", terms.Select(t => t.Name + ":" + t.Weight.ToString("R", CultureInfo.InvariantCulture)));
}
