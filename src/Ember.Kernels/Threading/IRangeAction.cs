namespace Ember.Kernels.Threading;

/// <summary>A unit of parallel work over a half-open index range; a struct so that the JIT specialises each caller.</summary>
public interface IRangeAction
{
    /// <summary>Processes indices [start, end).</summary>
    void Invoke(int start, int end);
}
