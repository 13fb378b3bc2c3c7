using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

public class VarianceShiftTests
{
    static readonly Tensor Batch = Torch.Randn([8192, 8], DType.Float32, new Generator(1));

    static (double Train, double Eval) Expected(Linear linear, double p)
    {
        // Dropout multiplies h by m ∈ {0, 1/(1 − p)}: Var(h·m) = E[h²]/(1 − p) − E[h]², per channel; in eval it is Var(h).
        using var _ = Torch.NoGrad();
        var h = linear.Forward(Batch).To(DType.Float64);
        var mean = h.Mean([0]);
        var meanSquare = (h * h).Mean([0]);
        return ((meanSquare / (1 - p) - mean * mean).Mean().Item(), h.Var([0]).Mean().Item());
    }

    [Fact]
    public void DropoutBeforeBatchNormInflatesTheTrainingVarianceAsPredicted()
    {
        var linear = new Linear(8, 16, generator: new Generator(2));
        var model = new Sequential(linear, new Dropout(0.5, new Generator(3)), new BatchNorm1d(16));
        var before = model.Buffers().Select(b => b.ToDoubleArray()).ToList();
        var layer = VarianceShift.Measure(model, Batch).Single();
        var (train, eval) = Expected(linear, 0.5);
        Assert.Equal("2", layer.Name);
        Assert.Equal(eval, layer.EvalVariance, 1e-9 * eval);
        Assert.InRange(layer.TrainVariance / train, 0.97, 1.03);
        Assert.True(layer.Shift > 1.8, $"shift {layer.Shift}");
        Assert.Equal(before, model.Buffers().Select(b => b.ToDoubleArray()).ToList());   // running statistics untouched
        Assert.True(model.Training);
    }

    [Fact]
    public void DropoutAfterTheLastBatchNormOrUniformNoiseLeavesLittleOrNoShift()
    {
        var after = new Sequential(new Linear(8, 16, generator: new Generator(2)), new BatchNorm1d(16), new Dropout(0.5, new Generator(3)));
        Assert.Equal(1.0, VarianceShift.Measure(after, Batch).Single().Shift, 12);
        var uniform = new Sequential(new Linear(8, 16, generator: new Generator(2)), new UniformDropout(0.1, new Generator(3)), new BatchNorm1d(16));
        Assert.InRange(VarianceShift.Measure(uniform, Batch).Single().Shift, 1.0, 1.02);
    }

    [Fact]
    public void AModelWithoutBatchNormIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => VarianceShift.Measure(new Sequential(new Linear(8, 2)), Batch));
        Assert.Contains("no BatchNorm layer", e.Message);
    }
}
