using Ember.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>
/// Float64 finite-difference checks (GradCheck) of the backward of every differentiable core op, on contiguous,
/// transposed, sliced and broadcast inputs; and second-order checks (CheckSecondOrder) for the ops the Hessian tools need.
/// </summary>
public class GradCheckTests
{
    static Tensor L(long seed, params int[] shape) => TestUtil.Leaf(shape, seed);
    static Tensor Pos(long seed, params int[] shape) => (Torch.Rand(shape, DType.Float64, new Generator(seed)) + 0.5).Detach().RequiresGradInPlace();
    static Tensor Idx(long[] data, params int[] shape) => Torch.FromArray(data, shape.Length == 0 ? [data.Length] : shape);

    // name → (function, inputs). Inputs are made per test run so gradients never leak between cases.
    static readonly Dictionary<string, Func<(Func<Tensor[], Tensor> F, Tensor[] X)>> Cases = new()
    {
        // elementwise unary (values kept away from kinks)
        ["neg"] = () => (x => -x[0], [L(1, 3, 4)]),
        ["abs"] = () => (x => x[0].Abs(), [L(2, 3, 4)]),
        ["exp"] = () => (x => x[0].Exp(), [L(3, 3, 4)]),
        ["log"] = () => (x => x[0].Log(), [Pos(4, 3, 4)]),
        ["log1p"] = () => (x => x[0].Log1p(), [Pos(5, 3, 4)]),
        ["expm1"] = () => (x => x[0].Expm1(), [L(6, 3, 4)]),
        ["sqrt"] = () => (x => x[0].Sqrt(), [Pos(7, 3, 4)]),
        ["rsqrt"] = () => (x => x[0].Rsqrt(), [Pos(8, 3, 4)]),
        ["square"] = () => (x => x[0].Square(), [L(9, 3, 4)]),
        ["reciprocal"] = () => (x => x[0].Reciprocal(), [Pos(10, 3, 4)]),
        ["sin"] = () => (x => x[0].Sin(), [L(11, 3, 4)]),
        ["cos"] = () => (x => x[0].Cos(), [L(12, 3, 4)]),
        ["tanh"] = () => (x => x[0].Tanh(), [L(13, 3, 4)]),
        ["sigmoid"] = () => (x => x[0].Sigmoid(), [L(14, 3, 4)]),
        ["relu"] = () => (x => x[0].Relu(), [L(15, 3, 4)]),
        ["erf"] = () => (x => x[0].Erf(), [L(16, 3, 4)]),
        ["atan"] = () => (x => x[0].T.Atan(), [L(27, 3, 4)]),
        ["softplus"] = () => (x => x[0].Softplus(), [L(17, 3, 4)]),
        ["softplus_beta_threshold"] = () => (x => (x[0] * 3.0).Softplus(2, 1.5), [L(18, 3, 4)]),
        ["logsigmoid"] = () => (x => x[0].LogSigmoid(), [L(19, 3, 4)]),
        ["pow_scalar"] = () => (x => x[0].Pow(2.5), [Pos(20, 3, 4)]),
        ["pow_int_scalar"] = () => (x => x[0].Pow(3), [L(21, 3, 4)]),
        ["pow_negative"] = () => (x => x[0].Pow(-1.5), [Pos(22, 3, 4)]),
        ["clamp_scalar"] = () => (x => x[0].Clamp(-0.5, 0.7), [L(23, 3, 4)]),
        ["clamp_tensor"] = () => (x => x[0].Clamp(x[1], x[2]), [L(24, 3, 4), (L(25, 3, 1) - 1.0).Detach().RequiresGradInPlace(), (L(26, 4) + 1.0).Detach().RequiresGradInPlace()]),
        // elementwise binary with broadcasting and non-contiguous operands
        ["add_broadcast"] = () => (x => x[0] + x[1], [L(30, 3, 4), L(31, 4)]),
        ["add_alpha"] = () => (x => x[0].Add(x[1], 2.5), [L(32, 3, 4), L(33, 3, 1)]),
        ["sub_broadcast"] = () => (x => x[0] - x[1], [L(34, 3, 1), L(35, 1, 4)]),
        ["mul_transposed"] = () => (x => x[0].T * x[1], [L(36, 4, 3), L(37, 3, 4)]),
        ["div_broadcast"] = () => (x => x[0] / x[1], [L(38, 2, 3, 4), Pos(39, 3, 1)]),
        ["pow_tensor"] = () => (x => x[0].Pow(x[1]), [Pos(40, 3, 4), L(41, 4)]),
        ["maximum"] = () => (x => x[0].Maximum(x[1]), [L(42, 3, 4), L(43, 4)]),
        ["minimum"] = () => (x => x[0].Minimum(x[1]), [L(44, 3, 4), L(45, 3, 1)]),
        ["where"] = () => (x => Torch.Where(x[0] > 0.0, x[0], x[1]), [L(46, 3, 4), L(47, 4)]),
        ["masked_fill"] = () => (x => x[0].MaskedFill(x[0] < 0.0, 2.0), [L(48, 3, 4)]),
        ["scalar_ops"] = () => (x => (2.0 - x[0]) * 3.0 / (x[0] * x[0] + 1.0) + 1.0, [L(49, 3, 4)]),
        ["sliced_input"] = () => (x => x[0][.., TensorIndex.Slice(1, null, 2)].Exp() * x[0].Select(1, 0).Unsqueeze(1), [L(50, 3, 5)]),
        // reductions
        ["sum_all"] = () => (x => x[0].Sum(), [L(60, 2, 3, 4)]),
        ["sum_dims_keep"] = () => (x => x[0].Sum([0, 2], keepDim: true), [L(61, 2, 3, 4)]),
        ["mean_dim"] = () => (x => x[0].Mean(1), [L(62, 2, 3, 4)]),
        ["mean_transposed"] = () => (x => x[0].Transpose(0, 2).Mean([0, 1]), [L(63, 2, 3, 4)]),
        ["var"] = () => (x => x[0].Var(1), [L(64, 2, 3, 4)]),
        ["var_biased_dims"] = () => (x => x[0].Var([0, 2], correction: 0), [L(65, 2, 3, 4)]),
        ["std"] = () => (x => x[0].Std(2, keepDim: true), [L(66, 2, 3, 4)]),
        ["max_all"] = () => (x => x[0].Max(), [L(67, 2, 3, 4)]),
        ["min_all"] = () => (x => x[0].Min(), [L(68, 2, 3, 4)]),
        ["max_dim"] = () => (x => x[0].Max(1).Values, [L(69, 2, 3, 4)]),
        ["min_dim_keep"] = () => (x => x[0].Min(2, keepDim: true).Values, [L(70, 2, 3, 4)]),
        ["amax"] = () => (x => x[0].Amax([0, 2]), [L(71, 2, 3, 4)]),
        ["logsumexp"] = () => (x => x[0].LogSumExp(1), [L(72, 2, 3, 4)]),
        ["logsumexp_dims"] = () => (x => x[0].LogSumExp([0, 2], keepDim: true), [L(73, 2, 3, 4)]),
        ["prod_dim"] = () => (x => x[0].Prod(1), [L(74, 2, 3, 4)]),
        ["prod_all"] = () => (x => x[0].Prod(), [L(75, 2, 3)]),
        ["prod_with_zero"] = () => (x => (x[0] * Torch.Tensor(new double[,] { { 1, 0, 1 }, { 0, 0, 1 } })).Prod(1), [L(76, 2, 3)]),
        ["norm1"] = () => (x => x[0].Norm(1, [1]), [L(77, 2, 3, 4)]),
        ["norm2"] = () => (x => x[0].Norm(2), [L(78, 2, 3, 4)]),
        ["norm2_dims"] = () => (x => x[0].Norm(2, [2], keepDim: true), [L(79, 2, 3, 4)]),
        ["norm_inf"] = () => (x => x[0].Norm(double.PositiveInfinity, [0]), [L(80, 2, 3, 4)]),
        ["norm3"] = () => (x => x[0].Norm(3, [1]), [L(81, 2, 3, 4)]),
        ["softmax"] = () => (x => x[0].Softmax(1), [L(82, 2, 3, 4)]),
        ["log_softmax_transposed"] = () => (x => x[0].T.LogSoftmax(0), [L(83, 3, 4)]),
        // linear algebra
        ["matmul_1d_1d"] = () => (x => x[0].MatMul(x[1]), [L(90, 4), L(91, 4)]),
        ["matmul_2d_1d"] = () => (x => x[0].MatMul(x[1]), [L(92, 3, 4), L(93, 4)]),
        ["matmul_1d_2d"] = () => (x => x[0].MatMul(x[1]), [L(94, 3), L(95, 3, 4)]),
        ["matmul_3d_2d"] = () => (x => x[0].MatMul(x[1]), [L(96, 2, 3, 4), L(97, 4, 2)]),
        ["matmul_broadcast_batch"] = () => (x => x[0].MatMul(x[1]), [L(98, 2, 1, 3, 4), L(99, 3, 4, 2)]),
        ["matmul_transposed"] = () => (x => x[0].T.MatMul(x[1].T), [L(100, 4, 3), L(101, 2, 4)]),
        ["mm"] = () => (x => x[0].Mm(x[1]), [L(102, 3, 4), L(103, 4, 2)]),
        ["bmm"] = () => (x => x[0].Bmm(x[1]), [L(104, 2, 3, 4), L(105, 2, 4, 2)]),
        ["outer"] = () => (x => x[0].Outer(x[1]), [L(106, 3), L(107, 4)]),
        ["addmm"] = () => (x => x[0].AddMm(x[1], x[2], beta: 0.5, alpha: 2), [L(108, 2), L(109, 3, 4), L(110, 4, 2)]),
        // joining and indexing
        ["cat"] = () => (x => Torch.Cat([x[0], x[1]], 1), [L(120, 2, 3), L(121, 2, 2)]),
        ["stack"] = () => (x => Torch.Stack([x[0], x[1].T], 0), [L(122, 2, 3), L(123, 3, 2)]),
        ["split_chunk"] = () => (x => x[0].Split(2, 1)[1] * x[0].Chunk(3, 1)[0], [L(124, 2, 6)]),
        ["gather"] = () => (x => x[0].Gather(1, Idx([0, 2, 2, 1, 0, 0], 2, 3)), [L(125, 2, 4)]),
        ["scatter"] = () => (x => x[0].Scatter(1, Idx([0, 2, 1, 3], 2, 2), x[1]), [L(126, 2, 4), L(127, 2, 3)]),
        ["scatter_add"] = () => (x => x[0].ScatterAdd(1, Idx([0, 0, 3, 3], 2, 2), x[1]), [L(128, 2, 4), L(129, 2, 2)]),
        ["index_select"] = () => (x => x[0].IndexSelect(0, Idx([2, 0, 2])), [L(130, 3, 4)]),
        ["index_add"] = () => (x => x[0].IndexAdd(1, Idx([1, 1]), x[1]), [L(131, 3, 4), L(132, 3, 2)]),
        ["masked_select"] = () => (x => x[0].MaskedSelect(x[0] > 0.0), [L(133, 3, 4)]),
        ["topk"] = () => (x => x[0].TopK(2, 1).Values, [L(134, 3, 4)]),
        ["sort"] = () => (x => x[0].Sort(0, descending: true).Values, [L(135, 3, 4)]),
        ["tril_triu"] = () => (x => x[0].Tril(-1) + x[0].Triu(1) * 2.0, [L(136, 3, 4)]),
        ["repeat"] = () => (x => x[0].Repeat(2, 1, 3), [L(137, 2, 3)]),
        ["flip"] = () => (x => x[0].Flip(0, 1) * x[0], [L(138, 3, 4)]),
        ["roll"] = () => (x => x[0].Roll([1, -2], [0, 1]) * x[0], [L(139, 3, 4)]),
        ["pad_constant"] = () => (x => Torch.Pad(x[0], [1, 2, 0, 1], PaddingMode.Constant, 3), [L(140, 2, 3, 4)]),
        ["pad_reflect"] = () => (x => Torch.Pad(x[0], [2, 1], PaddingMode.Reflect), [L(141, 2, 4)]),
        ["pad_replicate"] = () => (x => Torch.Pad(x[0], [2, 2, 1, 0], PaddingMode.Replicate), [L(142, 1, 2, 3)]),
        // views
        ["views"] = () => (x => x[0].Reshape(3, 4).T.Unsqueeze(0).Expand(2, 4, 3).Squeeze().Narrow(1, 1, 2).Flatten(), [L(150, 12)]),
        ["permute_unflatten"] = () => (x => x[0].Permute(2, 0, 1).Unflatten(0, 2, 2).Select(1, 1), [L(151, 2, 3, 4)]),
        ["index_ellipsis"] = () => (x => x[0][TensorIndex.Ellipsis, TensorIndex.Slice(step: 2)][TensorIndex.NewAxis, ^1], [L(152, 2, 3, 4)]),
        ["clone_to"] = () => (x => x[0].Clone().To(DType.Float32).To(DType.Float64) * x[0], [L(153, 3)]),
    };

