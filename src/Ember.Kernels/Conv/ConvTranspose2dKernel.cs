using System.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>
/// 2-D transposed convolution on contiguous NCHW spans (torch.nn.functional.conv_transpose2d and its gradients).
/// It is the adjoint of the convolution <see cref="ConvTranspose2dGeometry.Conv"/>, so every entry point is a
/// <see cref="Conv2dKernel"/> kernel with roles exchanged: forward = that convolution's input gradient,
/// input gradient = that convolution's forward, weight gradient = its weight gradient with input and output swapped.
/// </summary>
public static class ConvTranspose2dKernel
{
    /// <summary>
    /// out[n, co, y, x] = bias[co] + Σ_{ci ∈ group(co), ih, iw, i, j : ih·sH − pH + i·dH = y, iw·sW − pW + j·dW = x} W[ci, co mod (C_out/groups), i, j] · in[n, ci, ih, iw].
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="weight">[C_in, C_out/groups, kH, kW].</param>
    /// <param name="bias">[C_out], or empty for no bias.</param>
    /// <param name="output">[N, C_out, H_out, W_out], overwritten.</param>
    public static void Forward<T>(in ConvTranspose2dGeometry g, ReadOnlySpan<T> input, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "ConvTranspose2d forward";
        Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        if (!bias.IsEmpty) Require(kernel, g, bias.Length, g.OutChannels, nameof(bias));
        Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        Conv2dKernel.BackwardInputCore(g.Conv, input, weight, bias, output);
    }

    /// <summary>gradInput = conv2d(gradOut, W) with the same stride, padding, dilation and groups (no bias).</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="weight">[C_in, C_out/groups, kH, kW].</param>
    /// <param name="gradInput">[N, C_in, H, W], overwritten.</param>
    public static void BackwardInput<T>(in ConvTranspose2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> weight, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "ConvTranspose2d backward (input)";
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        Conv2dKernel.Forward(g.Conv, gradOutput, weight, default, gradInput);
    }

    /// <summary>
    /// gradWeight[ci, co, i, j] = Σ_n Σ_{ih, iw} in[n, ci, ih, iw] · gradOut[n, co', ih·sH − pH + i·dH, iw·sW − pW + j·dW]
    /// (co' the output channel of group(ci)): the convolution weight gradient with gradOut as its input and our input as its output gradient.
    /// Summed over the batch in a fixed order.
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradWeight">[C_in, C_out/groups, kH, kW], overwritten.</param>
    public static void BackwardWeight<T>(in ConvTranspose2dGeometry g, ReadOnlySpan<T> input, ReadOnlySpan<T> gradOutput, Span<T> gradWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "ConvTranspose2d backward (weight)";
        Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, gradWeight.Length, g.WeightLength, nameof(gradWeight));
        Conv2dKernel.BackwardWeight(g.Conv, gradOutput, input, gradWeight);
    }

    /// <summary>gradBias[co] = Σ_n Σ_{y, x} gradOut[n, co, y, x].</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradBias">[C_out], overwritten.</param>
    public static void BackwardBias<T>(in ConvTranspose2dGeometry g, ReadOnlySpan<T> gradOutput, Span<T> gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "ConvTranspose2d backward (bias)";
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, gradBias.Length, g.OutChannels, nameof(gradBias));
        Conv2dKernel.ChannelSums(g.Batch, g.OutChannels, g.OutHeight * g.OutWidth, gradOutput, gradBias);
    }

    static void Require(string kernel, in ConvTranspose2dGeometry g, int actual, int needed, string name)
    {
        if (actual < needed)
            throw new ArgumentException($"{kernel}: {name} has {actual} elements but {needed} are needed for {g}", name);
    }
}
