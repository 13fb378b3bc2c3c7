namespace Ember.Tuning;

/// <summary>
/// One evolvable hyper-parameter in YOLOv5's meta form <c>name: (gain, lower, upper)</c>: the mutation gain scales how
/// far a mutation may move it (0 freezes it), and every proposal is clipped to [<see cref="Lower"/>, <see cref="Upper"/>].
/// </summary>
/// <param name="Name">The key, as the trial function and the YAML output see it (for example "lr" or "weight_decay").</param>
/// <param name="Gain">Mutation gain g ≥ 0 (YOLOv5 uses 0–1, sometimes 2).</param>
/// <param name="Lower">Lower limit.</param>
/// <param name="Upper">Upper limit (≥ lower).</param>
public sealed record HyperParameter(string Name, double Gain, double Lower, double Upper)
{
    /// <summary>Checks the limits and the gain; the message names the hyper-parameter.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("hyper-parameter: name must not be empty");
        if (Name.Contains(',') || Name.Contains('\n') || Name.Contains('"'))
            throw new ArgumentException($"hyper-parameter '{Name}': name must not contain ',', '\"' or a newline (it is a CSV column)");
        if (!(Gain >= 0) || double.IsInfinity(Gain)) throw new ArgumentException($"hyper-parameter '{Name}': gain must be finite and >= 0, got {Gain}");
        if (!(Lower <= Upper)) throw new ArgumentException($"hyper-parameter '{Name}': lower limit must be <= upper limit, got [{Lower}, {Upper}]");
    }

    /// <summary>The value clipped to the limits.</summary>
    public double Clip(double value) => Math.Min(Math.Max(value, Lower), Upper);
}
