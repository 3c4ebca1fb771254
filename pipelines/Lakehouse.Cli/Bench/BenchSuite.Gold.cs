using System.Diagnostics;
using System.Globalization;
using Lakehouse.Cli.Samples;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Gold;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Bench;

/// <summary>Gold refresh of one day of web-log events, and after 1,000 more events land in that day.</summary>
internal sealed partial class BenchSuite
{
    /// <summary>Micro-batches the one-day silver table arrived in (distinct ingest times), as a stream would land it.</summary>
    private const int GoldBatches = 1000;

    // ---- gold_day -----------------------------------------------------------------------------------------------------------

    /// <summary>
    /// silver.weblogs with <see cref="BenchSize.GoldDayEvents"/> events of one day (written directly with silver's columns: this case
    /// times gold, not silver; cached), and the first gold run over it, which computes every gold table of web logs for that day:
    /// as the day arrived in micro-batches unrelated to event time (every window late: the worst case, the target's figure), and
    /// as a stream delivers it (<c>stream_order</c>).
    /// </summary>
    private async Task<GoldDayResult> GoldDayAsync(CancellationToken cancellationToken)
    {
        var (seconds, result, reused) = await GoldDayRunAsync(GoldArrival.Shuffled, cancellationToken).ConfigureAwait(false);
        var (streamSeconds, stream, _) = await GoldDayRunAsync(GoldArrival.Stream, cancellationToken).ConfigureAwait(false);
        return new GoldDayResult(result.RowsIn, reused, Round(seconds, 3), Tables(result), "seconds < 5", seconds < 5)
        {
            LateEvents = result.LateEvents,
            StreamOrder = new GoldStreamOrder(Round(streamSeconds, 3), null, stream.LateEvents, Tables(stream)),
        };
    }

