using System.Text.Json;
using Lakehouse.Cli.Bench;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse bench [--size small|full] [--out report.json] [--azure abfss://...] [--work dir]</c>: the benchmark suite
/// (<see cref="BenchSuite"/>). The JSON report goes to standard output (and to --out), progress to standard error.
/// </summary>
internal static class BenchCommand
{
    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var line = CommandLine.Parse(args, new HashSet<string>(StringComparer.Ordinal));
        var size = BenchSize.Parse(line.Option("size") ?? "full");
        var output = line.Option("out");
        var azure = line.Option("azure");
        var work = line.Option("work")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "bench", size.Name);
        line.RejectUnknownOptions();
        if (line.Positionals.Count > 0) throw CommandLine.Usage($"bench takes no arguments, only options (got '{line.Positionals[0]}')");
        if (azure is not null && !azure.Contains("://", StringComparison.Ordinal))
            throw CommandLine.Usage($"--azure must be an abfss://container@account.dfs.core.windows.net/path URI, not '{azure}'");
        // Opening checks the location and the credentials' shape without sending a request, so a bad one fails before the local cases run.
        ILakeStorage? azureRoot;
        try
        {
            azureRoot = azure is null ? null : LakeStorage.Open(azure);
        }
        catch (ArgumentException e)
        {
            throw CommandLine.Usage($"--azure: the storage settings from the environment are not valid: {e.Message}");
        }

        using var engine = DuckEngine.Open();
        var report = await new BenchSuite(engine, size, Path.GetFullPath(work), stderr).RunAsync(azureRoot, cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(report, BenchReport.JsonOptions);
        if (output is not null) await File.WriteAllTextAsync(output, json + "\n", cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync(json).ConfigureAwait(false);
        return CliApp.ExitOk;
    }
}
