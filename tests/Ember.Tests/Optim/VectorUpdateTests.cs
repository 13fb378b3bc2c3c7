using Ember.Kernels.Operators;
using Ember.Optim;
using Ember.Tests.Kernels;

namespace Ember.Tests.Optim;

/// <summary>
/// The SGD and Adam rules run whole vectors and finish with the scalar loop. A 37-element tensor goes through both
/// paths at once; updating each element alone (a 1-element span never reaches the vector loop) must give the same bits,
/// at every SIMD width (forced through SimdPath, so the class runs in the kernel-settings collection).
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class VectorUpdateTests
{
    const int Length = 37;

    static float[] Values(int seed, double scale = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Length).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    public static TheoryData<double, double, double, bool, bool> SgdCases => new()
    {
        { 0.9, 0.0, 0.0, false, false },
        { 0.9, 0.1, 1e-2, true, false },   // dampening, weight decay, Nesterov
        { 0.0, 0.0, 1e-2, false, true },   // plain SGD, maximize
    };

    [Theory, MemberData(nameof(SgdCases))]
    public void SgdVectorPathMatchesTheScalarRule(double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        var o = new SgdOptions { LearningRate = 0.05, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay, Nesterov = nesterov, Maximize = maximize };
        float[] p = Values(1), b = new float[Length];
        float[] ps = (float[])p.Clone(), bs = new float[Length];
        for (int step = 0; step < 3; step++)
        {
            float[] g = Values(10 + step);
            Sgd.Rule<float>(p, g, momentum != 0 ? b : Span<float>.Empty, step == 0, o);
            for (int i = 0; i < Length; i++)
                Sgd.Rule<float>(ps.AsSpan(i, 1), g.AsSpan(i, 1), momentum != 0 ? bs.AsSpan(i, 1) : Span<float>.Empty, step == 0, o);
        }
        Assert.Equal(ps, p);
        Assert.Equal(bs, b);
        Assert.NotEqual(Values(1), p);
    }

    [Theory]
    [InlineData(0.0, false, false)]
    [InlineData(1e-2, false, true)]   // L2 decay, maximize
    [InlineData(1e-2, true, false)]   // AdamW's decoupled decay
    public void AdamVectorPathMatchesTheScalarRule(double weightDecay, bool decoupled, bool maximize)
    {
        float[] p = Values(2), m = new float[Length], v = new float[Length];
        float[] ps = (float[])p.Clone(), ms = new float[Length], vs = new float[Length];
        for (int step = 1; step <= 3; step++)
        {
            var k = new Adam.AdamScalars(1e-3, 0.9, 0.999, 1e-8, weightDecay, decoupled, false, maximize, step);
            float[] g = Values(20 + step, 3);
            Adam.Rule<float>(p, g, m, v, Span<float>.Empty, k);
            for (int i = 0; i < Length; i++)
                Adam.Rule<float>(ps.AsSpan(i, 1), g.AsSpan(i, 1), ms.AsSpan(i, 1), vs.AsSpan(i, 1), Span<float>.Empty, k);
        }
        Assert.Equal(ps, p);
        Assert.Equal(ms, m);
        Assert.Equal(vs, v);
        Assert.NotEqual(Values(2), p);
    }

    [Theory, MemberData(nameof(SimdWidthKernelTests.AllWidths), MemberType = typeof(SimdWidthKernelTests))]
    public void Both_rules_match_the_scalar_rule_at_each_width_for_float_and_double(SimdWidth width) => SimdWidthKernelTests.OnWidth(width, () =>
    {
        foreach (var c in SgdCases)
            SgdVectorPathMatchesTheScalarRule((double)c[0], (double)c[1], (double)c[2], (bool)c[3], (bool)c[4]);
        AdamVectorPathMatchesTheScalarRule(1e-2, false, true);
        AdamVectorPathMatchesTheScalarRule(1e-2, true, false);

        // float64 through the same vector bodies (half as many lanes), with momentum and decoupled decay
        var random = new Random(3);
        double[] Doubles() => Enumerable.Range(0, Length).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] p = Doubles(), ps = (double[])p.Clone(), b = new double[Length], bs = new double[Length];
        double[] m = new double[Length], ms = new double[Length], v = new double[Length], vs = new double[Length];
        var o = new SgdOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 1e-2, Nesterov = true };
        for (int step = 1; step <= 3; step++)
        {
            double[] g = Doubles();
            var k = new Adam.AdamScalars(1e-3, 0.9, 0.999, 1e-8, 1e-2, true, false, false, step);
            Sgd.Rule<double>(p, g, b, step == 1, o);
            Adam.Rule<double>(p, g, m, v, Span<double>.Empty, k);
            for (int i = 0; i < Length; i++)
            {
                Sgd.Rule<double>(ps.AsSpan(i, 1), g.AsSpan(i, 1), bs.AsSpan(i, 1), step == 1, o);
                Adam.Rule<double>(ps.AsSpan(i, 1), g.AsSpan(i, 1), ms.AsSpan(i, 1), vs.AsSpan(i, 1), Span<double>.Empty, k);
            }
        }
        Assert.Equal(ps, p);
        Assert.Equal(bs, b);
        Assert.Equal(ms, m);
        Assert.Equal(vs, v);
    });
}
