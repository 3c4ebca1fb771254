using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lakehouse.Bronze;
using Lakehouse.Cli.Samples;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Gold;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse demo</c>: the end-to-end run on the embedded default. It writes deterministic sample web-log events to the
/// landing zone, lands them raw in <c>bronze/weblogs</c> exactly once (a re-run lands nothing new), and rebuilds
/// <c>gold/page_performance_daily</c> from them, then prints the gold table.
/// Until the silver layer exists, parsing and deduplication happen in the gold query (<see cref="CleanEventsSql"/>).
/// </summary>
internal static class DemoCommand
{
    private const string Dataset = "weblogs";
    private static readonly DateOnly SampleStart = new(2024, 5, 1);

    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("demo", "Run the end-to-end slice on a local lake: sample web logs land in bronze exactly once, gold is rebuilt and printed.")
        {
            Details = """
                The same --events and --seed give the same landing files, so a second run lands nothing twice (a Delta txn per
                batch) and only rebuilds gold. The lake is a local folder: --lake, $LAKEHOUSE_LAKE, or ./lake.
                """,
            Examples = ["lakehouse demo", "lakehouse demo --lake /tmp/lake --events 20000 --seed 7"],
        };
        var events = CommandLine.WholeNumber("--events", "How many sample events to generate (default 100000).", min: 1, max: 100_000_000);
        var seed = CommandLine.WholeNumber("--seed", "The sample's random seed (default 42).", min: 0, max: int.MaxValue, helpName: "S");
        command.Add(events);
        command.Add(seed);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            return await RunAsync(lake, parse.GetValue(events) ?? 100_000, parse.GetValue(seed) ?? 42, session.Out, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    internal static async Task<int> RunAsync(LakeContext lake, long events, long seed, TextWriter stdout, CancellationToken cancellationToken)
    {
        if (lake.LakeLocation.Contains("://", StringComparison.Ordinal))
            throw CommandLine.Usage("demo runs on a local lake folder (the embedded default); give --lake <folder>");

        var root = Path.GetFullPath(lake.LakeLocation);
        await stdout.WriteLineAsync($"lakehouse demo: lake {root}, DuckDB {DuckEngine.LibraryVersion}").ConfigureAwait(false);
        var clock = Stopwatch.StartNew();

        // Landing: the producers' files. The same seed and count give the same files, so a re-run changes nothing.
        var landing = Path.Combine(root, "_lakehouse", "landing", Dataset, $"seed-{seed}-events-{events}");
        IReadOnlyList<string> files;
        using (var lease = lake.Engine.Lease())
        {
            files = Directory.Exists(landing) && Directory.EnumerateFiles(landing, "*.ndjson").Any()
                ? [.. Directory.GetFiles(landing, "*.ndjson").Order(StringComparer.Ordinal)]
                : WebLogSample.WriteNdjson(lease.Connection, landing, events, (int)seed, SampleStart, perFile: 250_000);
        }
        await Step(stdout, "landing", $"{events:N0} web-log events in {files.Count} NDJSON file(s) under {Path.GetRelativePath(root, landing)}", clock).ConfigureAwait(false);

        // Bronze: raw lines, exactly once per landing batch (a txn action keyed by the batch).
        var bronze = DeltaWriter.Create(lake.Table($"bronze.{Dataset}"), new DeltaWriteOptions { PartitionColumns = ["ingest_date"] });
        var landed = await bronze.AppendAsync(
            $"SELECT *, CAST(current_date AS DATE) AS ingest_date FROM ({RawLines.Sql(files)})",
            [new DeltaAppTransaction($"demo/landing/{Dataset}/seed-{seed}-events-{events}", 1)], cancellationToken).ConfigureAwait(false);
        await Step(stdout, "bronze", landed.Committed
            ? $"{Dataset}: {landed.Metric("numOutputRows"):N0} raw lines landed as version {landed.Version}"
            : $"{Dataset}: this batch is already landed (exactly once), nothing written; version {landed.Version}", clock).ConfigureAwait(false);

        // Gold: rebuilt from every event in bronze.
        var bronzeTable = bronze.Table;
        var gold = DeltaWriter.Create(lake.Table($"gold.{PagePerformanceDaily.TableName}"));
        long goldRows, parsed;
        var bronzeSnapshot = await bronzeTable.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var lines = await TableStatistics.CountRowsAsync(lake.Engine, bronzeTable, bronzeSnapshot, cancellationToken).ConfigureAwait(false); // from file stats, no scan
        using (var lease = lake.Engine.Lease())
        using (var scan = await DeltaScan.CreateAsync(bronzeTable, bronzeSnapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            lease.Connection.Execute($"CREATE OR REPLACE TABLE demo_events AS {CleanEventsSql(scan.Sql)}", cancellationToken);
            parsed = (long)lease.Connection.Scalar("SELECT count(*) FROM demo_events", cancellationToken)!;
            var result = await gold.OverwriteAsync(PagePerformanceDaily.Sql("SELECT * FROM demo_events"), cancellationToken: cancellationToken).ConfigureAwait(false);
            goldRows = result.Metric("numOutputRows");
            lease.Connection.Execute("DROP TABLE demo_events", cancellationToken);
            await Step(stdout, "gold", $"{PagePerformanceDaily.TableName}: {goldRows:N0} rows (day x page) from {parsed:N0} events as version {result.Version}" +
                (lines > parsed ? $"; {lines - parsed:N0} bronze lines were not valid events or were duplicates" : ""), clock).ConfigureAwait(false);
        }

        // The gold table, read back through the Delta reader as any client would.
        var goldTable = gold.Table;
        using (var lease = lake.Engine.Lease())
        using (var scan = await DeltaScan.CreateAsync(goldTable, await goldTable.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false),
            lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            using var result = lease.Connection.Query(
                $"""
                SELECT CAST(event_date AS VARCHAR), page_url, CAST(events AS VARCHAR), CAST(sessions AS VARCHAR),
                       printf('%.1f', tti_avg_ms), printf('%.1f', tti_p50_ms), printf('%.1f', tti_p95_ms),
                       printf('%.1f', ttar_avg_ms), printf('%.1f', ttar_p95_ms), printf('%.2f%%', 100 * error_rate)
                FROM ({scan.Sql}) ORDER BY events DESC, event_date, page_url LIMIT 20
                """, cancellationToken);
            var rows = new List<string?[]>();
            while (result.Read()) rows.Add([.. Enumerable.Range(0, result.ColumnCount).Select(i => result.IsNull(i) ? null : result.GetString(i))]);
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await Output.WriteTableAsync(stdout, ["event_date", "page_url", "events", "sessions", "tti_avg", "tti_p50", "tti_p95", "ttar_avg", "ttar_p95", "errors"], rows)
                .ConfigureAwait(false);
            if (goldRows > rows.Count) await stdout.WriteLineAsync($"({rows.Count} of {goldRows} rows)").ConfigureAwait(false);
        }
        var lakeOption = lake.LakeLocation == "./lake" ? "" : $" --lake {lake.LakeLocation}";
        await stdout.WriteLineAsync($"""

            done in {clock.Elapsed.TotalSeconds:0.0} s. Next:
              lakehouse sql{lakeOption} "SELECT page_url, sum(events) AS events, avg(tti_p95_ms) FROM gold.{PagePerformanceDaily.TableName} GROUP BY ALL ORDER BY 2 DESC"
              lakehouse table history{lakeOption} bronze.{Dataset}
            """).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>
    /// Bronze lines parsed as web-log events: lines that are not JSON objects, lack an event id or have no readable
    /// timestamp are left out; the first copy of each event id wins; page URLs lose query, fragment and trailing slash
    /// and are lower-cased.
    /// </summary>
    internal static string CleanEventsSql(string bronzeSql) => $"""
        SELECT event_id, event_time,
               coalesce(nullif(regexp_replace(lower(split_part(split_part(page_url, '?', 1), '#', 1)), '/+$', ''), ''), '/') AS page_url,
               session_id, tti_ms, ttar_ms, status
        FROM (
          SELECT json_extract_string(payload, '$.event_id') AS event_id,
                 TRY_CAST(json_extract_string(payload, '$.timestamp') AS TIMESTAMPTZ) AS event_time,
                 json_extract_string(payload, '$.page_url') AS page_url,
                 json_extract_string(payload, '$.session_id') AS session_id,
                 TRY_CAST(json_extract(payload, '$.tti_ms') AS DOUBLE) AS tti_ms,
                 TRY_CAST(json_extract(payload, '$.ttar_ms') AS DOUBLE) AS ttar_ms,
                 TRY_CAST(json_extract(payload, '$.status') AS INTEGER) AS status,
                 source_file, source_line
          FROM ({bronzeSql}) AS b
          WHERE json_valid(payload) AND json_type(payload) = 'OBJECT')
        WHERE event_id IS NOT NULL AND event_time IS NOT NULL AND page_url IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY source_file, source_line) = 1
        """;

    private static Task Step(TextWriter stdout, string step, string text, Stopwatch clock) =>
        stdout.WriteLineAsync($"  {step,-8} {text}  [{clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s]");
}
