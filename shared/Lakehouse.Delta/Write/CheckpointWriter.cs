using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Writes classic single-file Parquet checkpoints (<c>N.checkpoint.parquet</c>) and the <c>_last_checkpoint</c> pointer.
/// The actions of the snapshot are serialized as the JSON of commit lines, read back by DuckDB's <c>read_json</c> with the
/// checkpoint schema spelled out (txn, add, remove, metaData, protocol, domainMetadata as structs; partitionValues, tags,
/// configuration as MAP(VARCHAR, VARCHAR)) and copied to Parquet; the txn actions, which can be millions, are appended as a table
/// of their fields instead and copied along. Tombstones younger than the table's deleted-file retention
/// are kept (VACUUM needs them); commitInfo never goes into a checkpoint. <c>_last_checkpoint</c> stays well under Synapse's
/// 200-byte limit: version, size, sizeInBytes and numOfAddFiles only.
/// </summary>
internal static class CheckpointWriter
{
    /// <summary>Synapse serverless refuses a <c>_last_checkpoint</c> larger than this.</summary>
    internal const int LastCheckpointMaxBytes = 200;

    private const string DvType = "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes INTEGER, cardinality BIGINT)";

    private static readonly (string Name, string Type)[] Columns =
    [
        ("txn", "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)"),
        ("add", "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, " +
                $"stats VARCHAR, tags MAP(VARCHAR, VARCHAR), deletionVector {DvType}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)"),
        ("remove", "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, " +
                   $"partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, deletionVector {DvType})"),
        ("metaData", "STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), " +
                     "schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)"),
        ("protocol", "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])"),
        ("domainMetadata", "STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)"),
    ];

    /// <summary>Writes the checkpoint of <paramref name="version"/> and points <c>_last_checkpoint</c> at it (unless a newer one exists).</summary>
    internal static async Task<long> WriteAsync(DeltaTable table, long version, CancellationToken cancellationToken)
    {
        var snapshot = await TransientIo.RetryAsync(() => table.GetSnapshotAsync(version, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (snapshot.Protocol.HasFeature("v2Checkpoint"))
            return -1; // Such tables need V2 checkpoints; a checkpoint is optional, so none is written.

        // Tombstones are kept by the version's own time (not the clock), so two writers checkpointing one version write the same actions
        // and the size in _last_checkpoint, which readers check, fits whichever copy is in place.
        var asOf = snapshot.Timestamp < DateTimeOffset.UtcNow ? snapshot.Timestamp : DateTimeOffset.UtcNow;
        var cutoff = asOf.Add(-TableProperties.RetentionOf(snapshot.Metadata.Configuration)).ToUnixTimeMilliseconds();
        // The txn actions go in through the appender (AppendTransactions), the others as JSON lines.
        var actions = new List<DeltaAction> { snapshot.Protocol, snapshot.Metadata };
        actions.AddRange(snapshot.Domains.Values);
        actions.AddRange(snapshot.Files);
        actions.AddRange(snapshot.Tombstones.Where(t => (t.DeletionTimestamp ?? 0) > cutoff)
            .Select(t => t with { Stats = null, Tags = null }));

        var scratch = table.Engine.ScratchDirectory("delta-checkpoint");
        var id = Guid.NewGuid().ToString("N");
        var json = Path.Combine(scratch, id + ".json");
        var parquet = Path.Combine(scratch, id + ".parquet");
        try
        {
            await File.WriteAllBytesAsync(json, ActionSerializer.ToCommitBytes(actions), cancellationToken).ConfigureAwait(false);
            var columns = "{" + string.Join(", ", Columns.Select(c => $"{SqlText.Literal(c.Name)}: {SqlText.Literal(c.Type)}")) + "}";
            using (var lease = table.Engine.Lease())
            {
                var txnTable = "checkpoint_txn_" + id;
                var txns = SqlText.Identifier(txnTable);
                try
                {
                    AppendTransactions(lease.Connection, txnTable, snapshot.Transactions.Values);
                    var txnRows = string.Join(", ", Columns.Select(c => c.Name == "txn"
                        ? $"CAST({{'appId': appId, 'version': version, 'lastUpdated': lastUpdated}} AS {c.Type}) AS txn"
                        : $"CAST(NULL AS {c.Type}) AS {SqlText.Identifier(c.Name)}"));
                    lease.Connection.Execute(
                        $"COPY (SELECT * FROM read_json({SqlText.Literal(json)}, format = 'newline_delimited', columns = {columns}, maximum_object_size = 1073741824) " +
                        $"UNION ALL SELECT {txnRows} FROM {txns}) TO {SqlText.Literal(parquet)} (FORMAT parquet, COMPRESSION snappy)", cancellationToken);
                }
                finally
                {
                    lease.Connection.Execute($"DROP TABLE IF EXISTS {txns}", CancellationToken.None);
                }
            }
            var size = new FileInfo(parquet).Length;
            await table.Storage.UploadAsync(LogFiles.CheckpointPath(version), parquet, cancellationToken).ConfigureAwait(false);
            FaultPoint.Reach(FaultPoint.MidCheckpoint);
            await WriteLastCheckpointAsync(table, version, actions.Count + snapshot.Transactions.Count, size, snapshot.Files.Count, cancellationToken).ConfigureAwait(false);
            return version;
        }
        finally
        {
            File.Delete(json);
            File.Delete(parquet);
        }
    }

    /// <summary>
    /// Stages the txn actions as a table of their three fields: one per exactly-once marker (a landed file, an idempotency key), of
    /// which a table can hold millions, appended directly rather than written as JSON text for DuckDB to parse back.
    /// </summary>
    private static void AppendTransactions(DuckConnection connection, string table, IEnumerable<TxnAction> transactions)
    {
        connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(table)} (appId VARCHAR, version BIGINT, lastUpdated BIGINT)");
        using var appender = connection.CreateAppender(table);
        foreach (var t in transactions) appender.Append(t.AppId).AppendInt64(t.Version).AppendInt64(t.LastUpdated).EndRow();
        appender.Close();
    }

    /// <summary>The <c>_last_checkpoint</c> content: at most 200 bytes, no checkpointSchema.</summary>
    internal static byte[] LastCheckpointJson(long version, long size, long sizeInBytes, long numOfAddFiles)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{{\"version\":{version},\"size\":{size},\"sizeInBytes\":{sizeInBytes},\"numOfAddFiles\":{numOfAddFiles}}}");
        return System.Text.Encoding.UTF8.GetBytes(text);
    }

    private static async Task WriteLastCheckpointAsync(DeltaTable table, long version, long size, long sizeInBytes, long adds, CancellationToken cancellationToken)
    {
        try
        {
            var current = await table.Storage.ReadAsync(LogFiles.LastCheckpointPath, cancellationToken).ConfigureAwait(false);
            // The readers' parse: a damaged pointer (not JSON, another shape) is null, and is replaced.
            if (LastCheckpointInfo.Parse(current)?.Version >= version) return;
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            // First checkpoint of the table.
        }
        await table.Storage.PutAsync(LogFiles.LastCheckpointPath, LastCheckpointJson(version, size, sizeInBytes, adds), cancellationToken).ConfigureAwait(false);
    }
}
