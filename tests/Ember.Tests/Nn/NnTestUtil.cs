using Ember.Nn;

namespace Ember.Tests.Nn;

/// <summary>Deterministic tensors built exactly as tools/oracle/nn.cs builds them, and reference lookups.</summary>
internal static class NnTestUtil
{
    /// <summary>float32(sin(arange(n)·a + b)·scale), computed in float64 (the oracle's Det).</summary>
    public static Tensor Det(int[] shape, double a, double b, double scale)
    {
        int n = 1;
        foreach (var d in shape) n *= d;
        return ((Torch.Arange(0.0, n, 1, DType.Float64) * a + b).Sin() * scale).To(DType.Float32).Reshape(shape);
    }

    public static Tensor Leaf(Tensor t) => t.Detach().Clone().RequiresGradInPlace();

    /// <summary>The oracle's activation input X [2, 3, 4] in (−8, 8).</summary>
    public static Tensor X => Det([2, 3, 4], 0.37, 0.1, 8.0);

    /// <summary>Backward of sum(y ⊙ G), G = Det(y.shape, 0.23, 0.5, 1), as the oracle does.</summary>
    public static void Backward(Tensor y) => (y * Det(y.Shape.ToArray(), 0.23, 0.5, 1.0).To(y.DType)).Sum().Backward();

    public static double[] Ref(string key) => NnReference.Values[key];

    public static void Set(Tensor p, Tensor v)
    {
        using (Torch.NoGrad()) p.CopyFrom(v);
    }

    /// <summary>Asserts float32 values within the tolerance the context asks for (~1e-5 for reductions and matmul).</summary>
    public static void Close(string key, Tensor actual, double rtol = 1e-5, double atol = 1e-6)
        => TestUtil.Close(Ref(key), actual, rtol, atol);
}
