using System.Globalization;
using Ember.Analysis;
using Ember.Nn;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// Memory and training (`train`, `detect train`, `forecast train`). Before the first batch, a run whose one step surely
/// needs more than the machine holds is refused (<see cref="RequireFits"/>): it fits the address space, so without a
/// heap limit nothing in .NET would stop it before the kernel's OOM killer ends the process with no message.
/// Memory running out inside a training loop is the other case. The step that failed is lost,
/// nothing else: every checkpoint is written whole or not at all, so the run folder keeps its last/ as a kill would
/// leave it. The error then says so, and how the run goes on, besides which options to lower (<see cref="CliErrors.MemoryHint"/>).
/// </summary>
public static class TrainingMemory
{
    /// <summary>
    /// Runs <paramref name="fit"/>; an <see cref="OutOfMemoryException"/> from it is thrown again with what
    /// <paramref name="runDir"/> keeps and the command that continues it (<paramref name="resumeCommand"/>).
    /// </summary>
    public static void Run(Action fit, string runDir, string resumeCommand)
    {
        try { fit(); }
        catch (OutOfMemoryException e)
        {
            if (Kept(runDir, resumeCommand) is not string kept) throw;
            throw new OutOfMemoryException($"{e.Message.Split('\n')[0].Trim().TrimEnd('.')}; {kept}", e);
        }
    }

    /// <summary>Test seam: the bytes this process may use (default: what the GC says, the machine's memory or a container's limit).</summary>
    internal static readonly AsyncLocal<long?> AvailableBytes = new();

    /// <summary>
    /// Throws an <see cref="OutOfMemoryException"/> naming <paramref name="sizes"/> (the run's size options and values)
    /// when one training step of <paramref name="model"/> needs more than this process may use. The need is counted from
    /// below, so that no run that fits is refused: the weights with their gradients, the optimizer's state and the EMA's
    /// copy, and the outputs of the layers (profiled on one <paramref name="sample"/>, eval mode, no gradients) kept for
    /// backward, times <paramref name="samples"/> (the batch; times the area ratio when the sample is a smaller image of
    /// a convolutional model); autograd's other saved tensors, the loader's batches and the data set come on top.
    /// </summary>
    internal static void RequireFits(Module model, Tensor sample, double samples, OptimizerKind optimizer, bool ema, bool halfActivations, string sizes)
    {
        var report = Profiler.Profile(model, sample);
        double parameters = report.TotalParameters;
        double state = 4 * parameters * (2 + MemoryEstimator.StateCopies(optimizer) + (ema ? 1 : 0));
        double activations = (double)(report.ActivationElements + report.InputShape.NumEl) * samples * (halfActivations ? 2 : 4);
        double needed = state + activations, available = AvailableBytes.Value ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (needed <= available) return;
        throw new OutOfMemoryException(string.Create(CultureInfo.InvariantCulture,
            $"{sizes} needs at least {needed / 1e9:N1} GB for one training step (the layer outputs kept for backward {activations / 1e9:N1} GB; " +
            $"{parameters:N0} weights with their gradients and optimizer state {state / 1e9:N1} GB), more than the {available / 1e9:N1} GB this process may use"));
    }

    /// <summary>The state an optimizer option keeps per weight: sgd (with momentum or not), adam and adamw.</summary>
    internal static OptimizerKind StateOf(string optimizer, double momentum)
        => optimizer == "sgd" ? (momentum > 0 ? OptimizerKind.SgdMomentum : OptimizerKind.Sgd) : OptimizerKind.Adam;

    /// <summary>What a run folder holds after a failed step and how to go on from it; null before its first checkpoint.</summary>
    internal static string? Kept(string runDir, string resumeCommand)
    {
        var last = Path.Combine(runDir, "last");
        if (!File.Exists(Path.Combine(last, Checkpoint.JsonFile))) return null;
        var state = Checkpoint.ReadState(last);
        var at = state.EpochComplete ? $"the end of epoch {state.Epoch}" : $"epoch {state.Epoch}, batch {state.BatchesDone}";
        return $"{last} is whole (saved at {at}): `{resumeCommand}` continues from there when more memory is free " +
               "(a smaller batch or model needs a new run: the options that define a run cannot change on resume)";
    }
}
