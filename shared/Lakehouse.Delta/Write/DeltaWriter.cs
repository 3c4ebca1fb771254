using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Writes to a Delta table: create, append, overwrite, replace partitions, merge by key, delete, and the maintenance
/// operations optimize, vacuum and restore. Data comes in as a DuckDB SELECT (e.g. <c>SELECT * FROM read_json(...)</c>),
/// run on a connection leased from the table's engine, so it may read files, views and tables of the shared database
/// but not the temporary tables of another connection.
/// </summary>
/// <remarks>
/// Every operation reads the latest snapshot, writes its data files, and commits the next version with put-if-absent.
/// A lost race is retried at the next version when Delta's conflict rules allow it (blind appends always commute);
/// otherwise the operation fails with a <see cref="LakehouseException"/> of reason <see cref="LakehouseErrorReason.Conflict"/>
/// that names the winning commit (see <see cref="DeltaWriteOptions.ConflictRetries"/> to re-run instead).
/// Tables created here use protocol (1, 2) without table features, the profile Synapse serverless reads.
/// A writer holds no state between calls; one instance may serve concurrent calls.
/// </remarks>
public sealed partial class DeltaWriter
{
    private readonly DeltaTable _table;
    private readonly DeltaWriteOptions _options;

    private DeltaWriter(DeltaTable table, DeltaWriteOptions options)
    {
        _table = table;
        _options = options;
    }

    /// <summary>A writer for <paramref name="table"/> with <paramref name="options"/> (defaults when null).</summary>
    public static DeltaWriter Create(DeltaTable table, DeltaWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new DeltaWriter(table, options ?? new DeltaWriteOptions());
    }

    /// <summary>The table written to.</summary>
    public DeltaTable Table => _table;

    /// <summary>Test seam: awaited after an operation has written its files and just before it commits.</summary>
    internal Func<Task>? BeforeCommit { get; set; }

    private enum Mode
    {
        Append,
        Overwrite,
        ReplaceWhere,
        ReplaceDynamic,
    }

    /// <summary>
    /// Creates an empty table with <paramref name="schema"/>, partitioned by <see cref="DeltaWriteOptions.PartitionColumns"/>
    /// and with <see cref="DeltaWriteOptions.TableProperties"/>. Fails with AlreadyExists when the table exists.
    /// </summary>
    public async Task<DeltaCommitResult> CreateTableAsync(StructType schema, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot is not null)
            throw new LakehouseException(LakehouseErrorReason.AlreadyExists, $"Table '{_table.Location}' already exists (version {snapshot.Version}).");
        var txn = NewTableTransaction(schema, DeltaOperations.CreateTable);
        return await CommitAsync(txn, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates an empty table with the columns of <paramref name="sourceSql"/> (see <see cref="CreateTableAsync(StructType, CancellationToken)"/>).</summary>
    public async Task<DeltaCommitResult> CreateTableAsync(string sourceSql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSql);
        StructType schema;
        using (var lease = _table.Engine.Lease())
        {
            schema = SourceProjection.InferSchema(SourceProjection.Describe(lease.Connection, Subquery(sourceSql)));
        }
        return await CreateTableAsync(schema, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends the rows of <paramref name="sourceSql"/>. When the table does not exist it is created from the query's columns
    /// (DuckDB TIMESTAMP becomes a UTC timestamp) with the options' partition columns and properties; when several writers
    /// create it at once, the losers append to the winner's table if its schema is the same.
    /// With <paramref name="transactions"/>, the commit records them as <c>txn</c> actions, and a call whose transactions the
    /// table already holds at that version or later commits nothing (Committed = false).
    /// </summary>
    public Task<DeltaCommitResult> AppendAsync(string sourceSql, IReadOnlyCollection<DeltaAppTransaction>? transactions = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSql);
        CheckTransactions(transactions);
        return RunAsync(DeltaOperations.Write, ct => WriteAsync(Subquery(sourceSql), Mode.Append, null, transactions, ct), cancellationToken);
    }

    /// <summary>Replaces the whole content of the table with the rows of <paramref name="sourceSql"/> (creating the table when missing).</summary>
    public Task<DeltaCommitResult> OverwriteAsync(string sourceSql, IReadOnlyCollection<DeltaAppTransaction>? transactions = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSql);
        CheckTransactions(transactions);
        return RunAsync(DeltaOperations.Write, ct => WriteAsync(Subquery(sourceSql), Mode.Overwrite, null, transactions, ct), cancellationToken);
    }

