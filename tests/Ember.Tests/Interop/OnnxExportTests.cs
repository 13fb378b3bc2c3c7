using Ember.Analysis;
using Ember.Interop;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ember.Tests.Interop;

/// <summary>
/// Every export is checked the only way that matters: ONNX Runtime runs the file and its outputs equal Ember's eval
/// outputs, at the sample's batch size and at another one (the batch dim is dynamic).
/// </summary>
public class OnnxExportTests
{
    const double Tolerance = 1e-4;

    /// <summary>
    /// Random weights everywhere, including what a fresh model leaves trivial (BN's running statistics and affine,
    /// zero biases, ViT's class token), so that each exported operator is actually exercised.
    /// </summary>
    static void Randomize(Module model, long seed)
    {
        var gen = new Generator(seed);
        using (Torch.NoGrad())
        {
            foreach (var m in model.Modules())
                if (m is NormBase norm)
                {
                    norm.RunningMean?.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.2);
                    norm.RunningVar?.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Weight?.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Bias?.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.2);
                }
            foreach (var p in model.Parameters())
                // only small tensors start at zero (biases, class tokens); checking the big weights would cost seconds
                if (p.DType == DType.Float32 && p.NumEl <= 100_000 && p.Abs().Max().Item() == 0) p.CopyFrom(Torch.Randn([.. p.Shape.ToArray()], generator: gen) * 0.1);
        }
    }

    /// <summary>
    /// A session that runs the graph as written: no graph rewrites (which would also hide a wrong node behind a fusion)
    /// and no weight prepacking, which costs seconds for AlexNet's 37 M-weight Gemm.
    /// </summary>
    static InferenceSession Session(byte[] model)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        options.AddSessionConfigEntry("session.disable_prepacking", "1");
        return new InferenceSession(model, options);
    }

    static float[] RunOnnx(InferenceSession session, Tensor x)
    {
        var input = new DenseTensor<float>(x.Contiguous().ToArray<float>(), x.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var output = results.Single(r => r.Name == "output").AsTensor<float>();
        return output.ToArray();
    }

    static Tensor Eval(Module model, Tensor x)
    {
        model.Eval();
        using (Torch.NoGrad()) return model.Call(x);
    }

    /// <summary>Exports with a batch of 2, then checks ONNX Runtime against Ember at batch 2 and at batch 3.</summary>
    static void ExportAndCompare(Module model, int[] sampleShape, int opset = Onnx.MinOpset, long seed = 1)
    {
        var gen = new Generator(seed);
        var sample = Torch.Randn([2, .. sampleShape], generator: gen) * 2;
        var bytes = Onnx.ExportToBytes(model, sample, opset);
        using var session = Session(bytes);
        Assert.Equal("batch", session.InputMetadata["input"].SymbolicDimensions[0]);
        Assert.Equal(-1, session.InputMetadata["input"].Dimensions[0]);
        foreach (var x in new[] { sample, Torch.Randn([3, .. sampleShape], generator: gen) * 2 })
        {
            var expected = Eval(model, x).ToDoubleArray();
            // Randomized deep nets (AlexNet) reach outputs in the millions, where float32 accumulation order alone moves
            // the last digits: the absolute tolerance scales with the output's magnitude.
            double scale = Math.Max(1, expected.Max(Math.Abs));
            TestUtil.Close(expected, [.. RunOnnx(session, x).Select(v => (double)v)], Tolerance, Tolerance * scale);
        }
    }

    // The smallest input each zoo model takes: AlexNet's three stride-2 pools need 63×63, ResNet's stride 32 needs 32×32.
    [Theory]
    [InlineData("mlp", 1, 28)]
    [InlineData("cnn", 1, 28)]
    [InlineData("resnet", 1, 28)]
    [InlineData("vit", 1, 28)]
    [InlineData("lenet", 1, 28)]
    [InlineData("alexnet", 3, 63)]
    [InlineData("resnet18", 3, 32)]
    [InlineData("resnet34", 3, 32)]
    [InlineData("resnet50", 3, 32)]
    public void Every_zoo_model_matches_in_onnx_runtime_at_two_batch_sizes(string name, int channels, int size)
    {
        Torch.ManualSeed(11);
        var model = name == "alexnet" ? SharedModels.AlexNet : ModelZoo.Create(name, 10, channels);
        Randomize(model, 12);
        ExportAndCompare(model, [channels, size, size]);
    }

    // One case per activation, after a Linear whose outputs (for inputs ~ N(0, 4)) cover both signs and the
    // saturating ranges; a chain of them would let one saturating activation hide an error in another.
    static readonly (string Name, Func<Module> Activation)[] Activations =
    [
        ("ReLU", () => new ReLU()), ("LeakyReLU", () => new LeakyReLU(0.2)), ("ELU", () => new ELU(0.7)), ("CELU", () => new CELU(1.3)),
        ("SELU", () => new SELU()), ("GELU", () => new GELU()), ("GELU tanh", () => new GELU(GeluApproximate.Tanh)), ("SiLU", () => new SiLU()),
        ("Mish", () => new Mish()), ("Hardswish", () => new Hardswish()), ("Hardsigmoid", () => new Hardsigmoid()), ("Sigmoid", () => new Sigmoid()),
        ("Tanh", () => new Tanh()), ("Softsign", () => new Softsign()), ("Softplus", () => new Softplus()), ("Softplus beta 2", () => new Softplus(beta: 2)),
        ("LogSigmoid", () => new LogSigmoid()), ("ReLU6", () => new ReLU6()), ("Hardtanh", () => new Hardtanh(-0.5, 0.7)), ("RReLU", () => new RReLU()),
        ("Softmax", () => new Softmax(1)), ("Softmin", () => new Softmin(1)), ("LogSoftmax", () => new LogSoftmax(1)),
    ];

    public static TheoryData<string> Layers => [.. LayerCases.Keys];

    static readonly Dictionary<string, (Func<Module> Model, int[] Shape)> LayerCases = WithActivations(new()
    {
        ["convolutions"] = (() => new Sequential(
            new Conv2d(3, 8, (3, 5), (2, 1), (1, 2), (1, 2), groups: 1, bias: true, PaddingMode.Constant),
            new Conv2d(8, 8, 3, groups: 4, padding: ConvPadding.Same, dilation: 2, bias: false),
            new ConvTranspose2d(8, 4, 3, stride: 2, padding: 1, outputPadding: 1),
            new Conv2d(4, 6, 2, padding: ConvPadding.Same)), [3, 9, 10]),
        ["pooling"] = (() => new Sequential(
            new MaxPool2d(3, 2, padding: 1, ceilMode: true), new AvgPool2d(2, 1, padding: 1, countIncludePad: false),
            new MaxPool2d(2, 1, dilation: 2), new AdaptiveAvgPool2d((3, 2))), [2, 13, 12]),
        ["adaptive pooling"] = (() => new Sequential(new AdaptiveMaxPool2d((4, 3)), new AdaptiveAvgPool2d(2), new AdaptiveAvgPool2d(1), new Flatten()), [3, 8, 9]),
        ["normalization"] = (() => new Sequential(
            new BatchNorm2d(4), new Flatten(2), new BatchNorm1d(4), new LayerNorm([4, 30]), new LayerNorm(30, elementwiseAffine: false),
            new Flatten(), new Linear(120, 6), new BatchNorm1d(6, affine: false)), [4, 5, 6]),
        ["prelu"] = (() => new Sequential(new Conv2d(2, 4, 1), new PReLU(4), new Conv2d(4, 3, 1), new PReLU(), new Flatten(), new PReLU(27)), [2, 3, 3]),
        ["shape ops"] = (() => new Sequential(
            new PixelUnshuffle(2), new PixelShuffle(2), new Flatten(2), new Unflatten(2, 4, 6), new Dropout(), new Dropout2d(), new Identity(),
            new Flatten(1, 2), new Linear(6, 5)), [3, 4, 6]),
        ["transformer"] = (() => new Sequential(
            new Linear(8, 16), new TransformerEncoder(new TransformerEncoderLayer(16, 4, 24, dropout: 0.3), 2, new LayerNorm(16)),
            new MultiheadAttention(16, 2)), [5, 8]),
        ["focus"] = (() => new Sequential(new Focus(3, 8, 3), new ConvBnSiLU(8, 4, 3, stride: 2)), [3, 8, 12]),
        ["fused resnet"] = (() => Fusion.FuseModel(Randomized(ResNet.Small(5, 2, width: 8))).Model, [2, 12, 12]),
    });

    static Dictionary<string, (Func<Module> Model, int[] Shape)> WithActivations(Dictionary<string, (Func<Module> Model, int[] Shape)> cases)
    {
        foreach (var (name, activation) in Activations)
            cases["activation " + name] = (() => new Sequential(new Linear(4, 12), activation()), [4]);
        return cases;
    }

    static Module Randomized(Module m)
    {
        Randomize(m, 5);
        return m;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Each_supported_layer_matches_in_onnx_runtime(string name)
    {
        Torch.ManualSeed(21);
        var (factory, shape) = LayerCases[name];
        var model = factory();
        Randomize(model, 22);
        ExportAndCompare(model, shape);
    }

    [Fact]
    public void The_newest_supported_opset_also_runs_and_the_file_names_its_weights_by_state_dict()
    {
        Torch.ManualSeed(3);
        var model = new VisionTransformer(imageSize: 8, patchSize: 4, dim: 16, depth: 1, heads: 2, mlpDim: 16);
        Randomize(model, 4);
        ExportAndCompare(model, [1, 8, 8], Onnx.MaxOpset);
        var bytes = Onnx.ExportToBytes(model, Torch.Randn(1, 1, 8, 8), Onnx.MaxOpset);
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        foreach (var key in model.StateDict().Keys) Assert.Contains(key, text);
    }

    [Fact]
    public void Export_writes_a_file_and_restores_training_mode()
    {
        Torch.ManualSeed(5);
        var model = new FashionCnn();
        Randomize(model, 6);
        model.Train();
        var path = Path.Combine(Path.GetTempPath(), $"ember-{Guid.NewGuid():N}.onnx");
        Onnx.Export(model, Torch.Randn(1, 1, 28, 28), path);
        Assert.True(model.Training);
        Assert.All(model.Modules(), m => Assert.True(m.Training));
        using (var session = new InferenceSession(path))
        {
            var x = Torch.Randn(4, 1, 28, 28);
            TestUtil.Close(Eval(model, x).ToDoubleArray(), [.. RunOnnx(session, x).Select(v => (double)v)], Tolerance, Tolerance);
            Assert.Equal([-1, 10], session.OutputMetadata["output"].Dimensions);
        }
        File.Delete(path);
    }

    [Fact]
    public void A_static_batch_is_kept_when_asked()
    {
        var bytes = Onnx.ExportToBytes(new Linear(3, 2), Torch.Randn(4, 3), dynamicBatch: false);
        using var session = Session(bytes);
        Assert.Equal([4, 3], session.InputMetadata["input"].Dimensions);
    }

    sealed class Scale2 : Module
    {
        public override Tensor Forward(Tensor x) => x * 2;
    }

    [Fact]
    public void An_unsupported_module_is_named_with_its_path_and_the_supported_list()
    {
        var model = new Sequential(("features", new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Scale2())), ("head", new Linear(2, 2)));
        var path = Path.Combine(Path.GetTempPath(), $"ember-{Guid.NewGuid():N}.onnx");
        var ex = Assert.Throws<NotSupportedException>(() => Onnx.Export(model, Torch.Randn(1, 1, 5, 5), path));
        Assert.Contains("module 'features.2' (Scale2) has no ONNX exporter", ex.Message);
        Assert.Contains("supported modules: ", ex.Message);
        foreach (var supported in new[] { "Conv2d", "Linear", "BatchNorm2d", "MultiheadAttention", "ResNet", "VisionTransformer" })
            Assert.Contains(supported, ex.Message);
        Assert.False(File.Exists(path)); // nothing written

        var reflect = new Sequential(new Conv2d(1, 2, 3, padding: 1, paddingMode: PaddingMode.Reflect));
        var ex2 = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(reflect, Torch.Randn(1, 1, 5, 5)));
        Assert.Contains("module '0' (Conv2d): padding mode Reflect is not supported", ex2.Message);

        var batchStats = new Sequential(new Linear(3, 3), new BatchNorm1d(3, trackRunningStats: false));
        var ex3 = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(batchStats, Torch.Randn(2, 3)));
        Assert.Contains("module '1' (BatchNorm1d): it tracks no running statistics", ex3.Message);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(9)]
    [InlineData(99)]
    public void Opsets_outside_the_supported_range_are_rejected(int opset)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Onnx.ExportToBytes(new Linear(2, 2), Torch.Randn(1, 2), opset));
        Assert.Contains($"Onnx.Export: opset {opset} is not supported; use an opset from 17 to {Onnx.MaxOpset}", ex.Message);
    }
}
