namespace Ember.Training.Amp;

/// <summary>The reduced precisions autocast can run matmul and convolution in.</summary>
public enum AutocastDType
{
    /// <summary>bfloat16: float32's range with 8 mantissa bits.</summary>
    BFloat16,
    /// <summary>float16: 11 mantissa bits, range ±65504 (needs a GradScaler).</summary>
    Float16,
}

/// <summary>
/// Mixed precision (torch.autocast). Inside the scope, the lower-precision ops (matmul, mm/bmm, linear, conv2d,
/// conv_transpose2d) cast their float32 inputs, weights and bias to bfloat16 or float16 per call, multiply with float32
/// accumulation, and return half tensors, so the activations their backward saves take half the bytes. The float32 ops
/// (softmax, log_softmax, layer_norm, group_norm and the losses) cast half inputs up to float32; every other op
/// (relu, add, pooling, batch_norm...) runs in its input's dtype. Master weights stay float32: the cast's backward
/// turns their gradients back into float32.
/// </summary>
public static class Autocast
{
    [ThreadStatic] static AutocastDType? active;

    /// <summary>The precision in force on this thread, or null outside autocast.</summary>
    public static AutocastDType? Active => active;

    /// <summary>Enters autocast until the scope is disposed: <c>using (Autocast.Enable(AutocastDType.BFloat16)) { ... }</c>.</summary>
    public static IDisposable Enable(AutocastDType dtype = AutocastDType.BFloat16, bool enabled = true)
    {
        var previous = active;
        if (enabled) active = dtype;
        return new Scope(previous);
    }

    sealed class Scope(AutocastDType? previous) : IDisposable
    {
        public void Dispose() => active = previous;
    }
}
