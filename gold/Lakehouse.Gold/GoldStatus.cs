using Lakehouse.Datasets;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Gold;

/// <summary>The last gold run of a dataset as <c>gold/_runs</c> recorded it.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="Kind">incremental or rerun.</param>
/// <param name="Status">committed or failed.</param>
/// <param name="Finished">When it finished.</param>
/// <param name="Dates">Event dates recomputed.</param>
/// <param name="RowsWritten">Rows written to gold tables.</param>
/// <param name="LateEvents">Late events it took.</param>
/// <param name="Watermark">The watermark after it.</param>
/// <param name="AlertsNew">Alerts it raised.</param>
/// <param name="Message">Why it failed, for a failed run.</param>
public sealed record GoldRunRecord(string RunId, string Kind, string Status, DateTimeOffset Finished, int Dates, long RowsWritten, long LateEvents,
    DateTimeOffset? Watermark, long AlertsNew, string? Message);

/// <summary>Where gold stands for one dataset: silver's version, the oldest silver version its gold tables hold, its last run.</summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="SilverVersion">silver.&lt;dataset&gt;'s version; null when it does not exist.</param>
/// <param name="ConsumedVersion">The oldest silver version the dataset's gold tables record; null when gold has not run.</param>
/// <param name="LastRun">The last run recorded in gold/_runs; null when none.</param>
public sealed record GoldStatus(string Dataset, long? SilverVersion, long? ConsumedVersion, GoldRunRecord? LastRun)
{
    /// <summary>Silver commits that change its data and gold has not consumed yet (compactions and vacuums are not counted).</summary>
    public long Pending { get; private init; }

    internal static async Task<GoldStatus> ReadAsync(GoldJob job, DuckEngine engine, DatasetDefinition definition, CancellationToken cancellationToken)
    {
        var silver = job.Table(GoldTables.Silver(definition.Name));
        long? silverVersion = await silver.ExistsAsync(cancellationToken).ConfigureAwait(false)
            ? (await silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Version : null;
        long? consumed = null;
        foreach (var output in definition.GoldOutputs)
        {
            var table = job.Table(GoldTables.Gold(output));
            long version = -1;
            if (await table.ExistsAsync(cancellationToken).ConfigureAwait(false))
                version = (await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).TransactionVersion(GoldTables.AppId(definition.Name)) ?? -1;
            consumed = consumed is null ? version : Math.Min(consumed.Value, version);
        }
        if (consumed < 0) consumed = null;
        var pending = silverVersion is { } v ? await silver.CountDataChangesAsync(consumed ?? -1, v, cancellationToken).ConfigureAwait(false) : 0;
        var runs = job.Table(GoldTables.Runs);
        if (!await runs.ExistsAsync(cancellationToken).ConfigureAwait(false)) return new GoldStatus(definition.Name, silverVersion, consumed, null) { Pending = pending };
        var snapshot = await runs.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(runs, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var r = lease.Connection.Query(
            "SELECT run_id, kind, status, epoch_us(finished_at), dates_recomputed, rows_written, late_events, epoch_us(watermark), alerts_new, message " +
            $"FROM ({scan.Sql}) WHERE dataset = {SqlText.Literal(definition.Name)} ORDER BY finished_at DESC LIMIT 1", cancellationToken);
        if (!r.Read()) return new GoldStatus(definition.Name, silverVersion, consumed, null) { Pending = pending };
        static DateTimeOffset Time(long us) => DateTimeOffset.UnixEpoch.AddTicks(us * 10);
        var record = new GoldRunRecord(r.GetString(0), r.GetString(1), r.GetString(2), Time(r.GetInt64(3)), (int)r.GetInt64(4), r.GetInt64(5), r.GetInt64(6),
            r.IsNull(7) ? null : Time(r.GetInt64(7)), r.GetInt64(8), r.IsNull(9) ? null : r.GetString(9));
        return new GoldStatus(definition.Name, silverVersion, consumed, record) { Pending = pending };
    }
}
