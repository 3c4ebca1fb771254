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
    /// times gold, not silver; cached), and the first gold run over it, which computes every gold table of web logs for that day.
    /// </summary>
    private async Task<GoldDayResult> GoldDayAsync(CancellationToken cancellationToken)
    {
        var (silver, reused) = await GoldSilverAsync(cancellationToken).ConfigureAwait(false);
        var lake = Path.Combine(_run, "gold-day");
        CopyFolder(silver, lake);
        var clock = Stopwatch.StartNew();
        var result = await GoldJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        if (result.RowsIn != _size.GoldDayEvents || result.Dates.Count != 1)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"gold_day read {result.RowsIn} rows over {result.Dates.Count} dates (expected {_size.GoldDayEvents} over 1).");
        Directory.Delete(lake, recursive: true);
        Progress($"gold_day: {result.RowsIn} events of one day in {seconds:0.00} s ({string.Join(", ", result.Tables.Select(t => $"{t.Table} {t.Rows} rows {t.Elapsed.TotalSeconds:0.00} s"))})");
        return new GoldDayResult(result.RowsIn, reused, Round(seconds, 3), Tables(result), "seconds < 5", seconds < 5);
    }

    // ---- gold_incremental ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// The same lake with its gold built (cached); a copy gets 1,000 new events in that day's silver, and the gold run that takes
    /// them is timed (three times, on fresh copies: the median is reported).
    /// </summary>
    private async Task<GoldIncrementalResult> GoldIncrementalAsync(CancellationToken cancellationToken)
    {
        var (silver, _) = await GoldSilverAsync(cancellationToken).ConfigureAwait(false);
        var (built, reused) = await InputAsync($"gold-lake-{_size.GoldDayEvents}", $"silver and gold weblogs of {_size.GoldDayEvents} events of one day (seed {Seed}), gold tables {string.Join(", ", DatasetCatalog.BuiltIn.Get("weblogs").GoldOutputs)}",
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
            await AppendSilverDayAsync(lake, _size.GoldDayEvents, IncrementalEvents, cancellationToken).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            last = await GoldJob.Open(LakeStorage.Open(lake), _engine, _loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get("weblogs"), null, cancellationToken).ConfigureAwait(false);
            runs.Add(clock.Elapsed.TotalSeconds);
            if (last.Dates.Count != 1)
                throw new LakehouseException(LakehouseErrorReason.Engine, $"gold_incremental recomputed {last.Dates.Count} dates, not 1.");
            Directory.Delete(lake, recursive: true);
        }
        var median = Median(runs);
        Progress($"gold_incremental: {IncrementalEvents} events into a day of {_size.GoldDayEvents}: median {median:0.000} s");
        return new GoldIncrementalResult(_size.GoldDayEvents, IncrementalEvents, reused, Round(median, 3), [.. runs.Select(r => Round(r, 3))], Tables(last!), "seconds < 1", median < 1);
    }

    private static IReadOnlyList<GoldTableSeconds> Tables(GoldRunResult result) =>
        [.. result.Tables.Select(t => new GoldTableSeconds(t.Table, t.Rows, Round(t.Elapsed.TotalSeconds, 3)))];

    /// <summary>The cached one-day silver lake.</summary>
    private Task<(string Folder, bool Reused)> GoldSilverAsync(CancellationToken cancellationToken) =>
        InputAsync($"gold-silver-{_size.GoldDayEvents}", $"silver.weblogs of {_size.GoldDayEvents} events of one day (seed {Seed}) in {GoldBatches} micro-batches",
            folder => AppendSilverDayAsync(folder, 0, _size.GoldDayEvents, cancellationToken), cancellationToken);

    /// <summary>
    /// Appends events <paramref name="first"/>.. of the one-day sample to silver.weblogs under <paramref name="lake"/>, with silver's
    /// columns (URLs as the sample has them: already normalized) and ingest times in <see cref="GoldBatches"/> micro-batches.
    /// </summary>
    private async Task AppendSilverDayAsync(string lake, long first, long count, CancellationToken cancellationToken)
    {
        var total = _size.GoldDayEvents;
        var sample = WebLogSample.Sql(total, Seed, SampleStart, days: 1, first: first, count: count);
        var batch = Math.Max(total / GoldBatches, 1).ToString(CultureInfo.InvariantCulture);
        var sql = $"""
            SELECT event_id, CAST("timestamp" AS TIMESTAMPTZ) AS "timestamp", page_url, tti_ms, ttar_ms, CAST(status AS INTEGER) AS status, session_id,
                   user_agent, country, CAST(CAST("timestamp" AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS event_date,
                   CAST('{SampleStart.AddDays(1):yyyy-MM-dd} 00:00:00+00' AS TIMESTAMPTZ) + to_seconds(CAST(n // {batch} AS BIGINT)) AS ingest_time,
                   'file|bench|||' || CAST(n AS VARCHAR) AS bronze_position
            FROM (SELECT *, {first.ToString(CultureInfo.InvariantCulture)} + row_number() OVER () AS n FROM ({sample}))
            """;
        var table = DeltaTable.Open(LakeStorage.Open(lake).Scope(GoldTables.Silver("weblogs")), _engine);
        await DeltaWriter.Create(table, new DeltaWriteOptions { PartitionColumns = [GoldTables.EventDate] }).AppendAsync(sql, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
