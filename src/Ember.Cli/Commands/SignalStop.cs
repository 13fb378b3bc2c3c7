using System.Runtime.InteropServices;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// Ctrl-C and SIGTERM while a one-process training command runs: the first asks the trainer to stop after the current
/// batch (it then writes last/) with the reason "interrupted (SIGTERM|Ctrl-C); resume with: …"; a second signal is not
/// cancelled and ends the process at once. SIGTERM is what kill, timeout, Docker and job schedulers send.
/// </summary>
internal sealed class SignalStop : IDisposable
{
    readonly TrainerState state;
    readonly string resumeCommand;
    readonly PosixSignalRegistration interrupt, terminate;

    /// <summary>Handles both signals until disposed; <paramref name="resumeCommand"/> is what the reason tells the user to run.</summary>
    public SignalStop(TrainerState state, string resumeCommand)
    {
        this.state = state;
        this.resumeCommand = resumeCommand;
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>The first signal received, or null.</summary>
    public PosixSignal? Signal { get; private set; }

    void OnSignal(PosixSignalContext context)
    {
        if (Signal is not null) return;
        context.Cancel = true;
        Signal = context.Signal;
        state.StopReason = $"interrupted ({(context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl-C")}); resume with: {resumeCommand}";
        state.StopRequested = true;
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
    }
}
