namespace Ember.Tuning;

/// <summary>Settings of <see cref="Ablation.Run"/>.</summary>
public sealed record AblationOptions
{
    /// <summary>Seeds every variant runs with (the same seeds for every variant, so differences are paired).</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [0, 1, 2];

    /// <summary>Which combinations run (default: baseline, each component alone, all together).</summary>
    public AblationDesign Design { get; init; } = AblationDesign.Default;

    /// <summary>Label of the baseline row ("A" gives the notes' rows A, A+B, A+C, A+B+C).</summary>
    public string BaselineName { get; init; } = "baseline";

    /// <summary>The metrics in the table, in order; null: every metric of the first run, in its order.</summary>
    public IReadOnlyList<string>? Metrics { get; init; }

    /// <summary>Decimals in the Markdown table (the CSV keeps full precision).</summary>
    public int Decimals { get; init; } = 4;
}
