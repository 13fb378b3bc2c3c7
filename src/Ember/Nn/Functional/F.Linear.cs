namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// y = x·Wᵀ + b (torch.nn.functional.linear). x: [*, in], weight: [out, in], bias: [out] → [*, out].
    /// Wᵀ is a transposed view, so no copy of the weight is made.
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"linear: expected a 2-D weight [out_features, in_features], got shape {weight.Shape}");
        if (input.Rank == 0 || input.Size(-1) != weight.Size(1))
            throw new ArgumentException($"linear: expected input with {weight.Size(1)} features in its last dimension, got input shape {input.Shape} (weight shape {weight.Shape})");
        // autocast casts both to its precision; otherwise the GEMM needs one dtype (an int64 input is the usual slip)
        if (input.DType != weight.DType && Training.Amp.Autocast.Active is null)
            throw new ArgumentException($"linear: expected input of the weight's dtype {weight.DType.TorchName()}, got {input.DType.TorchName()} (input shape {input.Shape})");
        if (bias is not null && FusesBias(input, weight, bias))
        {
            // PyTorch's addmm: a 2-D input, or a contiguous one flattened to rows and viewed back (its _flatten_nd_linear)
            if (input.Rank == 2) return Ops.LinalgOps.AddMm(bias, input, weight.T);
            int rows = 1;
            for (int d = 0; d < input.Rank - 1; d++) rows *= input.Size(d);
            var flat = Ops.LinalgOps.AddMm(bias, input.Reshape(rows, weight.Size(1)), weight.T);
            return flat.Reshape([.. input.Shape.ToArray()[..^1], weight.Size(0)]);
        }
        var y = input.MatMul(weight.T);
        // autocast casts linear's bias with its other operands, so the output stays in half precision
        if (bias is not null) bias = Ops.PrecisionOps.ForAutocast(bias);
        return bias is null ? y : input.Rank == 2 ? Autograd.Recording.Named(y + bias, "AddmmBackward0", input, weight, bias) : y + bias;
    }

    // The fused form where the GEMM can start from the bias: float32/float64 outside autocast, a 1-D bias of out_features,
    // and an input that is 2-D or flattens to rows without a copy.
    static bool FusesBias(Tensor input, Tensor weight, Tensor bias) =>
        Training.Amp.Autocast.Active is null && input.DType is DType.Float32 or DType.Float64
        && weight.DType == input.DType && bias.DType == input.DType && bias.Rank == 1 && bias.Size(0) == weight.Size(0)
        && (input.Rank == 2 || input.IsContiguous);

    /// <summary>
    /// y = x₁ᵀ·A·x₂ + b per output feature (torch.nn.functional.bilinear). x₁: [*, in1], x₂: [*, in2],
    /// weight: [out, in1, in2], bias: [out] → [*, out].
    /// </summary>
    public static Tensor Bilinear(Tensor input1, Tensor input2, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 3 || input1.Size(-1) != weight.Size(1) || input2.Size(-1) != weight.Size(2))
            throw new ArgumentException($"bilinear: expected inputs [*, {(weight.Rank == 3 ? weight.Size(1) : -1)}] and [*, {(weight.Rank == 3 ? weight.Size(2) : -1)}] for weight shape {weight.Shape}, got {input1.Shape} and {input2.Shape}");
        int out_ = weight.Size(0), in1 = weight.Size(1), in2 = weight.Size(2);
        var lead = input1.Shape.ToArray()[..^1];
        var x1 = input1.Reshape(-1, in1);
        var x2 = input2.Reshape(-1, in2);
        // (x1·A_o)·x2 for every o: [n, in1] × [in1, out·in2] → [n, out, in2], then a dot with x2 over in2.
        var t = x1.MatMul(weight.Permute(1, 0, 2).Reshape(in1, out_ * in2)).Reshape(-1, out_, in2);
        var y = (t * x2.Unsqueeze(1)).Sum(-1);
        if (bias is not null) y = y + bias;
        return y.Reshape([.. lead, out_]);
    }
}
