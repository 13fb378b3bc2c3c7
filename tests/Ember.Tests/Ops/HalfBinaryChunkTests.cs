using Ember.Tests.Kernels;
using Ember.Backends.Cpu;

namespace Ember.Tests.Ops;

/// <summary>
/// add, sub, mul and div on float16/bfloat16 tensors (computed in float32 a chunk at a time, CpuBackend.TryHalfBinary)
/// against the definition: widen both operands, compute in float32, round once. Bit for bit, for same shapes, a bias
/// row broadcast over the leading dims, float32 and half scalars, at lengths around the chunk (1024) and the parallel
/// threshold, with NaN, ±inf and ±0; and the fallbacks (a transposed view, a middle broadcast dim, maximum).
/// </summary>
[Collection(Ember.Tests.Tensors.StoragePoolCollection.Name)]
public class HalfBinaryChunkTests
{
    static readonly Func<Tensor, Tensor, Tensor>[] Ops = [(a, b) => a + b, (a, b) => a - b, (a, b) => a * b, (a, b) => a / b];
    static readonly string[] Names = ["add", "sub", "mul", "div"];

    public static TheoryData<string> Dtypes => new() { nameof(DType.Float16), nameof(DType.BFloat16) };

    [Theory, MemberData(nameof(Dtypes))]
    public void Same_shape_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int n in new[] { 0, 1, 7, 1023, 1024, 1025, 3000, 70_001 })
            AssertAllOps(Inputs([n], dtype, 4), Inputs([n], dtype, 5), $"{name} n={n}");
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void Bias_row_equals_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        // rows shorter than, equal to and longer than a chunk, rows that do not divide it, and [1, n] / [1, 1, n] rows
        foreach (var (rows, cols) in new[] { (3, 5), (300, 7), (2, 1024), (70, 1500), (129, 384), (600, 130) })
        {
            var a = Inputs([rows, cols], dtype, 6);
            AssertAllOps(a, Inputs([cols], dtype, 7), $"{name} [{rows}, {cols}] + [{cols}]");
            AssertAllOps(a, Inputs([1, cols], dtype, 8), $"{name} [{rows}, {cols}] + [1, {cols}]");
        }
        var a3 = Inputs([4, 33, 20], dtype, 9);
        AssertAllOps(a3, Inputs([33, 20], dtype, 10), $"{name} [4, 33, 20] + [33, 20]");
        AssertAllOps(a3, Inputs([1, 1, 20], dtype, 11), $"{name} [4, 33, 20] + [1, 1, 20]");
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void Scalars_equal_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        foreach (int n in new[] { 1, 1025, 70_001 })
        {
            var a = Inputs([n], dtype, 12);
            // a Python-style scalar stays float32 (not rounded to half first), a 0-d or [1] half tensor is a half value
            foreach (double s in new[] { 0.1767766952966369, -3.0, 0.0 })
                for (int o = 0; o < Ops.Length; o++)
                    AssertSameBits(Ops[o](a.To(DType.Float32), Torch.Scalar(s)).To(dtype), Ops[o](a, Torch.Scalar(s)), $"{name} {Names[o]} scalar {s} n={n}");
            AssertSameBits((a.To(DType.Float32) * 0.1767766952966369).To(dtype), a * 0.1767766952966369, $"{name} a * double n={n}");
            AssertAllOps(a, Inputs([1], dtype, 13), $"{name} [{n}] op [1]");
        }
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void Fallbacks_equal_widen_compute_round(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        var a = Inputs([40, 30], dtype, 14);
        AssertAllOps(a.T, Inputs([40], dtype, 15), $"{name} transposed view + row");
        AssertAllOps(Inputs([4, 6, 5], dtype, 16), Inputs([4, 1, 5], dtype, 17), $"{name} middle broadcast");
        AssertAllOps(Inputs([5], dtype, 18), Inputs([3, 5], dtype, 19), $"{name} a broadcast");
        var x = Inputs([2000], dtype, 20); var y = Inputs([2000], dtype, 21);
        AssertSameBits(x.To(DType.Float32).Maximum(y.To(DType.Float32)).To(dtype), x.Maximum(y), $"{name} maximum");
    }

    /// <summary>
    /// The half paths give their float32 scratch back to the pool as they return: with returned buffers quarantined
    /// (filled with NaN, never reused), results are those of pooling off, so no op reads a scratch after returning it.
    /// </summary>
    [Theory, MemberData(nameof(Dtypes))]
    public void Float32_scratch_returned_early_is_never_read_again(string name)
    {
        var dtype = Enum.Parse<DType>(name);
        var a = Inputs([64, 1024], dtype, 22); var b = Inputs([64, 1024], dtype, 23);
        Tensor[] Work() => [a.MatMul(b.T), a.Softmax(-1), a.Sum(0), a.Maximum(b), a.T + b.T, a.Sigmoid()];
        Tensor[] reference;
        try
        {
            Torch.PoolStorage = false;
            reference = Work();
            Torch.PoolStorage = true;
            StoragePool.QuarantineReturned = true;
            long before = StoragePool.EarlyReturns;
            var quarantined = Work();
            Assert.True(StoragePool.EarlyReturns > before, "the half ops returned no float32 scratch to the pool");
            for (int i = 0; i < reference.Length; i++) AssertSameBits(reference[i], quarantined[i], $"{name} op {i}, quarantined");
        }
        finally
        {
            StoragePool.QuarantineReturned = StoragePool.QuarantineByDefault;
            Torch.PoolStorage = true;
        }
        var pooled = Work();
        for (int i = 0; i < reference.Length; i++) AssertSameBits(reference[i], pooled[i], $"{name} op {i}, pooled");
    }

    static void AssertAllOps(Tensor a, Tensor b, string label)
    {
        for (int o = 0; o < Ops.Length; o++)
            AssertSameBits(Ops[o](a.To(DType.Float32), b.To(DType.Float32)).To(a.DType), Ops[o](a, b), $"{label} {Names[o]}");
    }

    static Tensor Inputs(int[] shape, DType dtype, int seed) => HalfTestData.EdgeInputs(shape, dtype, seed);

    static void AssertSameBits(Tensor expected, Tensor actual, string label) => HalfTestData.AssertSameBits(expected, actual, label);
}
