using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lakehouse.Bronze;
using Lakehouse.Bronze.Simulator;
using Lakehouse.Datasets;
using Lakehouse.Datasets.Simulation;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse demo</c>: the end-to-end run on the embedded default. The simulator writes the three datasets (web logs, sensors,
/// access logs, with duplicates, malformed and late events) to the lake's landing zone; the ADF medallion pipeline
/// (<c>pipelines/adf/pipeline/pl_medallion.json</c>) runs each through bronze, silver and gold on the local pipeline runner; then
/// the quality counts and a gold summary are printed, with the command that serves the dashboard. A second run generates nothing
/// (the landing files are there), lands nothing twice and says which layers had nothing new.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The datasets in the order they run, with the share of --events each gets.</summary>
    private static readonly (string Name, double Share)[] Datasets = [("weblogs", 1.0), ("sensors", 0.5), ("accesslogs", 1.0)];

    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("demo", "Run the whole medallion on a local lake: simulated web logs, sensors and access logs through the ADF pipeline, bronze → silver → gold.")
        {
            Details = """
                The simulator writes --events web-log events and access-log lines and half as many sensor readings (2 % re-sent,
                1 % malformed, 2 % late) under <lake>/_lakehouse/landing/<dataset>/; pipelines/adf/pipeline/pl_medallion.json then
                runs once per dataset on the local pipeline runner (as `lakehouse pipeline run` does; history in `lakehouse pipeline
                runs`). The same --events and --seed give the same files, so running it again generates nothing, lands nothing
                twice, and says so. The lake is a local folder: --lake, $LAKEHOUSE_LAKE, or ./lake. --pipelines names another
                folder in ADF's Git layout (default: the pipelines/adf shipped with lakehouse).
                """,
            Examples = ["lakehouse demo", "lakehouse demo --lake /tmp/lake --events 20000 --seed 7"],
        };
        var events = CommandLine.WholeNumber("--events", "Web-log events and access-log lines to generate; sensors get half (default 30000).", min: 100, max: 10_000_000);
        var seed = CommandLine.WholeNumber("--seed", "The simulator's random seed (default 42).", min: 0, max: int.MaxValue, helpName: "S");
        var pipelines = CommandLine.Text("--pipelines", "The ADF folder whose pipeline/pl_medallion.json runs (default: the one shipped with lakehouse).", "folder");
        command.Add(events);
        command.Add(seed);
        command.Add(pipelines);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var folder = parse.GetValue(pipelines) ?? Path.Combine(AppContext.BaseDirectory, "adf");
            var pipeline = Path.Combine(folder, "pipeline", "pl_medallion.json");
            if (!File.Exists(pipeline)) throw CommandLine.Usage($"--pipelines: there is no pipeline/pl_medallion.json in '{folder}'");
            return await RunAsync(session, lake, pipeline, parse.GetValue(events) ?? 30_000, (int)(parse.GetValue(seed) ?? 42), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliSession session, LakeContext lake, string pipeline, long events, int seed, CancellationToken cancellationToken)
    {
        if (lake.LakeLocation.Contains("://", StringComparison.Ordinal))
            throw CommandLine.Usage("demo runs on a local lake folder (the embedded default); give --lake <folder>");
        var stdout = session.Out;
        var root = Path.GetFullPath(lake.LakeLocation);
        var landingRoot = Path.Combine(root, "_lakehouse", "landing");
        var clock = Stopwatch.StartNew();
        await stdout.WriteLineAsync($"lakehouse demo: lake {root}, pipeline {pipeline}, DuckDB {DuckEngine.LibraryVersion}").ConfigureAwait(false);

        // Landing: the producers' files. The same options name the same files, so a re-run generates nothing.
        foreach (var (name, share) in Datasets)
        {
            var count = Math.Max(100, (long)(events * share));
            var (files, generated) = await LandAsync(session, name, count, seed, Path.Combine(landingRoot, name), cancellationToken).ConfigureAwait(false);
            await Step(stdout, name, "landing", generated
                ? $"{count:N0} simulated events in {files} file(s) (2 % re-sent, 1 % malformed, 2 % late)"
                : $"skipped: the {count:N0} events of seed {seed} are already in the landing zone", clock).ConfigureAwait(false);
        }

        // The medallion pipeline, once per dataset, on the local runner.
        var runner = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = root, LoggerFactory = session.LoggerFactory, Webhook = PipelineWebhook.FromEnvironment() });
        await using (runner.ConfigureAwait(false))
        {
            foreach (var (name, _) in Datasets)
            {
                var before = await VersionsAsync(lake, name, cancellationToken).ConfigureAwait(false);
                var parameters = new Dictionary<string, string>
                {
                    ["dataset"] = name,
                    ["landingRoot"] = landingRoot,
                    ["lakeRoot"] = root,
                    ["folderPath"] = "landing/" + name,
                    ["synapseViewsScript"] = $"SELECT count(*) FROM silver.{name}",
                };
                var result = await session.Progress.RunAsync($"{name}: pipeline {Path.GetFileNameWithoutExtension(pipeline)}", _ =>
                    runner.RunAsync(pipeline, parameters, null, cancellationToken)).ConfigureAwait(false);
                var activities = string.Join(", ", result.Activities.Where(a => a.Status != RunStatus.Skipped)
                    .Select(a => $"{a.ActivityName} {a.Duration?.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"));
                await Step(stdout, name, "pipeline", $"{result.Pipeline} run {result.RunId} {result.Status}: {activities}", clock).ConfigureAwait(false);
                if (result.Status != RunStatus.Succeeded)
                    throw new Core.LakehouseException(Core.LakehouseErrorReason.Engine,
                        $"The {name} pipeline run {result.RunId} {result.Status}{(result.FailedActivity is { } failed ? $" in activity {failed}" : "")}: {result.Error ?? "see its activities"} " +
                        $"(lakehouse pipeline runs --run {result.RunId} --lake {lake.LakeLocation}; logs in {result.LogDirectory})");
                var after = await VersionsAsync(lake, name, cancellationToken).ConfigureAwait(false);
                var unchanged = before.Where(b => after.TryGetValue(b.Key, out var v) && v == b.Value).Select(b => b.Key).ToList();
                if (unchanged.Count > 0)
                {
                    await Step(stdout, name, "skipped", unchanged.Count == after.Count
                        ? $"nothing new: its {unchanged.Count} tables (bronze, silver, gold) are unchanged, every event was already in them exactly once"
                        : $"nothing new for {string.Join(", ", unchanged)}", clock).ConfigureAwait(false);
                }
            }
        }

        await stdout.WriteLineAsync().ConfigureAwait(false);
        await WriteQualityAsync(lake, stdout, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync().ConfigureAwait(false);
        await WriteGoldAsync(lake, stdout, cancellationToken).ConfigureAwait(false);

        var lakeOption = lake.LakeLocation == "./lake" ? "" : $" --lake {lake.LakeLocation}";
        await stdout.WriteLineAsync($"""

            done in {clock.Elapsed.TotalSeconds:0.0} s. Next:
              lakehouse serve{lakeOption}                   # the dashboard at http://127.0.0.1:8080/
              lakehouse sql{lakeOption} "SELECT event_date, page_url, events, tti_p95_ms FROM gold.{PagePerformanceDaily.TableName} WHERE events >= 100 ORDER BY tti_p95_ms DESC LIMIT 10"
              lakehouse pipeline runs{lakeOption}
              lakehouse status{lakeOption}
            """).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>Writes the dataset's simulated files to its landing folder unless this seed and count already did; returns the file count and whether it wrote them.</summary>
    private static async Task<(int Files, bool Generated)> LandAsync(CliSession session, string name, long count, int seed, string folder, CancellationToken cancellationToken)
    {
        var simulator = new SimulatorOptions { Events = count, Seed = seed, Duplicates = 0.02, Malformed = 0.01, Late = 0.02 };
        var runId = ProduceCommand.RunId(name, simulator);
        // The sink publishes each file by renaming it from a hidden in-progress name: a file with the run's name is complete.
        if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, runId + "-*").Any())
            return (Directory.EnumerateFiles(folder, runId + "-*").Count(), false);
        var definition = DatasetCatalog.BuiltIn.Get(name);
        var sink = EventSinks.Open(folder, new StreamSourceSettings { LoggerFactory = session.LoggerFactory }, new EventSinkOptions
        {
            Dataset = name,
            TextPayload = definition.Payload == DatasetPayloadKind.Text,
            RunId = runId,
            EventsPerFile = 100_000,
        });
        await session.Progress.RunAsync($"{name}: simulating {count:N0} events", _ =>
            EventProducer.RunAsync(EventSimulator.Generate(name, simulator), sink, new ProduceOptions(), null, cancellationToken)).ConfigureAwait(false);
        return (Directory.EnumerateFiles(folder, runId + "-*").Count(), true);
    }

    /// <summary>The current versions of the dataset's bronze, silver and gold tables (those that exist), by table name.</summary>
    private static async Task<Dictionary<string, long>> VersionsAsync(LakeContext lake, string dataset, CancellationToken cancellationToken)
    {
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        var definition = DatasetCatalog.BuiltIn.Get(dataset);
        foreach (var name in new[] { $"bronze.{dataset}", $"silver.{dataset}" }.Concat(definition.GoldOutputs.Select(g => "gold." + g)))
        {
            var table = lake.Table(name);
            if (await table.ExistsAsync(cancellationToken).ConfigureAwait(false))
                versions[name] = (await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Version;
        }
        return versions;
    }

    /// <summary>Per dataset: landed in bronze, clean in silver, quarantined, and the duplicates silver removed (the rest).</summary>
    private static async Task WriteQualityAsync(LakeContext lake, TextWriter stdout, CancellationToken cancellationToken)
    {
        var rows = new List<string?[]>();
        foreach (var (name, _) in Datasets)
        {
            var landed = await CountAsync(lake, $"bronze.{name}", cancellationToken).ConfigureAwait(false);
            var clean = await CountAsync(lake, $"silver.{name}", cancellationToken).ConfigureAwait(false);
            var quarantined = await CountAsync(lake, $"silver.{name}_quarantine", cancellationToken).ConfigureAwait(false);
            rows.Add([name, N(landed), N(clean), N(quarantined), N(landed - clean - quarantined)]);
        }
        await stdout.WriteLineAsync("quality (events):").ConfigureAwait(false);
        await Output.WriteTableAsync(stdout, ["dataset", "landed", "clean", "quarantined", "duplicates"], rows).ConfigureAwait(false);
    }

    /// <summary>The busiest pages' performance, the busiest access-log paths, and the alerts by rule.</summary>
    private static async Task WriteGoldAsync(LakeContext lake, TextWriter stdout, CancellationToken cancellationToken)
    {
        await stdout.WriteLineAsync($"gold.{PagePerformanceDaily.TableName}, the 10 busiest page-days:").ConfigureAwait(false);
        await QueryAsync(lake, stdout, $"gold.{PagePerformanceDaily.TableName}", ["event_date", "page_url", "events", "sessions", "tti_avg", "tti_p50", "tti_p95", "ttar_avg", "ttar_p95", "errors"],
            scan => $"""
                SELECT CAST(event_date AS VARCHAR), page_url, CAST(events AS VARCHAR), CAST(sessions AS VARCHAR),
                       printf('%.1f', tti_avg_ms), printf('%.1f', tti_p50_ms), printf('%.1f', tti_p95_ms),
                       printf('%.1f', ttar_avg_ms), printf('%.1f', ttar_p95_ms), printf('%.2f%%', 100 * error_rate)
                FROM ({scan}) ORDER BY events DESC, event_date, page_url LIMIT 10
                """, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync().ConfigureAwait(false);
        await stdout.WriteLineAsync("gold.access_daily, the 5 busiest paths:").ConfigureAwait(false);
        await QueryAsync(lake, stdout, "gold.access_daily", ["path", "requests", "bytes", "error_rate", "clients"],
            scan => $"""
                SELECT path, CAST(sum(requests) AS VARCHAR), CAST(sum(bytes) AS VARCHAR),
                       printf('%.2f%%', 100 * sum(error_rate * requests) / sum(requests)), CAST(max(distinct_clients) AS VARCHAR)
                FROM ({scan}) GROUP BY path ORDER BY sum(requests) DESC, path LIMIT 5
                """, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync().ConfigureAwait(false);
        await stdout.WriteLineAsync("gold.alerts by rule:").ConfigureAwait(false);
        await QueryAsync(lake, stdout, "gold.alerts", ["rule", "alerts", "keys", "first", "last"],
            scan => $"""
                SELECT rule, CAST(count(*) AS VARCHAR), CAST(count(DISTINCT key) AS VARCHAR),
                       strftime(min(window_start) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M'), strftime(max(window_start) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M')
                FROM ({scan}) GROUP BY rule ORDER BY count(*) DESC, rule
                """, cancellationToken).ConfigureAwait(false);
    }

    private static async Task QueryAsync(LakeContext lake, TextWriter stdout, string tableName, string[] headers, Func<string, string> sql, CancellationToken cancellationToken)
    {
        var table = lake.Table(tableName);
        if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            await stdout.WriteLineAsync($"  ({tableName} does not exist)").ConfigureAwait(false);
            return;
        }
        var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var rows = new List<string?[]>();
        using (var lease = lake.Engine.Lease())
        using (var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false))
        using (var result = lease.Connection.Query(sql(scan.Sql), cancellationToken))
        {
            while (result.Read()) rows.Add([.. Enumerable.Range(0, result.ColumnCount).Select(i => result.IsNull(i) ? null : result.GetString(i))]);
        }
        await Output.WriteTableAsync(stdout, headers, rows).ConfigureAwait(false);
    }

    private static async Task<long> CountAsync(LakeContext lake, string tableName, CancellationToken cancellationToken)
    {
        var table = lake.Table(tableName);
        if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) return 0;
        var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return await TableStatistics.CountRowsAsync(lake.Engine, table, snapshot, cancellationToken).ConfigureAwait(false);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static Task Step(TextWriter stdout, string dataset, string step, string text, Stopwatch clock) =>
        stdout.WriteLineAsync($"  {dataset,-10} {step,-8} {text}  [{clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s]");
}
