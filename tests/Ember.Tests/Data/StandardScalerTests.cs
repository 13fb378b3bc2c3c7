using Ember.Data;

namespace Ember.Tests.Data;

public class StandardScalerTests
{
    [Fact]
    public void Fits_population_statistics_on_the_given_part_only()
    {
        double[] series = [1, 2, 3, 4, 1000]; // the last value stands for a test period the fit must not see
        var scaler = StandardScaler.Fit(series.AsSpan(0, 4));
        Assert.Equal(2.5, scaler.Mean, 12);
        Assert.Equal(Math.Sqrt(1.25), scaler.Std, 12); // population std of 1..4
        var z = scaler.Transform(series);
        Assert.Equal([5, 1], z.Shape.ToArray());
        Assert.Equal((float)((1000 - 2.5) / Math.Sqrt(1.25)), z.ToArray<float>()[4], 3);
        TestUtil.Close(series, scaler.Inverse(z).Reshape(5), rtol: 1e-6);
    }

    [Fact]
    public void A_constant_part_only_shifts_and_bad_statistics_are_refused()
    {
        Assert.Equal(1.0, StandardScaler.Fit([3.0, 3.0]).Std);
        Assert.Throws<ArgumentException>(() => StandardScaler.Fit([]));
        Assert.Contains("positive finite std", Assert.Throws<ArgumentException>(() => new StandardScaler(0, 0)).Message);
    }
}
