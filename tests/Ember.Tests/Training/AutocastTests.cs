using Ember.Autograd;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Ops;
using Ember.Optim;
using Ember.Training.Amp;

namespace Ember.Tests.Training;

/// <summary>
/// Autocast casts for real: the lower-precision ops return half tensors, the float32 ops return float32, the others keep
/// their input's dtype (PyTorch's autocast op lists), the numbers match float32 within half precision, the gradients of
/// float32 parameters are float32, and the activations saved for backward take half the bytes.
/// </summary>
public class AutocastTests
{
    [Theory]
    [InlineData(1.0f, 1.0f)]
    [InlineData(1.00390625f, 1.0f)]      // exactly half an ulp of bf16 above 1: ties to even (down)
    [InlineData(1.01171875f, 1.015625f)] // 1 + 3·2⁻⁸: tie rounds up to the even 1 + 4·2⁻⁸
    [InlineData(3.14159265f, 3.140625f)]
    public void Bfloat16_rounding_is_nearest_even(float input, float expected)
        => Assert.Equal(expected, PrecisionOps.RoundToBFloat16(input));

    static DType TensorDType(AutocastDType d) => d == AutocastDType.BFloat16 ? DType.BFloat16 : DType.Float16;

    // Relative tolerance of one half-precision result: inputs rounded to 8 (bf16) or 11 (fp16) bits, float32 sums.
    static double Tolerance(AutocastDType d) => d == AutocastDType.BFloat16 ? 2e-2 : 3e-3;

    static Tensor Rand(int seed, params int[] shape) => Torch.Randn(shape, DType.Float32, new Generator(seed));

