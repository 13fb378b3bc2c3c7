using System.Runtime.CompilerServices;
using Ember.Bench.Peers;
using Ember.Data;
using Ember.Models;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Epoch;

/// <summary>
/// TorchSharp's side of the epoch: the same uint8 IDX data (read with Ember's reader, copied once into a uint8 tensor),
/// per batch an index_select of a shuffled permutation, conversion to float and the same normalization, then the usual
/// zero_grad / forward / cross_entropy / backward / Adam step in a dispose scope, reading the loss (item) and the
/// correct count every batch as Ember's Trainer does. The CNN is Peers/TorchFashionCnn with a copy of the weights Ember's
/// FashionCnn gets from the same seed, so both sides start from identical weights.
/// </summary>
public static class TorchEpoch
{
    /// <summary>Trains <paramref name="epochs"/> epochs (each cut to <paramref name="maxBatches"/> batches when positive); null (with a message) without the peer.</summary>
    public static EpochResult? Run(int threads, int epochs, int maxBatches)
    {
        if (!TorchPeer.TryInitialize(threads)) { Console.Error.WriteLine(TorchPeer.Problem); return null; }
        var (images, targets, count) = Read();
        GC.Collect();
        Torch.ManualSeed(FashionEpoch.Seed);
        var model = TorchFashionCnn.Create();
        SameWork.CopyWeights(new FashionCnn(), model);
        var optimizer = torch.optim.Adam(model.parameters(), FashionEpoch.LearningRate);
        var generator = new torch.Generator(FashionEpoch.Seed);
        int batches = (count + FashionEpoch.BatchSize - 1) / FashionEpoch.BatchSize;
        if (maxBatches > 0) batches = Math.Min(batches, maxBatches);
        float invStd = (float)(1 / FashionEpoch.Std), mean = (float)FashionEpoch.Mean;

        const double Mb = 1 << 20;
        double setupResident = ProcessMemory.ResidentBytes() / Mb, setupPeak = ProcessMemory.PeakBytes() / Mb;
        bool reset = ProcessMemory.ResetPeak();
        var samples = new List<EpochSample>();
        var meter = new EpochMeter();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            meter.Start();
            double lossSum = 0;
            long correct = 0, seen = 0;
            using (TT perm = torch.randperm(count, generator: generator))
            {
                for (int b = 0; b < batches; b++)
                {
                    using var scope = torch.NewDisposeScope();
                    int start = b * FashionEpoch.BatchSize, n = Math.Min(FashionEpoch.BatchSize, count - start);
                    TT index = perm.narrow(0, start, n);
                    TT x = images.index_select(0, index).to(torch.float32).div_(255f).sub_(mean).mul_(invStd);
                    TT y = targets.index_select(0, index);
                    optimizer.zero_grad();
                    TT output = model.forward(x);
                    TT loss = torch.nn.functional.cross_entropy(output, y);
                    lossSum += loss.item<float>() * n;
                    loss.backward();
                    optimizer.step();
                    correct += output.argmax(1).eq(y).sum().item<long>();
                    seen += n;
                }
            }
            var sample = meter.Stop(epoch, lossSum / seen, (double)correct / seen);
            samples.Add(sample);
            EpochMeter.Print("TorchSharp", sample);
        }
        int imagesSeen = Math.Min(count, batches * FashionEpoch.BatchSize);
        return new EpochResult("TorchSharp", TorchPeer.Description, threads, imagesSeen, FashionEpoch.BatchSize, setupResident, setupPeak, reset, samples);
    }

    // The IDX bytes through Ember's reader, copied into uint8 and int64 tensors. Not inlined, so that the reader (and its
    // managed copy of the pixels) is unreachable once it returns and the collection in Run frees it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static (TT Images, TT Targets, int Count) Read()
    {
        var data = new FashionMnist(train: true);
        TT images = torch.tensor(data.Pixels.ToArray(), [data.Count, 1, data.Height, data.Width]);
        TT targets = torch.tensor(data.Labels.Select(l => (long)l).ToArray());
        return (images, targets, data.Count);
    }
}
