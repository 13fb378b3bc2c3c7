using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training;
using Ember.Training.Amp;

namespace Ember.Tests.Training;

/// <summary>Divergence must stop a run under every AMP mode, including float16 with a GradScaler.</summary>
public class AmpDivergenceTests
{
    static readonly (Tensor, Tensor)[] Batch = [(Torch.Ones(2, 2), Torch.Zeros(2))];

    [Theory]
    [InlineData(null, false)]
    [InlineData(AutocastDType.BFloat16, false)]
    [InlineData(AutocastDType.Float16, true)]
    [InlineData(AutocastDType.BFloat16, true)]
    public void Nan_weights_stop_the_run_under_every_amp_mode(AutocastDType? autocast, bool scaler)
    {
        var model = new Linear(2, 3);
        using (Torch.NoGrad()) model.Weight.Detach().FillInPlace(double.NaN);
        var trainer = new Trainer(model, new Sgd(model.Parameters()), (o, t) => o.Sum(),
            new TrainerOptions { Epochs = 3, Autocast = autocast, Scaler = scaler ? new GradScaler() : null });
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(_ => Batch));
        Assert.Contains("epoch 1, batch 0", ex.Message);
    }

    [Fact]
    public void A_transient_fp16_overflow_is_skipped_but_a_persistent_one_is_divergence()
    {
        // finite weights, but a loss that is infinite on every batch: the scaler skips steps, then gives up
        var model = new Linear(2, 3);
        var scaler = new GradScaler();
        var trainer = new Trainer(model, new Sgd(model.Parameters()), (o, t) => o.Sum() * double.PositiveInfinity,
            new TrainerOptions { Epochs = 1, Autocast = AutocastDType.Float16, Scaler = scaler });
        var batches = Enumerable.Repeat(Batch[0], 100).ToArray();
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(_ => batches, batchesPerEpoch: batches.Length));
        Assert.Contains($"batch {GradScaler.DivergenceSkipLimit}", ex.Message);
        Assert.Equal(GradScaler.DivergenceSkipLimit, scaler.ConsecutiveSkippedSteps);
    }

    [Fact]
    public void A_good_step_resets_the_skip_count()
    {
        var p = new Parameter(Torch.Ones(2));
        var scaler = new GradScaler(initScale: 4);
        p.Grad = Torch.Tensor(float.PositiveInfinity, 1f);
        scaler.Step(() => { }, [p]); scaler.Update();
        Assert.Equal(1, scaler.ConsecutiveSkippedSteps);
        Assert.False(scaler.HasDiverged([p]));
        p.Grad = Torch.Tensor(1f, 1f);
        scaler.Step(() => { }, [p]); scaler.Update();
        Assert.Equal(0, scaler.ConsecutiveSkippedSteps);
        using (Torch.NoGrad()) p.Detach().FillInPlace(double.NaN);
        Assert.True(scaler.HasDiverged([p]));
    }
}
