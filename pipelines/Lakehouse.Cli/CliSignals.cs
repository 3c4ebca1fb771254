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

    /// <summary>Set once the first signal's cancellation has run its callbacks (a task: the notice may still wait on it after <see cref="Dispose"/>).</summary>
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _received;
    private int _exitCode;
    private Thread? _notice;

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

    private void OnSignal(PosixSignalContext context) => context.Cancel = Receive(context.Signal);

    /// <summary>
    /// Takes a signal: the first cancels the command and tells the user (true: handled here); a later one is left to the signal's
    /// default action (false).
    /// </summary>
    internal bool Receive(PosixSignal signal)
    {
        if (Interlocked.Increment(ref _received) > 1) return false;
        Volatile.Write(ref _exitCode, signal == PosixSignal.SIGTERM ? ExitSigTerm : ExitSigInt);
        // Telling the user runs on a thread of its own: a write to standard error waits while a write to standard output is
        // blocked (.NET serializes console writes), and that must not hold up the cancellation. It waits for the cancellation's
        // callbacks (a while at most), so that what the notice announces is in force when it is read: a client that saw it and
        // posted again got 503, not 202 (the server's refusal is one of those callbacks).
        var name = signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";
        var notice = new Thread(() =>
        {
            _cancelled.Task.Wait(NoticeWaitsAtMost);
            _onFirst(name);
        })
        { IsBackground = true, Name = "lakehouse signal notice" };
        Volatile.Write(ref _notice, notice);
        notice.UnsafeStart();
        // This is the runtime's dedicated signal thread, not the thread pool (which a blocked query may have exhausted).
        try
        {
            _cancel.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command ended as the signal came.
        }
        finally
        {
            _cancelled.TrySetResult();
        }
        return true;
    }

    /// <summary>How long the notice waits for the cancellation's callbacks before it is written all the same.</summary>
    internal static TimeSpan NoticeWaitsAtMost { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Waits (a little) for the notice of the first signal to be written, so it comes before what the command writes last.</summary>
    internal void WaitForNotice() => Volatile.Read(ref _notice)?.Join(TimeSpan.FromSeconds(1));

    public void Dispose()
    {
        _sigInt.Dispose();
        _sigTerm.Dispose();
        _cancel.Dispose();
    }
}
