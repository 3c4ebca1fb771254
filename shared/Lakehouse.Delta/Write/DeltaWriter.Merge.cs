using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

public sealed partial class DeltaWriter
{
    /// <summary>
    /// Merges the rows of <paramref name="sourceSql"/> into the table by <paramref name="keyColumns"/> (copy-on-write).
    /// <see cref="DeltaMergeMode.InsertIfAbsent"/> inserts the rows whose key is not in the table and rewrites nothing;
    /// <see cref="DeltaMergeMode.Upsert"/> also replaces the rows whose key is, rewriting only the files that hold such keys
    /// (files whose statistics or partition rule out every source key are not even read). The source must have one row per
    /// key (InvalidInput otherwise); null keys never match. A missing table is created from the source.
    /// </summary>
    public Task<DeltaCommitResult> MergeAsync(string sourceSql, IReadOnlyList<string> keyColumns, DeltaMergeMode mode = DeltaMergeMode.Upsert,
        IReadOnlyCollection<DeltaAppTransaction>? transactions = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSql);
        ArgumentNullException.ThrowIfNull(keyColumns);
        if (keyColumns.Count == 0 || keyColumns.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Merge needs at least one key column.", nameof(keyColumns));
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown merge mode.");
        CheckTransactions(transactions);
        return RunAsync(DeltaOperations.Merge, ct => MergeCoreAsync(Subquery(sourceSql), keyColumns, mode, transactions, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> MergeCoreAsync(string sourceSql, IReadOnlyList<string> keyColumns, DeltaMergeMode mode,
        IReadOnlyCollection<DeltaAppTransaction>? transactions, CancellationToken cancellationToken)
    {
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (AlreadyApplied(snapshot, transactions)) return NotCommitted(snapshot, DeltaOperations.Merge);
        if (snapshot is not null) CheckWritable(snapshot, removes: mode == DeltaMergeMode.Upsert);

        var lease = _table.Engine.Lease();
        var connection = lease.Connection;
        var source = "__lakehouse_merge_" + Guid.NewGuid().ToString("N")[..16];
        WrittenFiles? written = null;
        DeltaTransaction txn;
        try
        {
            var columns = SourceProjection.Describe(connection, sourceSql);
            if (snapshot is null)
                txn = NewTableTransaction(SourceProjection.InferSchema(columns), DeltaOperations.CreateTableAsSelect);
            else
                txn = new DeltaTransaction(_table, snapshot, DeltaOperations.Merge);
            var metadata = txn.Metadata ?? snapshot!.Metadata;
            var schema = StructType.ParseSchema(metadata.SchemaString);
            var partitionColumns = metadata.PartitionColumns;
            var keys = keyColumns.Select(k => schema.Find(k)?.Name ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Merge key '{k}' is not a column of '{_table.Location}' (columns: {string.Join(", ", schema.Fields.Select(f => f.Name))}).")).ToList();

            using (cancellationToken.Register(connection.Interrupt))
            {
                try
                {
                    connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(source)} AS {SourceProjection.Project(schema, columns, sourceSql, _table.Location)}", cancellationToken);
                }
                catch (LakehouseException e) when (SourceProjection.CastFailure(e, _table.Location) is { } failure)
                {
                    throw failure;
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            var keyList = string.Join(", ", keys.Select(SqlText.Identifier));
            var duplicates = Convert.ToInt64(connection.Scalar(
                $"SELECT count(*) FROM (SELECT {keyList} FROM {SqlText.Identifier(source)} GROUP BY ALL HAVING count(*) > 1)", cancellationToken), CultureInfo.InvariantCulture);
            if (duplicates > 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"The merge source has {duplicates} key(s) ({string.Join(", ", keys)}) that appear more than once; deduplicate it first (one row per key).");
            var sourceRows = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {SqlText.Identifier(source)}", cancellationToken), CultureInfo.InvariantCulture);

            var fields = string.Join(", ", schema.Fields.Select(f => SqlText.Identifier(f.Name)));
            var on = string.Join(" AND ", keys.Select(k => $"t.{SqlText.Identifier(k)} = s.{SqlText.Identifier(k)}"));
            List<AddAction> matched = [];
            long updated = 0;
            string select;
            DeltaScan? scan = null;
            try
            {
                if (snapshot is null)
                {
                    select = $"SELECT {fields} FROM {SqlText.Identifier(source)}";
                }
                else
                {
                    var candidates = Candidates(connection, snapshot, txn, source, keys);
                    txn.Read(candidates);
                    scan = await DeltaScan.CreateAsync(_table, snapshot, connection, new DeltaScanOptions { Files = candidates, IncludeFilePath = true }, cancellationToken).ConfigureAwait(false);
                    if (mode == DeltaMergeMode.InsertIfAbsent)
                    {
                        select = $"SELECT {Prefixed("s", schema)} FROM {SqlText.Identifier(source)} AS s ANTI JOIN ({scan.Sql}) AS t ON {on}";
                    }
                    else
                    {
                        var hit = new HashSet<string>(StringComparer.Ordinal);
                        using (var r = connection.Query($"SELECT DISTINCT t.{SqlText.Identifier(DeltaScan.FileColumn)} FROM ({scan.Sql}) AS t SEMI JOIN {SqlText.Identifier(source)} AS s ON {on}", cancellationToken))
                        {
                            while (r.Read()) hit.Add(r.GetString(0));
                        }
                        matched = [.. candidates.Where(f => hit.Contains(DeltaPaths.ToTableRelative(f.Path, _table.Storage)))];
                        scan.Dispose();
                        scan = await DeltaScan.CreateAsync(_table, snapshot, connection, new DeltaScanOptions { Files = matched }, cancellationToken).ConfigureAwait(false);
                        if (matched.Count > 0)
                            updated = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {SqlText.Identifier(source)} AS s SEMI JOIN ({scan.Sql}) AS t ON {on}", cancellationToken), CultureInfo.InvariantCulture);
                        select = $"SELECT {Prefixed("t", schema)} FROM ({scan.Sql}) AS t ANTI JOIN {SqlText.Identifier(source)} AS s ON {on} " +
                                 $"UNION ALL SELECT {fields} FROM {SqlText.Identifier(source)}";
                    }
                }
                written = await DataFileWriter.WriteAsync(_table, connection, select, schema, partitionColumns, _options.TargetFileSizeBytes, _options.CompressionLevel, true, stagedSource: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                scan?.Dispose();
            }

            try
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                txn.Adds.AddRange(written.Adds);
                foreach (var f in matched) txn.Remove(f, dataChange: true, now);
                AddTransactions(txn, transactions);
                var inserted = mode == DeltaMergeMode.InsertIfAbsent || snapshot is null ? written.Rows : sourceRows - updated;
                txn.Parameters["predicate"] = JsonSerializer.Serialize(new[] { on }, ActionSerializer.SerializerOptions);
                txn.Parameters["matchedPredicates"] = mode == DeltaMergeMode.Upsert ? """[{"actionType":"update"}]""" : "[]";
                txn.Parameters["notMatchedPredicates"] = """[{"actionType":"insert"}]""";
                txn.Metrics["numSourceRows"] = sourceRows;
                txn.Metrics["numTargetRowsInserted"] = inserted;
                txn.Metrics["numTargetRowsUpdated"] = updated;
                txn.Metrics["numTargetRowsCopied"] = written.Rows - inserted - updated;
                txn.Metrics["numTargetFilesAdded"] = written.Adds.Count;
                txn.Metrics["numTargetFilesRemoved"] = matched.Count;
                txn.Metrics["numOutputRows"] = written.Rows;
                txn.Metrics["numOutputBytes"] = written.Bytes;
            }
            catch
            {
                await DataFileWriter.DeleteQuietlyAsync(_table, written.Paths).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            try
            {
                connection.Execute($"DROP TABLE IF EXISTS {SqlText.Identifier(source)}", CancellationToken.None);
            }
            finally
            {
                lease.Dispose();
            }
        }
        if (txn.Adds.Count == 0 && txn.Removes.Count == 0 && txn.Metadata is null && txn.AppTransactions.Count == 0)
            return NotCommitted(snapshot, DeltaOperations.Merge);
        return await CommitAsync(txn, written, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The files that may hold a source key: when every partition column is a key, only the source's partitions (and the
    /// transaction read only those); otherwise every file (the transaction read the whole table). Key statistics prune further.
    /// </summary>
    private static List<AddAction> Candidates(DuckConnection connection, DeltaSnapshot snapshot, DeltaTransaction txn, string source, List<string> keys)
    {
        var partitionColumns = snapshot.PartitionColumns;
        IReadOnlyList<AddAction> files = snapshot.Files;
        if (partitionColumns.Count > 0 && partitionColumns.All(p => keys.Contains(p, StringComparer.OrdinalIgnoreCase)))
        {
            var fields = partitionColumns.Select(p => snapshot.Schema.Find(p)!).ToList();
            var serialized = string.Join(", ", fields.Select(f => PartitionEncoding.SerializeSql(SqlText.Identifier(f.Name), f.Type)));
            var tuples = new HashSet<string>(StringComparer.Ordinal);
            using (var r = connection.Query($"SELECT DISTINCT {serialized} FROM {SqlText.Identifier(source)}"))
            {
                while (r.Read())
                {
                    var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                    for (var i = 0; i < fields.Count; i++) values[fields[i].Name] = r.IsNull(i) ? null : r.GetString(i);
                    tuples.Add(PartitionEncoding.TupleKey(partitionColumns, values));
                }
            }
            txn.ReadPartitions.UnionWith(tuples);
            files = [.. files.Where(f => tuples.Contains(PartitionEncoding.TupleKey(partitionColumns, f.PartitionValues)))];
        }
        else
        {
            txn.ReadWholeTable = true;
        }
        return KeyRangePruning.Prune(connection, source, snapshot.Schema, keys, files);
    }

    private static string Prefixed(string alias, StructType schema) =>
        string.Join(", ", schema.Fields.Select(f => $"{alias}.{SqlText.Identifier(f.Name)}"));

    /// <summary>
    /// Deletes the rows for which <paramref name="predicate"/> (a DuckDB SQL condition over the table's columns) is true,
    /// copy-on-write: files with no matching row are kept, files where every row matches are removed, the others are
    /// rewritten without the matching rows. A predicate on partition columns only removes whole files without reading them.
    /// </summary>
    public Task<DeltaCommitResult> DeleteAsync(string predicate, IReadOnlyCollection<DeltaAppTransaction>? transactions = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(predicate);
        CheckTransactions(transactions);
        return RunAsync(DeltaOperations.Delete, ct => DeleteCoreAsync(predicate, transactions, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> DeleteCoreAsync(string predicate, IReadOnlyCollection<DeltaAppTransaction>? transactions, CancellationToken cancellationToken)
    {
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: nothing to delete from.");
        if (AlreadyApplied(snapshot, transactions)) return NotCommitted(snapshot, DeltaOperations.Delete);
        CheckWritable(snapshot, removes: true);
        var txn = new DeltaTransaction(_table, snapshot, DeltaOperations.Delete);
        txn.Parameters["predicate"] = JsonSerializer.Serialize(new[] { predicate }, ActionSerializer.SerializerOptions);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        WrittenFiles? written = null;
        long deletedRows = 0;
        var removed = new List<AddAction>();

        using (var lease = _table.Engine.Lease())
        {
            var connection = lease.Connection;
            HashSet<AddAction>? byPartition = null;
            try
            {
                byPartition = PartitionOnly(connection, snapshot, predicate);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
            {
                // The predicate needs data columns: read the files.
            }

            if (byPartition is not null)
            {
                txn.ReadPartitionPredicate = predicate;
                removed.AddRange(byPartition);
                deletedRows = byPartition.Sum(f => StatsJson.NumRecords(f) ?? 0);
            }
            else
            {
                txn.ReadWholeTable = true;
                txn.Read(snapshot.Files);
                var partial = new List<AddAction>();
                using (var scan = await DeltaScan.CreateAsync(_table, snapshot, connection, new DeltaScanOptions { IncludeFilePath = true }, cancellationToken).ConfigureAwait(false))
                {
                    var byPath = snapshot.Files.ToDictionary(f => DeltaPaths.ToTableRelative(f.Path, _table.Storage), StringComparer.Ordinal);
                    var file = SqlText.Identifier(DeltaScan.FileColumn);
                    var sql = $"SELECT {file}, count(*) FILTER (WHERE ({predicate})), count(*) FROM ({scan.Sql}) AS t GROUP BY {file} HAVING count(*) FILTER (WHERE ({predicate})) > 0";
                    try
                    {
                        using var cancel = cancellationToken.Register(connection.Interrupt);
                        using var r = connection.Query(sql, cancellationToken);
                        while (r.Read())
                        {
                            var f = byPath[r.GetString(0)];
                            var hits = r.GetInt64(1);
                            deletedRows += hits;
                            if (hits == r.GetInt64(2)) removed.Add(f);
                            else partial.Add(f);
                        }
                    }
                    catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine && !cancellationToken.IsCancellationRequested)
                    {
                        throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The delete predicate '{predicate}' cannot be evaluated on '{_table.Location}': {e.Message}", e);
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                if (partial.Count > 0)
                {
                    using var rest = await DeltaScan.CreateAsync(_table, snapshot, connection, new DeltaScanOptions { Files = partial }, cancellationToken).ConfigureAwait(false);
                    written = await DataFileWriter.WriteAsync(_table, connection, $"SELECT * FROM ({rest.Sql}) AS t WHERE ({predicate}) IS NOT TRUE",
                        snapshot.Schema, snapshot.PartitionColumns, _options.TargetFileSizeBytes, _options.CompressionLevel, true, stagedSource: false, cancellationToken).ConfigureAwait(false);
                    removed.AddRange(partial);
                    txn.Adds.AddRange(written.Adds);
                }
            }
        }

        foreach (var f in removed) txn.Remove(f, dataChange: true, now);
        AddTransactions(txn, transactions);
        txn.Metrics["numRemovedFiles"] = removed.Count;
        txn.Metrics["numAddedFiles"] = written?.Adds.Count ?? 0;
        txn.Metrics["numDeletedRows"] = deletedRows;
        txn.Metrics["numCopiedRows"] = written?.Rows ?? 0;
        txn.Metrics["numRemovedBytes"] = removed.Sum(f => f.Size);
        txn.Metrics["numAddedBytes"] = written?.Bytes ?? 0;
        if (txn.Removes.Count == 0 && txn.AppTransactions.Count == 0) return NotCommitted(snapshot, DeltaOperations.Delete);
        return await CommitAsync(txn, written, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The files whose partition satisfies the predicate; an Engine error when the predicate needs data columns.</summary>
    private static HashSet<AddAction> PartitionOnly(DuckConnection connection, DeltaSnapshot snapshot, string predicate)
    {
        var columns = snapshot.PartitionColumns;
        var tuples = new List<IReadOnlyDictionary<string, string?>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in snapshot.Files)
        {
            if (index.TryAdd(PartitionEncoding.TupleKey(columns, f.PartitionValues), tuples.Count)) tuples.Add(f.PartitionValues);
        }
        if (tuples.Count == 0)
        {
            // Nothing to delete; still make sure the predicate only names partition columns, or let the data path explain the error.
            PartitionFilter.Evaluate(connection, snapshot.Schema, columns, [new Dictionary<string, string?>()], predicate);
            return [];
        }
        var hits = PartitionFilter.Evaluate(connection, snapshot.Schema, columns, tuples, predicate);
        return [.. snapshot.Files.Where(f => hits.Contains(index[PartitionEncoding.TupleKey(columns, f.PartitionValues)]))];
    }
}
