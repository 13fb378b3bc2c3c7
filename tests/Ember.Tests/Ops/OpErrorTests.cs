namespace Ember.Tests.Ops;

/// <summary>Every error case of issue 2: the exception type, and a message naming the op, the shapes or values and the dim.</summary>
public class OpErrorTests
{
    static void Fails<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var ex = Assert.Throws<TException>(action);
        foreach (var f in fragments) Assert.Contains(f, ex.Message);
    }

    [Fact]
    public void Matmul_shape_mismatch_names_both_shapes()
    {
        Fails<ArgumentException>(() => Torch.Zeros(3, 4).MatMul(Torch.Zeros(5, 6)), "matmul: shapes [3, 4] and [5, 6] cannot be multiplied (4 != 5)");
        Fails<ArgumentException>(() => Torch.Zeros(4).MatMul(Torch.Zeros(5, 6)), "matmul", "[4]", "[5, 6]", "4 != 5");
        Fails<ArgumentException>(() => Torch.Zeros(3, 4).MatMul(Torch.Zeros(5)), "matmul", "[3, 4]", "[5]", "4 != 5");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3, 4).MatMul(Torch.Zeros(3, 5, 2)), "matmul", "[2, 3, 4]", "[3, 5, 2]");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3, 4).MatMul(Torch.Zeros(3, 4, 2)), "matmul", "cannot be broadcast", "dim 0");
        Fails<ArgumentException>(() => Torch.Zeros(3, 4).Mm(Torch.Zeros(5, 6)), "mm: shapes [3, 4] and [5, 6] cannot be multiplied (4 != 5)");
        Fails<ArgumentException>(() => Torch.Zeros(3, 4).Mm(Torch.Zeros(4)), "mm", "2-D");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3, 4).Bmm(Torch.Zeros(3, 4, 2)), "bmm", "[2, 3, 4]", "[3, 4, 2]");
        Fails<ArgumentException>(() => Torch.Zeros(3).Dot(Torch.Zeros(3, 1)), "dot", "1-D");
        Fails<ArgumentException>(() => Torch.Zeros(3).Outer(Torch.Zeros(3, 1)), "outer");
    }

    [Fact]
    public void Failed_broadcast_names_both_shapes_and_the_dim()
    {
        Fails<ArgumentException>(() => _ = Torch.Zeros(2, 3) + Torch.Zeros(4, 3), "add", "[2, 3]", "[4, 3]", "dim 0", "2 != 4");
        Fails<ArgumentException>(() => _ = Torch.Zeros(2, 3) * Torch.Zeros(2), "mul", "[2, 3]", "[2]", "dim 1");
        Fails<ArgumentException>(() => _ = Torch.Zeros(2, 3) < Torch.Zeros(4), "lt", "[2, 3]", "[4]");
        Fails<ArgumentException>(() => Torch.Where(Torch.Zeros([5], DType.Bool), Torch.Zeros(2), Torch.Zeros(2)), "where", "[5]", "[2]");
        Fails<ArgumentException>(() => Torch.Zeros(3).Expand(2, 4), "expand", "3", "4");
        Fails<ArgumentException>(() => Torch.Cat([Torch.Zeros(2, 3), Torch.Zeros(2, 4)]), "cat", "dim 1", "tensor number 1");
        Fails<ArgumentException>(() => Torch.Stack([Torch.Zeros(2), Torch.Zeros(3)]), "stack", "[2]", "[3]");
    }

    [Fact]
    public void Dtype_mismatches_are_reported()
    {
        Fails<ArgumentException>(() => Torch.Zeros(2, 2).Mm(Torch.Zeros([2, 2], DType.Float64)), "mm", "torch.float32", "torch.float64");
        Fails<ArgumentException>(() => Torch.Zeros(3).Gather(0, Torch.Zeros(2)), "gather", "torch.int64", "torch.float32");
        Fails<ArgumentException>(() => Torch.Zeros(3).IndexSelect(0, Torch.Zeros(1)), "index_select", "torch.int64");
        Fails<ArgumentException>(() => Torch.Where(Torch.Zeros(2), Torch.Zeros(2), Torch.Zeros(2)), "where", "bool");
        Fails<ArgumentException>(() => Torch.Zeros(2).MaskedSelect(Torch.Zeros(2)), "masked_select", "bool");
        Fails<ArgumentException>(() => Torch.Tensor(1L, 2L).Mean(), "mean", "torch.int64");
        Fails<ArgumentException>(() => Torch.OneHot(Torch.Zeros(2)), "one_hot", "int64");
        Fails<InvalidOperationException>(() => Torch.Zeros(2).ToArray<double>(), "torch.float32", "Double");
    }

    [Fact]
    public void Dim_out_of_range_names_the_op_and_the_range()
    {
        var x = Torch.Zeros(2, 3);
        Fails<ArgumentOutOfRangeException>(() => x.Sum(2), "sum", "[-2, 1]", "2");
        Fails<ArgumentOutOfRangeException>(() => x.Softmax(-3), "softmax", "-3");
        Fails<ArgumentOutOfRangeException>(() => x.Transpose(0, 5), "transpose");
        Fails<ArgumentOutOfRangeException>(() => x.Max(3), "max");
        Fails<ArgumentOutOfRangeException>(() => Torch.Cat([x, x], 2), "cat");
        Fails<ArgumentOutOfRangeException>(() => x.Unsqueeze(4), "unsqueeze");
        Fails<ArgumentOutOfRangeException>(() => x.Narrow(2, 0, 1), "narrow");
        Fails<ArgumentOutOfRangeException>(() => x.Size(-3), "size");
        Fails<ArgumentException>(() => x.Sum([0, 0]), "sum", "multiple times");
        Fails<ArgumentOutOfRangeException>(() => x.Narrow(1, 2, 2), "narrow", "exceeds", "size (3)");
    }

    [Fact]
    public void Index_out_of_range_has_context_instead_of_a_bare_kernel_error()
    {
        var x = Torch.Zeros(2, 3);
        Fails<IndexOutOfRangeException>(() => x.Gather(1, Torch.Tensor(new long[,] { { 0, 3 } })), "gather", "index 3", "dimension 1", "size 3");
        Fails<IndexOutOfRangeException>(() => x.IndexSelect(0, Torch.Tensor(2L)), "index_select", "index 2", "size 2");
        Fails<IndexOutOfRangeException>(() => x.Select(1, -4), "select", "index -4", "size 3");
        Fails<IndexOutOfRangeException>(() => x.Scatter(0, Torch.Tensor(new long[,] { { 5 } }), 1.0), "scatter", "index 5");
        Fails<IndexOutOfRangeException>(() => x.ScatterAdd(1, Torch.Tensor(new long[,] { { -4 } }), Torch.Ones(1, 1)), "scatter", "index -4");
        Fails<IndexOutOfRangeException>(() => x.IndexAdd(0, Torch.Tensor(7L), Torch.Ones(1, 3)), "index_add", "index 7");
        Fails<IndexOutOfRangeException>(() => _ = x[2], "select", "index 2");
        Fails<ArgumentException>(() => x.Gather(1, Torch.Tensor(new long[,] { { 0 }, { 0 }, { 0 } })), "gather", "[3, 1]", "[2, 3]");
        Fails<ArgumentException>(() => x.Gather(1, Torch.Tensor(0L, 1L)), "gather", "same number of dimensions");
        Fails<ArgumentException>(() => x.Scatter(1, Torch.Tensor(0L), Torch.Ones(1)), "scatter", "same number of dimensions");
        Fails<ArgumentException>(() => x.Scatter(1, Torch.Tensor(new long[,] { { 0, 1 } }), Torch.Ones(1, 1)), "scatter", "src");
        Fails<ArgumentException>(() => x.IndexAdd(0, Torch.Tensor(0L, 1L), Torch.Ones(1, 3)), "index_add", "[1, 3]");
        Fails<ArgumentException>(() => Torch.OneHot(Torch.Tensor(0L, 5L), 3), "one_hot", "5");
        Fails<ArgumentException>(() => x.TopK(4, 1), "topk", "k (4)");
    }

    [Fact]
    public void View_reshape_and_factory_errors()
    {
        Fails<ArgumentException>(() => Torch.Zeros(2, 3).Reshape(4, -1), "reshape", "[4, -1]", "size 6");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3).View(-1, -1), "view", "only one dimension");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3).View(5), "view", "[5]", "6");
        Fails<ArgumentException>(() => Torch.Zeros(-1), "negative dimension");
        Fails<ArgumentException>(() => Torch.Pad(Torch.Zeros(1, 3), [3, 0], PaddingMode.Reflect), "pad", "(3, 0)");
        Fails<ArgumentException>(() => Torch.Pad(Torch.Zeros(3), [1, 1, 1, 1]), "pad");
        Fails<ArgumentException>(() => Torch.Zeros(2, 3).Permute(0, 0), "permute", "repeats");
    }
}
