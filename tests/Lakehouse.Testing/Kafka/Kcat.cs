using System.Diagnostics;

namespace Lakehouse.Testing.Kafka;

/// <summary>
/// Debian's <c>kcat</c>, a Kafka client outside this code base (its own librdkafka build), as the producer of the tests.
/// tests/run.sh installs it; a test that needs it fails with a clear message when it is missing rather than skipping.
/// </summary>
public static class Kcat
{
    /// <summary>The kcat executable on PATH.</summary>
    public static string Executable
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var name in new[] { "kcat", "kafkacat" })
                {
                    var path = Path.Combine(dir, name);
                    if (File.Exists(path)) return path;
                }
            }
            throw new InvalidOperationException("kcat is not installed, and these Kafka tests need it as the outside producer: run tests/run.sh (it installs it) or `apt-get install -y kcat`.");
        }
    }

    /// <summary>
    /// Produces one message per line of <paramref name="lines"/>, without a key: into <paramref name="partition"/> when given,
    /// else kcat spreads them over the partitions (in sticky batches, so a few thousand may all land in one partition).
    /// </summary>
    public static async Task ProduceLinesAsync(string bootstrap, string topic, IEnumerable<string> lines, int? partition = null)
    {
        await using var producer = StartProducer(bootstrap, topic, partition);
        foreach (var line in lines) await producer.WriteLineAsync(line);
        await producer.CompleteAsync();
    }

    /// <summary>Produces the bytes of <paramref name="file"/> as one message into <paramref name="partition"/>, with <paramref name="key"/> when given.</summary>
    public static async Task ProduceFileAsync(string bootstrap, string topic, string file, int partition, string? key = null)
    {
        List<string> args = ["-P", "-b", bootstrap, "-t", topic, "-p", partition.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (key is not null) args.AddRange(["-k", key]);
        args.Add(file);
        var (code, stderr) = await RunAsync(args);
        if (code != 0) throw new InvalidOperationException($"kcat {string.Join(' ', args)} exited {code}: {stderr}");
    }

    /// <summary>Starts <c>kcat -P</c> reading messages, one per line, from what the caller writes.</summary>
    public static KcatProducer StartProducer(string bootstrap, string topic, int? partition = null)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-P", "-b", bootstrap, "-t", topic, "-X", "linger.ms=5" }) start.ArgumentList.Add(a);
        if (partition is { } p)
        {
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new KcatProducer(Process.Start(start)!);
    }

    private static async Task<(int Code, string Stderr)> RunAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr);
    }
}

/// <summary>A running <c>kcat -P</c>: each line written is one message; <see cref="CompleteAsync"/> ends input and waits for delivery.</summary>
public sealed class KcatProducer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    internal KcatProducer(Process process)
    {
        _process = process;
        _process.StandardInput.AutoFlush = false;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Sends <paramref name="line"/> (UTF-8, without line breaks) as one message.</summary>
    public Task WriteLineAsync(string line)
    {
        if (line.Contains('\n', StringComparison.Ordinal)) throw new ArgumentException("A kcat line message may not contain a line break.", nameof(line));
        return _process.StandardInput.WriteAsync(line + "\n");
    }

    /// <summary>Hands what was written so far to kcat.</summary>
    public Task FlushAsync() => _process.StandardInput.FlushAsync();

    /// <summary>Closes kcat's input and waits until it has delivered every message and exited 0.</summary>
    public async Task CompleteAsync()
    {
        await _process.StandardInput.FlushAsync();
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await _process.WaitForExitAsync(timeout.Token);
        var stderr = await _stderr;
        if (_process.ExitCode != 0) throw new InvalidOperationException($"kcat exited {_process.ExitCode}: {stderr}");
    }

    /// <summary>Kills kcat if it still runs.</summary>
    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
