using Ember.Bench.Peers;
using Ember.Nn.Layers;
using Ember.Quantization;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// Linear(784→256) inference at batch 128 in no-grad mode, TorchSharp in float32 on both rows; Ember in float32, or
/// with the layer dynamically quantized to int8 (what `ember eval --quantize` does): the second row shows what a user
/// gains by quantizing, against the float32 peer.
/// </summary>
public sealed class LinearInferencePair(bool int8) : IPairedWorkload
{
    const int Batch = 128, In = 784, Out = 256;
    Func<Tensor>? ember;
    Func<torch.Tensor>? peer;

    public string Name => int8 ? "linear 128×784→256 fwd, Ember int8" : "linear 128×784→256 fwd";

    public double Flops => 2.0 * Batch * In * Out;

    Linear Layer()
    {
        var layer = new Linear(In, Out);
        using (Torch.NoGrad())
        {
            layer.Weight.CopyFrom(Inputs.Randn(2, Out, In) * 0.03);
            layer.Bias!.CopyFrom(Inputs.Randn(3, Out) * 0.1);
        }
        return layer;
    }

    public Action SetUpEmber()
    {
        var x = Inputs.Randn(1, Batch, In);
        Nn.Module layer = int8 ? DynamicQuantizedLinear.FromFloat(Layer()) : Layer();
        ember = () => { using (Torch.NoGrad()) return layer.Call(x); };
        return () => ember();
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, Batch, In);
        var w = Inputs.ToTorch(Inputs.Randn(2, Out, In) * 0.03);
        var b = Inputs.ToTorch(Inputs.Randn(3, Out) * 0.1);
        peer = () => { using (torch.no_grad()) return torch.nn.functional.linear(x, w, b); };
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            peer();
        };
    }

    public void CheckSameWork()
    {
        var mine = ember!().ToArray<float>();
        using var scope = torch.NewDisposeScope();
        var theirs = peer!().data<float>().ToArray();
        // float32: the same numbers up to summation order; int8: within the quantization error (a few % of the spread)
        double spread = theirs.Max() - theirs.Min(), worst = mine.Zip(theirs, (a, t) => Math.Abs(a - t)).Max();
        if (worst > (int8 ? 0.03 : 1e-4) * spread)
            throw new InvalidOperationException($"{Name}: Ember and TorchSharp differ by {worst} (spread {spread})");
    }
}