    public static TheoryData<string> Names
    {
        get { var d = new TheoryData<string>(); foreach (var k in Cases.Keys) d.Add(k); return d; }
    }

    [Theory, MemberData(nameof(Names))]
    public void Backward_matches_finite_differences(string name)
    {
        var (f, x) = Cases[name]();
        // the float32 round trip in clone_to costs precision
        double atol = name == "clone_to" ? 1e-6 : 1e-5;
        if (name == "clone_to") { GradCheck.Check(f, x, eps: 1e-3, atol: 1e-3, rtol: 1e-3); return; }
        GradCheck.Check(f, x, atol: atol);
    }

    public static TheoryData<string> SecondOrderNames => new()
    {
        "mul", "div", "exp", "log", "tanh", "sigmoid", "matmul", "softmax", "log_softmax", "sum", "mean", "pow", "pow_tensor", "sqrt", "relu_square", "norm2", "max_dim", "gather",
    };

    [Theory, MemberData(nameof(SecondOrderNames))]
    public void Double_backward_matches_finite_differences(string name)
    {
        Func<Tensor[], Tensor> f = name switch
        {
            "mul" => x => x[0] * x[1] * x[0],
            "div" => x => x[0] / x[1],
            "exp" => x => x[0].Exp() * x[1],
            "log" => x => x[1].Log() * x[0],
            "tanh" => x => x[0].Tanh() * x[1],
            "sigmoid" => x => (x[0] * x[1]).Sigmoid(),
            "matmul" => x => x[0].MatMul(x[1]).Square(),
            "softmax" => x => (x[0] * x[1]).Softmax(1),
            "log_softmax" => x => (x[0] + x[1]).LogSoftmax(0),
            "sum" => x => (x[0] * x[1]).Sum(1).Square(),
            "mean" => x => (x[0] * x[1]).Mean().Square(),
            "pow" => x => x[1].Pow(2.5) * x[0],
            "pow_tensor" => x => x[1].Pow(x[0]),
            "sqrt" => x => x[1].Sqrt() * x[0],
            "relu_square" => x => (x[0] - 0.1).Relu().Square() * x[1],
            "norm2" => x => (x[0] * x[1]).Norm(2, [1]),
            "max_dim" => x => (x[0] * x[1]).Max(1).Values.Square(),
            "gather" => x => (x[0] * x[1]).Gather(1, Idx([0, 2, 1, 1, 0, 0], 3, 2)).Square(),
            _ => throw new ArgumentException(name),
        };
        var a = L(200, 3, 3);
        var b = Pos(201, 3, 3);
        GradCheck.CheckSecondOrder(f, [a, b]);
    }

