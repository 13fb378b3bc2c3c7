using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Tests.Training;

public class TrainerTests
{
    /// <summary>Two Gaussian blobs per class on a plane: a task a small MLP learns to ~100%.</summary>
    static (Tensor X, Tensor Y) Blobs(int n, long seed)
    {
        var g = new Generator(seed);
        var labels = Torch.Randint(0, 3, [n], g);
        var centers = Torch.Tensor(new float[,] { { 2, 0 }, { -2, 2 }, { 0, -2 } });
        var x = centers.IndexSelect(0, labels) + Torch.Randn([n, 2], generator: g) * 0.5;
        return (x, labels);
    }

    static Func<int, IEnumerable<(Tensor, Tensor)>> Batches(Tensor x, Tensor y, int batch, long seed) => epoch =>
    {
        var order = Torch.Randperm(x.Size(0), new Generator(seed * 1000 + epoch));
        return Enumerable.Range(0, (x.Size(0) + batch - 1) / batch).Select(i =>
        {
            var idx = order.Narrow(0, i * batch, Math.Min(batch, x.Size(0) - i * batch));
            return (x.IndexSelect(0, idx), y.IndexSelect(0, idx));
        });
    };

    static Sequential Mlp(long seed) => new(new Linear(2, 16, generator: new Generator(seed)), new ReLU(), new Dropout(0.1, new Generator(seed + 1)), new Linear(16, 3, generator: new Generator(seed + 2)));

    static TrainerState Fit(TrainerOptions options, bool validate, long seed = 1, params Callback[] callbacks)
    {
        var (x, y) = Blobs(240, 7);
        var (vx, vy) = Blobs(90, 8);
        var model = Mlp(seed);
        var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
        var trainer = new Trainer(model, optimizer, (o, t) => F.CrossEntropy(o, t), options).Add(callbacks);
        return trainer.Fit(Batches(x, y, 32, seed), validate ? _ => Batches(vx, vy, 45, 0)(0) : null, batchesPerEpoch: 8);
    }

    [Fact]
    public void Trains_a_small_model_to_high_accuracy()
    {
        var state = Fit(new TrainerOptions { Epochs = 8 }, validate: true);
        Assert.True(state.History[^1].Top1 > 0.95, $"top-1 {state.History[^1].Top1}");
        Assert.True(state.History[^1].TrainLoss < state.History[0].TrainLoss);
        Assert.Equal(64, state.GlobalStep);
    }

    [Fact]
    public void Same_seed_gives_an_identical_curve_and_validation_does_not_change_it()
    {
        var a = Fit(new TrainerOptions { Epochs = 3 }, validate: false);
        var b = Fit(new TrainerOptions { Epochs = 3 }, validate: true);
        Assert.Equal(a.History.Select(r => r.TrainLoss), b.History.Select(r => r.TrainLoss));
        var c = Fit(new TrainerOptions { Epochs = 3 }, validate: false, seed: 2);
        Assert.NotEqual(a.History.Select(r => r.TrainLoss), c.History.Select(r => r.TrainLoss));
    }

