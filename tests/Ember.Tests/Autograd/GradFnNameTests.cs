using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Tests.Autograd;

/// <summary>
/// Tensor.GradFn names the node as PyTorch's grad_fn does. Expected names: libtorch 2.10 via ../shared/tools/torch-oracle,
/// script Reference/Autograd/grad_fn_names.oracle.csx (TorchSharp has no grad_fn, so it reads the node's name from anomaly
/// mode's error after seeding backward with NaN). Where TorchSharp's call differs from Python's (x + 2 calls add_scalar), the
/// expected name is Python's, with a comment.
/// </summary>
public class GradFnNameTests
{
    static readonly Tensor X = Torch.Randn([4, 6], generator: new Generator(1)).RequiresGradInPlace();
    static readonly Tensor Y = Torch.Randn([4, 6], generator: new Generator(2)).RequiresGradInPlace();
    static readonly Tensor P = Torch.Rand([4, 6], generator: new Generator(3)).Clamp(0.05, 0.95).RequiresGradInPlace();
    static readonly Tensor T01 = Torch.Rand([4, 6], generator: new Generator(4));
    static readonly Tensor W = Torch.Randn([3, 6], generator: new Generator(5)).RequiresGradInPlace();
    static readonly Tensor B = Torch.Randn([3], generator: new Generator(6)).RequiresGradInPlace();
    static readonly Tensor Img = Torch.Randn([2, 3, 8, 8], generator: new Generator(7)).RequiresGradInPlace();
    static readonly Tensor Cw = Torch.Randn([4, 3, 3, 3], generator: new Generator(8)).RequiresGradInPlace();
    static readonly Tensor Labels = Torch.Tensor([0L, 5L, 2L, 3L]);

