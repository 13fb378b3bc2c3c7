using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Quantization;
using Ember.Tests.Reference.Quantization;
using R = Ember.Tests.Reference.Quantization.DynamicQuantizationReference;

namespace Ember.Tests.Quantization;

public class DynamicQuantizedLinearTests
{
    static Linear ReferenceLinear()
    {
        var linear = new Linear(R.K, R.N);
        using (Torch.NoGrad())
        {
            linear.Weight.CopyFrom(Torch.FromArray(R.W, [R.N, R.K]));
            linear.Bias!.CopyFrom(Torch.FromArray(R.B, [R.N]));
        }
        return linear;
    }

    [Fact]
    public void WeightsQuantizePerChannelAsPyTorch()
    {
        var q = DynamicQuantizedLinear.FromFloat(ReferenceLinear());
        Assert.Equal(R.WeightScales, q.WeightScales);
        for (int j = 0; j < R.N; j++)
            for (int i = 0; i < R.K; i++)
                Assert.True(R.WeightInt[j * R.K + i] == q.QuantizedWeight(j, i), $"weight [{j}, {i}]");
    }

    [Fact]
    public void ActivationParametersFollowFbgemmsRules()
    {
        // [−1, 3] over 0..127: scale 4/127; zero point from the min side (the smaller terms): 1/(4/127) = 31.75 → 32
        var p = QuantizationParameters.ChooseAffine(-1f, 3f, reduceRange: true);
        Assert.Equal((float)(4.0 / 127), p.Scale);
        Assert.Equal(32, p.ZeroPoint);
        // all positive: the range is widened to hold 0, so the zero point is qmin
        Assert.Equal(new QuantizationParameters((float)(2.0 / 255), 0), QuantizationParameters.ChooseAffine(0.5f, 2f));
        // all negative: zero point qmax
        Assert.Equal(127, QuantizationParameters.ChooseAffine(-2f, -0.5f, reduceRange: true).ZeroPoint);
        // a constant zero input: scale 0.1 instead of 0 (its reciprocal must be finite)
        Assert.Equal(new QuantizationParameters(0.1f, 0), QuantizationParameters.ChooseAffine(0f, 0f));
        // a tiny range is raised to fbgemm's threshold 6.1e-5
        Assert.Equal(6.1e-5f, QuantizationParameters.ChooseAffine(0f, 1e-4f).Scale);
        Assert.Equal(new QuantizationParameters(R.XScale, R.XZeroPoint), QuantizationParameters.ChooseAffine(R.X.Min(), R.X.Max(), reduceRange: true));
    }

    [Fact]
    public void InputQuantizesAsPyTorchsQuantizePerTensor()
    {
        var q = new byte[R.M * ((R.K + 3) & ~3)];
        Ember.Kernels.Quantized.Uint8Quantizer.QuantizeRows(R.X, R.M, R.K, R.XScale, R.XZeroPoint, q, (R.K + 3) & ~3);
        for (int r = 0; r < R.M; r++)
            for (int c = 0; c < R.K; c++)
                Assert.True(R.XInt[r * R.K + c] == q[r * ((R.K + 3) & ~3) + c], $"input [{r}, {c}]");
    }

    [Fact]
    public void ForwardMatchesTheDequantizedProductOfPyTorchsQuantizedTensors()
    {
        var q = DynamicQuantizedLinear.FromFloat(ReferenceLinear());
        var y = q.Call(Torch.FromArray(R.X, [R.M, R.K])).ToArray<float>();
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - R.Y[i]) <= 1e-5 * Math.Abs(R.Y[i]) + 1e-6, $"y[{i}] = {y[i]}, expected {R.Y[i]}");
    }

    [Fact]
    public void BatchedInputsKeepTheirLeadingDimensionsAndDoNotTrackGradients()
    {
        var q = DynamicQuantizedLinear.FromFloat(ReferenceLinear());
        var x = Torch.FromArray(R.X, [R.M, R.K]);
        x.RequiresGrad = true;
        var flat = q.Call(x);
        var batched = q.Call(x.Reshape(1, R.M, R.K));
        Assert.Equal([1, R.M, R.N], batched.Shape.ToArray());
        Assert.Equal(flat.ToArray<float>(), batched.ToArray<float>());
        Assert.False(flat.RequiresGrad);
    }

    [Fact]
    public void QuantizingAnMlpReplacesItsLinearsAndKeepsItsPredictions()
    {
        Torch.ManualSeed(3);
        var model = new Sequential(new Linear(64, 128), new ReLU(), new Linear(128, 10));
        var x = Torch.Randn([256, 64]);
        model.Eval();
        var before = model.Call(x);
        long floatBytes = model.ParameterCount() * sizeof(float);
        DynamicQuantization.QuantizeDynamic(model);
        Assert.Equal(2, model.Modules().OfType<DynamicQuantizedLinear>().Count());
        Assert.Empty(model.Modules().OfType<Linear>());
        var after = model.Call(x);
        // 8-bit weights and 7-bit activations: outputs within a few percent of their spread, the same class nearly always
        double spread = before.Max().Item() - before.Min().Item();
        double worst = (after - before).Abs().Max().Item();
        Assert.True(worst < 0.03 * spread, $"largest change {worst} of a spread {spread}");
        double agree = after.ArgMax(1).Eq(before.ArgMax(1)).To(DType.Float32).Mean().Item();
        Assert.True(agree >= 0.97, $"top-1 agreement {agree}");
        long quantizedBytes = model.Modules().OfType<DynamicQuantizedLinear>().Sum(m => m.ByteCount);
        // a quarter of float32, plus the 10-class layer's padding to 16 channels and the per-channel scales and sums
        Assert.True(quantizedBytes < 0.32 * floatBytes, $"{quantizedBytes} bytes quantized vs {floatBytes} float");
    }

    [Fact]
    public void BadInputsNameTheLayerAndWhatCame()
    {
        var q = DynamicQuantizedLinear.FromFloat(ReferenceLinear());
        var e = Assert.Throws<ArgumentException>(() => q.Call(Torch.Zeros(2, 5)));
        Assert.Contains($"expected input [..., {R.K}], got [2, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => q.Call(Torch.Zeros([2, R.K], DType.Float64)));
        Assert.Contains("expected a float32 input, got Float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => q.Call(Torch.Full([1, R.K], double.NaN)));
        Assert.Contains("NaN", e.Message);
        var broken = new Linear(3, 2);
        using (Torch.NoGrad()) broken.Weight.FillInPlace(double.PositiveInfinity);
        e = Assert.Throws<ArgumentException>(() => DynamicQuantizedLinear.FromFloat(broken));
        Assert.Contains("output channel 0 of the weights holds NaN or Inf", e.Message);
    }
}
