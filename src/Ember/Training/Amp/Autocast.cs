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
/// Mixed precision (torch.autocast): inside the scope, matmul, linear and convolution round their float32 inputs to
/// bfloat16 or float16 and accumulate in float32; reductions, softmax, norms and losses stay in float32, and
/// master weights stay float32. The rounding's backward rounds the gradient the same way, as a cast would.
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
