using System.CommandLine;
using System.Text.Json;
using Lakehouse.Cli.Bench;
using Lakehouse.Core;
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
                (produced = bronze = silver + quarantined + duplicates; gold's events = silver's rows) or it fails. Its streaming part
                (--stream-rates, default 10000,100000, each for --stream-seconds, default 60; --skip-stream leaves it out) starts
                librdkafka's mock cluster, sends web-log events at each rate with lakehouse produce and runs lakehouse stream (bronze,
                silver, gold) on them: p50/p99 latency from the Kafka message's timestamp to the silver and gold commits that first
                hold the event, sustained events/s (first send → the gold commit holding the last event), the stream's peak RSS.
                --partitions (streaming and soak; default: enough for the mock to hold 60 s of the rate, 4 to 128) sets the topic's
                partition count: the mock keeps about 5 MB per partition, and a run whose stream falls further behind stops as void.
                --suite soak streams --rate events/s (default 20000) for --minutes (default 30) and samples every --sample-seconds
                (default 60): the stream's RSS, data files per partition, Delta log length and snapshot load time of every table,
                p50/p99 latency, lag; the report says which series stayed bounded.
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
                "lakehouse bench --suite medallion --events 200000 --stream-seconds 5 --stream-rates 2000",
                "lakehouse bench --suite soak --minutes 30 --rate 20000 --out soak.json",
                "lakehouse bench --suite medallion --events 200000 --stream-rates 100000 --partitions 128",
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
        var suite = CommandLine.Choice("--suite", "cases (the default), medallion (end to end against DuckDB) or soak (a long stream, sampled).", "cases", "cases", "medallion", "soak");
        var events = CommandLine.WholeNumber("--events", "Medallion: events of the batch run (default 2000000).", min: 1000, max: 1_000_000_000);
        var scaleEvents = CommandLine.WholeNumber("--scale-events", "Medallion: events of the memory run, 0 for none (default 10000000, or none when --events is given).",
            min: 0, max: 1_000_000_000);
        var streamSeconds = CommandLine.WholeNumber("--stream-seconds", "Medallion: seconds each stream rate is sent for (default 60).", min: 1, max: 86_400);
        var streamRates = CommandLine.Text("--stream-rates", "Medallion: the stream rates in events/s, comma-separated (default 10000,100000).", "rates");
        var skipStream = CommandLine.Flag("--skip-stream", "Medallion: leave the streaming part out.");
        var minutes = CommandLine.WholeNumber("--minutes", "Soak: minutes the producer sends (default 30).", min: 1, max: 10_080);
        var rate = CommandLine.WholeNumber("--rate", "Soak: events per second (default 20000).", min: 1, max: 10_000_000);
        var sampleSeconds = CommandLine.WholeNumber("--sample-seconds", "Soak: seconds between two samples (default 60).", min: 1, max: 3600);
        var partitions = CommandLine.WholeNumber("--partitions",
            "Medallion streaming and soak: partitions of the mock cluster's topic (default: enough to hold 60 s of the rate, 4 to 128).", min: 1, max: 1024);
        command.Add(suite);
        command.Add(streamSeconds);
        command.Add(streamRates);
        command.Add(skipStream);
        command.Add(minutes);
        command.Add(rate);
        command.Add(sampleSeconds);
        command.Add(partitions);
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

            var chosen = parse.GetValue(suite);
            if (chosen != "medallion" && (parse.GetResult(streamSeconds) is not null || parse.GetResult(streamRates) is not null || parse.GetValue(skipStream)))
                throw CommandLine.Usage("--stream-seconds, --stream-rates and --skip-stream are for --suite medallion");
            if (chosen != "soak" && (parse.GetResult(minutes) is not null || parse.GetResult(rate) is not null || parse.GetResult(sampleSeconds) is not null))
                throw CommandLine.Usage("--minutes, --rate and --sample-seconds are for --suite soak");
            if (chosen != "cases" && (cases is not null || parse.GetResult(size) is { Implicit: false } || location is not null))
                throw CommandLine.Usage("--case, --size and --azure are for --suite cases; the medallion suite takes --events and --scale-events");
            if (parse.GetResult(partitions) is not null && (chosen == "cases" || parse.GetValue(skipStream)))
                throw CommandLine.Usage("--partitions is for the streaming part of --suite medallion and for --suite soak");
            if (chosen == "soak" && (parse.GetResult(events) is not null || parse.GetResult(scaleEvents) is not null))
                throw CommandLine.Usage("--events and --scale-events are for --suite medallion; the soak takes --minutes, --rate and --sample-seconds");
            IReadOnlyList<int> rates = [10_000, 100_000];
            if (parse.GetValue(streamRates) is { } rateList)
            {
                if (parse.GetValue(skipStream)) throw CommandLine.Usage("--stream-rates and --skip-stream cannot go together");
                var parsed = rateList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(r => int.TryParse(r, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v is >= 1 and <= 10_000_000 ? v : -1).ToList();
                if (parsed.Count == 0 || parsed.Contains(-1))
                    throw CommandLine.Usage($"--stream-rates takes events per second from 1 to 10000000, comma-separated (e.g. 10000,100000), not '{rateList}'");
                rates = parsed;
            }
            if (parse.GetValue(skipStream)) rates = [];

            using var engine = DuckEngine.Open();
            if (chosen == "soak")
            {
                var soakSettings = new SoakSettings(parse.GetValue(minutes) ?? 30, (int)(parse.GetValue(rate) ?? 20_000), (int)(parse.GetValue(sampleSeconds) ?? 60),
                    (int?)parse.GetValue(partitions));
                var soakRoot = Path.GetFullPath(parse.GetValue(work) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "bench", "soak"));
                var soakRun = BenchSuite.NewRunFolder(soakRoot);
                var soak = await session.Progress.RunAsync("bench --suite soak", line =>
                    BenchSuite.InRunFolderAsync(soakRun, () => new SoakBench(engine, soakRun, Progress(line)).RunAsync(soakSettings, cancellationToken)))
                    .ConfigureAwait(false);
                await WriteReportAsync(JsonSerializer.Serialize(soak, BenchReport.JsonOptions)).ConfigureAwait(false);
                if (soak.Failure is { } failure) throw new LakehouseException(LakehouseErrorReason.Engine, "The soak failed (its report says what it measured until then): " + failure);
                return CliApp.ExitOk;
            }
            if (chosen == "medallion")
            {
                var settings = new MedallionSettings(parse.GetValue(events) ?? 2_000_000,
                    parse.GetValue(scaleEvents) ?? (parse.GetValue(events) is null ? 10_000_000 : 0),
                    StreamRates: rates, StreamSeconds: (int)(parse.GetValue(streamSeconds) ?? 60), StreamPartitions: (int?)parse.GetValue(partitions));
                var medallionWork = parse.GetValue(work) ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "bench", "medallion");
                var medallionRoot = Path.GetFullPath(medallionWork);
                var run = BenchSuite.NewRunFolder(medallionRoot);
                var medallion = await session.Progress.RunAsync("bench --suite medallion", line =>
                    BenchSuite.InRunFolderAsync(run, () => new MedallionBench(engine, settings, medallionRoot, run, Progress(line)).RunAsync(cancellationToken)))
                    .ConfigureAwait(false);
                return await WriteReportAsync(JsonSerializer.Serialize(medallion, BenchReport.JsonOptions)).ConfigureAwait(false);
            }
            var report = await session.Progress.RunAsync($"bench --size {benchSize.Name}", line =>
                new BenchSuite(engine, benchSize, Path.GetFullPath(folder), Progress(line), session.LoggerFactory).RunAsync(azureRoot, cancellationToken, cases)).ConfigureAwait(false);
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
