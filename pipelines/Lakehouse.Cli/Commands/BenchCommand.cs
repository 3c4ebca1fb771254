using System.CommandLine;
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
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("bench", "Run the benchmark suite and print its JSON report: snapshot load, table read, import, append latency, files to bronze.")
        {
            Details = """
                Generated inputs are kept under the work folder and reused by later runs of the same size; the tables a run
                writes are deleted when it ends. Progress lines go to standard error, the report to standard output.
                """,
            Examples =
            [
                "lakehouse bench --size small",
                "lakehouse bench --size full --out report.json",
                "lakehouse bench --suite http --size small        # HTTP ingest events/s and p50/p99 latency at 1, 4, 16, 64 clients",
                "lakehouse bench --size full --case files_to_bronze",
                "lakehouse bench --azure abfss://bench@account.dfs.core.windows.net/runs   # credentials from the environment",
            ],
        };
        var size = CommandLine.Choice("--size", "small (the smoke run, about a minute) or full (the targets; builds inputs once).", "full", "small", "full");
        var output = CommandLine.Text("--out", "Also write the report to this file.", "file");
        var azure = CommandLine.Text("--azure", "Also time appends in a folder under this abfss:// location.", "uri");
        var work = CommandLine.Text("--work", "The folder for generated inputs (default ~/.cache/lakehouse/bench/<size>).", "folder");
        var suite = CommandLine.Choice("--suite", "core (the cases above) or http (HTTP ingest: 1 to 64 clients posting 1,000-event NDJSON bodies).", "core", "core", "http");
        command.Add(suite);
        var only = CommandLine.Text("--case", $"Run only these cases (comma-separated): {string.Join(", ", BenchSuite.CaseNames)}.", "names");
        command.Add(only);
        command.Add(size);
        command.Add(output);
        command.Add(azure);
        command.Add(work);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var benchSize = BenchSize.Parse(parse.GetValue(size)!);
            var location = parse.GetValue(azure);
            var folder = parse.GetValue(work)
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "bench", benchSize.Name);
            if (location is not null && !location.Contains("://", StringComparison.Ordinal))
                throw CommandLine.Usage($"--azure must be an abfss://container@account.dfs.core.windows.net/path URI, not '{location}'");
            // Opening checks the location and the credentials' shape without sending a request, so a bad one fails before the local cases run.
            ILakeStorage? azureRoot = location is null ? null : LakeContext.OpenStorage(location, session.LoggerFactory);
            HashSet<string>? cases = null;
            if (parse.GetValue(only) is { } names)
            {
                cases = [.. names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                if (cases.Count == 0 || cases.Any(c => !BenchSuite.CaseNames.Contains(c, StringComparer.Ordinal)))
                    throw CommandLine.Usage($"--case takes {CommandLine.Alternatives(BenchSuite.CaseNames)} (comma-separated), not '{names}'");
            }

            using var engine = DuckEngine.Open();
            if (parse.GetValue(suite) == "http")
            {
                var http = await HttpIngestBench.RunAsync(engine, Path.GetFullPath(folder), [1, 4, 16, 64],
                    TimeSpan.FromSeconds(benchSize.Name == "full" ? 20 : 5), session.Error.WriteLine, cancellationToken).ConfigureAwait(false);
                var httpJson = JsonSerializer.Serialize(http, BenchReport.JsonOptions);
                if (parse.GetValue(output) is { } httpFile) await File.WriteAllTextAsync(httpFile, httpJson + "\n", cancellationToken).ConfigureAwait(false);
                await session.Out.WriteLineAsync(httpJson).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            var report = await session.Progress.RunAsync($"bench --size {benchSize.Name}", line =>
            {
                Action<string> progress = session.Progress.Enabled
                    ? text =>
                    {
                        line.Update(text);
                        line.WriteLine(text);
                    }
                : session.Error.WriteLine;
                return new BenchSuite(engine, benchSize, Path.GetFullPath(folder), progress).RunAsync(azureRoot, cancellationToken, cases);
            }).ConfigureAwait(false);
            var json = JsonSerializer.Serialize(report, BenchReport.JsonOptions);
            if (parse.GetValue(output) is { } file) await File.WriteAllTextAsync(file, json + "\n", cancellationToken).ConfigureAwait(false);
            await session.Out.WriteLineAsync(json).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }
}
