using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Delta's conflict rules (Spark's ConflictChecker, WriteSerializable isolation) between a transaction that lost the race
/// for a version and the commit that won it:
/// <list type="bullet">
/// <item>a winner that changed the protocol or the metadata always conflicts;</item>
/// <item>a VACUUM START whose retention reaches back past the time this transaction's added files came into being (less a margin for
/// clock skew) conflicts with any transaction that adds files, blind appends included: that vacuum may have deleted them as orphans,
/// and a commit referring to them would lose data;</item>
/// <item>a winner that committed a <c>txn</c> for an application id this transaction also commits conflicts;</item>
/// <item>a blind append (reads nothing) commutes with everything else;</item>
/// <item>otherwise a winner conflicts when it removed a file this transaction read or removes, or when it added data
/// (not as a blind append) into what this transaction read: the whole table, or the partitions it read.</item>
/// </list>
/// </summary>
internal sealed class ConflictChecker
{
    private readonly DeltaTransaction _txn;

    internal ConflictChecker(DeltaTransaction txn) => _txn = txn;

    /// <summary>Throws Conflict, naming the winning version and the reason, when <paramref name="winner"/> invalidates the transaction.</summary>
    internal async Task CheckAsync(long version, List<DeltaAction> winner, CancellationToken cancellationToken)
    {
        var info = winner.OfType<CommitInfoAction>().FirstOrDefault();
        // Checked first, so that an append joining a table another writer created at the same time (below) cannot commit
        // progress markers that the creating commit already holds: that would commit the same source data twice.
        foreach (var t in winner.OfType<TxnAction>())
        {
            if (_txn.AppTransactions.FirstOrDefault(a => a.AppId == t.AppId) is { } mine)
                throw Conflict(version, info, $"committed application transaction '{t.AppId}' at version {t.Version}, which this commit also advances (to {mine.Version})");
        }
        if (_txn.ReadVersion < 0)
        {
            // Another writer created the table first. An append that was creating it too joins the winner's table when it has the same shape.
            if (version == 0 && _txn.AllowCreateRace && _txn.Metadata is { } ours && winner.OfType<MetadataAction>().FirstOrDefault() is { } theirs && SameShape(ours, theirs))
            {
                var created = await TransientIo.RetryAsync(() => _txn.Table.GetSnapshotAsync(0, cancellationToken), cancellationToken).ConfigureAwait(false);
                ProtocolSupport.CheckWritable(created.Protocol, _txn.Table.Location);
                _txn.BecomeAppend(created);
                return;
            }
            throw Conflict(version, info, _txn.AllowCreateRace
                ? "created the table first, with a different schema or partitioning"
                : "created the table first");
        }
        if (_txn.Adds.Count > 0 && info?.Operation == DeltaOperations.VacuumStart && VacuumCutoff(info) is var cutoff
            && (cutoff is null || cutoff.Value > _txn.AddsExistSince - (long)VacuumClockSkewMargin.TotalMilliseconds))
            throw Conflict(version, info,
                (cutoff is { } c ? $"started a VACUUM that deletes unreferenced files older than {DateTimeOffset.FromUnixTimeMilliseconds(c).UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : "started a VACUUM") +
                ", which may have deleted the data files this transaction adds (not committed then)");
        if (winner.OfType<ProtocolAction>().Any())
            throw Conflict(version, info, "changed the table's protocol");
        if (winner.OfType<MetadataAction>().Any())
            throw Conflict(version, info, "changed the table's metadata (schema, partitioning or properties)");

        if (_txn.IsBlindAppend) return;

        var storage = _txn.Table.Storage;
        foreach (var r in winner.OfType<RemoveAction>())
        {
            var path = DeltaPaths.ToTableRelative(r.Path, storage);
            if (_txn.ReadFiles.Contains(path))
                throw Conflict(version, info, $"removed file '{path}', which this transaction read");
        }

        var winnerIsBlindAppend = info is not null && Property(info, "isBlindAppend") == "true";
        var added = winnerIsBlindAppend ? [] : winner.OfType<AddAction>().Where(a => a.DataChange).ToList();
        if (added.Count == 0) return;
        var columns = _txn.Snapshot!.PartitionColumns;
        if (_txn.ReadWholeTable)
            throw Conflict(version, info, $"added data ('{DeltaPaths.ToTableRelative(added[0].Path, storage)}') to the table, which this transaction read in full");
        foreach (var a in added)
        {
            if (_txn.ReadPartitions.Contains(PartitionEncoding.TupleKey(columns, a.PartitionValues)))
                throw Conflict(version, info, $"added data to partition ({PartitionEncoding.Describe(columns, a.PartitionValues)}), which this transaction read");
        }
        if (_txn.ReadPartitionPredicate is { } predicate)
        {
            using var lease = _txn.Table.Engine.Lease();
            var hits = PartitionFilter.Evaluate(lease.Connection, _txn.Snapshot.Schema, columns, [.. added.Select(a => a.PartitionValues)], predicate);
            if (hits.Count > 0)
                throw Conflict(version, info, $"added data to partition ({PartitionEncoding.Describe(columns, added[hits.Min()].PartitionValues)}), which this transaction read ({predicate})");
        }
    }

    /// <summary>How far clocks (of writers, vacuums and the store) may disagree when a VACUUM START's cutoff is compared with a writer's start.</summary>
    internal static readonly TimeSpan VacuumClockSkewMargin = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The cutoff of a VACUUM START (ms): its commit time less the retention it ran with (specifiedRetentionMillis, else defaultRetentionMillis,
    /// else Delta's default 7 days), null when it has no time. Files written before it and not referenced by the table may have been deleted.
    /// </summary>
    internal static long? VacuumCutoff(CommitInfoAction info)
    {
        if ((info.InCommitTimestamp ?? info.Timestamp) is not { } time) return null; // no time: assume it deleted anything
        using var doc = JsonDocument.Parse(info.Json);
        long? retention = null;
        if (doc.RootElement.TryGetProperty("operationParameters", out var p) && p.ValueKind == JsonValueKind.Object)
            retention = Millis(p, "specifiedRetentionMillis") ?? Millis(p, "defaultRetentionMillis");
        return time - (retention ?? (long)TableProperties.DefaultRetention.TotalMilliseconds);

        static long? Millis(JsonElement parameters, string name) =>
            !parameters.TryGetProperty(name, out var v) ? null
            : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n
            : v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out n) ? n
            : null;
    }

    private static bool SameShape(MetadataAction a, MetadataAction b)
    {
        if (!a.PartitionColumns.SequenceEqual(b.PartitionColumns, StringComparer.OrdinalIgnoreCase)) return false;
        var x = StructType.ParseSchema(a.SchemaString).Fields;
        var y = StructType.ParseSchema(b.SchemaString).Fields;
        return x.Count == y.Count && x.Zip(y).All(p => string.Equals(p.First.Name, p.Second.Name, StringComparison.OrdinalIgnoreCase) && p.First.Type == p.Second.Type);
    }

    private LakehouseException Conflict(long version, CommitInfoAction? info, string why)
    {
        var what = info?.Operation is { } op ? $"{op}{(Property(info, "engineInfo") is { } e ? " by " + e : "")}" : "a commit";
        var read = _txn.ReadVersion < 0 ? "while creating the table" : $"after reading version {_txn.ReadVersion}";
        return new LakehouseException(LakehouseErrorReason.Conflict,
            $"Concurrent commit to '{_txn.Table.Location}': version {version} ({what}) {why}. This {_txn.Operation}, started {read}, was not committed; re-run it on the new version.");
    }

    /// <summary>A top-level property of a commitInfo as text (strings unquoted), or null.</summary>
    internal static string? Property(CommitInfoAction info, string name)
    {
        using var doc = JsonDocument.Parse(info.Json);
        if (!doc.RootElement.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null => null,
            _ => v.GetRawText(),
        };
    }
}
