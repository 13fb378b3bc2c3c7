using Ember.Analysis;

namespace Ember.Tests.Analysis;

public class VarianceShiftExperimentTests
{
    // The running statistics are first brought to the batch's own (100 training-mode passes at momentum 0.1 leave
    // 0.9^100 ≈ 3e-5 of the initial ones), as training would; then the train- and eval-mode passes differ only by the noise upstream.
    static double[] Shifts(string placement)
    {
        Torch.ManualSeed(4);
        var model = VarianceShiftExperiment.Build(placement, p: 0.5, beta: 0.1);
        var images = Torch.Randn([64, 1, 28, 28], generator: new Generator(9));
        model.Train();
        using (Torch.NoGrad()) for (int i = 0; i < 100; i++) model.Call(images);
        return [.. VarianceShift.Measure(model, images).Select(l => l.Shift)];
    }

    [Fact]
    public void DropoutBeforeABatchNormInflatesItsTrainingVarianceAndTheOtherPlacementsDoNot()
    {
        // The first BN has no noise upstream in any placement: its input is the same in both modes.
        foreach (var placement in VarianceShiftExperiment.Placements) Assert.Equal(1.0, Shifts(placement)[0], 12);
        // Dropout(0.5) (and Gaussian dropout of the same variance) before the second and third BN: the variance of a
        // ReLU feature h grows from Var h to E[h²]/(1 − p) − E[h]², i.e. more than doubles for p = 0.5
        foreach (var placement in new[] { "dropout_before_bn", "gaussian_before_bn" })
        {
            var shifts = Shifts(placement);
            Assert.True(shifts[1] > 1.5 && shifts[2] > 1.5, $"{placement}: {string.Join(", ", shifts)}");
        }
        // after the last BN, or no dropout: the modes agree
        foreach (var placement in new[] { "dropout_after_bn", "none" })
            Assert.All(Shifts(placement), s => Assert.InRange(s, 0.98, 1.02));
        // Uout with β = 0.1 adds a noise of variance β²/3 ≈ 0.0033: a shift of a few percent at most
        Assert.All(Shifts("uniform_before_bn"), s => Assert.InRange(s, 0.98, 1.05));
    }

    [Fact]
    public void AnUnknownPlacementIsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => VarianceShiftExperiment.Build("dropout_everywhere"));
        Assert.Contains("unknown placement 'dropout_everywhere'; valid: none, dropout_before_bn", e.Message);
    }

    [Fact]
    public void MeasureRunningComparesTheRunningVarianceWithTheEvaluationInput()
    {
        var model = new Ember.Nn.Sequential(new Ember.Nn.Layers.BatchNorm1d(2));
        var bn = (Ember.Nn.Layers.BatchNorm1d)model[0];
        using (Torch.NoGrad()) bn.RunningVar!.FillInPlace(8);
        model.Train();
        // channel 0: 1, 3, 5, 7 (unbiased variance 20/3); channel 1: 0, 0, 2, 2 (4/3); their mean is 4
        var batch = Torch.FromArray(new float[] { 1, 0, 3, 0, 5, 2, 7, 2 }, [4, 2]);
        var layer = Assert.Single(VarianceShift.MeasureRunning(model, batch));
        Assert.Equal(8, layer.TrainVariance, 12);
        Assert.Equal(4, layer.EvalVariance, 6);
        Assert.Equal(2, layer.Shift, 6);
        Assert.True(model.Training);
        Assert.Equal([8.0, 8.0], bn.RunningVar!.ToDoubleArray()); // evaluation mode leaves the statistics alone
    }
}
