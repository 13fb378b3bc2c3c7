using Ember.Detection.Model;
using Ember.Interop;
using Ember.Nn;
using Ember.Nn.Layers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ember.Tests.Interop;

/// <summary>
/// The YOLOv5 detector and its parts, exported and run in ONNX Runtime: the file's single output must equal Ember's
/// eval-mode output (decoded boxes in pixels, objectness and class scores after the sigmoid), at the sample's batch
/// size and at another one.
/// </summary>
public class OnnxDetectionExportTests
{
    /// <summary>BN statistics and affine random (a fresh BN is the identity and would hide a wrong BN node).</summary>
    static void RandomizeNorms(Module model, long seed)
    {
        var gen = new Generator(seed);
        using (Torch.NoGrad())
            foreach (var m in model.Modules())
                if (m is NormBase norm)
                {
                    norm.RunningMean?.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.2);
                    norm.RunningVar?.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Weight?.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Bias?.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.2);
                }
    }

    internal static InferenceSession Session(byte[] model)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        return new InferenceSession(model, options);
    }

    internal static (float[] Values, int[] Shape) RunOnnx(InferenceSession session, Tensor x)
    {
        var input = new DenseTensor<float>(x.Contiguous().ToArray<float>(), x.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        Assert.Single(results);
        var output = results.Single(r => r.Name == "output").AsTensor<float>();
        return (output.ToArray(), output.Dimensions.ToArray());
    }

    static Tensor Eval(Module model, Tensor x)
    {
        model.Eval();
        using (Torch.NoGrad()) return model.Call(x);
    }

    /// <summary>Exports at batch 2 and checks ONNX Runtime against Ember at batch 2 and batch 1.</summary>
    static void ExportAndCompare(Module model, int[] sampleShape, double rtol, double atol, long seed = 1)
    {
        var gen = new Generator(seed);
        var sample = Torch.Rand([2, .. sampleShape], generator: gen);
        var bytes = Onnx.ExportToBytes(model, sample);
        using var session = Session(bytes);
        foreach (var x in new[] { sample, Torch.Rand([1, .. sampleShape], generator: gen) })
        {
            var expected = Eval(model, x);
            var (actual, shape) = RunOnnx(session, x);
            Assert.Equal(expected.Shape.ToArray(), shape);
            TestUtil.Close(expected.ToDoubleArray(), [.. actual.Select(v => (double)v)], rtol, atol);
        }
    }

    [Theory]
    [InlineData(320, 320, YoloStem.Conv6x6)]
    [InlineData(256, 320, YoloStem.Conv6x6)]
    [InlineData(256, 320, YoloStem.Focus)]
    public void Yolov5n_exports_its_decoded_output_and_matches_in_onnx_runtime(int height, int width, YoloStem stem)
    {
        Torch.ManualSeed(7);
        var model = new YoloV5(80, YoloSize.N, stem);
        RandomizeNorms(model, 8);
        var sample = Torch.Rand([2, 3, height, width], generator: new Generator(9));
        using var session = Session(Onnx.ExportToBytes(model, sample));
        foreach (var x in new[] { sample, Torch.Rand([1, 3, height, width], generator: new Generator(10)) })
        {
            var expected = Eval(model, x);
            int boxes = 3 * (height / 8 * width / 8 + height / 16 * width / 16 + height / 32 * width / 32);
            Assert.Equal(new Shape(x.Size(0), boxes, 85), expected.Shape);
            var (actual, shape) = RunOnnx(session, x);
            Assert.Equal([x.Size(0), boxes, 85], shape);
            // boxes are pixels (up to 4·373 for the largest anchor): float32 rounding scales with them; scores are in [0, 1]
            var e = expected.ToDoubleArray();
            for (int i = 0; i < e.Length; i++)
            {
                double tol = i % 85 < 4 ? 1e-4 * Math.Max(1, Math.Abs(e[i])) : 1e-5;
                Assert.True(Math.Abs(e[i] - actual[i]) <= tol, $"output {i} (box {i / 85}, column {i % 85}): Ember {e[i]}, ONNX Runtime {actual[i]}");
            }
        }
    }

    [Fact]
    public void The_export_is_a_single_decoded_output_as_yolov5_export_writes_it()
    {
        // xywh, objectness and classes in one tensor: every score column in [0, 1], centres inside a wide margin of the image
        Torch.ManualSeed(3);
        var model = new YoloV5(2, YoloSize.N);
        var x = Torch.Rand([1, 3, 64, 96], generator: new Generator(4));
        using var session = Session(Onnx.ExportToBytes(model, x));
        Assert.Equal(["output"], session.OutputMetadata.Keys);
        Assert.Equal([-1, 3 * (8 * 12 + 4 * 6 + 2 * 3), 7], session.OutputMetadata["output"].Dimensions);
        var (y, _) = RunOnnx(session, x);
        for (int b = 0; b < y.Length / 7; b++)
        {
            Assert.InRange(y[b * 7], -16, 96 + 16);
            Assert.InRange(y[b * 7 + 1], -16, 64 + 16);
            for (int c = 4; c < 7; c++) Assert.InRange(y[b * 7 + c], 0, 1);
        }
    }

    [Fact]
    public void A_model_built_from_a_yaml_definition_exports_and_matches_in_onnx_runtime()
    {
        Torch.ManualSeed(13);
        var model = YoloModel.FromYaml("yolov5n", numClasses: 3);
        RandomizeNorms(model, 14);
        var x = Torch.Rand([2, 3, 96, 128], generator: new Generator(15));
        using var session = Session(Onnx.ExportToBytes(model, x));
        var expected = Eval(model, x).ToDoubleArray();
        var (actual, shape) = RunOnnx(session, x);
        Assert.Equal([2, 3 * (12 * 16 + 6 * 8 + 3 * 4), 8], shape);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = i % 8 < 4 ? 1e-4 * Math.Max(1, Math.Abs(expected[i])) : 1e-5;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"output {i}: Ember {expected[i]}, ONNX Runtime {actual[i]}");
        }
        var ex = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(model, Torch.Rand(1, 3, 96, 112)));
        Assert.Contains("(YoloModel): expected a sample input [N, C, H, W] with H and W multiples of 32", ex.Message);
    }

    public static TheoryData<string> Parts => [.. PartCases.Keys];

    static readonly Dictionary<string, (Func<Module> Model, int[] Shape)> PartCases = new()
    {
        ["upsample nearest x2"] = (() => new Upsample(2.0), [3, 5, 7]),
        ["upsample nearest to size"] = (() => new Upsample((11, 9)), [3, 5, 7]),
        ["upsample bilinear x2"] = (() => new Upsample(2.0, InterpolationMode.Bilinear), [2, 5, 7]),
        ["upsample bilinear align corners to size"] = (() => new Upsample((9, 13), InterpolationMode.Bilinear, alignCorners: true), [2, 5, 7]),
        ["c3 with shortcut"] = (() => new C3(8, 8, n: 2), [8, 6, 10]),
        ["c3 without shortcut"] = (() => new C3(8, 12, n: 1, shortcut: false), [8, 6, 10]),
        ["bottleneck widening"] = (() => new CspBottleneck(6, 8), [6, 5, 5]),
        ["sppf"] = (() => new Sppf(8, 6), [8, 9, 7]),
    };

    [Theory]
    [MemberData(nameof(Parts))]
    public void Each_detection_part_matches_in_onnx_runtime(string name)
    {
        Torch.ManualSeed(21);
        var (factory, shape) = PartCases[name];
        var model = factory();
        RandomizeNorms(model, 22);
        ExportAndCompare(model, shape, 1e-5, 1e-5);
    }

    [Fact]
    public void A_sample_whose_size_is_not_a_multiple_of_32_is_refused_with_the_shape()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Onnx.ExportToBytes(new YoloV5(2, YoloSize.N), Torch.Rand(1, 3, 64, 80)));
        Assert.Contains("(YoloV5): expected a sample input [N, C, H, W] with H and W multiples of 32, got shape [1, 3, 64, 80]", ex.Message);
    }
}
