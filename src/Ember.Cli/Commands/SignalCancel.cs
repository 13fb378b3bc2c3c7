using System.Runtime.InteropServices;

namespace Ember.Cli.Commands;

/// <summary>
/// Ctrl-C and SIGTERM while a command other than a training run works (gradient-flow, detect make-data): the first
/// signal cancels <see cref="Token"/>, which the command checks between steps; the command then leaves its output
/// whole or marked incomplete and throws <see cref="CommandInterrupted"/> (exit 130 or 143 with its message). A second
/// signal is not cancelled and ends the process at once.
/// </summary>
internal sealed class SignalCancel : IDisposable
{
    readonly CancellationTokenSource source = new();
    readonly PosixSignalRegistration interrupt, terminate;
    volatile int signal; // 0 until the first signal, then its number

    /// <summary>Handles both signals until disposed.</summary>
    public SignalCancel()
    {
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => source.Token;

    /// <summary>The first signal received (SIGINT or SIGTERM), or null.</summary>
    public PosixSignal? Received => signal switch { 0 => null, 15 => PosixSignal.SIGTERM, _ => PosixSignal.SIGINT };

    void OnSignal(PosixSignalContext context)
    {
        if (signal != 0) return;
        context.Cancel = true;
        signal = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
        source.Cancel();
    }

    /// <summary>
    /// After a signal, throws <see cref="CommandInterrupted"/> "interrupted (SIGTERM|Ctrl-C); <paramref name="outcome"/>"
    /// with exit code 143 or 130.
    /// </summary>
    public void ThrowIfSignalled(string outcome)
    {
        if (signal == 0) return;
        bool term = signal == 15;
        throw new CommandInterrupted($"interrupted ({(term ? "SIGTERM" : "Ctrl-C")}); {outcome}", term ? 143 : ExitCodes.Interrupted);
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        source.Dispose();
    }
}

/// <summary>A command stopped by Ctrl-C or SIGTERM; the message says what it left behind.</summary>
public sealed class CommandInterrupted(string message, int exitCode) : Exception(message)
{
    /// <summary>130 after Ctrl-C, 143 after SIGTERM.</summary>
    public int ExitCode { get; } = exitCode;
}
