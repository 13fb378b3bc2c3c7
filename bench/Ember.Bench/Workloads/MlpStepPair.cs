using Ember.Bench.Peers;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// One MLP training step, 784→256→ReLU→128→ReLU→10, batch 128, cross-entropy, SGD with momentum 0.9:
/// zero grads, forward, loss, backward, update. Ember's side is written from core ops (x·Wᵀ + b, log-softmax and
/// gather for the loss, in-place updates under no_grad) until nn.Linear, the losses and optim.SGD reach this branch;
/// TorchSharp's side is its idiomatic nn.Sequential + CrossEntropyLoss + optim.SGD.
/// </summary>
public sealed class MlpStepPair : IPairedWorkload
{
    const int Batch = 128;
    static readonly int[] Widths = [784, 256, 128, 10];
    const double Lr = 0.01, Momentum = 0.9;

    public string Name => "MLP train step (Ember: core ops + hand SGD)";

    // Per layer: forward 2·B·in·out, weight gradient the same, input gradient the same (except the first layer).
    public double Flops
    {
        get
        {
            double f = 0;
            for (int l = 0; l < Widths.Length - 1; l++) f += 2.0 * Batch * Widths[l] * Widths[l + 1] * (l == 0 ? 2 : 3);
            return f;
        }
    }

    static long[] Labels() => Enumerable.Range(0, Batch).Select(i => (long)(i * 7 % 10)).ToArray();

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, Batch, Widths[0]);
        Tensor y = Torch.FromArray(Labels(), [Batch, 1]);
        var weights = new List<Tensor>();
        for (int l = 0; l < Widths.Length - 1; l++)
        {
            weights.Add(Inputs.Randn(10 + l, Widths[l + 1], Widths[l]) * (1 / Math.Sqrt(Widths[l])));
            weights.Add(Inputs.Randn(20 + l, Widths[l + 1]) * 0.01);
        }
        foreach (Tensor p in weights) p.RequiresGrad = true;
        Tensor[] buffers = weights.Select(p => Torch.ZerosLike(p)).ToArray();
        return () =>
        {
            foreach (Tensor p in weights) p.Grad = null;
            Tensor h = x;
            for (int l = 0; l < Widths.Length - 1; l++)
            {
                h = h.MatMul(weights[2 * l].T) + weights[2 * l + 1];
                if (l < Widths.Length - 2) h = h.Relu();
            }
            Tensor loss = -h.LogSoftmax(1).Gather(1, y).Mean();
            loss.Backward();
            using (Torch.NoGrad())
            {
                for (int i = 0; i < weights.Count; i++)
                {
                    buffers[i].MulInPlace(Momentum).AddInPlace(weights[i].Grad!);
                    weights[i].SubInPlace(buffers[i], alpha: Lr);
                }
            }
        };
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, Batch, Widths[0]);
        var y = torch.tensor(Labels());
        var model = torch.nn.Sequential(
            torch.nn.Linear(Widths[0], Widths[1]), torch.nn.ReLU(),
            torch.nn.Linear(Widths[1], Widths[2]), torch.nn.ReLU(),
            torch.nn.Linear(Widths[2], Widths[3]));
        var lossFn = torch.nn.CrossEntropyLoss();
        var optimizer = torch.optim.SGD(model.parameters(), Lr, momentum: Momentum);
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            TT loss = lossFn.forward(model.forward(x), y);
            loss.backward();
            optimizer.step();
        };
    }
}