    static void AssertClose(Tensor expected, Tensor actual, double relTol, string what)
    {
        var e = expected.ToDoubleArray(); var a = actual.ToDoubleArray();
        Assert.Equal(e.Length, a.Length);
        double scale = 1e-6;
        foreach (var v in e) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= relTol * scale, $"{what}[{i}]: expected {e[i]}, got {a[i]} (tolerance {relTol * scale})");
    }

    public static TheoryData<string, AutocastDType> LowerPrecisionOps()
    {
        var data = new TheoryData<string, AutocastDType>();
        foreach (var op in new[] { "matmul", "mm", "bmm", "linear", "conv2d", "conv_transpose2d" })
            foreach (var d in new[] { AutocastDType.BFloat16, AutocastDType.Float16 }) data.Add(op, d);
        return data;
    }

    static Tensor RunLowerPrecision(string op)
    {
        return op switch
        {
            "matmul" => Rand(1, 2, 5, 16).MatMul(Rand(2, 16, 7)),
            "mm" => Rand(1, 5, 16).Mm(Rand(2, 16, 7)),
            "bmm" => Rand(1, 3, 5, 16).Bmm(Rand(2, 3, 16, 7)),
            "linear" => F.Linear(Rand(1, 4, 16), Rand(2, 6, 16), Rand(3, 6)),
            "conv2d" => F.Conv2d(Rand(1, 2, 3, 8, 8), Rand(2, 4, 3, 3, 3), Rand(3, 4)),
            "conv_transpose2d" => F.ConvTranspose2d(Rand(1, 2, 3, 5, 5), Rand(2, 3, 4, 3, 3), Rand(3, 4)),
            _ => throw new ArgumentException(op),
        };
    }

    [Theory]
    [MemberData(nameof(LowerPrecisionOps))]
    public void Lower_precision_ops_return_half_tensors_close_to_float32(string op, AutocastDType dtype)
    {
        var reference = RunLowerPrecision(op);
        Tensor y;
        using (Autocast.Enable(dtype)) y = RunLowerPrecision(op);
        Assert.Equal(DType.Float32, reference.DType);
        Assert.Equal(TensorDType(dtype), y.DType);
        AssertClose(reference, y, Tolerance(dtype), op);
        Assert.Null(Autocast.Active);
    }

    [Fact]
    public void Float64_operands_are_not_cast()
    {
        Tensor y;
        using (Autocast.Enable(AutocastDType.BFloat16)) y = Torch.Randn([3, 4], DType.Float64, new Generator(1)).MatMul(Torch.Randn([4, 2], DType.Float64, new Generator(2)));
        Assert.Equal(DType.Float64, y.DType);
    }

    public static TheoryData<string> Float32Ops() => ["softmax", "log_softmax", "layer_norm", "group_norm", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "bce_with_logits"];

    static Tensor RunFloat32Op(string op, Tensor x) => op switch
    {
        "softmax" => x.Softmax(-1),
        "log_softmax" => x.LogSoftmax(-1),
        "layer_norm" => F.LayerNorm(x, [8]),
        "group_norm" => F.GroupNorm(x.Reshape(2, 4, 2, 4), 2),
        "cross_entropy" => F.CrossEntropy(x.Reshape(8, 8), Torch.Arange(8)),
        "nll_loss" => F.NllLoss(x.Reshape(8, 8), Torch.Arange(8)),
        "mse_loss" => F.MseLoss(x, Torch.ZerosLike(x)),
        "l1_loss" => F.L1Loss(x, Torch.ZerosLike(x)),
        "bce_with_logits" => F.BinaryCrossEntropyWithLogits(x, Torch.OnesLike(x)),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(Float32Ops))]
    public void Float32_ops_cast_half_inputs_up(string op)
    {
        var half = Rand(5, 2, 4, 8).To(DType.BFloat16);
        Tensor y;
        using (Autocast.Enable(AutocastDType.BFloat16)) y = RunFloat32Op(op, half);
        Assert.Equal(DType.Float32, y.DType);
        // the same op in float32 on the same (exactly widened) values: the cast is the only difference
        AssertClose(RunFloat32Op(op, half.To(DType.Float32)), y, 1e-6, op);
    }

    public static TheoryData<string> InputDTypeOps() => ["relu", "add", "silu", "atan", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "interpolate", "batch_norm"];

    static Tensor RunInputDTypeOp(string op, Tensor x) => op switch
    {
        "relu" => F.Relu(x),
        "add" => x + x * 0.5,
        "silu" => F.Silu(x),
        "atan" => x.Atan(),
        "interpolate" => F.Interpolate(x, scaleFactor: (2, 2), mode: InterpolationMode.Bilinear),
        "max_pool2d" => F.MaxPool2d(x, 2),
        "avg_pool2d" => F.AvgPool2d(x, 2),
        "adaptive_avg_pool2d" => F.AdaptiveAvgPool2d(x, (1, 1)),
        "batch_norm" => F.BatchNorm(x, null, null, training: true),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(InputDTypeOps))]
    public void Other_ops_run_in_their_input_dtype(string op)
    {
        var half = Rand(6, 2, 3, 4, 4).To(DType.BFloat16);
        Tensor y;
        using (Autocast.Enable(AutocastDType.BFloat16)) y = RunInputDTypeOp(op, half);
        Assert.Equal(DType.BFloat16, y.DType);
        // computed in float32 and rounded once: within one bf16 rounding of the float32 result on the same values
        AssertClose(RunInputDTypeOp(op, half.To(DType.Float32)), y, 1e-2, op);
    }

    [Fact]
    public void Half_conv_and_pool_work_outside_autocast_and_keep_their_dtype()
    {
        var x = Rand(1, 2, 3, 8, 8).To(DType.Float16);
        var w = Rand(2, 4, 3, 3, 3).To(DType.Float16);
        var y = F.MaxPool2d(F.Conv2d(x, w), 2);
        Assert.Equal(DType.Float16, y.DType);
        AssertClose(F.MaxPool2d(F.Conv2d(x.To(DType.Float32), w.To(DType.Float32)), 2), y, 2e-3, "conv+pool");
    }

    [Fact]
    public void Linear_bias_is_cast_so_the_output_stays_half()
    {
        var layer = new Linear(16, 4);
        Tensor y;
        using (Autocast.Enable(AutocastDType.BFloat16)) y = layer.Forward(Rand(1, 3, 16));
        Assert.Equal(DType.BFloat16, y.DType);
        Assert.Equal(DType.Float32, layer.Weight.DType);
    }

    /// <summary>conv(+bias) → relu → batch_norm → max_pool → linear → cross_entropy: every category of op (the relu
    /// before the norm keeps the conv bias's gradient from cancelling to zero).</summary>
    sealed class Net : Module
    {
        readonly Conv2d conv;
        readonly BatchNorm2d bn;
        readonly Linear fc;
        public Net()
        {
            conv = RegisterModule(nameof(conv), new Conv2d(2, 6, 3, padding: 1));
            bn = RegisterModule(nameof(bn), new BatchNorm2d(6));
            fc = RegisterModule(nameof(fc), new Linear(6 * 4 * 4, 5));
        }
        public override Tensor Forward(Tensor x) => fc.Forward(F.MaxPool2d(bn.Forward(F.Relu(conv.Forward(x))), 2).Flatten(1));
    }

    [Theory]
    [InlineData(AutocastDType.BFloat16)]
    [InlineData(AutocastDType.Float16)]
    public void Gradients_of_float32_parameters_are_float32_and_match(AutocastDType dtype)
    {
        Torch.ManualSeed(7);
        var net = new Net();
        var x = Rand(11, 4, 2, 8, 8);
        var target = Torch.Tensor(new long[] { 0, 3, 1, 4 });
        F.CrossEntropy(net.Forward(x), target).Backward();
        var reference = net.Parameters().Select(p => p.Grad!.Clone()).ToArray();
        net.ZeroGrad();
        Tensor loss;
        using (Autocast.Enable(dtype)) loss = F.CrossEntropy(net.Forward(x), target);
        Assert.Equal(DType.Float32, loss.DType);
        loss.Backward();
        var parameters = net.Parameters().ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            Assert.Equal(DType.Float32, parameters[i].DType);
            Assert.Equal(DType.Float32, parameters[i].Grad!.DType);
            // relative to the gradient's norm: the conv bias's gradient is a sum over every output position with much
            // cancellation, so its error is ~2⁻⁸ (bf16) or ~2⁻¹¹ (fp16) times a few dozen; fp16 is 8× closer than bf16
            double err = (parameters[i].Grad! - reference[i]).Square().Sum().Sqrt().Item();
            double norm = reference[i].Square().Sum().Sqrt().Item();
            Assert.True(err <= (dtype == AutocastDType.BFloat16 ? 0.1 : 0.015) * norm, $"parameter {i}: |Δgrad| {err} vs |grad| {norm}");
        }
    }

    [Fact]
    public void Activations_saved_for_backward_take_half_the_bytes()
    {
        Torch.ManualSeed(3);
        var model = new FashionCnn(dropout: 0);
        var x = Rand(4, 16, 1, 28, 28);
        long full = Engine.SavedTensorBytes(model.Forward(x).Sum());
        long half;
        using (Autocast.Enable(AutocastDType.BFloat16)) half = Engine.SavedTensorBytes(model.Forward(x).Sum());
        Assert.True(half <= full * 0.55, $"saved bytes: float32 {full}, bf16 autocast {half}");
    }

    [Fact]
    public void The_default_cnn_trains_under_bf16_with_losses_close_to_float32()
    {
        var x = Rand(21, 32, 1, 28, 28);
        var target = Torch.Randint(0, 10, [32], new Generator(22));
        double[] Train(AutocastDType? dtype)
        {
            Torch.ManualSeed(5);
            var model = new FashionCnn(dropout: 0);
            var optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.02 });
            var losses = new double[6];
            for (int step = 0; step < losses.Length; step++)
            {
                optimizer.ZeroGrad();
                Tensor loss;
                using (Autocast.Enable(dtype ?? AutocastDType.BFloat16, enabled: dtype is not null)) loss = F.CrossEntropy(model.Forward(x), target);
                loss.Backward();
                optimizer.Step();
                losses[step] = loss.Item();
            }
            return losses;
        }
        var full = Train(null);
        var bf16 = Train(AutocastDType.BFloat16);
        Assert.True(full[^1] < full[0] * 0.7, $"float32 run did not learn: {string.Join(", ", full)}");
        for (int i = 0; i < full.Length; i++)
            Assert.True(Math.Abs(full[i] - bf16[i]) <= 0.03 * full[0], $"step {i}: float32 loss {full[i]}, bf16 {bf16[i]}");
    }

    [Fact]
    public void Grad_scaler_scales_a_half_loss_in_float32()
    {
        var loss = Torch.Tensor(2f).To(DType.Float16);
        var scaled = new GradScaler(initScale: 65536).Scale(loss);
        Assert.Equal(DType.Float32, scaled.DType);
        Assert.Equal(131072.0, scaled.Item()); // beyond float16's 65504: it would be inf in float16
    }
    // linear's Wᵀ is cast as the contiguous W and transposed back: the half copy keeps the weight's layout, holds the
    // same values as a cast of the view, the product is bit for bit that of a contiguous half weight, and the float32
    // weight's gradient arrives contiguous.
    [Theory]
    [InlineData(AutocastDType.BFloat16)]
    [InlineData(AutocastDType.Float16)]
    public void Transposed_weight_is_cast_in_its_own_layout(AutocastDType d)
    {
        var w = Rand(31, 24, 40).RequiresGradInPlace();
        var x = Rand(32, 6, 40);
        Tensor cast, y;
        using (Autocast.Enable(d))
        {
            cast = PrecisionOps.ForAutocast(w.T);
            y = F.Linear(x, w);
        }
        Assert.Equal(TensorDType(d), cast.DType);
        Assert.False(cast.IsContiguous);
        Assert.True(cast.MT.IsContiguous);
        Assert.Equal(w.Detach().T.Contiguous().To(TensorDType(d)).ToDoubleArray(), cast.ToDoubleArray());
        var expected = x.To(TensorDType(d)).MatMul(w.Detach().To(TensorDType(d)).T.Contiguous());
        Assert.Equal(expected.ToDoubleArray(), y.ToDoubleArray());
        y.To(DType.Float32).Sum().Backward();
        Assert.Equal(DType.Float32, w.Grad!.DType);
        Assert.True(w.Grad.IsContiguous);
    }
}
