using Lakehouse.Datasets;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Silver;

/// <summary>Where silver stands for one dataset: what bronze holds, what silver has consumed, and its last run's quality metrics.</summary>
public sealed record SilverStatus
{
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }

    /// <summary>bronze.&lt;dataset&gt;'s version; null when it does not exist.</summary>
    public long? BronzeVersion { get; init; }

    /// <summary>The bronze version silver has consumed; null when silver has not run.</summary>
    public long? ConsumedVersion { get; init; }

    /// <summary>Bronze commits that change its data and silver has not consumed yet (compactions and vacuums are not counted).</summary>
    public long Pending { get; init; }

    /// <summary>The last run of the dataset recorded in silver._quality; null when none.</summary>
    public SilverRunResult? LastRun { get; init; }

    /// <summary>committed or failed, for <see cref="LastRun"/>.</summary>
    public string? LastRunStatus { get; init; }

    /// <summary>When <see cref="LastRun"/> finished.</summary>
    public DateTimeOffset? LastRunFinished { get; init; }

    /// <summary>Reads the status of <paramref name="definition"/> in the lake of <paramref name="job"/>.</summary>
    internal static async Task<SilverStatus> ReadAsync(SilverJob job, DuckEngine engine, DatasetDefinition definition, CancellationToken cancellationToken)
    {
        var bronze = job.Table(SilverTables.Bronze(definition.Name));
        var silver = job.Table(SilverTables.Silver(definition.Name));
        long? bronzeVersion = await bronze.ExistsAsync(cancellationToken).ConfigureAwait(false)
            ? (await bronze.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Version : null;
        var quarantine = job.Table(SilverTables.Quarantine(definition.Name));
        long? consumed = await silver.ExistsAsync(cancellationToken).ConfigureAwait(false)
            ? SilverJob.Consumed(definition.Name, await silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false),
                await quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false) ? await quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null)
            : null;
        var pending = bronzeVersion is { } b ? await bronze.CountDataChangesAsync(consumed ?? -1, b, cancellationToken).ConfigureAwait(false) : 0;
        var status = new SilverStatus { Dataset = definition.Name, BronzeVersion = bronzeVersion, ConsumedVersion = consumed, Pending = pending };
        var quality = job.Table(SilverTables.Quality);
        if (!await quality.ExistsAsync(cancellationToken).ConfigureAwait(false)) return status;
        var snapshot = await quality.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(quality, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var r = lease.Connection.Query(
            $"SELECT run_id, mode, status, epoch_ms(max(finished_at)), bronze_from_version, bronze_to_version, rows_in, rows_out, rows_quarantined, duplicates_removed, rows_warned, " +
            $"CAST(to_json(list({{'rule': rule, 'action': rule_action, 'checked': rule_checked, 'failed': rule_failed}})) AS VARCHAR) " +
            $"FROM ({scan.Sql}) WHERE dataset = {SqlText.Literal(definition.Name)} AND run_id = (SELECT arg_max(run_id, finished_at) FROM ({scan.Sql}) WHERE dataset = {SqlText.Literal(definition.Name)}) " +
            "GROUP BY ALL", cancellationToken);
        if (!r.Read()) return status;
        var rules = new List<RuleCount>();
        using (var doc = System.Text.Json.JsonDocument.Parse(r.GetString(11)))
        {
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                var rule = item.GetProperty("rule").GetString()!;
                if (rule != "(none)") rules.Add(new RuleCount(rule, item.GetProperty("action").GetString()!, item.GetProperty("checked").GetInt64(), item.GetProperty("failed").GetInt64()));
            }
        }
        return status with
        {
            LastRun = new SilverRunResult
            {
                Dataset = definition.Name,
                RunId = r.GetString(0),
                Mode = r.GetString(1),
                BronzeFromVersion = r.GetInt64(4),
                BronzeToVersion = r.GetInt64(5),
                RowsIn = r.GetInt64(6),
                RowsOut = r.GetInt64(7),
                Quarantined = r.GetInt64(8),
                Duplicates = r.GetInt64(9),
                Warned = r.GetInt64(10),
                Rules = rules,
            },
            LastRunStatus = r.GetString(2),
            LastRunFinished = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
        };
    }
}
