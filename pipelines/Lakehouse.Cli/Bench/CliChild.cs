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

    /// <summary>VmHWM of a running process in bytes, 0 once it is gone (or where /proc does not exist).</summary>
    private static long HighWaterMark(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kib = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }
}
