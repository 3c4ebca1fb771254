using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Bronze.Landing;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Silver;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Bench;

/// <summary>The settings of one <c>lakehouse bench --suite medallion</c> run.</summary>
/// <param name="Events">Web-log events of the batch run (the simulator's sends: duplicates and malformed ones included).</param>
/// <param name="ScaleEvents">Events of the memory run (0: not run).</param>
/// <param name="IncrementalEvents">Events of each incremental refresh.</param>
/// <param name="StreamRates">Rates (events/s) of the streaming part, one stream each (empty: not run).</param>
/// <param name="StreamSeconds">How long each stream's producer sends.</param>
/// <param name="StreamPartitions">Partitions of each stream's topic (null: <see cref="StreamRig.DefaultPartitions"/> of its rate).</param>
internal sealed record MedallionSettings(long Events, long ScaleEvents, int IncrementalEvents = 1_000, IReadOnlyList<int>? StreamRates = null, int StreamSeconds = 60,
    int? StreamPartitions = null);

/// <summary>
/// The medallion suite: the simulator's web-log files → bronze → silver → gold, each layer as the <c>lakehouse</c> command a user
/// runs (a child process: its wall time and peak RSS are the layer's), against DuckDB converting the same files to Parquet and
/// running gold's GROUP BY on them (the baseline, in this process); then the same pipeline at <see cref="MedallionSettings.ScaleEvents"/>
/// for memory, and the refresh of all three layers after 1,000 new events land (in this process, warm, as a long-running worker
/// would do it). Every run checks its counts: produced = bronze = silver + quarantined + duplicates, and gold's events = silver's
/// rows; a mismatch stops the bench with an error, so its numbers are never those of a wrong result.
/// </summary>
internal sealed class MedallionBench
{
    private const int Seed = 7;
    private const string Dataset = "weblogs";
    private const int IncrementalRounds = 3;

    /// <summary>The simulator's defaults: three days of events from this date.</summary>
    private static readonly DateOnly SampleStart = new(2024, 5, 1);

    private readonly DuckEngine _engine;
    private readonly MedallionSettings _settings;
    private readonly string _work;
    private readonly string _run;
    private readonly Action<string> _progress;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    internal MedallionBench(DuckEngine engine, MedallionSettings settings, string work, string run, Action<string> progress)
    {
        _engine = engine;
        _settings = settings;
        _work = work;
        _run = run;
        _progress = progress;
    }

