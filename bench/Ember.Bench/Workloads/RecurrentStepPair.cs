using Ember.Bench.Peers;
using Ember.Nn.Layers.Recurrent;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// nn.LSTM / nn.GRU / nn.RNN (tanh), 256 → 256, forward and backward over a (100, 64, 256) sequence: loss =
/// mean(output), backward to the input and every weight (gradients reset each call). The TorchSharp layer starts from
/// a copy of Ember's weights. One class for the three rows: they differ only in the layer and its gate count.
/// </summary>
public sealed class RecurrentStepPair : IPairedWorkload
{
    const int Steps = 100, Batch = 64, Input = 256, Hidden = 256;

    readonly string kind;
    readonly int gates;
    readonly Func<RNNBase> createEmber;
    readonly Func<(torch.nn.Module Module, Func<TT, TT> Output)> createPeer;
    RNNBase? layer;
    Tensor? x;
    Func<TT, TT>? peerOutput;
    TT? xt;

    RecurrentStepPair(string kind, int gates, Func<RNNBase> createEmber, Func<(torch.nn.Module, Func<TT, TT>)> createPeer)
        => (this.kind, this.gates, this.createEmber, this.createPeer) = (kind, gates, createEmber, createPeer);

    /// <summary>The LSTM row (4 gates).</summary>
    public static RecurrentStepPair Lstm() => new("LSTM", 4, () => new LSTM(Input, Hidden), () => { var m = torch.nn.LSTM(Input, Hidden); return (m, t => m.forward(t, null).Item1); });

    /// <summary>The GRU row (3 gates).</summary>
    public static RecurrentStepPair Gru() => new("GRU", 3, () => new GRU(Input, Hidden), () => { var m = torch.nn.GRU(Input, Hidden); return (m, t => m.forward(t, null).Item1); });

    /// <summary>The plain tanh RNN row (1 gate).</summary>
    public static RecurrentStepPair Rnn() => new("RNN", 1, () => new RNN(Input, Hidden), () => { var m = torch.nn.RNN(Input, Hidden); return (m, t => m.forward(t, null).Item1); });

    public string Name => $"{kind} 256→256, seq 100, batch 64, fwd+bwd";

    // Forward: the input projection 2·L·N·H_in·GH and the recurrence 2·L·N·H·GH; backward twice that (input and weight gradients).
    public double Flops => 3 * 2.0 * Steps * Batch * gates * Hidden * (Input + Hidden);

    public Action SetUpEmber()
    {
        Torch.ManualSeed(21);
        layer = createEmber();
        x = (Inputs.Randn(1, Steps, Batch, Input) * 0.5).RequiresGradInPlace();
        RNNBase m = layer;
        Tensor input = x;
        return () =>
        {
            m.ZeroGrad();
            input.Grad = null;
            Output(m, input).Mean().Backward();
        };
    }

    public Action SetUpTorch()
    {
        if (layer is null) SetUpEmber();
        var (m, forward) = createPeer();
        SameWork.CopyWeights(layer!, m);
        peerOutput = forward;
        xt = Inputs.ToTorch(x!.Detach()).requires_grad_(true);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            m.zero_grad();
            input.grad = null;
            forward(input).mean().backward();
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        var output = peerOutput!(xt!);
        SameWork.CheckClose(Name + ", output", Output(layer!, x!), output, 1e-4);
        layer!.ZeroGrad();
        x!.Grad = null;
        Output(layer, x).Mean().Backward();
        xt!.grad = null;
        output.mean().backward();
        // the mean makes each gradient about 1e-7, so the tolerance is absolute and small
        SameWork.CheckClose(Name + ", input gradient", x.Grad!, xt.grad!, 1e-9);
    }

    static Tensor Output(RNNBase layer, Tensor input) => layer switch
    {
        LSTM lstm => lstm.Forward(input).Output,
        GRU gru => gru.Forward(input).Output,
        RNN rnn => rnn.Forward(input).Output,
        _ => throw new NotSupportedException(layer.GetType().Name),
    };
}
