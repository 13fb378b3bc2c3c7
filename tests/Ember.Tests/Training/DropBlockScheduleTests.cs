using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Tests.Training;

public class DropBlockScheduleTests
{
    static Sequential Model() => new(
        new Conv2d(1, 4, 3, padding: 1, generator: new Generator(1)), new DropBlock2d(0.5, 3, new Generator(2)), new ReLU(),
        new Sequential(new Conv2d(4, 4, 3, padding: 1, generator: new Generator(3)), new DropBlock2d(0.5, 3, new Generator(4))),
        new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2, generator: new Generator(5)));

    [Fact]
    public void DropProbabilityRisesLinearlyFromZeroToTheTargetDuringTraining()
    {
        var model = Model();
        var schedule = new DropBlockSchedule(model, targetDropProb: 0.2);
        Assert.Equal(2, schedule.Blocks.Count);   // the nested one too
        var seen = new List<(double First, double Second)>();
        var record = new LambdaCallback { BatchEnd = _ => seen.Add((schedule.Blocks[0].DropProb, schedule.Blocks[1].DropProb)) };
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.01 }), (o, t) => F.CrossEntropy(o, t),
            new TrainerOptions { Epochs = 2 }).Add(schedule, record);
        var x = Torch.Randn([4, 1, 8, 8], DType.Float32, new Generator(6));
        var y = Torch.FromArray(new long[] { 0, 1, 0, 1 }, [4]);
        trainer.Fit(_ => Enumerable.Repeat((x, y), 5), batchesPerEpoch: 5);

        // 10 batches in all: batch k (from 0) trains with 0.2 · k / 10.
        Assert.Equal(Enumerable.Range(0, 10).Select(k => 0.2 * k / 10), seen.Select(s => s.First), new Tolerance(1e-12));
        Assert.Equal(seen.Select(s => s.First), seen.Select(s => s.Second));
    }

    [Fact]
    public void ARampShorterThanTrainingHoldsTheTargetAfterwards()
    {
        var schedule = new DropBlockSchedule(Model(), targetDropProb: 0.1, rampFraction: 0.25);
        Assert.Equal(0.0, schedule.DropProbAt(0));
        Assert.Equal(0.05, schedule.DropProbAt(0.125), 12);
        Assert.Equal(0.1, schedule.DropProbAt(0.25), 12);
        Assert.Equal(0.1, schedule.DropProbAt(0.9), 12);
    }

    [Fact]
    public void AModelWithoutDropBlockOrABadTargetIsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => new DropBlockSchedule(new Sequential(new Linear(2, 2))));
        Assert.Contains("no DropBlock2d layer", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropBlockSchedule(Model(), targetDropProb: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropBlockSchedule(Model(), rampFraction: 0));
    }

    sealed class Tolerance(double atol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= atol;
        public int GetHashCode(double v) => 0;
    }
}
