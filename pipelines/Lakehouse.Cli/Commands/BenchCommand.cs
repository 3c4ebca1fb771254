using System.CommandLine;
using System.Text.Json;
using Lakehouse.Cli.Bench;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse bench [--size small|full] [--case a,b] [--out report.json] [--azure abfss://...] [--work dir]</c>: the benchmark suite
/// (<see cref="BenchSuite"/>). The JSON report goes to standard output (and to --out), progress to standard error.
/// </summary>
internal static class BenchCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("bench", "Run a benchmark suite and print its JSON report: the cases (snapshot load, reads, ingest, silver, gold) or the medallion end to end.")
        {
            Details = """
                --suite cases (the default) runs the cases below; --suite medallion runs the simulator's web-log files through bronze,
                silver and gold as `lakehouse` commands (wall time, events/s, peak RSS of each), DuckDB's read_json → Parquet plus the
                GROUP BY of the same files as the baseline (ratio = pipeline events/s ÷ baseline events/s), the same run at
                --scale-events for memory, and the refresh of all three layers after 1,000 new events. Its counts must reconcile
                (produced = bronze = silver + quarantined + duplicates; gold's events = silver's rows) or it fails.
                The cases: snapshot_load, read_csv, import, append_latency, files_to_bronze, and http_ingest (1, 4, 16 and 64
                clients posting 1,000-event NDJSON bodies to an in-process server: events/s and p50/p99 latency to the 202, which
                comes after the bronze commit; 3 s per level with --size small, 20 s with full). --case runs only some of them.
                Generated inputs are kept under the work folder and reused by later runs of the same size; the tables a run
                writes are deleted when it ends. Progress lines go to standard error, the report to standard output.
                """,
            Examples =
            [
                "lakehouse bench --size small",
                "lakehouse bench --suite medallion --out medallion.json   # 2,000,000 events, and 10,000,000 for memory",
                "lakehouse bench --suite medallion --events 200000        # the smoke run: values checked, no scale run",
                "lakehouse bench --size full --out report.json",
                "lakehouse bench --size small --case http_ingest     # HTTP ingest events/s and p50/p99 latency at 1, 4, 16, 64 clients",
                "lakehouse bench --size full --case files_to_bronze,http_ingest",
                "lakehouse bench --azure abfss://bench@account.dfs.core.windows.net/runs   # credentials from the environment",
            ],
        };
        var size = CommandLine.Choice("--size", "small (the smoke run, about a minute) or full (the targets; builds inputs once).", "full", "small", "full");
        var output = CommandLine.Text("--out", "Also write the report to this file.", "file");
        var azure = CommandLine.Text("--azure", "Also time appends in a folder under this abfss:// location.", "uri");
        var work = CommandLine.Text("--work", "The folder for generated inputs (default ~/.cache/lakehouse/bench/<size>).", "folder");
        var only = CommandLine.Text("--case", $"Run only these cases (comma-separated): {string.Join(", ", BenchSuite.CaseNames)}.", "names");
        var suite = CommandLine.Choice("--suite", "cases (the default) or medallion (end to end against DuckDB).", "cases", "cases", "medallion");
        var events = CommandLine.WholeNumber("--events", "Medallion: events of the batch run (default 2000000).", min: 1000, max: 1_000_000_000);
        var scaleEvents = CommandLine.WholeNumber("--scale-events", "Medallion: events of the memory run, 0 for none (default 10000000, or none when --events is given).",
            min: 0, max: 1_000_000_000);
        command.Add(suite);
        command.Add(events);
        command.Add(scaleEvents);
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
            if (parse.GetValue(suite) == "medallion")
            {
                if (cases is not null || parse.GetResult(size) is { Implicit: false } || location is not null)
                    throw CommandLine.Usage("--case, --size and --azure are for --suite cases; the medallion suite takes --events and --scale-events");
                var settings = new MedallionSettings(parse.GetValue(events) ?? 2_000_000,
                    parse.GetValue(scaleEvents) ?? (parse.GetValue(events) is null ? 10_000_000 : 0));
                var medallionWork = parse.GetValue(work) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "bench", "medallion");
                var medallionRoot = Path.GetFullPath(medallionWork);
                var run = BenchSuite.NewRunFolder(medallionRoot);
                var medallion = await session.Progress.RunAsync("bench --suite medallion", line =>
                    BenchSuite.InRunFolderAsync(run, () => new MedallionBench(engine, settings, medallionRoot, run, Progress(line)).RunAsync(cancellationToken)))
                    .ConfigureAwait(false);
                return await WriteReportAsync(JsonSerializer.Serialize(medallion, BenchReport.JsonOptions)).ConfigureAwait(false);
            }
            var report = await session.Progress.RunAsync($"bench --size {benchSize.Name}", line =>
                new BenchSuite(engine, benchSize, Path.GetFullPath(folder), Progress(line)).RunAsync(azureRoot, cancellationToken, cases)).ConfigureAwait(false);
            return await WriteReportAsync(JsonSerializer.Serialize(report, BenchReport.JsonOptions)).ConfigureAwait(false);

            Action<string> Progress(IProgressLine line) => session.Progress.Enabled
                ? text =>
                {
                    line.Update(text);
                    line.WriteLine(text);
                }
            : session.Error.WriteLine;

            async Task<int> WriteReportAsync(string json)
            {
                if (parse.GetValue(output) is { } file) await File.WriteAllTextAsync(file, json + "\n", cancellationToken).ConfigureAwait(false);
                await session.Out.WriteLineAsync(json).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
        });
        return command;
    }
}
