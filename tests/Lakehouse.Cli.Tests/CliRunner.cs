using System.Diagnostics;
using System.Text;
using Lakehouse.CrashHarness;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>Runs the real <c>lakehouse</c> binary in a child process, as a user would.</summary>
internal static class CliRunner
{
    internal sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// The CLI's own build output of this test run's configuration (pipelines/Lakehouse.Cli/bin/&lt;configuration&gt;/net10.0), the
    /// README's <c>dotnet …/lakehouse.dll</c>: a Release build there is ReadyToRun for this machine's runtime, with its natives laid
    /// out for it, which the copy of lakehouse.dll in this test project's folder is not. Found by the crash harness's <see cref="LakehouseChild"/>.
    /// </summary>
    internal static string Dll => LakehouseChild.CliDll;

    internal static async Task<Result> RunAsync(params string[] args) => await RunAsync(null, args);

    internal static Task<Result> RunAsync(IDictionary<string, string>? environment, params string[] args) =>
        RunProcessAsync("dotnet", [Dll, .. args], environment);

    /// <summary>Runs a bash command line, with $LAKEHOUSE standing for the CLI.</summary>
    /// <summary>
    /// Simulated events of each of <paramref name="datasets"/> (<paramref name="events"/> each) into <paramref name="lake"/>'s
    /// bronze, by <c>produce</c> into a folder per dataset under <paramref name="landing"/> and <c>bronze ingest</c>.
    /// </summary>
    internal static async Task LandAsync(string lake, string landing, int events, string seed, params string[] datasets)
    {
        foreach (var dataset in datasets)
        {
            var folder = Path.Combine(landing, dataset);
            var produced = await RunAsync("produce", "--dataset", dataset, "--events", events.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", seed, "--to", folder);
            Assert.True(produced.ExitCode == 0, produced.Stderr);
            foreach (var f in Directory.GetFiles(folder)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
            var ingested = await RunAsync("bronze", "ingest", "--lake", lake, "--dataset", dataset, "--from", folder);
            Assert.True(ingested.ExitCode == 0, ingested.Stderr);
        }
    }

    /// <summary>Makes the table in <paramref name="folder"/> unreadable: its first commit (created when there is none yet) is not JSON.</summary>
    internal static Task DamageFirstCommitAsync(string folder) =>
        File.WriteAllTextAsync(Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "_delta_log")).FullName, "00000000000000000000.json"), "{\"add\": not json\n");

    /// <summary>
    /// <c>&lt;layer&gt; run</c> over every dataset with sensors' <paramref name="table"/> of <paramref name="layer"/> made unreadable
    /// first; asserts that the run exits 1 naming sensors' failure and, last, how many datasets failed.
    /// </summary>
    internal static async Task<Result> RunWithSensorsDamagedAsync(string lake, string layer, string table)
    {
        await DamageFirstCommitAsync(Path.Combine(lake, layer, table));
        var run = await RunAsync(layer, "run", "--lake", lake);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"error: {layer}.sensors: ", run.Stderr, StringComparison.Ordinal);
        Assert.EndsWith($"error: 1 of 2 datasets failed ({layer}.sensors; their errors are above); the others were built.", run.Stderr.TrimEnd(), StringComparison.Ordinal);
        return run;
    }

    internal static Task<Result> ShellAsync(string script, IDictionary<string, string>? environment = null) =>
        RunProcessAsync("bash", ["-c", script], new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["LAKEHOUSE"] = "dotnet " + Dll });

    /// <summary>Runs a program to its end (at most 5 minutes) without LAKEHOUSE_LAKE from the test's environment.</summary>
    private static async Task<Result> RunProcessAsync(string program, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        if (environment is not null)
            foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} ran longer than 5 minutes");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Starts a <c>lakehouse</c> that listens on the port it is given (<paramref name="args"/> of a free port) and waits until it says it
    /// listens there and holds the port's socket (<see cref="LocalServers.ListensOn"/>). A port free a moment ago can be taken by another test's server meanwhile: a process that
    /// could not bind is started again on another port (3 times at most), and something else answering on the port is not taken for
    /// it (CI saw a test post to another test's stream).
    /// </summary>
    internal static async Task<(CliProcess Process, int Port)> StartListeningAsync(Func<int, IEnumerable<string>> args, IDictionary<string, string>? environment = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = LocalServers.FreePort();
            var process = CliRunner.Start(args(port), environment: environment);
            if (await process.WaitUntilAsync(() => process.Stdout.Contains($"listening on http://127.0.0.1:{port}", StringComparison.Ordinal) && LocalServers.ListensOn(process.Id, port)))
                return (process, port);
            var stderr = process.Stderr;
            var inUse = process.HasExited && stderr.Contains("address already in use", StringComparison.Ordinal);
            process.Dispose();
            if (!inUse || attempt == 3) Assert.Fail($"lakehouse never listened on {port} (attempt {attempt}): {stderr}");
        }
    }

    /// <summary>Starts the CLI without waiting for it: for tests that signal it while it runs. Standard output is read only when <paramref name="readStdout"/>.</summary>
    internal static CliProcess Start(IEnumerable<string> args, bool readStdout = true, IDictionary<string, string>? environment = null)
    {
        InheritedSignals.RestoreSigIntDefault();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        if (environment is not null)
            foreach (var (k, v) in environment) start.Environment[k] = v;
        return new CliProcess(Process.Start(start)!, readStdout);
    }
}

/// <summary>A running <c>lakehouse</c> process: its standard error as it comes, signals, and its end.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;

    internal CliProcess(Process process, bool readStdout)
    {
        _process = process;
        _stdoutPump = readStdout ? Pump(process.StandardOutput, _stdout) : Task.CompletedTask;
        _stderrPump = Pump(process.StandardError, _stderr);
    }

    private static Task Pump(StreamReader reader, StringBuilder into) => Task.Run(async () =>
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
            lock (into) into.Append(buffer, 0, n);
    });

    internal int Id => _process.Id;

    internal bool HasExited => _process.HasExited;

    internal string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Standard output so far (empty when it is not read).</summary>
    internal string Stdout
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    /// <summary>Sends a signal (INT, TERM) as <c>kill -INT pid</c> does.</summary>
    internal async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits until <paramref name="condition"/> holds or the process ends (at most <paramref name="limit"/>, 2 minutes by default); true when the condition held.</summary>
    internal async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan? limit = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (limit ?? TimeSpan.FromMinutes(2)))
        {
            if (condition()) return true;
            if (_process.HasExited) return condition();
            await Task.Delay(10);
        }
        return false;
    }

    /// <summary>True while a thread of the process is blocked writing into a pipe (its standard output is full).</summary>
    internal bool IsBlockedWritingToAPipe() =>
        Directory.GetDirectories($"/proc/{_process.Id}/task").Any(t =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(t, "wchan")).Contains("pipe_write", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>Waits for the end (at most 5 minutes, then kills it) and returns the exit code and output.</summary>
    internal async Task<CliRunner.Result> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("lakehouse ran longer than 5 minutes");
        }
        await Task.WhenAll(_stdoutPump, _stderrPump);
        return new CliRunner.Result(_process.ExitCode, Stdout, Stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
