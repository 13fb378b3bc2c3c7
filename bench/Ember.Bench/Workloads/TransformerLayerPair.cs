using Ember.Bench.Peers;
using Ember.Nn.Layers;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// One post-norm transformer encoder layer (d_model 128, 4 heads, feed-forward 512, ReLU, dropout 0 so both sides do the
/// same deterministic work) on a batch of 32 sequences of 64 tokens: zero grads, forward, backward of a fixed output
/// gradient into every parameter (the input does not require grad). Ember: nn.TransformerEncoderLayer with batch_first;
/// TorchSharp: its torch.nn.TransformerEncoderLayer (libtorch's C++ module, which has no batch_first, so it gets the same
/// data laid out [sequence, batch, feature]), starting from a copy of Ember's weights.
/// </summary>
public sealed class TransformerLayerPair : IPairedWorkload
{
    const int Batch = 32, Seq = 64, DModel = 128, Heads = 4, FeedForward = 512;

    TransformerEncoderLayer? layer;
    Tensor? x;
    torch.nn.Module<TT, TT>? peer;
    TT? xt;

    public string Name => "transformer encoder layer fwd+bwd (32, 64, 128)";

    // Matrix-product FLOPs. Forward: QKV projection, scores and attention·V, output projection, the two feed-forward
    // linears. Backward: twice the forward (weight and input gradients), less the input gradient of the QKV projection.
    public double Flops
    {
        get
        {
            double tokens = Batch * Seq;
            double qkv = 2 * tokens * DModel * 3 * DModel, attention = 2 * 2.0 * Batch * Seq * Seq * DModel;
            double outProj = 2 * tokens * DModel * DModel, ff = 2 * 2 * tokens * DModel * FeedForward;
            double forward = qkv + attention + outProj + ff;
            return 3 * forward - qkv;
        }
    }

    public Action SetUpEmber()
    {
        Torch.ManualSeed(14);
        layer = new TransformerEncoderLayer(DModel, Heads, FeedForward, dropout: 0, batchFirst: true);
        x = Inputs.Randn(1, Batch, Seq, DModel);
        Tensor g = Inputs.Randn(2, Batch, Seq, DModel);
        TransformerEncoderLayer l = layer;
        Tensor input = x;
        return () =>
        {
            l.ZeroGrad();
            l.Call(input).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        if (layer is null) SetUpEmber();
        var l = torch.nn.TransformerEncoderLayer(DModel, Heads, FeedForward, dropout: 0.0);
        SameWork.CopyWeights(layer!, l);
        peer = l;
        // [batch, seq, feature] → [seq, batch, feature], contiguous, made once at set-up.
        xt = Inputs.ToTorch(x!.Transpose(0, 1));
        TT g = Inputs.ToTorch(Inputs.Randn(2, Batch, Seq, DModel).Transpose(0, 1));
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            l.zero_grad();
            l.forward(input).backward([g]);
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        using var noGrad = Torch.NoGrad();
        SameWork.CheckClose(Name + ", forward", layer!.Call(x!), peer!.forward(xt!).transpose(0, 1), 1e-4, scaleByMagnitude: true);
    }
}
