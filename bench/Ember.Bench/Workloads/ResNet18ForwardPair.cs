using Ember.Bench.Peers;
using Ember.Models;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// ResNet-18 (torchvision's layout) inference on 8×3×224×224: eval mode (batch norm with running statistics) under
/// no-grad. Ember: Models.ResNet.ResNet18; TorchSharp: the same network built layer by layer (Peers/TorchResNet18),
/// starting from a copy of Ember's weights.
/// </summary>
public sealed class ResNet18ForwardPair : IPairedWorkload
{
    const int Batch = 8;
    // Multiply-adds per 224² image: conv1 118.0 M, layer1 462.4 M, layer2–4 411.0 M each, fc 0.5 M (torchvision: 1.81 G).
    const double MacsPerImage = 1_814_073_344;

    ResNet? model;
    Tensor? x;
    torch.nn.Module<TT, TT>? peer;
    TT? xt;

    public string Name => "ResNet-18 forward 8×3×224×224 (eval, no grad)";

    public double Flops => 2 * MacsPerImage * Batch;

    public Action SetUpEmber()
    {
        Torch.ManualSeed(15);
        model = ResNet.ResNet18();
        model.Eval();
        x = Inputs.Randn(1, Batch, 3, 224, 224);
        ResNet m = model;
        Tensor input = x;
        return () => { using (Torch.NoGrad()) m.Call(input); };
    }

    public Action SetUpTorch()
    {
        if (model is null) SetUpEmber();
        var m = new TorchResNet18();
        SameWork.CopyWeights(model!, m);
        m.eval();
        peer = m;
        xt = Inputs.ToTorch(x!);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            using var grad = torch.no_grad();
            m.forward(input);
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        using var noGrad = Torch.NoGrad();
        SameWork.CheckClose(Name, model!.Call(x!), peer!.forward(xt!), 1e-4, scaleByMagnitude: true);
    }
}
