using Ember.Bench.Peers;
using Ember.Nn.Layers.Recurrent;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// nn.GRU(256, 256) forward and backward over a (100, 64, 256) sequence: loss = mean(output), backward to the input
/// and every weight (gradients reset each call). TorchSharp's GRU starts from a copy of Ember's weights. The row beside
/// <see cref="LstmStepPair"/>, with the same sizes.
/// </summary>
public sealed class GruStepPair : IPairedWorkload
{
    const int Steps = 100, Batch = 64, Input = 256, Hidden = 256, Gates = 3;

    GRU? layer;
    Tensor? x;
    TorchSharp.Modules.GRU? peer;
    TT? xt;

    public string Name => "GRU 256→256, seq 100, batch 64, fwd+bwd";

    // Forward: the input projection 2·L·N·H_in·GH and the recurrence 2·L·N·H·GH; backward twice that.
    public double Flops => 3 * 2.0 * Steps * Batch * Gates * Hidden * (Input + Hidden);

    public Action SetUpEmber()
    {
        Torch.ManualSeed(21);
        layer = new GRU(Input, Hidden);
        x = (Inputs.Randn(1, Steps, Batch, Input) * 0.5).RequiresGradInPlace();
        GRU m = layer;
        Tensor input = x;
        return () =>
        {
            m.ZeroGrad();
            input.Grad = null;
            m.Forward(input).Output.Mean().Backward();
        };
    }

    public Action SetUpTorch()
    {
        if (layer is null) SetUpEmber();
        var m = torch.nn.GRU(Input, Hidden);
        SameWork.CopyWeights(layer!, m);
        peer = m;
        xt = Inputs.ToTorch(x!.Detach()).requires_grad_(true);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            m.zero_grad();
            input.grad = null;
            var (output, _) = m.forward(input, null);
            output.mean().backward();
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        var (output, _) = peer!.forward(xt!, null);
        SameWork.CheckClose(Name + ", output", layer!.Forward(x!).Output, output, 1e-4);
        layer.ZeroGrad();
        x!.Grad = null;
        layer.Forward(x).Output.Mean().Backward();
        xt!.grad = null;
        output.mean().backward();
        // the mean makes each gradient about 1e-7, so the tolerance is absolute and small
        SameWork.CheckClose(Name + ", input gradient", x.Grad!, xt.grad!, 1e-9);
    }
}
