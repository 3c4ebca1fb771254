using System.Diagnostics;
using System.Globalization;
using Lakehouse.Core;

namespace Lakehouse.Cli.Bench;

/// <summary>What a child <c>lakehouse</c> process printed, how long it ran and its peak resident set size.</summary>
internal sealed record CliChildRun(string Stdout, double Seconds, long PeakRssBytes);

/// <summary>This very CLI run as a child process, the way a user's shell runs it, with its wall time and peak memory.</summary>
internal static class CliChild
{
    private static readonly TimeSpan PeakPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// This very CLI, started the way this process was: <c>dotnet lakehouse.dll</c> when run by the dotnet host (the build output, or
    /// <c>dotnet lakehouse.dll</c> anywhere), else the executable itself (the installed tool's command).
    /// </summary>
    internal static string[] Command()
    {
        var process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) != "dotnet") return [process];
        return [process ?? "dotnet", typeof(CliChild).Assembly.Location];
    }

    /// <summary>
    /// Runs <c>lakehouse <paramref name="args"/></c> and returns its standard output; a non-zero exit is an error carrying its standard
    /// error. The peak RSS is the kernel's high-water mark (VmHWM in /proc/&lt;pid&gt;/status) read every 20 ms while it runs, so a
    /// peak reached in its last 20 ms can be missed.
    /// </summary>
    internal static async Task<CliChildRun> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var command = Command();
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1).Concat(args)) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command[0]}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        long peak = 0;
        try
        {
            var exited = process.WaitForExitAsync(cancellationToken);
            while (!exited.IsCompleted)
            {
                peak = Math.Max(peak, HighWaterMark(process.Id));
                await Task.WhenAny(exited, Task.Delay(PeakPoll, cancellationToken)).ConfigureAwait(false);
            }
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse {string.Join(' ', args)} failed with exit code {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
        return new CliChildRun(await stdout.ConfigureAwait(false), seconds, peak);
    }

    /// <summary>
    /// Starts <c>lakehouse <paramref name="args"/></c> with <paramref name="environment"/> added to this process's (LAKEHOUSE_LAKE
    /// removed) and leaves it running.
    /// </summary>
    internal static CliChildProcess Start(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var command = Command();
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1).Concat(args)) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return new CliChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command[0]}."));
    }

    /// <summary>VmHWM of a running process in bytes, 0 once it is gone (or where /proc does not exist).</summary>
    private static long HighWaterMark(int pid) => Memory(pid).Hwm;

    /// <summary>VmRSS and VmHWM of a running process in bytes, 0 once it is gone (or where /proc does not exist).</summary>
    internal static (long Rss, long Hwm) Memory(int pid)
    {
        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kib(line["VmHWM:".Length..]);
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kib(line["VmRSS:".Length..]);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return (rss, hwm);

        static long Kib(string text) => long.Parse(text.Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}

/// <summary>
/// A long-running child <c>lakehouse</c> (<see cref="CliChild.Start"/>): its output is collected while it runs, its resident set
/// size and peak can be read at any time, and <see cref="StopAsync"/> ends it with SIGTERM as a service manager would.
/// </summary>
internal sealed partial class CliChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;
    private long _peak;

    internal CliChildProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The process id.</summary>
    internal int Id => _process.Id;

    /// <summary>True once it has ended.</summary>
    internal bool HasExited => _process.HasExited;

    /// <summary>Its resident set size now (VmRSS), 0 once it is gone; also updates <see cref="PeakRssBytes"/>.</summary>
    internal long RssBytes()
    {
        var (rss, hwm) = CliChild.Memory(_process.Id);
        if (hwm > 0) _peak = Math.Max(_peak, hwm);
        return rss;
    }

    /// <summary>The largest high-water mark (VmHWM) read so far.</summary>
    internal long PeakRssBytes => _peak;

    /// <summary>Waits for the end (at most <paramref name="timeout"/>, then kills it) and returns its exit code and output.</summary>
    internal async Task<(int ExitCode, string Stdout, string Stderr)> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            while (!_process.HasExited)
            {
                RssBytes();
                await Task.Delay(100, limit.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _process.Kill(entireProcessTree: true);
            throw new LakehouseException(LakehouseErrorReason.Engine, $"A child lakehouse process (pid {_process.Id}) did not end within {timeout.TotalSeconds:0} s; it was killed.");
        }
        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return (_process.ExitCode, await _stdout.ConfigureAwait(false), await _stderr.ConfigureAwait(false));
    }

    /// <summary>Sends SIGTERM and waits (at most <paramref name="timeout"/>) for the end.</summary>
    internal Task<(int ExitCode, string Stdout, string Stderr)> StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        RssBytes();
        if (!_process.HasExited && Kill(_process.Id, SigTerm) != 0 && !_process.HasExited)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"SIGTERM could not be sent to the child lakehouse process {_process.Id}.");
        return WaitAsync(timeout, cancellationToken);
    }

    /// <summary>Kills it if it still runs.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