    [Fact]
    public void Gradcheck_catches_a_wrong_backward()
    {
        // a deliberately wrong custom backward must be reported
        static Tensor Wrong(Tensor x) => Ember.Autograd.Recording.Unary(x.Detach().Exp(), "WrongBackward0", x, g => g * 2.0);
        var x = L(300, 3);
        Assert.Throws<GradCheckException>(() => GradCheck.Check(xs => Wrong(xs[0]), [x]));
    }

    [Fact]
    public void Norm2_of_a_zero_vector_has_zero_gradient_as_PyTorch()
    {
        var x = Torch.Zeros([3], DType.Float64).RequiresGradInPlace();
        x.Norm().Backward();
        TestUtil.Close([0, 0, 0], x.Grad!);
    }

    [Fact]
    public void Prod_gradient_with_zeros_is_the_product_of_the_others()
    {
        var x = Torch.Tensor(2.0, 0.0, 3.0).RequiresGradInPlace();
        x.Prod().Backward();
        TestUtil.Close([0, 6, 0], x.Grad!);
        var y = Torch.Tensor(0.0, 0.0, 3.0).RequiresGradInPlace();
        y.Prod().Backward();
        TestUtil.Close([0, 0, 0], y.Grad!);
    }

    [Fact]
    public void Amax_shares_the_gradient_between_ties_and_max_dim_gives_it_to_the_first()
    {
        var x = Torch.Tensor(new double[,] { { 1, 3, 3 }, { 2, 0, 2 } }).RequiresGradInPlace();
        x.Amax([1]).Sum().Backward();
        TestUtil.Close([0, 0.5, 0.5, 0.5, 0, 0.5], x.Grad!);
        x.Grad = null;
        x.Max(1).Values.Sum().Backward();
        TestUtil.Close([0, 1, 0, 1, 0, 0], x.Grad!);
        x.Grad = null;
        x.Max().Backward();
        TestUtil.Close([0, 0.5, 0.5, 0, 0, 0], x.Grad!);
    }

    [Fact]
    public void Maximum_splits_the_gradient_on_ties_and_clamp_passes_it_at_the_bounds()
    {
        var a = Torch.Tensor(1.0, 2.0, 3.0).RequiresGradInPlace();
        var b = Torch.Tensor(1.0, 5.0, 0.0).RequiresGradInPlace();
        a.Maximum(b).Sum().Backward();
        TestUtil.Close([0.5, 0, 1], a.Grad!);
        TestUtil.Close([0.5, 1, 0], b.Grad!);
        var x = Torch.Tensor(-1.0, 0.0, 0.5, 1.0, 2.0).RequiresGradInPlace();
        x.Clamp(0.0, 1.0).Sum().Backward();
        TestUtil.Close([0, 1, 1, 1, 0], x.Grad!);
    }
}
