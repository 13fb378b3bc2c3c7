using Ember.Bench.Peers;
using Ember.Models;
using Ember.Nn.Functional;
using Ember.Optim;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// One training step of the default CNN (Models.FashionCnn, the model `ember train` uses) at batch 128 on 1×28×28 inputs,
/// cross-entropy, Adam (lr 1e-3): zero grads, forward in training mode (batch-norm statistics, dropout 0.3), loss,
/// backward, update. TorchSharp builds the same layers (Peers/TorchFashionCnn) and starts from a copy of Ember's weights.
/// </summary>
public sealed class CnnStepPair : IPairedWorkload
{
    const int Batch = 128;
    const double Lr = 1e-3;

    FashionCnn? model;
    Tensor? x, y;
    torch.nn.Module<TT, TT>? peer;
    TT? xt, yt;

    public string Name => "CNN train step (FashionCnn, batch 128, Adam)";

    public double Flops => Batch * StepFlopsPerImage;

    /// <summary>
    /// FLOPs of one training step per image: the forward (conv 1→32 and 32→32 at 28², 32→64 at 14², linear 3136→128 and
    /// 128→10), the weight gradients (as much again) and the input gradients of every layer but the first conv.
    /// </summary>
    public static double StepFlopsPerImage
    {
        get
        {
            double conv1 = 2.0 * 28 * 28 * 32 * 1 * 9, conv2 = 2.0 * 28 * 28 * 32 * 32 * 9, conv3 = 2.0 * 14 * 14 * 64 * 32 * 9;
            double forward = conv1 + conv2 + conv3 + 2.0 * 3136 * 128 + 2.0 * 128 * 10;
            return 3 * forward - conv1;
        }
    }

    static long[] Labels() => Enumerable.Range(0, Batch).Select(i => (long)(i * 7 % 10)).ToArray();

    public Action SetUpEmber()
    {
        Torch.ManualSeed(13);
        model = new FashionCnn();
        x = Inputs.Randn(1, Batch, 1, 28, 28);
        y = Torch.FromArray(Labels(), [Batch]);
        var optimizer = new Adam(model.Parameters(), new AdamOptions { LearningRate = Lr });
        FashionCnn m = model;
        Tensor input = x, target = y;
        return () =>
        {
            optimizer.ZeroGrad();
            Tensor loss = F.CrossEntropy(m.Call(input), target);
            loss.Backward();
            optimizer.Step();
        };
    }

    public Action SetUpTorch()
    {
        if (model is null) SetUpEmber();
        var m = TorchFashionCnn.Create();
        SameWork.CopyWeights(model!, m);
        peer = m;
        xt = Inputs.ToTorch(x!);
        yt = torch.tensor(Labels());
        var optimizer = torch.optim.Adam(m.parameters(), Lr);
        TT input = xt, target = yt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            TT loss = torch.nn.functional.cross_entropy(m.forward(input), target);
            loss.backward();
            optimizer.step();
        };
    }

    // Before any timed step both hold the same weights and (fresh) batch-norm statistics: compare the eval-mode logits,
    // which are deterministic (no dropout, running statistics), then go back to training mode.
    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        using var noGrad = Torch.NoGrad();
        model!.Eval();
        peer!.eval();
        SameWork.CheckClose(Name + ", eval logits", model.Call(x!), peer.forward(xt!), 1e-4, scaleByMagnitude: true);
        model.Train();
        peer.train();
    }
}
