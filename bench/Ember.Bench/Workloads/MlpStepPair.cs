using Ember.Bench.Peers;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Nn.Losses;
using Ember.Optim;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// One MLP training step, 784→256→ReLU→128→ReLU→10, batch 128, cross-entropy, SGD (lr 0.01, momentum 0.9): zero grads,
/// forward, loss, backward, update. Both sides as a user writes them: nn.Sequential of nn.Linear and nn.ReLU,
/// nn.CrossEntropyLoss, optim.SGD. TorchSharp's model starts from a copy of Ember's weights.
/// </summary>
public sealed class MlpStepPair : IPairedWorkload
{
    const int Batch = 128;
    static readonly int[] Widths = [784, 256, 128, 10];
    const double Lr = 0.01, Momentum = 0.9;

    Sequential? model;
    Tensor? x, y;
    torch.nn.Module<TT, TT>? peer;
    TT? xt, yt;

    public string Name => "MLP train step (nn.Linear, CE, SGD momentum)";

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
        Torch.ManualSeed(12);
        model = new Sequential(
            new Linear(Widths[0], Widths[1]), new ReLU(),
            new Linear(Widths[1], Widths[2]), new ReLU(),
            new Linear(Widths[2], Widths[3]));
        x = Inputs.Randn(1, Batch, Widths[0]);
        y = Torch.FromArray(Labels(), [Batch]);
        var lossFn = new CrossEntropyLoss();
        var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = Lr, Momentum = Momentum });
        Sequential m = model;
        Tensor input = x, target = y;
        return () =>
        {
            optimizer.ZeroGrad();
            Tensor loss = lossFn.Forward(m.Call(input), target);
            loss.Backward();
            optimizer.Step();
        };
    }

    public Action SetUpTorch()
    {
        if (model is null) SetUpEmber();
        var m = torch.nn.Sequential(
            torch.nn.Linear(Widths[0], Widths[1]), torch.nn.ReLU(),
            torch.nn.Linear(Widths[1], Widths[2]), torch.nn.ReLU(),
            torch.nn.Linear(Widths[2], Widths[3]));
        // Copied before the first Ember step, so the forward check below compares identical weights.
        SameWork.CopyWeights(model!, m);
        peer = m;
        xt = Inputs.ToTorch(x!);
        yt = torch.tensor(Labels());
        var lossFn = torch.nn.CrossEntropyLoss();
        var optimizer = torch.optim.SGD(m.parameters(), Lr, momentum: Momentum);
        TT input = xt, target = yt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            TT loss = lossFn.forward(m.forward(input), target);
            loss.backward();
            optimizer.step();
        };
    }

    // Called before any timed step, so both models still hold the same weights: compare logits and loss.
    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        using var noGrad = Torch.NoGrad();
        Tensor logits = model!.Call(x!);
        TT peerLogits = peer!.forward(xt!);
        SameWork.CheckClose(Name + ", logits", logits, peerLogits, 1e-4, scaleByMagnitude: true);
        SameWork.CheckClose(Name + ", loss", new CrossEntropyLoss().Forward(logits, y!),
            torch.nn.functional.cross_entropy(peerLogits, yt!), 1e-4, scaleByMagnitude: true);
    }
}
