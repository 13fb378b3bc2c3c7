using Ember.Bench.Peers;
using Ember.Nn.Layers.Recurrent;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// nn.LSTM(256, 256) forward and backward over a (100, 64, 256) sequence: loss = mean(output), backward to the input
/// and every weight (gradients reset each call). TorchSharp's LSTM starts from a copy of Ember's weights.
/// </summary>
public sealed class LstmStepPair : IPairedWorkload
{
    const int Steps = 100, Batch = 64, Input = 256, Hidden = 256;

    LSTM? lstm;
    Tensor? x;
    TorchSharp.Modules.LSTM? peer;
    TT? xt;

    public string Name => "LSTM 256→256, seq 100, batch 64, fwd+bwd";

    // Forward: the input projection 2·L·N·H_in·4H and the recurrence 2·L·N·H·4H; backward twice that (input and weight gradients).
    public double Flops => 3 * 2.0 * Steps * Batch * 4 * Hidden * (Input + Hidden);

    public Action SetUpEmber()
    {
        Torch.ManualSeed(21);
        lstm = new LSTM(Input, Hidden);
        x = (Inputs.Randn(1, Steps, Batch, Input) * 0.5).RequiresGradInPlace();
        LSTM m = lstm;
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
        if (lstm is null) SetUpEmber();
        var m = torch.nn.LSTM(Input, Hidden);
        SameWork.CopyWeights(lstm!, m);
        peer = m;
        xt = Inputs.ToTorch(x!.Detach()).requires_grad_(true);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            m.zero_grad();
            input.grad = null;
            var (output, _, _) = m.forward(input, null);
            output.mean().backward();
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        var (output, _, _) = peer!.forward(xt!, null);
        SameWork.CheckClose(Name + ", output", lstm!.Forward(x!).Output, output, 1e-4);
        lstm.ZeroGrad();
        x!.Grad = null;
        lstm.Forward(x).Output.Mean().Backward();
        xt!.grad = null;
        output.mean().backward();
        // the mean makes each gradient about 1e-7, so the tolerance is absolute and small
        SameWork.CheckClose(Name + ", input gradient", x.Grad!, xt.grad!, 1e-9);
    }
}