    static readonly Dictionary<string, (Func<Tensor> Op, string TorchName)> Cases = new()
    {
        ["add"] = (() => X + Y, "AddBackward0"),
        ["add_scalar"] = (() => X + 2.0, "AddBackward0"),   // Python's x + 2 (TorchSharp's add_scalar gives AddBackward1)
        ["sub"] = (() => X - Y, "SubBackward0"),
        ["mul"] = (() => X * Y, "MulBackward0"),
        ["mul_scalar"] = (() => X * 2.0, "MulBackward0"),   // likewise
        ["div"] = (() => X / Y, "DivBackward0"),
        ["div_scalar"] = (() => X / 2.0, "DivBackward0"),   // likewise
        ["neg"] = (() => -X, "NegBackward0"),
        ["pow_scalar"] = (() => X.Pow(3.0), "PowBackward0"),
        ["pow_tensor"] = (() => P.Pow(Y), "PowBackward1"),
        ["square"] = (() => X.Square(), "PowBackward0"),
        ["exp"] = (() => X.Exp(), "ExpBackward0"),
        ["log"] = (() => P.Log(), "LogBackward0"),
        ["sqrt"] = (() => P.Sqrt(), "SqrtBackward0"),
        ["rsqrt"] = (() => P.Rsqrt(), "RsqrtBackward0"),
        ["abs"] = (() => X.Abs(), "AbsBackward0"),
        ["sin"] = (() => X.Sin(), "SinBackward0"),
        ["tanh"] = (() => X.Tanh(), "TanhBackward0"),
        ["sigmoid"] = (() => X.Sigmoid(), "SigmoidBackward0"),
        ["relu"] = (() => X.Relu(), "ReluBackward0"),
        ["gelu"] = (() => F.Gelu(X), "GeluBackward0"),
        ["silu"] = (() => F.Silu(X), "SiluBackward0"),
        ["softplus"] = (() => F.Softplus(X), "SoftplusBackward0"),
        ["leaky_relu"] = (() => F.LeakyRelu(X, 0.1), "LeakyReluBackward0"),
        ["elu"] = (() => F.Elu(X), "EluBackward0"),
        ["relu6"] = (() => F.Relu6(X), "HardtanhBackward0"),
        ["hardtanh"] = (() => F.Hardtanh(X), "HardtanhBackward0"),
        ["threshold"] = (() => F.Threshold(X, 0.1, 20), "ThresholdBackward0"),
        ["hardswish"] = (() => F.Hardswish(X), "HardswishBackward0"),
        ["hardsigmoid"] = (() => F.Hardsigmoid(X), "HardsigmoidBackward0"),
        ["clamp_scalar"] = (() => X.Clamp(-0.5, 0.5), "ClampBackward1"),
        ["clamp_tensor"] = (() => X.Clamp(Y, Y + 1.0), "ClampBackward0"),
        ["clamp_min"] = (() => X.Clamp(min: 0.1), "ClampBackward1"),   // torch.clamp(x, min=0.1); torch.clamp_min is ClampMinBackward0
        ["maximum"] = (() => X.Maximum(Y), "MaximumBackward0"),
        ["minimum"] = (() => X.Minimum(Y), "MinimumBackward0"),
        ["max_all"] = (() => X.Max(), "MaxBackward1"),
        ["max_dim"] = (() => X.Max(1).Values, "MaxBackward0"),
        ["min_all"] = (() => X.Min(), "MinBackward1"),
        ["amax"] = (() => X.Amax([1]), "AmaxBackward0"),
        ["sum_all"] = (() => X.Sum(), "SumBackward0"),
        ["sum_dim"] = (() => X.Sum(1), "SumBackward1"),
        ["mean_all"] = (() => X.Mean(), "MeanBackward0"),
        ["mean_dim"] = (() => X.Mean(1), "MeanBackward1"),
        ["prod_all"] = (() => X.Prod(), "ProdBackward0"),
        ["var"] = (() => X.Var(), "VarBackward0"),
        ["std"] = (() => X.Std(), "StdBackward0"),
        ["logsumexp"] = (() => X.LogSumExp(1), "LogsumexpBackward0"),
        ["matmul_2d"] = (() => X.MatMul(W.T), "MmBackward0"),
        ["linear"] = (() => F.Linear(X, W, B), "AddmmBackward0"),
        ["linear_nobias"] = (() => F.Linear(X, W), "MmBackward0"),
        ["bmm"] = (() => X.Reshape(2, 2, 6).Bmm(Y.Reshape(2, 6, 2)), "BmmBackward0"),
        ["softmax"] = (() => F.Softmax(X, 1), "SoftmaxBackward0"),
        ["log_softmax"] = (() => F.LogSoftmax(X, 1), "LogSoftmaxBackward0"),
        ["mse_loss"] = (() => F.MseLoss(X, Y), "MseLossBackward0"),
        ["l1_loss"] = (() => F.L1Loss(X, Y), "MeanBackward0"),
        ["smooth_l1_loss"] = (() => F.SmoothL1Loss(X, Y), "SmoothL1LossBackward0"),
        ["huber_loss"] = (() => F.HuberLoss(X, Y), "HuberLossBackward0"),
        ["bce"] = (() => F.BinaryCrossEntropy(P, T01), "BinaryCrossEntropyBackward0"),
        ["bce_with_logits"] = (() => F.BinaryCrossEntropyWithLogits(X, T01), "BinaryCrossEntropyWithLogitsBackward0"),
        ["cross_entropy"] = (() => F.CrossEntropy(X, Labels), "NllLossBackward0"),
        ["nll_loss"] = (() => F.NllLoss(F.LogSoftmax(X, 1), Labels), "NllLossBackward0"),
        ["kl_div"] = (() => F.KlDiv(F.LogSoftmax(X, 1), F.Softmax(Y, 1), Reduction.Sum), "SumBackward0"),
        ["conv2d"] = (() => F.Conv2d(Img, Cw), "ConvolutionBackward0"),
        ["max_pool2d"] = (() => F.MaxPool2d(Img, 2), "MaxPool2DWithIndicesBackward0"),
        ["avg_pool2d"] = (() => F.AvgPool2d(Img, 2), "AvgPool2DBackward0"),
        ["adaptive_avg_pool2d"] = (() => F.AdaptiveAvgPool2d(Img, (1, 1)), "MeanBackward1"),
        ["layer_norm"] = (() => F.LayerNorm(X, [6]), "NativeLayerNormBackward0"),
        ["batch_norm_train"] = (() => F.BatchNorm(Img, null, null, training: true), "NativeBatchNormBackward0"),
        // YOLOv5's Conv block: Ember runs it as one fused op, which shows PyTorch's SiluBackward0 over NativeBatchNormBackward0
        ["silu_batch_norm_train"] = (() => F.BatchNormSilu(Img, null, null, null, null, true, 0.1, 1e-5), "SiluBackward0"),
        ["reshape"] = (() => X.Reshape(6, 4), "ViewBackward0"),
        ["reshape_copy"] = (() => X.T.Reshape(24), "UnsafeViewBackward0"),
        ["cross_entropy_2d"] = (() => F.CrossEntropy(Img, Torch.Zeros([2, 8, 8], DType.Int64)), "NllLoss2DBackward0"),
        ["view"] = (() => X.View(24), "ViewBackward0"),
        ["transpose"] = (() => X.Transpose(0, 1), "TransposeBackward0"),
        ["t"] = (() => X.T, "PermuteBackward0"),   // Tensor.T is a permute in PyTorch (x.t() is TBackward0)
        ["permute"] = (() => Img.Permute(0, 2, 3, 1), "PermuteBackward0"),
        ["unsqueeze"] = (() => X.Unsqueeze(0), "UnsqueezeBackward0"),
        ["squeeze_dim"] = (() => X.Unsqueeze(0).Squeeze(0), "SqueezeBackward1"),
        ["flatten"] = (() => Img.Flatten(1), "ViewBackward0"),
        ["cat"] = (() => Torch.Cat([X, Y], 0), "CatBackward0"),
        ["stack"] = (() => Torch.Stack([X, Y], 0), "StackBackward0"),
        ["narrow"] = (() => X.Narrow(1, 1, 3), "SliceBackward0"),
        ["select"] = (() => X.Select(0, 1), "SelectBackward0"),
        ["expand"] = (() => X.Narrow(0, 0, 1).Expand(4, 6), "ExpandBackward0"),
        ["where"] = (() => Torch.Where(X > 0.0, X, Y), "WhereBackward0"),
        ["masked_fill"] = (() => X.MaskedFill(X > 0.0, 0.0), "MaskedFillBackward0"),
        ["index_select"] = (() => X.IndexSelect(0, Labels.Clamp(0, 3)), "IndexSelectBackward0"),
        ["gather"] = (() => X.Gather(1, Labels.Clamp(0, 5).Unsqueeze(1)), "GatherBackward0"),
        ["clone"] = (() => X.Clone(), "CloneBackward0"),
        ["flip"] = (() => X.Flip(0), "FlipBackward0"),
        ["erf"] = (() => X.Erf(), "ErfBackward0"),
        ["log1p"] = (() => P.Log1p(), "Log1PBackward0"),
        ["expm1"] = (() => X.Expm1(), "Expm1Backward0"),
        ["reciprocal"] = (() => P.Reciprocal(), "ReciprocalBackward0"),
        ["atan"] = (() => X.Atan(), "AtanBackward0"),
        ["logsigmoid"] = (() => F.LogSigmoid(X), "LogSigmoidBackward0"),
        ["mish"] = (() => F.Mish(X), "MulBackward0"),
        ["softsign"] = (() => F.Softsign(X), "DivBackward0"),
        ["selu"] = (() => F.Selu(X), "EluBackward0"),
        ["celu"] = (() => F.Celu(X), "CeluBackward0"),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GradFnMatchesPyTorch(string op)
    {
        var (f, torchName) = Cases[op];
        Assert.Equal(torchName, f().GradFn);
    }
}
