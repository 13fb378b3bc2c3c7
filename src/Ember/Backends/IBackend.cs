using Ember.Kernels.Operators;

namespace Ember.Backends;

/// <summary>
/// The device contract: allocation, copies and the primitives. Ops ask the backend of their inputs
/// (<see cref="Backend.Of(Tensor)"/>), never a concrete device, so a GPU backend can slot in beside the CPU one.
/// Inputs arrive already type-promoted and, for binary ops, with broadcastable shapes.
/// </summary>
internal interface IBackend
{
    Tensor Empty(DType dtype, int[] shape, bool zeroed);
    void Fill(Tensor dst, double value);
    /// <summary>dst ← src, src broadcast to dst's shape, converting the element type.</summary>
    void Copy(Tensor src, Tensor dst);
    Tensor Unary(UnaryOp op, Tensor x);
    /// <summary>ReLU's backward from its output: grad where output > 0, else 0 (same shapes and dtype).</summary>
    Tensor ReluBackward(Tensor grad, Tensor output);
    /// <summary>A fused pointwise activation (GELU in either form, SiLU) on a floating-point tensor.</summary>
    Tensor Activation(Activation activation, Tensor x);
    /// <summary>Its backward: grad·f′(x) (same shapes and dtype).</summary>
    Tensor ActivationBackward(Activation activation, Tensor grad, Tensor x);
    Tensor Binary(BinaryOp op, Tensor a, Tensor b);
    Tensor Compare(CompareOp op, Tensor a, Tensor b);
    Tensor Where(Tensor condition, Tensor a, Tensor b);
    Tensor Reduce(ReduceOp op, Tensor x, int[] dims, bool keepDim);
    /// <summary>The sum over <paramref name="dims"/> divided by the count in the same pass (float32 or float64): the bits of sum, then divide.</summary>
    Tensor Mean(Tensor x, int[] dims, bool keepDim);
    (Tensor Values, Tensor Indices) ArgReduce(bool max, Tensor x, int dim, bool keepDim);
    Tensor Softmax(Tensor x, int dim, bool log);
    /// <summary>Softmax's backward from its output y: y·(g − Σ g·y) (log: g − e^y·Σ g) along <paramref name="dim"/>; g and y of one shape and dtype.</summary>
    Tensor SoftmaxBackward(Tensor grad, Tensor output, int dim, bool log);
    /// <summary>
    /// alpha·a·b: [b, m, k] × [b, k, n] → [b, m, n] (b may be absent: 2-D); alpha scales each sum as the GEMM stores it
    /// (attention's 1/√d), so it costs no pass of its own. <paramref name="outputOrder"/>: the output's dims from
    /// outermost to innermost in memory, the last dim last (a batched product laid out as a permuted tensor, such as
    /// attention heads that lie as [N, L, H, d]); null: contiguous.
    /// </summary>
    Tensor MatMul(Tensor a, Tensor b, double alpha = 1, int[]? outputOrder = null);
    /// <summary>
    /// bias + a·b (torch.addmm with beta = alpha = 1): a [m, k], b [k, n], bias [n] added to every row, float32 or
    /// float64; the product starts from the bias, so no second pass adds it.
    /// </summary>
    Tensor AddMm(Tensor bias, Tensor a, Tensor b);
}
