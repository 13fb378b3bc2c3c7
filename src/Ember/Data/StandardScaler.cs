namespace Ember.Data;

/// <summary>
/// z = (x − mean) / std with mean and std (population, as scikit-learn's StandardScaler) fitted on one part of the data
/// only, typically a series' training part, so that no statistic of the validation or test period leaks into training.
/// </summary>
public sealed class StandardScaler
{
    /// <summary>A scaler with the given statistics (as read back from a run).</summary>
    public StandardScaler(double mean, double std)
    {
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std <= 0)
            throw new ArgumentException($"StandardScaler: expected a finite mean and a positive finite std, got mean {mean} and std {std}");
        Mean = mean; Std = std;
    }

    /// <summary>The fitted mean.</summary>
    public double Mean { get; }
    /// <summary>The fitted standard deviation (1 when the values are constant).</summary>
    public double Std { get; }

    /// <summary>Fits on <paramref name="values"/> (for a series: its training part).</summary>
    public static StandardScaler Fit(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) throw new ArgumentException("StandardScaler: cannot fit on no values");
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        double ss = 0;
        foreach (var v in values) ss += (v - mean) * (v - mean);
        double std = Math.Sqrt(ss / values.Length);
        return new StandardScaler(mean, std > 0 ? std : 1); // a constant part: only shift, as scikit-learn does
    }

    /// <summary>(x − mean) / std as float32 [n, 1]: the shape a recurrent forecaster reads (one feature per step).</summary>
    public Tensor Transform(ReadOnlySpan<double> values)
    {
        var z = new float[values.Length];
        for (int i = 0; i < z.Length; i++) z[i] = (float)((values[i] - Mean) / Std);
        return Torch.FromArray(z, [z.Length, 1]);
    }

    /// <summary>x = z·std + mean, elementwise, in float64.</summary>
    public Tensor Inverse(Tensor z) => z.To(DType.Float64) * Std + Mean;
}