    [Fact]
    public void Gradient_accumulation_equals_one_large_batch()
    {
        var (x, y) = Blobs(64, 3);
        Tensor GradientsAfter(int microBatches)
        {
            var model = new Linear(2, 3, generator: new Generator(5));
            var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.0 });
            Tensor? captured = null;
            var trainer = new Trainer(model, optimizer, (o, t) => F.CrossEntropy(o, t), new TrainerOptions { Epochs = 1, AccumulationSteps = microBatches })
                .Add(new LambdaCallback { AfterBackward = s => captured = model.Weight.Grad!.Clone() });
            int size = 64 / microBatches;
            trainer.Fit(_ => Enumerable.Range(0, microBatches).Select(i => (x.Narrow(0, i * size, size), y.Narrow(0, i * size, size))), batchesPerEpoch: microBatches);
            return captured!;
        }
        TestUtil.Close(GradientsAfter(1), GradientsAfter(4), rtol: 1e-5, atol: 1e-7);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement()
    {
        var stopper = new EarlyStopping("val_loss", MonitorMode.Min, patience: 2);
        // a learning rate of 0 means val_loss never improves after epoch 1
        var (x, y) = Blobs(64, 3);
        var model = Mlp(1);
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0 }), (o, t) => F.CrossEntropy(o, t),
            new TrainerOptions { Epochs = 10 }).Add(stopper);
        model.Eval(); // dropout off, so the loss is exactly constant
        var state = trainer.Fit(_ => [(x, y)], _ => [(x, y)], batchesPerEpoch: 1);
        Assert.Equal(3, state.History.Count);
        Assert.Equal(3, stopper.StoppedEpoch);
        Assert.Equal(1, stopper.BestEpoch);
        Assert.Contains("early stopping", state.StopReason);
    }

    [Fact]
    public void Flooding_reverses_the_gradient_below_the_flood_level()
    {
        var (x, y) = Blobs(32, 4);
        Tensor Gradient(double? flood)
        {
            var model = new Linear(2, 3, generator: new Generator(9));
            Tensor? g = null;
            var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0 }), (o, t) => F.CrossEntropy(o, t),
                new TrainerOptions { Epochs = 1, FloodLevel = flood }).Add(new LambdaCallback { AfterBackward = s => g = model.Weight.Grad!.Clone() });
            trainer.Fit(_ => [(x, y)], batchesPerEpoch: 1);
            return g!;
        }
        var plain = Gradient(null);
        TestUtil.Close(plain, Gradient(0.01), rtol: 1e-6);          // loss above b: unchanged
        TestUtil.Close(-plain, Gradient(100.0), rtol: 1e-6);        // loss below b: gradient ascent
    }

    [Fact]
    public void A_nan_loss_stops_with_a_message_naming_the_step()
    {
        var model = new Linear(2, 3);
        var trainer = new Trainer(model, new Sgd(model.Parameters()), (o, t) => o.Sum() * double.NaN, new TrainerOptions { Epochs = 1 });
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(_ => [(Torch.Ones(2, 2), Torch.Zeros(2))]));
        Assert.Contains("epoch 1, batch 0", ex.Message);
    }

    [Fact]
    public void Weights_made_non_finite_by_an_epochs_last_step_stop_the_run_before_its_epoch_end_events()
    {
        // One batch per epoch: its loss is finite, the step after it (lr 1e300) overflows the weights, and no later loss
        // would show it (before, such a run ended normally and saved NaN weights).
        var (x, y) = Blobs(8, 4);
        var model = new Linear(2, 3, generator: new Generator(3));
        int epochEnds = 0;
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 1e300 }), (o, t) => F.CrossEntropy(o, t),
            new TrainerOptions { Epochs = 2 }).Add(new LambdaCallback { EpochEnd = _ => epochEnds++ });
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(_ => [(x, y)], batchesPerEpoch: 1));
        Assert.Contains("weights became non-finite in epoch 1", ex.Message);
        Assert.Contains("tensor 'weight'", ex.Message);
        Assert.Equal(0, epochEnds);
    }

    [Fact]
    public void Validation_restores_training_mode_and_records_no_graph()
    {
        var (x, y) = Blobs(16, 4);
        var model = Mlp(3);
        var trainer = new Trainer(model, new Sgd(model.Parameters()), (o, t) => F.CrossEntropy(o, t));
        model.Train();
        var (loss, top1, _) = trainer.Validate([(x, y)]);
        Assert.True(model.Training);
        Assert.InRange(top1, 0, 1);
        Assert.True(double.IsFinite(loss));
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
    }
}

public class TrainerSwitchTests
{
    sealed class BatchRecorder : Callback
    {
        public readonly List<(Tensor Input, Tensor Output, Tensor Target, bool Grad, bool Training)> Seen = [];
        public override void OnValidationBatch(TrainerState state, Tensor input, Tensor output, Tensor target)
            => Seen.Add((input, output, target, Ember.Autograd.GradMode.IsEnabled, state.Model.Training));
    }

