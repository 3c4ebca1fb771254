using System.Diagnostics;

namespace Lakehouse.Cli.Tests;

/// <summary>Runs the real <c>lakehouse</c> binary in a child process, as a user would.</summary>
internal static class CliRunner
{
    internal sealed record Result(int ExitCode, string Stdout, string Stderr);

    internal static string Dll => Path.Combine(AppContext.BaseDirectory, "lakehouse.dll");

    internal static async Task<Result> RunAsync(params string[] args) => await RunAsync(null, args);

    internal static Task<Result> RunAsync(IDictionary<string, string>? environment, params string[] args) =>
        RunProcessAsync("dotnet", [Dll, .. args], environment);

    /// <summary>Runs a bash command line, with $LAKEHOUSE standing for the CLI.</summary>
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
}
