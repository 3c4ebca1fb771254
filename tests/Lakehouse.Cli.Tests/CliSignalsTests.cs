using System.Runtime.InteropServices;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// The order of what the first signal does: the command's cancellation (and with it the server's refusal of new posts) is in force
/// when the user reads the notice, and a cancellation that hangs does not hold the notice back for long. Signals are not sent here
/// (the test host runs other commands' handlers); <see cref="CliSignals.Receive"/> is what the handler calls.
/// </summary>
public sealed class CliSignalsTests
{
    [Fact]
    public void Receive_FirstSignal_NoticeWrittenAfterTheCancellationsCallbacksRan()
    {
        // stream --from http: the notice was written on its own thread before the cancellation reached the server's refusal, so
        // a post sent right after the notice could still be taken.
        var callbackDone = 0;
        bool? doneAtNotice = null;
        string? noticed = null;
        using var signals = new CliSignals(name =>
        {
            doneAtNotice = Volatile.Read(ref callbackDone) == 1;
            noticed = name;
        });
        using var refusal = signals.Token.Register(() =>
        {
            Thread.Sleep(200);
            Volatile.Write(ref callbackDone, 1);
        });

        var handled = signals.Receive(PosixSignal.SIGINT);
        signals.WaitForNotice();

        Assert.True(handled);
        Assert.Equal((true, "Ctrl+C", 130), (doneAtNotice, noticed, signals.ExitCode));
        Assert.True(signals.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Receive_CancellationThatHangs_NoticeWrittenAllTheSame()
    {
        using var noticed = new ManualResetEventSlim();
        using var signals = new CliSignals(_ => noticed.Set());
        // A callback that only returns once the notice is out (or after 30 s): a notice that waited for it without a bound would
        // come after those 30 s.
        using var hanging = signals.Token.Register(() => noticed.Wait(TimeSpan.FromSeconds(30)));

        var receiving = Task.Run(() => signals.Receive(PosixSignal.SIGTERM));

        Assert.True(noticed.Wait(TimeSpan.FromSeconds(10)), "the notice waited for a cancellation that hangs");
        Assert.True(await receiving);
        Assert.Equal(143, signals.ExitCode);
    }

    [Fact]
    public void Receive_SecondSignal_LeftToTheDefaultAction()
    {
        var notices = 0;
        using var signals = new CliSignals(_ => Interlocked.Increment(ref notices));

        var first = signals.Receive(PosixSignal.SIGTERM);
        var second = signals.Receive(PosixSignal.SIGINT);
        signals.WaitForNotice();

        Assert.Equal((true, false), (first, second));
        Assert.Equal(1, Volatile.Read(ref notices));
        Assert.Equal(143, signals.ExitCode);
    }
}