    internal async Task<MedallionReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var (landing, reused) = await ProduceAsync(_settings.Events, cancellationToken).ConfigureAwait(false);
        var lake = Path.Combine(_run, "medallion-lake");
        var batch = await BatchAsync(landing, reused, lake, cancellationToken).ConfigureAwait(false);
        var baseline = Baseline(landing.Files, batch.Counts.Produced);
        var ratio = batch.EventsPerS / baseline.EventsPerS;
        Progress($"batch: {batch.EventsPerS:N0} events/s; DuckDB baseline {baseline.EventsPerS:N0} events/s (COPY {baseline.CopySeconds:0.00} s + GROUP BY {baseline.GroupBySeconds:0.00} s); ratio {ratio:0.000}");
        var batchResult = batch with
        {
            BaselineSeconds = Round(baseline.CopySeconds + baseline.GroupBySeconds, 3),
            BaselineCopySeconds = Round(baseline.CopySeconds, 3),
            BaselineGroupBySeconds = Round(baseline.GroupBySeconds, 3),
            BaselineEventsPerS = Round(baseline.EventsPerS, 0),
            Ratio = Round(ratio, 3),
            Met = ratio >= 1.0,
        };
        var incremental = await IncrementalAsync(lake, cancellationToken).ConfigureAwait(false);
        Directory.Delete(lake, recursive: true);
        List<MedallionStream>? stream = null;
        if (_settings.StreamRates is { Count: > 0 } rates)
            stream = await new MedallionStreamBench(_engine, _run, Progress).RunAsync(rates, _settings.StreamSeconds, _settings.StreamPartitions, cancellationToken).ConfigureAwait(false);
        MedallionScale? scale = null;
        if (_settings.ScaleEvents > 0)
        {
            var (scaleLanding, scaleReused) = await ProduceAsync(_settings.ScaleEvents, cancellationToken).ConfigureAwait(false);
            var scaleLake = Path.Combine(_run, "medallion-scale");
            var run = await BatchAsync(scaleLanding, scaleReused, scaleLake, cancellationToken).ConfigureAwait(false);
            Directory.Delete(scaleLake, recursive: true);
            scale = new MedallionScale(run.Counts.Produced, run.Seconds, run.EventsPerS, run.PeakRssBytes, run.Steps, "peak_rss_bytes_10m <= 1 GiB",
                run.PeakRssBytes <= 1L << 30);
        }
        return new MedallionReport("medallion", started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            new BenchMachine(Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, DuckEngine.LibraryVersion),
            _work, batchResult, scale, incremental, stream, Round(_clock.Elapsed.TotalSeconds, 1));
    }

    // ---- inputs -------------------------------------------------------------------------------------------------------------

    /// <summary>The landing files of <paramref name="events"/> simulated web-log sends (1 % re-sent, 0.5 % malformed), cached.</summary>
    private async Task<(MedallionLanding Landing, bool Reused)> ProduceAsync(long events, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_work, $"medallion-{events}");
        var marker = folder + ".complete";
        string[] args = ["produce", "--dataset", Dataset, "--events", Invariant(events), "--seed", Invariant(Seed), "--duplicates", "0.01", "--malformed", "0.005",
            "--file-events", "250000", "--to", folder, "--json"];
        var description = "medallion-inputs/1: lakehouse " + string.Join(' ', args.Where(a => a != folder));
        if (Directory.Exists(folder) && File.Exists(marker) && await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false) == description)
        {
            Progress($"inputs: reusing {folder}");
            return (Landing(folder), true);
        }
        File.Delete(marker);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Progress($"inputs: {description}");
        await CliChild.RunAsync(args, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(marker, description, cancellationToken).ConfigureAwait(false);
        return (Landing(folder), false);
    }

    private static MedallionLanding Landing(string folder)
    {
        var files = Directory.GetFiles(folder, "*.ndjson").Order(StringComparer.Ordinal).ToList();
        return new MedallionLanding(folder, files, files.Sum(f => new FileInfo(f).Length));
    }

    // ---- batch --------------------------------------------------------------------------------------------------------------

    /// <summary>bronze ingest → silver run → gold run of the landing files into a fresh lake, each as a child process.</summary>
    private async Task<MedallionBatch> BatchAsync(MedallionLanding landing, bool reused, string lake, CancellationToken cancellationToken)
    {
        if (Directory.Exists(lake)) Directory.Delete(lake, recursive: true);
        var produced = CountLines(landing.Files);
        var bronze = await StepAsync("bronze", ["bronze", "ingest", "--dataset", Dataset, "--from", landing.Folder, "--once", "--settle-ms", "0", "--json", "--lake", lake], cancellationToken).ConfigureAwait(false);
        var silver = await StepAsync("silver", ["silver", "run", "--dataset", Dataset, "--json", "--lake", lake], cancellationToken).ConfigureAwait(false);
        var gold = await StepAsync("gold", ["gold", "run", "--dataset", Dataset, "--json", "--lake", lake], cancellationToken).ConfigureAwait(false);

        var counts = new MedallionCounts(
            produced,
            bronze.Json.GetProperty("events").GetInt64(),
            silver.Json.GetProperty("rowsIn").GetInt64(),
            silver.Json.GetProperty("rowsOut").GetInt64(),
            silver.Json.GetProperty("quarantined").GetInt64(),
            silver.Json.GetProperty("duplicates").GetInt64(),
            await CountAsync(lake, "silver/" + Dataset, "count(*)", cancellationToken).ConfigureAwait(false),
            await CountAsync(lake, "gold/" + PagePerformanceDaily.TableName, "sum(events)", cancellationToken).ConfigureAwait(false));
        counts.Check();
        var steps = new[] { bronze.Step, silver.Step, gold.Step };
        var seconds = steps.Sum(s => s.Seconds);
        var peak = steps.Max(s => s.PeakRssBytes);
        Progress($"batch: {produced:N0} events through bronze, silver and gold in {seconds:0.00} s ({string.Join(", ", steps.Select(s => $"{s.Layer} {s.Seconds:0.00} s {s.PeakRssBytes / 1048576.0:N0} MiB"))}); " +
            $"{counts.Silver:N0} in silver, {counts.Quarantined:N0} quarantined, {counts.Duplicates:N0} duplicates");
        return new MedallionBatch(produced, landing.Files.Count, landing.Bytes, reused, Round(seconds, 3), Round(produced / seconds, 0), peak, steps, counts,
            "ratio >= 1.0", false);
    }

    private static async Task<(MedallionStep Step, JsonElement Json)> StepAsync(string layer, string[] args, CancellationToken cancellationToken)
    {
        var run = await CliChild.RunAsync(args, cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(run.Stdout);
        return (new MedallionStep(layer, Round(run.Seconds, 3), run.PeakRssBytes), document.RootElement.Clone());
    }

    /// <summary>Non-empty lines of the landing files: what the simulator sent, each a bronze event.</summary>
    private static long CountLines(IEnumerable<string> files)
    {
        long lines = 0;
        foreach (var file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var buffer = new byte[1 << 20];
            int read;
            var last = (byte)'\n';
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
                last = buffer[read - 1];
            }
            if (last != '\n') lines++;
        }
        return lines;
    }

    /// <summary><paramref name="aggregate"/> over the current snapshot of the table at <paramref name="path"/> under the lake.</summary>
    private async Task<long> CountAsync(string lake, string path, string aggregate, CancellationToken cancellationToken)
    {
        var table = DeltaTable.Open(LakeStorage.Open(lake).Scope(path), _engine);
        var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(lease.Connection.Scalar($"SELECT coalesce({aggregate}, 0) FROM ({scan.Sql})", cancellationToken), CultureInfo.InvariantCulture);
    }

    // ---- baseline -----------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Plain DuckDB on the same files: read_json → typed columns → one Parquet file, then page_performance_daily's GROUP BY (events,
    /// sessions, TTI/TTAR average, p50, p95, error rate per page and day) over that file. No cleaning, deduplication or
    /// quarantine, no Delta log: the cost of one raw conversion and one query.
    /// </summary>
    private (double CopySeconds, double GroupBySeconds, double EventsPerS) Baseline(IReadOnlyList<string> files, long events)
    {
        var parquet = Path.Combine(_run, "baseline.parquet");
        using var lease = _engine.Lease();
        var copy = Stopwatch.StartNew();
        lease.Connection.Execute($$"""
            COPY (
              SELECT event_id, CAST("timestamp" AS TIMESTAMPTZ) AS event_time, page_url, tti_ms, ttar_ms, status, session_id, user_agent, country
              FROM read_json({{SqlText.LiteralList(files)}}, format = 'newline_delimited', ignore_errors = true,
                             columns = {event_id: 'VARCHAR', "timestamp": 'VARCHAR', page_url: 'VARCHAR', tti_ms: 'DOUBLE', ttar_ms: 'DOUBLE',
                                        status: 'INTEGER', session_id: 'VARCHAR', user_agent: 'VARCHAR', country: 'VARCHAR'})
            ) TO {{SqlText.Literal(parquet)}} (FORMAT parquet)
            """);
        var copySeconds = copy.Elapsed.TotalSeconds;
        var group = Stopwatch.StartNew();
        var rows = Convert.ToInt64(lease.Connection.Scalar($"""
            SELECT count(*) FROM (
              SELECT CAST(event_time AT TIME ZONE 'UTC' AS DATE) AS event_date, page_url, count(*) AS events, count(DISTINCT session_id) AS sessions,
                     avg(tti_ms), quantile_cont(tti_ms, [0.5, 0.95]), avg(ttar_ms), quantile_cont(ttar_ms, [0.5, 0.95]),
                     avg(CASE WHEN status >= 500 THEN 1.0 ELSE 0.0 END) AS error_rate
              FROM read_parquet({SqlText.Literal(parquet)}) WHERE event_time IS NOT NULL GROUP BY ALL)
            """), CultureInfo.InvariantCulture);
        var groupSeconds = group.Elapsed.TotalSeconds;
        File.Delete(parquet);
        if (rows == 0) throw new LakehouseException(LakehouseErrorReason.Engine, "The DuckDB baseline's GROUP BY returned no rows.");
        return (copySeconds, groupSeconds, events / (copySeconds + groupSeconds));
    }

    // ---- incremental --------------------------------------------------------------------------------------------------------

    /// <summary>
    /// <see cref="MedallionSettings.IncrementalEvents"/> new events of the sample's last day land in a new file; bronze, silver and gold
    /// take them in this process (a warm worker, as <c>lakehouse stream</c> runs them). One round warms up, then
    /// <see cref="IncrementalRounds"/> are timed; the median is reported.
    /// </summary>
    private async Task<MedallionIncremental> IncrementalAsync(string lake, CancellationToken cancellationToken)
    {
        var landing = Path.Combine(_run, "medallion-incremental");
        var definition = DatasetCatalog.BuiltIn.Get(Dataset);
        var storage = LakeStorage.Open(lake);
        var runs = new List<(double Bronze, double Silver, double Gold)>();
        for (var round = 0; round <= IncrementalRounds; round++)
        {
            var events = _settings.IncrementalEvents;
            await CliChild.RunAsync(["produce", "--dataset", Dataset, "--events", Invariant(events), "--seed", Invariant(1000 + round),
                "--start", SampleStart.AddDays(2).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--days", "1", "--to", landing, "--json"], cancellationToken).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            var table = BronzeTable.Open(storage.Scope("bronze/" + Dataset), _engine);
            var landed = await new LandingIngestor(table, LakeStorage.Open(landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero })
                .RunAsync(cancellationToken).ConfigureAwait(false);
            var bronze = clock.Elapsed.TotalMilliseconds;
            var silver = await SilverJob.Open(storage, _engine).RunAsync(definition, null, cancellationToken).ConfigureAwait(false);
            var silverMs = clock.Elapsed.TotalMilliseconds - bronze;
            var gold = await GoldJob.Open(storage, _engine).RunAsync(definition, null, cancellationToken).ConfigureAwait(false);
            var goldMs = clock.Elapsed.TotalMilliseconds - bronze - silverMs;
            if (landed.Events != events || silver.RowsIn != events || silver.RowsOut + silver.Quarantined + silver.Duplicates != events || gold.Dates.Count == 0)
                throw new LakehouseException(LakehouseErrorReason.Engine,
                    $"incremental round {round}: {events} events produced, {landed.Events} landed, {silver.RowsIn} read by silver, {silver.RowsOut} to silver, gold recomputed {gold.Dates.Count} date(s).");
            Progress($"incremental round {round}{(round == 0 ? " (warm-up)" : "")}: bronze {bronze:0} ms, silver {silverMs:0} ms, gold {goldMs:0} ms ({gold.Dates.Count} date(s) recomputed)");
            if (round > 0) runs.Add((bronze, silverMs, goldMs));
        }
        var silverRows = await CountAsync(lake, "silver/" + Dataset, "count(*)", cancellationToken).ConfigureAwait(false);
        var goldEvents = await CountAsync(lake, "gold/" + PagePerformanceDaily.TableName, "sum(events)", cancellationToken).ConfigureAwait(false);
        if (goldEvents != silverRows)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"After the incremental rounds gold.page_performance_daily counts {goldEvents} events, silver holds {silverRows}.");
        var totals = runs.Select(r => r.Bronze + r.Silver + r.Gold).ToList();
        var median = BenchSuite.Median(totals);
        var at = totals.IndexOf(median) is var i and >= 0 ? runs[i] : runs[0];
        return new MedallionIncremental(_settings.IncrementalEvents, IncrementalRounds, Round(median, 1), [.. totals.Select(t => Round(t, 1))],
            Round(at.Bronze, 1), Round(at.Silver, 1), Round(at.Gold, 1), "refresh_ms <= 1000", median <= 1000);
    }

    // ---- plumbing -----------------------------------------------------------------------------------------------------------

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);

    private void Progress(string text) =>
        _progress(string.Create(CultureInfo.InvariantCulture, $"bench [{_clock.Elapsed.TotalSeconds,6:0.0} s] {text}"));

    private sealed record MedallionLanding(string Folder, IReadOnlyList<string> Files, long Bytes);
}