    /// <summary>
    /// Replaces partitions with the rows of <paramref name="sourceSql"/>. With <paramref name="replaceWhere"/> (a DuckDB SQL
    /// predicate over partition columns only, e.g. <c>event_date &gt;= DATE '2024-01-01'</c>) every file in a matching partition is
    /// removed and every new row must match it; without it, exactly the partitions the new rows fall into are replaced
    /// (dynamic partition overwrite). Other partitions are untouched. The table must be partitioned.
    /// </summary>
    public Task<DeltaCommitResult> ReplacePartitionsAsync(string sourceSql, string? replaceWhere = null, IReadOnlyCollection<DeltaAppTransaction>? transactions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceSql);
        if (replaceWhere is not null) ArgumentException.ThrowIfNullOrWhiteSpace(replaceWhere);
        CheckTransactions(transactions);
        return RunAsync(DeltaOperations.Write, ct => WriteAsync(Subquery(sourceSql), replaceWhere is null ? Mode.ReplaceDynamic : Mode.ReplaceWhere, replaceWhere, transactions, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> WriteAsync(string sourceSql, Mode mode, string? replaceWhere, IReadOnlyCollection<DeltaAppTransaction>? transactions, CancellationToken cancellationToken)
    {
        // An append reads no files: it needs the table's state only (protocol, metadata, txns), not the file list.
        var snapshot = await LoadSnapshotAsync(withFiles: mode != Mode.Append, cancellationToken).ConfigureAwait(false);
        if (AlreadyApplied(snapshot, transactions)) return NotCommitted(snapshot, DeltaOperations.Write);
        if (snapshot is not null)
        {
            CheckWritable(snapshot, removes: mode != Mode.Append);
            if (_options.PartitionColumns.Count > 0 && !_options.PartitionColumns.SequenceEqual(snapshot.PartitionColumns, StringComparer.OrdinalIgnoreCase))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Table '{_table.Location}' is partitioned by ({string.Join(", ", snapshot.PartitionColumns)}), not by ({string.Join(", ", _options.PartitionColumns)}) as the write asks.");
        }
        if (mode is Mode.ReplaceWhere or Mode.ReplaceDynamic && (snapshot?.PartitionColumns.Count ?? _options.PartitionColumns.Count) == 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table '{_table.Location}' is not partitioned: replacing partitions needs a partitioned table (use OverwriteAsync).");

        WrittenFiles written;
        DeltaTransaction txn;
        var lease = _table.Engine.Lease();
        try
        {
            var columns = SourceProjection.Describe(lease.Connection, sourceSql);
            if (snapshot is null)
            {
                txn = NewTableTransaction(SourceProjection.InferSchema(columns), DeltaOperations.CreateTableAsSelect);
                txn.AllowCreateRace = mode == Mode.Append;
            }
            else
            {
                txn = new DeltaTransaction(_table, snapshot, DeltaOperations.Write);
            }
            var schema = StructType.ParseSchema((txn.Metadata ?? snapshot!.Metadata).SchemaString);
            var partitionColumns = (txn.Metadata ?? snapshot!.Metadata).PartitionColumns;
            var select = SourceProjection.Project(schema, columns, sourceSql, _table.Location);
            try
            {
                written = await DataFileWriter.WriteAsync(_table, lease.Connection, select, schema, partitionColumns, _options.TargetFileSizeBytes, _options.CompressionLevel, true, _options.StagedSource, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (SourceProjection.CastFailure(e, _table.Location) is { } failure)
            {
                throw failure;
            }
            try
            {
                txn.Adds.AddRange(written.Adds);
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var removed = snapshot is null ? [] : FilesToReplace(lease.Connection, snapshot, txn, mode, replaceWhere, written);
                foreach (var f in removed) txn.Remove(f, dataChange: true, now);
                AddTransactions(txn, transactions);
                txn.Parameters["mode"] = mode == Mode.Append ? "Append" : "Overwrite";
                txn.Parameters["partitionBy"] = JsonSerializer.Serialize(partitionColumns, ActionSerializer.SerializerOptions);
                if (replaceWhere is not null) txn.Parameters["predicate"] = JsonSerializer.Serialize(new[] { replaceWhere }, ActionSerializer.SerializerOptions);
                txn.Metrics["numFiles"] = written.Adds.Count;
                txn.Metrics["numOutputRows"] = written.Rows;
                txn.Metrics["numOutputBytes"] = written.Bytes;
                if (mode != Mode.Append)
                {
                    txn.Metrics["numRemovedFiles"] = removed.Count;
                    txn.Metrics["numRemovedBytes"] = removed.Sum(f => f.Size);
                }
            }
            catch
            {
                await DataFileWriter.DeleteQuietlyAsync(_table, written.Paths).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            lease.Dispose();
        }
        if (txn.Adds.Count == 0 && txn.Removes.Count == 0 && txn.Metadata is null && txn.AppTransactions.Count == 0)
            return NotCommitted(snapshot, txn.Operation);
        return await CommitAsync(txn, written, cancellationToken).ConfigureAwait(false);
    }

    private static List<AddAction> FilesToReplace(DuckConnection connection, DeltaSnapshot snapshot, DeltaTransaction txn, Mode mode, string? replaceWhere, WrittenFiles written)
    {
        if (mode != Mode.Append && !snapshot.FilesLoaded) throw new InvalidOperationException("Replacing files needs a snapshot with its files.");
        switch (mode)
        {
            case Mode.Overwrite:
                txn.ReadWholeTable = true;
                return [.. snapshot.Files];
            case Mode.ReplaceDynamic:
                {
                    var columns = snapshot.PartitionColumns;
                    var keys = written.Adds.Select(a => PartitionEncoding.TupleKey(columns, a.PartitionValues)).ToHashSet(StringComparer.Ordinal);
                    txn.ReadPartitions.UnionWith(keys);
                    return [.. snapshot.Files.Where(f => keys.Contains(PartitionEncoding.TupleKey(columns, f.PartitionValues)))];
                }
            case Mode.ReplaceWhere:
                {
                    var columns = snapshot.PartitionColumns;
                    var existing = MatchPartitions(connection, snapshot, snapshot.Files, replaceWhere!, "replaceWhere");
                    var fresh = MatchPartitions(connection, snapshot, written.Adds, replaceWhere!, "replaceWhere");
                    if (written.Adds.FirstOrDefault(a => !fresh.Contains(a)) is { } stray)
                        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                            $"The data to write has rows in partition ({PartitionEncoding.Describe(columns, stray.PartitionValues)}), which does not match replaceWhere '{replaceWhere}'; nothing was written.");
                    txn.ReadPartitionPredicate = replaceWhere;
                    return [.. existing];
                }
            default:
                return [];
        }
    }

    /// <summary>The files whose partition values satisfy <paramref name="predicate"/>; InvalidInput when it names other columns.</summary>
    private static HashSet<AddAction> MatchPartitions(DuckConnection connection, DeltaSnapshot snapshot, IReadOnlyList<AddAction> files, string predicate, string what)
    {
        var columns = snapshot.PartitionColumns;
        var tuples = new List<IReadOnlyDictionary<string, string?>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            var key = PartitionEncoding.TupleKey(columns, f.PartitionValues);
            if (index.TryAdd(key, tuples.Count)) tuples.Add(f.PartitionValues);
        }
        HashSet<int> hits;
        try
        {
            if (PartitionFilter.Problem(connection, predicate, columns) is { } problem)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, columns.Count == 0
                    ? $"The {what} predicate '{predicate}' must be a SQL condition on partition columns, and the table has none: {problem}; leave the predicate out to take the whole table."
                    : $"The {what} predicate '{predicate}' must be a SQL condition on the partition columns ({string.Join(", ", columns)}) only: {problem}.");
            }
            hits = PartitionFilter.Evaluate(connection, snapshot.Schema, columns, tuples, predicate);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"The {what} predicate '{predicate}' must be a SQL condition on the partition columns ({string.Join(", ", columns)}) only: {e.Message}", e);
        }
        return [.. files.Where(f => hits.Contains(index[PartitionEncoding.TupleKey(columns, f.PartitionValues)]))];
    }

    private DeltaTransaction NewTableTransaction(StructType schema, string operation)
    {
        SourceProjection.CheckNames(schema);
        if (schema.Fields.Count == 0) throw new LakehouseException(LakehouseErrorReason.InvalidInput, "A Delta table needs at least one column.");
        if (schema.Fields.FirstOrDefault(f => DeltaTransaction.UsesTimestampNtz(f.Type)) is { } ntz)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Column '{ntz.Name}' is timestamp_ntz, which needs the timestampNtz table feature (reader 3, writer 7) that Synapse serverless cannot read; declare it as timestamp (UTC).");
        var partitionColumns = new List<string>();
        foreach (var name in _options.PartitionColumns)
        {
            var field = schema.Find(name) ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Partition column '{name}' is not a column of the data (columns: {string.Join(", ", schema.Fields.Select(f => f.Name))}).");
            PartitionEncoding.CheckPartitionType(field);
            partitionColumns.Add(field.Name);
        }
        if (partitionColumns.Count == schema.Fields.Count)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, "A Delta table needs at least one column that is not a partition column.");
        var txn = new DeltaTransaction(_table, null, operation)
        {
            Protocol = DeltaTransaction.Protocol12,
            Metadata = new MetadataAction(Guid.NewGuid().ToString(), null, null, "parquet", schema.ToSchemaString(), partitionColumns,
                new Dictionary<string, string>(_options.TableProperties, StringComparer.Ordinal), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        };
        txn.Parameters["partitionBy"] = JsonSerializer.Serialize(partitionColumns, ActionSerializer.SerializerOptions);
        txn.Parameters["properties"] = JsonSerializer.Serialize(_options.TableProperties, ActionSerializer.SerializerOptions);
        return txn;
    }

    // ---- Shared plumbing ---------------------------------------------------------------------------

    /// <summary>
    /// The latest snapshot, or null when the table does not exist. Waits while the newest commit file is still empty
    /// (a local put-if-absent creates the file an instant before it writes it), so no half-written commit is read.
    /// </summary>
    internal Task<DeltaSnapshot?> LoadSnapshotAsync(CancellationToken cancellationToken) => LoadSnapshotAsync(withFiles: true, cancellationToken);

    /// <summary>
    /// <see cref="LoadSnapshotAsync(CancellationToken)"/>; without <paramref name="withFiles"/> a state-only snapshot (no files), all that
    /// a blind append needs, so appending costs the same however many files the table has.
    /// </summary>
    private async Task<DeltaSnapshot?> LoadSnapshotAsync(bool withFiles, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            var listing = await TransientIo.RetryAsync(() => _table.ListLogForSnapshotAsync(null, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (listing.Files.Count == 0) return null;
            var latest = listing.Files.Where(f => f.Kind == LogFileKind.Commit).MaxBy(f => f.Version);
            if (latest is not null && latest.File.Size == 0 && i < 200)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                continue;
            }
            return await TransientIo.RetryAsync(() => _table.GetSnapshotAsync(listing, latest?.Version, withFiles, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<DeltaCommitResult> RunAsync(string name, Func<CancellationToken, Task<DeltaCommitResult>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict && attempt < _options.ConflictRetries)
            {
                LogEvents.ConflictRetry(_table.Logger, name, _table.Location, attempt + 1, _options.ConflictRetries, e.Message);
                await Task.Delay(Random.Shared.Next(0, Math.Min(1000, 10 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Commits, deleting the transaction's new files when a conflict means they will never be committed; then checkpoints on the interval.</summary>
    private async Task<DeltaCommitResult> CommitAsync(DeltaTransaction txn, WrittenFiles? written, CancellationToken cancellationToken)
    {
        long version;
        int attempts;
        try
        {
            if (BeforeCommit is { } hook) await hook().ConfigureAwait(false);
            FaultPoint.Reach(FaultPoint.AfterDataFiles);
            (version, attempts) = await txn.CommitAsync(_options.MaxCommitAttempts, cancellationToken).ConfigureAwait(false);
            FaultPoint.Reach(FaultPoint.AfterCommit);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
        {
            if (written is not null) await DataFileWriter.DeleteQuietlyAsync(_table, written.Paths).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (!txn.MayHaveCommitted)
        {
            // Cancelled after the data files were placed but before the commit was tried (Ctrl+C at the end of an import left them
            // in the table's folder): they will never be committed.
            if (written is not null) await DataFileWriter.DeleteQuietlyAsync(_table, written.Paths).ConfigureAwait(false);
            throw;
        }
        var configuration = (txn.Metadata ?? txn.Snapshot!.Metadata).Configuration;
        var interval = TableProperties.CheckpointIntervalOf(configuration);
        if (version > 0 && version % interval == 0)
        {
            var checkpointed = false;
            try
            {
                checkpointed = await CheckpointWriter.WriteAsync(_table, version, cancellationToken).ConfigureAwait(false) >= 0;
            }
            catch (Exception e) when (e is LakehouseException or IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                // The commit stands; a checkpoint only speeds up reading, and the next interval writes one again.
                if (!cancellationToken.IsCancellationRequested) LogEvents.CheckpointFailed(_table.Logger, version, _table.Location, e.Message, e);
            }
            if (checkpointed) LogCleanup.Start(_table, configuration, DateTimeOffset.UtcNow);
        }
        return new DeltaCommitResult(version, true, txn.Operation, new Dictionary<string, long>(txn.Metrics, StringComparer.Ordinal), attempts);
    }

    /// <summary>A source query as a subquery can hold it: without trailing semicolons and blanks.</summary>
    private static string Subquery(string sql) => sql.Trim().TrimEnd(';').TrimEnd();

    private static DeltaCommitResult NotCommitted(DeltaSnapshot? snapshot, string operation) =>
        new(snapshot?.Version ?? -1, false, operation, new Dictionary<string, long>(), 0);

    private static void CheckTransactions(IReadOnlyCollection<DeltaAppTransaction>? transactions)
    {
        if (transactions is null) return;
        foreach (var t in transactions)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(transactions));
            if (string.IsNullOrWhiteSpace(t.AppId)) throw new ArgumentException("An application transaction needs an AppId.", nameof(transactions));
            if (t.Version < 0) throw new ArgumentOutOfRangeException(nameof(transactions), t.Version, "Application transaction versions are not negative.");
        }
        if (transactions.Select(t => t.AppId).Distinct(StringComparer.Ordinal).Count() != transactions.Count)
            throw new ArgumentException("Each application id may appear once per commit.", nameof(transactions));
    }

    /// <summary>True when the table already holds every one of <paramref name="transactions"/>; Conflict when it holds only some.</summary>
    private bool AlreadyApplied(DeltaSnapshot? snapshot, IReadOnlyCollection<DeltaAppTransaction>? transactions)
    {
        if (transactions is null || transactions.Count == 0) return false;
        if (snapshot is null)
        {
            if (transactions.FirstOrDefault(t => t.Previous is >= 0) is { } expected)
                throw new LakehouseException(LakehouseErrorReason.Conflict,
                    $"Table '{_table.Location}' does not exist, but this commit continues application transaction '{expected.AppId}' from {expected.Previous}; re-plan the batch.");
            return false;
        }
        var markers = transactions.Where(t => !t.IsGuard && !t.RecordsCommitVersion).ToList();
        var applied = markers.Where(t => snapshot.TransactionVersion(t.AppId) >= t.Version).ToList();
        if (applied.Count == 0)
        {
            var stale = transactions.Where(t => t.Previous is { } previous && (snapshot.TransactionVersion(t.AppId) ?? -1) != previous).ToList();
            if (stale.Count == 0) return false;
            throw new LakehouseException(LakehouseErrorReason.Conflict,
                $"Table '{_table.Location}' at version {snapshot.Version} holds application transaction " +
                $"{string.Join(", ", stale.Select(a => $"'{a.AppId}' at {snapshot.TransactionVersion(a.AppId)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}, not at {a.Previous} where this commit starts"))}; re-plan the batch.");
        }
        if (applied.Count == markers.Count) return true;
        throw new LakehouseException(LakehouseErrorReason.Conflict,
            $"Table '{_table.Location}' at version {snapshot.Version} already holds application transaction " +
            $"{string.Join(", ", applied.Select(a => $"'{a.AppId}' at version {snapshot.TransactionVersion(a.AppId)}"))} but not the others of this commit; re-plan the batch.");
    }

    private static void AddTransactions(DeltaTransaction txn, IReadOnlyCollection<DeltaAppTransaction>? transactions)
    {
        if (transactions is null) return;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var t in transactions)
        {
            txn.AppTransactions.Add(new TxnAction(t.AppId, t.Version, now));
            if (t.RecordsCommitVersion) txn.CommitVersionAppIds.Add(t.AppId);
        }
    }

    /// <summary>Refuses tables whose protocol or properties ask for writer behaviour this writer does not implement.</summary>
    private void CheckWritable(DeltaSnapshot snapshot, bool removes)
    {
        var table = _table.Location;
        ProtocolSupport.CheckWritable(snapshot.Protocol, table);
        if (snapshot.ColumnMappingMode != "none")
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"Table '{table}' uses column mapping (mode '{snapshot.ColumnMappingMode}'); this writer writes only tables without column mapping.");
        var config = snapshot.Metadata.Configuration;
        if (config.Keys.Any(k => k.StartsWith("delta.constraints.", StringComparison.OrdinalIgnoreCase)))
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Table '{table}' has CHECK constraints, which this writer does not enforce.");
        if (snapshot.Schema.Fields.FirstOrDefault(f => f.Metadata?.Keys.Any(k => k is "delta.invariants" or "delta.generationExpression" || k.StartsWith("delta.identity.", StringComparison.Ordinal)) == true) is { } special)
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"Column '{special.Name}' of '{table}' has an invariant, a generation expression or an identity, which this writer does not maintain.");
        if (!removes) return;
        if (TableProperties.IsAppendOnly(config, table))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table '{table}' is append-only (delta.appendOnly = true): rows cannot be replaced or deleted.");
        if (TableProperties.ChangeDataFeedOn(config) is var (key, value))
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"Table '{table}' has the change data feed enabled ({key} = '{value}'); replacing or deleting rows would need change data files, which this writer does not write.");
    }
}
