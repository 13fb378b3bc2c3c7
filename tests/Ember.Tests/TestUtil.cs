namespace Ember.Tests;

/// <summary>Assertions for tensors: values within a tolerance, with the first offending element in the message.</summary>
public static class TestUtil
{
    public static void Close(double[] expected, Tensor actual, double rtol = 1e-6, double atol = 1e-6)
        => Close(expected, actual.ToDoubleArray(), rtol, atol);

    public static void Close(double[] expected, double[] actual, double rtol = 1e-6, double atol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool ok = double.IsNaN(expected[i]) ? double.IsNaN(actual[i])
                : expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= atol + rtol * Math.Abs(expected[i]);
            Assert.True(ok, $"element {i}: expected {expected[i]:G9}, got {actual[i]:G9}");
        }
    }

    public static void Close(Tensor expected, Tensor actual, double rtol = 1e-6, double atol = 1e-6)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Close(expected.ToDoubleArray(), actual, rtol, atol);
    }

    /// <summary>A float64 leaf of random normal values that requires grad (for gradcheck).</summary>
    public static Tensor Leaf(int[] shape, long seed, double scale = 1, double shift = 0)
        => (Torch.Randn(shape, DType.Float64, new Generator(seed)) * scale + shift).Detach().RequiresGradInPlace();

    public static Tensor F32(float[] data, params int[] shape) => Torch.FromArray(data, shape.Length == 0 ? [data.Length] : shape);
}
