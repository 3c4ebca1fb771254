using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Lakehouse.CrashHarness;

/// <summary>The end of a <c>lakehouse</c> child process: its exit code (137 after SIGKILL) and what it printed.</summary>
/// <param name="ExitCode">The exit code; 128 + 9 when SIGKILL ended it.</param>
/// <param name="Stdout">Its standard output.</param>
/// <param name="Stderr">Its standard error.</param>
public sealed record ChildResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The exit code of a process ended by SIGKILL.</summary>
    public const int KilledExitCode = 137;

    /// <summary>True when SIGKILL ended the process.</summary>
    public bool WasKilled => ExitCode == KilledExitCode;
}

/// <summary>
/// A <c>lakehouse</c> command running as a child process, as a user or a scheduler runs it: the CLI's own build output
/// (pipelines/Lakehouse.Cli/bin/&lt;configuration&gt;/net10.0/lakehouse.dll) under <c>dotnet</c>. It can be killed with SIGKILL
/// at any moment; its output is collected as it comes, so a full pipe never blocks it.
/// </summary>
public sealed class LakehouseChild : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;

    private LakehouseChild(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(Pump(process.StandardOutput, _stdout), Pump(process.StandardError, _stderr));
    }

    /// <summary>The CLI the children run: <c>LAKEHOUSE_CLI_DLL</c> when set, else the newest build of pipelines/Lakehouse.Cli (Release preferred).</summary>
    public static string CliDll => Cli.Value;

    private static readonly Lazy<string> Cli = new(FindCli);

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>lakehouse <paramref name="args"/></c> with <paramref name="environment"/> added (LAKEHOUSE_LAKE and LAKEHOUSE_FAULT_POINT of this process are not passed on).</summary>
    public static LakehouseChild Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        start.Environment.Remove("LAKEHOUSE_FAULT_POINT");
        if (environment is not null)
            foreach (var (k, v) in environment) start.Environment[k] = v;
        return new LakehouseChild(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>Runs <c>lakehouse <paramref name="args"/></c> to its end.</summary>
    public static async Task<ChildResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var child = Start(args, environment);
        return await child.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Kills the process with SIGKILL, as <c>kill -9</c> does (nothing in it runs afterwards); false when it had already ended.</summary>
    public bool Kill()
    {
        if (_process.HasExited) return false;
        try
        {
            _process.Kill(entireProcessTree: false); // SIGKILL; the CLI starts no children of its own
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // ended meanwhile
        }
    }

    /// <summary>Waits for the end (at most <paramref name="timeout"/>, 10 minutes by default, then kills it and throws).</summary>
    public async Task<ChildResult> WaitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"lakehouse (pid {Id}) ran longer than {timeout ?? TimeSpan.FromMinutes(10)}: {Stderr}");
        }
        await _pumps.ConfigureAwait(false);
        return new ChildResult(_process.ExitCode, Stdout, Stderr);
    }

    private string Stdout
    {
        get
        {
            lock (_stdout) return _stdout.ToString();
        }
    }

    private string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            lock (into) into.Append(buffer, 0, n);
    }

    private static string FindCli()
    {
        if (Environment.GetEnvironmentVariable("LAKEHOUSE_CLI_DLL") is { Length: > 0 } given) return given;
        var bin = Path.Combine(RepoRoot, "pipelines", "Lakehouse.Cli", "bin");
        var candidates = new[] { "Release", "Debug" }.Select(c => Path.Combine(bin, c, "net10.0", "lakehouse.dll")).Where(File.Exists).ToList();
        // The build this harness belongs to first (a test run builds the CLI in its own configuration), else the newest.
        var own = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)));
        return candidates.FirstOrDefault(c => c.Contains("/" + own + "/", StringComparison.Ordinal))
            ?? candidates.OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            ?? throw new FileNotFoundException($"No build of the lakehouse CLI under {bin}: run dotnet build pipelines/Lakehouse.Cli first.");
    }

    /// <summary>The repository root (the folder holding Lakehouse.sln above this program).</summary>
    public static string RepoRoot => Root.Value;

    private static readonly Lazy<string> Root = new(FindRoot);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Lakehouse.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Lakehouse.sln not found above " + AppContext.BaseDirectory);
    }

    internal static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
