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
        var y = input.MatMul(weight.T);
        // autocast casts linear's bias with its other operands, so the output stays in half precision
        if (bias is not null) bias = Ops.PrecisionOps.ForAutocast(bias);
        // PyTorch fuses a 2-D input with a bias into one addmm
        return bias is null ? y : input.Rank == 2 ? Autograd.Recording.Named(y + bias, "AddmmBackward0", input, weight, bias) : y + bias;
    }

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
