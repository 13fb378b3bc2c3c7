namespace Ember.Data.Transforms;

/// <summary>Gamma and Beta draws from a <see cref="Generator"/> (for MixUp's and CutMix's mixing weight).</summary>
internal static class RandomDraws
{
    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang (2000); shape &lt; 1 through Gamma(shape + 1) · U^(1/shape).</summary>
    public static double Gamma(Generator g, double shape)
    {
        if (shape < 1) return Gamma(g, shape + 1) * Math.Pow(1.0 - g.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do { x = g.NextNormal(); v = 1 + c * x; } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - g.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    /// <summary>Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    public static double Beta(Generator g, double a, double b)
    {
        double x = Gamma(g, a), y = Gamma(g, b);
        return x / (x + y);
    }
}
