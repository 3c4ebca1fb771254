using System.Diagnostics;
using System.Globalization;
using Lakehouse.Bronze;
using Lakehouse.Cli.Samples;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta.Write;
using Lakehouse.Silver;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Bench;

/// <summary>bronze → silver throughput, and the cost of an incremental silver run that adds 1,000 events to a large silver table.</summary>
internal sealed partial class BenchSuite
{
    private const int IncrementalEvents = 1000;

    // ---- bronze_to_silver ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// A bronze table of web-log events (2 % re-sent, 0.5 % malformed) parsed into silver by <see cref="SilverJob"/> in one
    /// incremental run: events/s over wall time, and process CPU seconds.
    /// </summary>
    private async Task<BronzeToSilverResult> BronzeToSilverAsync(CancellationToken cancellationToken)
    {
        var events = _size.BronzeEvents;
        var (bronze, reused) = await InputAsync($"silver-bronze-{events}", $"bronze.weblogs of {events} web-log events (seed {Seed}), 2% re-sent, 0.5% malformed, 1 commit",
            folder => LandBronzeAsync(folder, 0, events, cancellationToken), cancellationToken).ConfigureAwait(false);
        var lake = Path.Combine(_run, "silver-lake");
        CopyFolder(bronze, Path.Combine(lake, "bronze", "weblogs"));

        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var result = await SilverJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), new SilverRunOptions { MaxRowsPerCommit = 100_000_000 }, cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        if (result.RowsIn != BronzeRows(events) || result.RowsIn != result.RowsOut + result.Quarantined + result.Duplicates)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"bronze_to_silver read {result.RowsIn} rows (expected {BronzeRows(events)}): {result.RowsOut} out, {result.Quarantined} quarantined, {result.Duplicates} duplicates.");
        var rate = result.RowsIn / seconds;
        Progress($"bronze_to_silver: {result.RowsIn} events in {seconds:0.00} s ({rate:N0}/s), {cpuSeconds:0.00} CPU s; {result.RowsOut} to silver, {result.Quarantined} quarantined, {result.Duplicates} duplicates");
        return new BronzeToSilverResult(result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates, reused, Round(seconds, 3), Round(rate, 0), Round(cpuSeconds, 3),
            Round(cpuSeconds * 1_000_000 / result.RowsIn, 3), "events_per_second >= 700000", rate >= 700_000);
    }

    // ---- silver_incremental -------------------------------------------------------------------------------------------------

    /// <summary>
    /// A lake whose silver.weblogs holds <see cref="BenchSize.SilverRows"/> rows (built once, cached); a copy gets 1,000 new events in
    /// bronze, and the incremental silver run that takes them is timed (three times, on fresh copies: the median is reported).
    /// </summary>
    private async Task<SilverIncrementalResult> SilverIncrementalAsync(CancellationToken cancellationToken)
    {
        var rows = _size.SilverRows;
        var (cached, reused) = await InputAsync($"silver-lake-{rows}", $"bronze and silver weblogs of {rows} events (seed {Seed}), 2% re-sent, 0.5% malformed",
            async folder =>
            {
                const long chunk = 1_000_000;
                for (long first = 0; first < rows; first += chunk)
                {
                    await LandBronzeAsync(Path.Combine(folder, "bronze", "weblogs"), first, Math.Min(chunk, rows - first), cancellationToken, total: rows).ConfigureAwait(false);
                    Progress($"silver_incremental: bronze {Math.Min(first + chunk, rows)} of {rows} events");
                }
                var built = await SilverJob.Open(LakeStorage.Open(folder), _engine).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
                Progress($"silver_incremental: silver built, {built.RowsOut} rows in {built.Elapsed.TotalSeconds:0.0} s");
            }, cancellationToken).ConfigureAwait(false);

        var runs = new List<double>();
        SilverRunResult? last = null;
        for (var run = 0; run < 3; run++)
        {
            var lake = Path.Combine(_run, "silver-incremental-" + run.ToString(CultureInfo.InvariantCulture));
            CopyFolder(cached, lake);
            // 1,000 new events: new ids on the same days as the table's (so the merge reads those days' files).
            await LandBronzeAsync(Path.Combine(lake, "bronze", "weblogs"), rows, IncrementalEvents, cancellationToken, total: rows, clean: true).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            last = await SilverJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
            runs.Add(clock.Elapsed.TotalSeconds);
            if (last.RowsOut != IncrementalEvents)
                throw new LakehouseException(LakehouseErrorReason.Engine, $"silver_incremental added {last.RowsOut} rows, not {IncrementalEvents}.");
            Directory.Delete(lake, recursive: true);
        }
        var median = Median(runs);
        Progress($"silver_incremental: {IncrementalEvents} events into {rows} silver rows: median {median:0.000} s");
        return new SilverIncrementalResult(rows, IncrementalEvents, reused, Round(median, 3), [.. runs.Select(r => Round(r, 3))], "seconds < 1", median < 1);
    }

    /// <summary>Rows a bronze of <paramref name="events"/> events holds: the events, 2 % re-sent and 0.5 % malformed.</summary>
    private static long BronzeRows(long events) => events + events / 50 + events / 200;

    /// <summary>
    /// Commits events <paramref name="first"/>.. of a web-log sample to the bronze table at <paramref name="table"/> as one landed file
    /// would be: unless <paramref name="clean"/>, every 50th event is re-sent and every 200th is followed by a truncated line.
    /// </summary>
    private async Task LandBronzeAsync(string table, long first, long count, CancellationToken cancellationToken, long? total = null, bool clean = false)
    {
        var sample = WebLogSample.Sql(total ?? count, Seed, SampleStart, first: first, count: count);
        var payloads = clean
            ? $"SELECT encode(CAST(to_json(s) AS VARCHAR)) AS payload, n FROM (SELECT *, row_number() OVER () AS n FROM ({sample})) s"
            : $"SELECT encode(CAST(to_json(s) AS VARCHAR)) AS payload, n FROM (SELECT *, row_number() OVER () AS n FROM ({sample})) s " +
              $"UNION ALL SELECT encode(CAST(to_json(s) AS VARCHAR)), n + 0.5 FROM (SELECT *, row_number() OVER () AS n FROM ({sample})) s WHERE n % 50 = 0 " +
              $"UNION ALL SELECT encode(left(CAST(to_json(s) AS VARCHAR), 40)), n + 0.25 FROM (SELECT *, row_number() OVER () AS n FROM ({sample})) s WHERE n % 200 = 0";
        var file = string.Create(CultureInfo.InvariantCulture, $"bench/weblogs-{first}.ndjson");
        var events = new List<BronzeEvent>();
        using (var lease = _engine.Lease())
        using (var rows = lease.Connection.Query($"SELECT payload FROM ({payloads}) ORDER BY n", cancellationToken))
        {
            while (rows.Read()) events.Add(new BronzeEvent(rows.GetBytes(0).ToArray(), new SourcePosition(SourceKinds.File, file, null, null, events.Count + 1)));
        }
        var bronze = BronzeTable.Open(LakeStorage.Open(table), _engine);
        await bronze.CommitAsync(events, [new DeltaAppTransaction("file/" + file, 1)], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
