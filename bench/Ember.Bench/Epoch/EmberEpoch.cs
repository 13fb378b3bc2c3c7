using Ember.Data;
using Ember.Data.Transforms;
using Ember.Models;
using Ember.Nn.Functional;
using Ember.Optim;
using Ember.Training;

namespace Ember.Bench.Epoch;

/// <summary>
/// Ember's side of the epoch, written as a user writes it: FashionMnist with Normalize, a shuffling DataLoader (no
/// workers, as `ember train` by default), Models.FashionCnn, optim.Adam, and Training.Trainer (which also logs the loss
/// and top-1 accuracy of every batch) without validation or other callbacks than the meter.
/// </summary>
public static class EmberEpoch
{
    /// <summary>Trains <paramref name="epochs"/> epochs (each cut to <paramref name="maxBatches"/> batches when positive).</summary>
    public static EpochResult Run(int threads, int epochs, int maxBatches)
    {
        Torch.NumThreads = threads;
        Torch.ManualSeed(FashionEpoch.Seed);
        var train = new FashionMnist(train: true, transform: new Normalize([FashionEpoch.Mean], [FashionEpoch.Std]));
        var loader = new DataLoader<(Tensor, long)>(train, FashionEpoch.BatchSize, shuffle: true, seed: FashionEpoch.Seed);
        var model = new FashionCnn();
        var optimizer = new Adam(model.Parameters(), new AdamOptions { LearningRate = FashionEpoch.LearningRate });
        var trainer = new Trainer(model, optimizer, (output, target) => F.CrossEntropy(output, target), new TrainerOptions { Epochs = epochs });
        var samples = new List<EpochSample>();
        var meter = new EpochMeter();
        trainer.Add(new MeterCallback(meter, samples));
        int batches = maxBatches > 0 ? Math.Min(maxBatches, loader.Count) : loader.Count;

        const double Mb = 1 << 20;
        double setupResident = ProcessMemory.ResidentBytes() / Mb, setupPeak = ProcessMemory.PeakBytes() / Mb;
        bool reset = ProcessMemory.ResetPeak();
        trainer.Fit(epoch => loader.Iterate(epoch - 1).Take(batches).Select(b => (b[0], b[1])), null, 1, batches);
        int images = Math.Min(train.Count, batches * FashionEpoch.BatchSize);
        return new EpochResult("Ember", $"Ember {typeof(Tensor).Assembly.GetName().Version}, Trainer + DataLoader", threads, images,
            FashionEpoch.BatchSize, setupResident, setupPeak, reset, samples);
    }

    sealed class MeterCallback(EpochMeter meter, List<EpochSample> samples) : Callback
    {
        public override void OnEpochStart(TrainerState state) => meter.Start();

        public override void OnEpochEnd(TrainerState state)
        {
            var sample = meter.Stop(state.Epoch, state.EpochLoss, state.EpochAccuracy);
            samples.Add(sample);
            EpochMeter.Print("Ember", sample);
        }
    }
}
