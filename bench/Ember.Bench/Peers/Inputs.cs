using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>Random inputs shared by both sides: Ember draws them, TorchSharp gets a copy of the same values.</summary>
public static class Inputs
{
    /// <summary>A float32 Ember tensor of standard normal values (seeded, so every run times the same data).</summary>
    public static Tensor Randn(int seed, params int[] shape)
    {
        var g = new Generator(shape.Aggregate(17 + seed, (h, d) => h * 31 + d));
        return Torch.Randn(shape, DType.Float32, g);
    }

    /// <summary>The same values as <see cref="Randn"/> for this seed and shape, as a TorchSharp tensor.</summary>
    public static TT TorchRandn(int seed, params int[] shape) => ToTorch(Randn(seed, shape));

    /// <summary>Copies an Ember float32 tensor into a new TorchSharp tensor.</summary>
    public static TT ToTorch(Tensor t)
    {
        long[] dims = new long[t.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = t.Size(i);
        return torch.tensor(t.Contiguous().ToArray<float>(), dims);
    }
}
