using System.Runtime.InteropServices;

namespace Lakehouse.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM. The first cancels the running command's token: the command stops what it runs (DuckDB queries are
/// interrupted), removes what it staged and commits nothing, and the process exits with 130 (SIGINT) or 143 (SIGTERM).
/// A second Ctrl+C is left to the system's default action: the process ends at once.
/// </summary>
internal sealed class CliSignals : IDisposable
{
    internal const int ExitSigInt = 130;
    internal const int ExitSigTerm = 143;

    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _sigInt;
    private readonly PosixSignalRegistration _sigTerm;
    private readonly Action<string> _onFirst;
    private int _received;
    private int _exitCode;

    /// <param name="onFirst">Called with the signal's name when the first signal cancels the command (it tells the user).</param>
    internal CliSignals(Action<string> onFirst)
    {
        _onFirst = onFirst;
        _sigInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by the first signal.</summary>
    internal CancellationToken Token => _cancel.Token;

    /// <summary>130 or 143 once a signal has cancelled the command; null before.</summary>
    internal int? ExitCode => Volatile.Read(ref _exitCode) is var code and > 0 ? code : null;

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            // The second one: the default action of the signal ends the process now, whatever it is doing.
            context.Cancel = false;
            return;
        }
        context.Cancel = true;
        Volatile.Write(ref _exitCode, context.Signal == PosixSignal.SIGTERM ? ExitSigTerm : ExitSigInt);
        _onFirst(context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C");
        // Not on this thread: cancellation callbacks (DuckDB's interrupt, cleanups) must not hold up the signal handler.
        _ = Task.Run(_cancel.Cancel);
    }

    public void Dispose()
    {
        _sigInt.Dispose();
        _sigTerm.Dispose();
        _cancel.Dispose();
    }
}
