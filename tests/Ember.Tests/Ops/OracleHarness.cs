using Ember.Tests.Reference.Ops;

namespace Ember.Tests.Ops;

/// <summary>
/// Builds the inputs the *.oracle.csx scripts build (same formulas, float64) and compares an Ember function's outputs
/// and gradients with the recorded libtorch values.
/// </summary>
internal static class OracleHarness
{
    /// <summary>In(shape, a, scale, shift)[i] = sin(a·i + 0.3)·scale + shift, a float64 leaf.</summary>
    public static Tensor In(int[] shape, double a, double scale = 1, double shift = 0)
    {
        int n = 1;
        foreach (var s in shape) n *= s;
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.Sin(a * i + 0.3) * scale + shift;
        return Torch.FromArray(v, shape).RequiresGradInPlace();
    }

    public static Tensor Lit(double[] v, params int[] shape) => Torch.FromArray(v, shape).RequiresGradInPlace();
    public static Tensor Long(long[] v, params int[] shape) => Torch.FromArray(v, shape);

    /// <summary>Checks outputs (shape exactly, values within tolerance) and the weighted-sum gradient of every input.</summary>
    public static void Check(OracleCase expected, Tensor[] inputs, Func<Tensor[], Tensor[]> f, double rtol = 1e-10, double atol = 1e-12)
    {
        var outs = f(inputs);
        Assert.Equal(expected.Outputs.Length, outs.Length);
        Tensor? loss = null;
        for (int k = 0; k < outs.Length; k++)
        {
            Assert.Equal(new Shape(expected.Outputs[k].Shape), outs[k].Shape);
            TestUtil.Close(expected.Outputs[k].Values, outs[k], rtol, atol);
            if (!outs[k].DType.IsFloatingPoint() || !outs[k].RequiresGrad) continue;
            var w = (Torch.Arange(outs[k].NumEl, DType.Float64) * 0.7 + 0.1).Cos().Reshape(outs[k].shape);
            var term = (outs[k] * w).Sum();
            loss = loss is null ? term : loss + term;
        }
        loss?.Backward();
        Assert.Equal(expected.Grads.Length, inputs.Length);
        for (int i = 0; i < inputs.Length; i++)
        {
            if (expected.Grads[i] is not { } g) { Assert.Null(inputs[i].Grad); continue; }
            Assert.NotNull(inputs[i].Grad);
            TestUtil.Close(g, inputs[i].Grad!, rtol, atol);
        }
    }
}