    [Fact]
    public void Validation_hands_each_batch_output_of_the_ema_weights_to_the_callbacks()
    {
        var model = new Linear(2, 3, generator: new Generator(1));
        var ema = new ModelEma(model);
        var (shadowW, shadowB) = (ema.Shadow["weight"].Clone(), ema.Shadow["bias"].Clone());
        using (Torch.NoGrad()) model.Weight.CopyFrom(Torch.Randn([3, 2], generator: new Generator(2))); // live weights now differ from the shadow
        var recorder = new BatchRecorder();
        var trainer = new Trainer(model, new Sgd(model.Parameters()), (o, t) => F.CrossEntropy(o, t), new TrainerOptions { Ema = ema }).Add(recorder);
        var batches = Enumerable.Range(0, 2).Select(i => (Torch.Randn([4, 2], generator: new Generator(10 + i)), Torch.FromArray(new long[] { 0, 1, 2, i }, [4]))).ToList();
        model.Train();
        trainer.Validate(batches);
        Assert.Equal(2, recorder.Seen.Count);
        for (int i = 0; i < 2; i++)
        {
            var (input, output, target, grad, training) = recorder.Seen[i];
            Assert.Same(batches[i].Item1, input);
            Assert.Same(batches[i].Item2, target);
            Assert.False(grad);
            Assert.False(training);
            TestUtil.Close(input.MatMul(shadowW.T) + shadowB, output, rtol: 1e-6);
        }
        Assert.True(model.Training);
    }

    [Fact]
    public void A_frozen_backbone_does_not_move_until_its_epochs_are_over()
    {
        var backbone = new Linear(2, 4, generator: new Generator(1));
        var model = new Sequential(backbone, new ReLU(), new Linear(4, 3, generator: new Generator(2)));
        var x = Torch.Randn([16, 2], generator: new Generator(3));
        var y = Torch.Randint(0, 3, [16], new Generator(4));
        var initial = backbone.Weight.ToArray<float>();
        var afterEpoch = new List<float[]>();
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.5 }), (o, t) => F.CrossEntropy(o, t),
            new TrainerOptions { Epochs = 3 })
            .Add(new FreezeBackbone(backbone, epochs: 2), new LambdaCallback { EpochEnd = _ => afterEpoch.Add(backbone.Weight.ToArray<float>()) });
        trainer.Fit(_ => [(x, y)], batchesPerEpoch: 1);
        Assert.Equal(initial, afterEpoch[0]);
        Assert.Equal(initial, afterEpoch[1]);
        Assert.NotEqual(initial, afterEpoch[2]);
    }

    [Fact]
    public void Test_time_augmentation_averages_the_image_and_its_flip()
    {
        // a model that only sees the left column: TTA must average it with the right column
        var model = new Sequential(new Flatten(), new Linear(4, 2, bias: false));
        using (Torch.NoGrad()) model.Parameters().First().CopyFrom(Torch.Tensor(new float[,] { { 1, 0, 1, 0 }, { 0, 0, 0, 0 } }));
        var x = Torch.Tensor(new float[,] { { 2, 0 }, { 2, 0 } }).Reshape(1, 1, 2, 2);
        var target = Torch.FromArray(new long[] { 0 }, [1]);
        double Loss(bool tta) => new Trainer(model, new Sgd(model.Parameters()), (o, t) => F.CrossEntropy(o, t), new TrainerOptions { TestTimeAugmentation = tta })
            .Validate([(x, target)]).Loss;
        double plain = -Math.Log(Math.Exp(4) / (Math.Exp(4) + 1));
        double averaged = -Math.Log((Math.Exp(4) / (Math.Exp(4) + 1) + 0.5) / 2);
        Assert.Equal(plain, Loss(false), 5);
        Assert.Equal(averaged, Loss(true), 5);
    }
}
