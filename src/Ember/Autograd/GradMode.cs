namespace Ember.Autograd;

/// <summary>Whether operations are recorded for autograd on the current thread (torch.is_grad_enabled).</summary>
public static class GradMode
{
    [ThreadStatic] static bool disabled;

    /// <summary>True when new operations are recorded.</summary>
    public static bool IsEnabled => !disabled;

    internal static bool Set(bool enabled)
    {
        bool previous = !disabled;
        disabled = !enabled;
        return previous;
    }

    /// <summary>Restores the previous grad mode when disposed (the object behind <c>using (Torch.NoGrad())</c>).</summary>
    public readonly struct Scope : IDisposable
    {
        readonly bool previous;
        internal Scope(bool enabled) => previous = Set(enabled);
        /// <summary>Restores the mode that was in force when the scope began.</summary>
        public void Dispose() => Set(previous);
    }
}
