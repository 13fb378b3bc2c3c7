using System.Diagnostics;
using System.Reflection;

namespace Ember.Autograd;

/// <summary>
/// Autograd anomaly detection on the current thread (torch.autograd.detect_anomaly): while on, every recorded node keeps
/// the stack trace of the forward call that created it, and backward checks each node's input gradients, throwing
/// <see cref="AnomalyException"/> at the first node that returns NaN (PyTorch's check) or ±Inf (Ember also flags
/// infinities, which usually precede the NaN). Slow; for debugging only. Enter with <c>using (Torch.DetectAnomaly())</c>.
/// </summary>
public static class AnomalyMode
{
    [ThreadStatic] static bool enabled;
    [ThreadStatic] static bool checkNan;

    /// <summary>True inside a <see cref="Torch.DetectAnomaly"/> scope.</summary>
    public static bool IsEnabled => enabled;

    /// <summary>Whether backward checks gradients for NaN/Inf (false when the scope was entered with checkNan: false).</summary>
    public static bool ChecksGradients => enabled && checkNan;

    /// <summary>Restores the previous mode when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly bool previousEnabled, previousCheck;
        internal Scope(bool enable, bool check)
        {
            (previousEnabled, previousCheck) = (enabled, checkNan);
            (enabled, checkNan) = (enable, check);
        }
        /// <summary>Restores the mode that was in force when the scope began.</summary>
        public void Dispose() => (enabled, checkNan) = (previousEnabled, previousCheck);
    }

    internal static StackTrace? CaptureIfEnabled() => enabled ? new StackTrace(2, fNeedFileInfo: true) : null;

    static readonly Assembly EmberAssembly = typeof(AnomalyMode).Assembly;

    /// <summary>The first frame outside Ember and the runtime, "Method in file:line N": where the user's code called the op.</summary>
    internal static string UserFrame(StackTrace trace)
    {
        foreach (var frame in trace.GetFrames())
        {
            var method = frame.GetMethod();
            var assembly = method?.DeclaringType?.Assembly;
            if (method is null || assembly is null || assembly == EmberAssembly) continue;
            var name = assembly.GetName().Name ?? "";
            if (name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal)) continue;
            string where = frame.GetFileName() is { } file ? $" in {file}:line {frame.GetFileLineNumber()}" : "";
            return $"{method.DeclaringType!.FullName}.{method.Name}{where}";
        }
        return "(no frame outside Ember)";
    }

    /// <summary>Throws when <paramref name="grads"/> (a node's output of backward) holds NaN or Inf.</summary>
    internal static void Check(Node node, Tensor?[] grads)
    {
        for (int k = 0; k < grads.Length; k++)
        {
            if (grads[k] is not { } g || !g.DType.IsFloatingPoint()) continue;
            double sum;
            using (Torch.NoGrad()) sum = g.Detach().Sum().Item();
            if (double.IsFinite(sum)) continue;
            // the sum can overflow on finite values: confirm element by element
            string? kind = null;
            foreach (var v in g.ToDoubleArray())
            {
                if (double.IsNaN(v)) { kind = "nan"; break; }
                if (double.IsInfinity(v)) kind ??= "inf";
            }
            if (kind is null) continue;
            var trace = node.CreationTrace;
            string site = trace is null ? "(the node was created outside anomaly mode, so its creation site is unknown)" : UserFrame(trace);
            throw new AnomalyException(node.Name, k, kind, site, trace?.ToString());
        }
    }
}
