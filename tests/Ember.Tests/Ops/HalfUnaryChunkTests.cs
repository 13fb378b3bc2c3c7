using Ember.Tests.Kernels;
using Ember.Autograd;

namespace Ember.Tests.Ops;

/// <summary>
/// Unary ops and relu's backward on float16/bfloat16 tensors (computed in float32 a chunk at a time, CpuBackend) against
/// the definition: widen the whole tensor, compute in float32, round once. Bit for bit, at lengths around the chunk
/// (1024) and the parallel threshold, with NaN, ±inf, −0 and negative inputs to sqrt/log, and on a transposed view (the
/// strided fallback).
/// </summary>
public class HalfUnaryChunkTests
{
    static readonly Func<Tensor, Tensor>[] Ops = [t => t.Relu(), t => t.Exp(), t => t.Tanh(), t => t.Sigmoid(), t => t.Neg(), t => t.Abs(), t => t.Sqrt(), t => t.Log(), t => t.Erf()];
    static readonly string[] Names = ["relu", "exp", "tanh", "sigmoid", "neg", "abs", "sqrt", "log", "erf"];

    public static TheoryData<string> Dtypes => new() { nameof(DType.Float16), nameof(DType.BFloat16) };

    [Theory, MemberData(nameof(Dtypes))]
    public void Unary_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int n in new[] { 0, 1, 7, 1023, 1024, 1025, 3000, 70_001 })
        {
            var x = Inputs(n, dtype);
            for (int o = 0; o < Ops.Length; o++)
                AssertSameBits(Ops[o](x.To(DType.Float32)).To(dtype), Ops[o](x), $"{name} {Names[o]} n={n}");
        }
        var view = Inputs(40 * 30, dtype).Reshape(40, 30).T;
        for (int o = 0; o < Ops.Length; o++)
            AssertSameBits(Ops[o](view.To(DType.Float32)).To(dtype), Ops[o](view), $"{name} {Names[o]} transposed view");
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void Relu_backward_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int n in new[] { 5, 1025, 70_001 })
        {
            var x = Inputs(n, dtype).RequiresGradInPlace();
            var y = x.Relu();
            var g = Inputs(n, dtype, seed: 9);
            var dx = Torch.Grad([y], [x], [g])[0]!;
            Assert.Equal(dtype, dx.DType);
            // the definition: the float32 backward on the widened tensors, rounded (exact: the result is g or 0)
            var x32 = x.Detach().To(DType.Float32).RequiresGradInPlace();
            var expected = Torch.Grad([x32.Relu()], [x32], [g.To(DType.Float32)])[0]!.To(dtype);
            AssertSameBits(expected, dx, $"{name} relu backward n={n}");
        }
    }

    static Tensor Inputs(int n, DType dtype, int seed = 4) => HalfTestData.EdgeInputs([n], dtype, seed);

    static void AssertSameBits(Tensor expected, Tensor actual, string label) => HalfTestData.AssertSameBits(expected, actual, label);
}
