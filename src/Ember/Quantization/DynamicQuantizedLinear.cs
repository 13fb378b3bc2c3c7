using Ember.Kernels.Quantized;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Quantization;

/// <summary>
/// A Linear layer with int8 weights and float32 activations (torch.ao.nn.quantized.dynamic.Linear): the weights are
/// quantized once, symmetrically per output channel; each call quantizes its input to uint8 with a scale and zero point
/// chosen from that input's own range (over 0..127, PyTorch's reduce_range on x86), multiplies in int8 with int32
/// sums, and returns float32. Inference only: the output does not track gradients.
/// </summary>
public sealed class DynamicQuantizedLinear : Module
{
    readonly Int8PackedWeights weights;
    readonly float[] weightScales;
    readonly float[]? bias;

    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    DynamicQuantizedLinear(int inFeatures, int outFeatures, Int8PackedWeights weights, float[] weightScales, float[]? bias)
    {
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        this.weights = weights;
        this.weightScales = weightScales;
        this.bias = bias;
    }

    /// <summary>Quantizes <paramref name="linear"/>'s float32 weights (from_float).</summary>
    public static DynamicQuantizedLinear FromFloat(Linear linear)
    {
        if (linear.Weight.DType != DType.Float32)
            throw new ArgumentException($"DynamicQuantizedLinear: weights must be float32, got {linear.Weight.DType}");
        int n = linear.OutFeatures, k = linear.InFeatures;
        var w = linear.Weight.Detach().ToArray<float>();
        var scales = new float[n];
        var q = new sbyte[(long)n * k];
        for (int j = 0; j < n; j++)
        {
            var row = w.AsSpan(j * k, k);
            var (min, max) = Uint8Quantizer.MinMax(row);
            if (float.IsNaN(min) || float.IsNaN(max) || float.IsInfinity(min) || float.IsInfinity(max))
                throw new ArgumentException($"DynamicQuantizedLinear: output channel {j} of the weights holds NaN or Inf");
            var p = QuantizationParameters.ChooseSymmetricInt8(min, max);
            scales[j] = p.Scale;
            float inverse = 1f / p.Scale;
            for (int i = 0; i < k; i++)
                q[(long)j * k + i] = (sbyte)Math.Clamp(MathF.Round(row[i] * inverse, MidpointRounding.ToEven), -128f, 127f);
        }
        var bias = linear.Bias?.Detach().ToArray<float>();
        return new DynamicQuantizedLinear(k, n, Int8PackedWeights.Pack(q, n, k), scales, bias);
    }

    /// <summary>The per-output-channel weight scales.</summary>
    public IReadOnlyList<float> WeightScales => weightScales;

    /// <summary>The quantized weight W[j, i] (an integer in −128..127); the float weight is W · WeightScales[j].</summary>
    public sbyte QuantizedWeight(int outFeature, int inFeature) => weights[outFeature, inFeature];

    /// <summary>The dequantized weights [out, in], float32: what the layer effectively multiplies by.</summary>
    public Tensor DequantizedWeight()
    {
        var values = new float[(long)OutFeatures * InFeatures];
        for (int j = 0; j < OutFeatures; j++)
            for (int i = 0; i < InFeatures; i++)
                values[(long)j * InFeatures + i] = weights[j, i] * weightScales[j];
        return Torch.FromArray(values, [OutFeatures, InFeatures]);
    }

    /// <summary>The bytes the layer keeps: int8 weights (with their per-channel sums), scales and float32 bias.</summary>
    public long ByteCount => weights.ByteCount + weightScales.LongLength * sizeof(float) + (bias?.LongLength ?? 0) * sizeof(float);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.DType != DType.Float32)
            throw new ArgumentException($"DynamicQuantizedLinear: expected a float32 input, got {input.DType}");
        if (input.Rank == 0 || input.Size(-1) != InFeatures)
            throw new ArgumentException($"DynamicQuantizedLinear: expected input [..., {InFeatures}], got [{string.Join(", ", input.Shape.ToArray())}]");
        var x = input.Detach().Contiguous();
        int m = InFeatures == 0 ? 0 : (int)(x.NumEl / InFeatures);
        var outputShape = input.Shape.ToArray();
        outputShape[^1] = OutFeatures;
        var output = Torch.Empty(outputShape);
        var values = x.Span<float>();
        var (min, max) = Uint8Quantizer.MinMax(values);
        if (float.IsInfinity(min) || float.IsInfinity(max))
            throw new ArgumentException("DynamicQuantizedLinear: the input holds Inf, which has no quantized representation");
        var p = QuantizationParameters.ChooseAffine(min, max, 0, 255, reduceRange: true);
        int bytes = checked(m * weights.PaddedColumns);
        // rented: a batch's quantized input is often over the large-object threshold, and it lives only for this call
        var quantized = System.Buffers.ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            Uint8Quantizer.QuantizeRows(values, m, InFeatures, p.Scale, p.ZeroPoint, quantized.AsSpan(0, bytes), weights.PaddedColumns);
            Int8Gemm.MultiplyDequantize(quantized.AsSpan(0, bytes), m, p.ZeroPoint, p.Scale, weights, weightScales, bias, output.Span<float>());
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(quantized); }
        return output;
    }

    /// <inheritdoc/>
    public override string ToString() => $"DynamicQuantizedLinear(in_features={InFeatures}, out_features={OutFeatures}, dtype=qint8, qscheme=per_channel_symmetric)";
}
