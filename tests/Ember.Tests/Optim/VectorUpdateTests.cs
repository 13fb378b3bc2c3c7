using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>
/// The SGD and Adam rules run whole vectors and finish with the scalar loop. A 37-element tensor goes through both
/// paths at once; updating each element alone (a 1-element span never reaches the vector loop) must give the same bits.
/// </summary>
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
}
