using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Testing.Kafka;

/// <summary>One row of a bronze table as the tests check it.</summary>
public sealed record BronzeRow(string Kind, string Source, string? Partition, long? Offset, byte[] Payload, string? Key, DateTimeOffset? EnqueuedTime);

/// <summary>Reads a bronze table (<c>&lt;lake&gt;/bronze/&lt;dataset&gt;</c>) through the project's Delta reader: its rows and its txn positions.</summary>
public static class BronzeRows
{
    /// <summary>Every row of the latest version (none when the table does not exist yet).</summary>
    public static Task<IReadOnlyList<BronzeRow>> ReadAsync(DuckEngine engine, string tableFolder) => ReadAsync(engine, LakeStorage.Open(tableFolder));

    /// <summary>Every row of the latest version of the table in <paramref name="storage"/> (an Azure lake, say).</summary>
    public static async Task<IReadOnlyList<BronzeRow>> ReadAsync(DuckEngine engine, ILakeStorage storage)
    {
        var table = DeltaTable.Open(storage, engine);
        if (!await table.ExistsAsync()) return [];
        var snapshot = await table.GetSnapshotAsync();
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var reader = lease.Connection.Query(
            $"SELECT source_kind, source, source_partition, source_offset, payload, source_key, epoch_ms(enqueued_time) FROM ({scan.Sql})");
        var rows = new List<BronzeRow>();
        while (reader.Read())
        {
            rows.Add(new BronzeRow(reader.GetString(0), reader.GetString(1), reader.IsNull(2) ? null : reader.GetString(2), reader.IsNull(3) ? null : reader.GetInt64(3),
                (byte[])reader.GetValue(4)!, reader.IsNull(5) ? null : reader.GetString(5),
                reader.IsNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }
        return rows;
    }

    /// <summary>The txn positions the latest version holds whose application id starts with <paramref name="prefix"/>.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> PositionsAsync(DuckEngine engine, string tableFolder, string prefix)
    {
        var table = DeltaTable.Open(LakeStorage.Open(tableFolder), engine);
        if (!await table.ExistsAsync()) return new Dictionary<string, long>();
        var snapshot = await table.GetSnapshotAsync();
        return snapshot.Transactions.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value.Version, StringComparer.Ordinal);
    }
}