    private async Task<(double Seconds, GoldRunResult Result, bool Reused)> GoldDayRunAsync(GoldArrival arrival, CancellationToken cancellationToken)
    {
        var (silver, reused) = await GoldSilverAsync(arrival, cancellationToken).ConfigureAwait(false);
        var lake = Path.Combine(_run, "gold-day");
        CopyFolder(silver, lake);
        var clock = Stopwatch.StartNew();
        var result = await GoldJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        if (result.RowsIn != _size.GoldDayEvents || result.Dates.Count != 1)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"gold_day read {result.RowsIn} rows over {result.Dates.Count} dates (expected {_size.GoldDayEvents} over 1).");
        Directory.Delete(lake, recursive: true);
        Progress($"gold_day ({Name(arrival)}): {result.RowsIn} events of one day, {result.LateEvents} late, in {seconds:0.00} s " +
            $"({string.Join(", ", result.Tables.Select(t => $"{t.Table} {t.Rows} rows {t.Elapsed.TotalSeconds:0.00} s"))})");
        return (seconds, result, reused);
    }

    // ---- gold_incremental ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// The same lake with its gold built (cached); a copy gets 1,000 new events in that day's silver, and the gold run that takes
    /// them is timed (three times, on fresh copies: the median is reported). The target's figure: the new events spread over the
    /// whole day, late (the worst case); <c>stream_order</c>: the day as a stream delivers it, and the new events its newest seconds.
    /// </summary>
    private async Task<GoldIncrementalResult> GoldIncrementalAsync(CancellationToken cancellationToken)
    {
        var (runs, last, reused) = await GoldIncrementalRunsAsync(GoldArrival.Shuffled, cancellationToken).ConfigureAwait(false);
        var (streamRuns, stream, _) = await GoldIncrementalRunsAsync(GoldArrival.Stream, cancellationToken).ConfigureAwait(false);
        var median = Median(runs);
        return new GoldIncrementalResult(_size.GoldDayEvents, IncrementalEvents, reused, Round(median, 3), [.. runs.Select(r => Round(r, 3))], Tables(last), "seconds < 1", median < 1)
        {
            StreamOrder = new GoldStreamOrder(Round(Median(streamRuns), 3), [.. streamRuns.Select(r => Round(r, 3))], stream.LateEvents, Tables(stream)),
        };
    }

    private async Task<(List<double> Runs, GoldRunResult Last, bool Reused)> GoldIncrementalRunsAsync(GoldArrival arrival, CancellationToken cancellationToken)
    {
        var (silver, _) = await GoldSilverAsync(arrival, cancellationToken).ConfigureAwait(false);
        var (built, reused) = await InputAsync($"gold-lake{Suffix(arrival)}-{_size.GoldDayEvents}",
            $"silver and gold weblogs of {_size.GoldDayEvents} events of one day (seed {Seed}{Described(arrival)}), gold tables {string.Join(", ", DatasetCatalog.BuiltIn.Get("weblogs").GoldOutputs)}",
            async folder =>
            {
                CopyFolder(silver, folder);
                await GoldJob.Open(LakeStorage.Open(folder), _engine).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        var runs = new List<double>();
        GoldRunResult? last = null;
        for (var run = 0; run < 3; run++)
        {
            var lake = Path.Combine(_run, "gold-incremental-" + run.ToString(CultureInfo.InvariantCulture));
            CopyFolder(built, lake);
            await AppendSilverDayAsync(lake, _size.GoldDayEvents, IncrementalEvents, arrival, cancellationToken).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            last = await GoldJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
            runs.Add(clock.Elapsed.TotalSeconds);
            if (last.Dates.Count != 1 || last.RowsIn != _size.GoldDayEvents + IncrementalEvents)
                throw new LakehouseException(LakehouseErrorReason.Engine, $"gold_incremental recomputed {last.Dates.Count} dates from {last.RowsIn} rows, not 1 date of {_size.GoldDayEvents + IncrementalEvents}.");
            Directory.Delete(lake, recursive: true);
        }
        Progress($"gold_incremental ({Name(arrival)}): {IncrementalEvents} events into a day of {_size.GoldDayEvents}, {last!.LateEvents} late: median {Median(runs):0.000} s");
        return (runs, last, reused);
    }

    private static IReadOnlyList<GoldTableSeconds> Tables(GoldRunResult result) =>
        [.. result.Tables.Select(t => new GoldTableSeconds(t.Table, t.Rows, Round(t.Elapsed.TotalSeconds, 3)))];

    /// <summary>How the bench's day of silver rows arrived (their ingest times, in <see cref="GoldBatches"/> micro-batches).</summary>
    private enum GoldArrival
    {
        /// <summary>Batches unrelated to event time: nearly every event arrives after the watermark passed its windows (the worst case).</summary>
        Shuffled,

        /// <summary>
        /// As a stream delivers them: batches in event-time order, one event in a hundred 30 batches (some 43 minutes) late; the
        /// new events of the incremental run are the day's newest 10 seconds (ahead of the watermark, as a stream's newest batch is),
        /// in one batch after all the others.
        /// </summary>
        Stream,
    }

    private static string Name(GoldArrival arrival) => arrival == GoldArrival.Stream ? "stream order" : "shuffled";

    private static string Suffix(GoldArrival arrival) => arrival == GoldArrival.Stream ? "-stream" : "";

    private static string Described(GoldArrival arrival) => arrival == GoldArrival.Stream ? ", in stream order, 1 % late" : "";

    /// <summary>The cached one-day silver lake.</summary>
    private Task<(string Folder, bool Reused)> GoldSilverAsync(GoldArrival arrival, CancellationToken cancellationToken) =>
        InputAsync($"gold-silver{Suffix(arrival)}-{_size.GoldDayEvents}", $"silver.weblogs of {_size.GoldDayEvents} events of one day (seed {Seed}{Described(arrival)}) in {GoldBatches} micro-batches",
            folder => AppendSilverDayAsync(folder, 0, _size.GoldDayEvents, arrival, cancellationToken), cancellationToken);

    /// <summary>
    /// Appends events <paramref name="first"/>.. of the one-day sample to silver.weblogs under <paramref name="lake"/>, with silver's
    /// columns (URLs as the sample has them: already normalized) and ingest times in <see cref="GoldBatches"/> micro-batches as
    /// <paramref name="arrival"/> says.
    /// </summary>
    private async Task AppendSilverDayAsync(string lake, long first, long count, GoldArrival arrival, CancellationToken cancellationToken)
    {
        var total = _size.GoldDayEvents;
        var sample = WebLogSample.Sql(total, Seed, SampleStart, days: 1, first: first, count: count);
        var batchSize = Math.Max(total / GoldBatches, 1);
        var batch = batchSize.ToString(CultureInfo.InvariantCulture);
        var time = arrival == GoldArrival.Stream && first > 0
            ? $"CAST('{SampleStart:yyyy-MM-dd} 23:59:50+00' AS TIMESTAMPTZ) + to_microseconds(CAST(hash(event_id) % 10000000 AS BIGINT))"
            : "CAST(\"timestamp\" AS TIMESTAMPTZ)";
        var seconds = arrival switch
        {
            GoldArrival.Shuffled => $"n // {batch}",
            _ when first == 0 => $"(rank + CASE WHEN hash(event_id) % 100 = 0 THEN {30 * batchSize} ELSE 0 END) // {batch}",
            _ => (total / batchSize + 31).ToString(CultureInfo.InvariantCulture),
        };
        var sql = $"""
            SELECT event_id, ts AS "timestamp", page_url, tti_ms, ttar_ms, CAST(status AS INTEGER) AS status, session_id,
                   user_agent, country, CAST(ts AT TIME ZONE 'UTC' AS DATE) AS event_date,
                   CAST('{SampleStart.AddDays(1):yyyy-MM-dd} 00:00:00+00' AS TIMESTAMPTZ) + to_seconds(CAST({seconds} AS BIGINT)) AS ingest_time,
                   'file|bench|||' || CAST(n AS VARCHAR) AS bronze_position
            FROM (
              SELECT *, {(arrival == GoldArrival.Stream && first == 0 ? "row_number() OVER (ORDER BY ts, event_id) - 1" : "0")} AS rank
              FROM (SELECT *, {time} AS ts, {first.ToString(CultureInfo.InvariantCulture)} + row_number() OVER () AS n FROM ({sample}))
            )
            """;
        var table = DeltaTable.Open(LakeStorage.Open(lake).Scope(GoldTables.Silver("weblogs")), _engine);
        await DeltaWriter.Create(table, new DeltaWriteOptions { PartitionColumns = [GoldTables.EventDate] }).AppendAsync(sql, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
