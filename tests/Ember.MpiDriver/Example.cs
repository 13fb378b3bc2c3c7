using Ember.Data;
using Ember.Distributed;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Dist = Ember.Distributed.Distributed;

namespace Ember.MpiDriver;

/// <summary>
/// The example of docs/distributed.md: a small classifier trained data-parallel on a synthetic data set. Each rank
/// reads its share through a DistributedSampler; DistributedDataParallel averages the gradients.
/// </summary>
internal static class Example
{
    sealed class Classifier : Module
    {
        readonly Linear fc1, fc2;
        public Classifier()
        {
            fc1 = RegisterModule(nameof(fc1), new Linear(2, 32));
            fc2 = RegisterModule(nameof(fc2), new Linear(32, 2));
        }
        public override Tensor Forward(Tensor x) => fc2.Forward(F.Relu(fc1.Forward(x)));
    }

    public static void Train()
    {
        const int count = 512, globalBatch = 64, epochs = 5;
        if (globalBatch % Dist.WorldSize != 0)
            throw new ArgumentException($"the global batch {globalBatch} is not divisible by the world size {Dist.WorldSize}");
        // Every rank makes the same data set (same seed): two noisy clusters.
        var g = new Generator(0);
        var labels = Torch.Randint(2, [count], g);
        var points = Torch.Randn([count, 2], DType.Float32, g) + (labels.To(DType.Float32).Unsqueeze(1) * 3 - 1.5);
        var dataset = new TensorDataset(points, labels);

        var model = new DistributedDataParallel(new Classifier());
        var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
        var sampler = new DistributedSampler(count, shuffle: true, seed: 0);
        var loader = new DataLoader<Tensor[]>(dataset, batchSize: globalBatch / Dist.WorldSize, sampler: sampler);
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            sampler.SetEpoch(epoch);
            double lossSum = 0;
            int batches = 0;
            foreach (var batch in loader)
            {
                optimizer.ZeroGrad();
                var (input, target) = batch;
                var loss = F.CrossEntropy(model.Call(input), target);
                loss.Backward();
                optimizer.Step();
                lossSum += loss.Item();
                batches++;
            }
            var mean = Torch.FromArray(new double[] { lossSum / batches }, [1]);
            Dist.AllReduce(mean, ReduceOp.Avg); // the epoch's loss over all ranks
            if (Dist.Rank == 0) Console.WriteLine($"epoch {epoch}: loss {mean.Item():F4} ({Dist.WorldSize} ranks, {loader.Count()} batches of {globalBatch / Dist.WorldSize} each)");
        }
    }
}
