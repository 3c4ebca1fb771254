using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;

namespace Lakehouse.Delta.Write;

public sealed partial class DeltaWriter
{
    /// <summary>
    /// Compacts small files: in each partition (optionally only those matching <paramref name="partitionFilter"/>, a SQL
    /// condition on partition columns), files smaller than <see cref="DeltaWriteOptions.TargetFileSizeBytes"/> are bin-packed
    /// into files of about that size. Partitions with fewer than two small files are left alone, unless a file's deletion
    /// vector deletes more than <see cref="MaxDeletedRowsRatio"/> of its rows (its cardinality over the file's
    /// <c>numRecords</c>; always, when the file has no statistics): such a file is rewritten (with the small files of its
    /// partition), without its deleted rows, so the vector is no longer needed and VACUUM can delete it later. A file of target
    /// size or larger whose vector deletes fewer rows is left as it is, vector and all, as Spark's OPTIMIZE leaves it
    /// (<c>spark.databricks.delta.optimize.maxDeletedRowsRatio</c>): rewriting a large file for a few deleted rows costs more
    /// than skipping them costs readers. The commit adds and removes with dataChange = false, so readers of the change stream
    /// see no new data; the rows are the same. The files of <paramref name="leave"/> (paths as the log has them) are left as
    /// they are, for a later compaction: an incremental reader that has not read them yet still finds its new rows in files of
    /// their own.
    /// </summary>
    public Task<DeltaCommitResult> OptimizeAsync(string? partitionFilter = null, IReadOnlySet<string>? leave = null, CancellationToken cancellationToken = default)
    {
        if (partitionFilter is not null) ArgumentException.ThrowIfNullOrWhiteSpace(partitionFilter);
        return RunAsync(DeltaOperations.Optimize, ct => OptimizeCoreAsync(partitionFilter, leave, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> OptimizeCoreAsync(string? partitionFilter, IReadOnlySet<string>? leave, CancellationToken cancellationToken)
    {
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: nothing to optimize.");
        CheckWritable(snapshot, removes: false);
        var target = _options.TargetFileSizeBytes;
        var columns = snapshot.PartitionColumns;
        var txn = new DeltaTransaction(_table, snapshot, DeltaOperations.Optimize);
        txn.Parameters["predicate"] = JsonSerializer.Serialize(partitionFilter is null ? Array.Empty<string>() : [partitionFilter], ActionSerializer.SerializerOptions);
        txn.Parameters["targetSize"] = target.ToString(CultureInfo.InvariantCulture);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var written = new List<WrittenFiles>();
        var bins = 0;
        try
        {
            using var lease = _table.Engine.Lease();
            IEnumerable<AddAction> files = snapshot.Files;
            if (partitionFilter is not null) files = MatchPartitions(lease.Connection, snapshot, snapshot.Files, partitionFilter, "optimize");
            if (leave is { Count: > 0 }) files = files.Where(f => !leave.Contains(f.Path));
            foreach (var partition in files.Where(f => f.Size < target || ManyRowsDeleted(f)).GroupBy(f => PartitionEncoding.TupleKey(columns, f.PartitionValues)))
            {
                // A bin of one file is that file as it is, unless it is rewritten for its deleted rows.
                foreach (var bin in Pack([.. partition.OrderBy(f => f.Size)], target).Where(b => b.Count > 1 || ManyRowsDeleted(b[0])))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scan = await DeltaScan.CreateAsync(_table, snapshot, lease.Connection, new DeltaScanOptions { Files = bin }, cancellationToken).ConfigureAwait(false);
                    var w = await DataFileWriter.WriteAsync(_table, lease.Connection, scan.Sql, snapshot.Schema, columns, target, _options.CompressionLevel, dataChange: false, stagedSource: false, cancellationToken).ConfigureAwait(false);
                    written.Add(w);
                    txn.Adds.AddRange(w.Adds);
                    foreach (var f in bin) txn.Remove(f, dataChange: false, now);
                    bins++;
                }
            }
        }
        catch
        {
            foreach (var w in written) await DataFileWriter.DeleteQuietlyAsync(_table, w.Paths).ConfigureAwait(false);
            throw;
        }
        if (bins == 0) return NotCommitted(snapshot, DeltaOperations.Optimize);
        txn.Metrics["numAddedFiles"] = txn.Adds.Count;
        txn.Metrics["numRemovedFiles"] = txn.Removes.Count;
        txn.Metrics["numAddedBytes"] = txn.Adds.Sum(a => a.Size);
        txn.Metrics["numRemovedBytes"] = txn.Removes.Sum(r => r.Size ?? 0);
        txn.Metrics["numBatches"] = bins;
        txn.Metrics["numDeletionVectorsRemoved"] = txn.Removes.Count(r => r.DeletionVector is not null);
        txn.Metrics["numDeletionVectorRowsRemoved"] = txn.Removes.Sum(r => r.DeletionVector?.Cardinality ?? 0);
        var all = new WrittenFiles();
        foreach (var w in written) all.Paths.AddRange(w.Paths);
        return await CommitAsync(txn, all, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The share of a file's rows its deletion vector may delete before OPTIMIZE rewrites the file whatever its size: 0.05, the
    /// default of Spark's <c>spark.databricks.delta.optimize.maxDeletedRowsRatio</c>. A file at exactly this share is left.
    /// </summary>
    internal const double MaxDeletedRowsRatio = 0.05;

    /// <summary>
    /// True when <paramref name="file"/>'s deletion vector deletes more than <see cref="MaxDeletedRowsRatio"/> of its rows, or it
    /// has one and no <c>numRecords</c> to tell (as Spark does: the rewritten file has statistics).
    /// </summary>
    private static bool ManyRowsDeleted(AddAction file) =>
        file.DeletionVector is { } dv && (StatsJson.NumRecords(file) is not { } rows || (double)dv.Cardinality / rows > MaxDeletedRowsRatio);

    /// <summary>First-fit bins of files (smallest first) up to the target size.</summary>
    private static List<List<AddAction>> Pack(List<AddAction> files, long target)
    {
        var bins = new List<List<AddAction>>();
        var current = new List<AddAction>();
        long size = 0;
        foreach (var f in files)
        {
            if (current.Count > 0 && size + f.Size > target)
            {
                bins.Add(current);
                current = [];
                size = 0;
            }
            current.Add(f);
            size += f.Size;
        }
        if (current.Count > 0) bins.Add(current);
        return bins;
    }

    /// <summary>
    /// Restores the table's content to <paramref name="version"/>: adds back the files live then and not now, removes the files
    /// live now and not then (dataChange = true), and restores the metadata when it changed. Fails with NotFound when a file to
    /// restore has been vacuumed away. Committed as operation RESTORE; history and time travel keep every version.
    /// </summary>
    /// <remarks>
    /// The progress markers (<c>txn</c>) the table held at <paramref name="version"/> are restored with its content: an idempotent
    /// writer's marker says how far its source is in the table, and after a restore only as far as the restored content goes. Left
    /// as they were, the writer would skip for good what the restore took out (silver believing it holds bronze versions whose rows
    /// are gone). Markers first committed after <paramref name="version"/> cannot be taken back (a <c>txn</c> is never removed)
    /// and stay; the commit's metrics count both (<c>numRestoredAppTransactions</c>, <c>numKeptAppTransactions</c>).
    /// </remarks>
    public Task<DeltaCommitResult> RestoreAsync(long version, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return RunAsync(DeltaOperations.Restore, ct => RestoreCoreAsync(version, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> RestoreCoreAsync(long version, CancellationToken cancellationToken)
    {
        var current = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: nothing to restore.");
        if (version > current.Version)
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Cannot restore '{_table.Location}' to version {version}: the latest version is {current.Version}.");
        CheckWritable(current, removes: true);
        var target = await _table.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);

        var live = current.Files.ToDictionary(f => f.Key);
        var wanted = target.Files.ToDictionary(f => f.Key);
        var toAdd = target.Files.Where(f => !live.ContainsKey(f.Key)).ToList();
        var toRemove = current.Files.Where(f => !wanted.ContainsKey(f.Key)).ToList();

        var missing = new List<string>();
        await Parallel.ForEachAsync(toAdd, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (f, ct) =>
        {
            var path = DeltaPaths.ToTableRelative(f.Path, _table.Storage);
            if (await _table.Storage.GetInfoAsync(path, ct).ConfigureAwait(false) is null)
                lock (missing) missing.Add(path);
        }).ConfigureAwait(false);
        if (missing.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                $"Cannot restore '{_table.Location}' to version {version}: {missing.Count} of its data files were deleted (e.g. by VACUUM), such as '{missing[0]}'.");

        // The files added back exist since long before this restore: a VACUUM committed meanwhile may delete them once their removal is older than its retention.
        var removedAt = current.Tombstones.GroupBy(t => t.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(t => t.DeletionTimestamp ?? long.MinValue), StringComparer.Ordinal);
        var txn = new DeltaTransaction(_table, current, DeltaOperations.Restore)
        {
            ReadWholeTable = true,
            AddsExistSince = toAdd.Count == 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : toAdd.Min(f => removedAt.TryGetValue(f.Path, out var at) ? at : long.MinValue),
        };
        txn.Read(current.Files);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var f in toRemove) txn.Remove(f, dataChange: true, now);
        txn.Adds.AddRange(toAdd.Select(f => f with { DataChange = true, ModificationTime = now }));
        if (target.Metadata != current.Metadata && !SameMetadata(target.Metadata, current.Metadata)) txn.Metadata = target.Metadata;
        foreach (var (appId, marker) in current.Transactions)
        {
            if (target.Transactions.TryGetValue(appId, out var then) && then.Version != marker.Version)
                txn.AppTransactions.Add(new TxnAction(appId, then.Version, now));
        }
        var kept = current.Transactions.Keys.Count(k => !target.Transactions.ContainsKey(k));
        // The table holds the target's content and markers already (the current version, or one with the same files, metadata and
        // markers): nothing to commit.
        if (toAdd.Count == 0 && toRemove.Count == 0 && txn.Metadata is null && txn.AppTransactions.Count == 0) return NotCommitted(current, DeltaOperations.Restore);
        txn.Parameters["version"] = version.ToString(CultureInfo.InvariantCulture);
        txn.Parameters["timestamp"] = target.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        txn.Metrics["numRestoredFiles"] = toAdd.Count;
        txn.Metrics["numRemovedFiles"] = toRemove.Count;
        txn.Metrics["restoredFilesSize"] = toAdd.Sum(f => f.Size);
        txn.Metrics["removedFilesSize"] = toRemove.Sum(f => f.Size);
        txn.Metrics["numOfFilesAfterRestore"] = target.Files.Count;
        txn.Metrics["tableSizeAfterRestore"] = target.Files.Sum(f => f.Size);
        txn.Metrics["numRestoredAppTransactions"] = txn.AppTransactions.Count;
        txn.Metrics["numKeptAppTransactions"] = kept;
        return await CommitAsync(txn, null, cancellationToken).ConfigureAwait(false);
    }

    private static bool SameMetadata(MetadataAction a, MetadataAction b) =>
        a.Id == b.Id && a.SchemaString == b.SchemaString && a.PartitionColumns.SequenceEqual(b.PartitionColumns)
        && a.Configuration.Count == b.Configuration.Count && a.Configuration.All(kv => b.Configuration.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>
    /// Deletes files the table no longer needs: data files that are neither live in the latest snapshot nor removed less than
    /// <paramref name="retention"/> ago, and files never committed (crashed or conflicting writers), once older than the retention
    /// (files a running writer is staging are left alone). Files referenced by any version up to the VACUUM START
    /// commit are kept, and writers that started before the retention's cutoff and commit after it refuse to (a Conflict), since their
    /// new files may have been deleted.
    /// The retention defaults to the table's <c>delta.deletedFileRetentionDuration</c> (7 days); a shorter one is refused unless
    /// <paramref name="force"/> is set, because readers of older versions and writers still committing may need those files.
    /// A dry run lists the files and deletes nothing. The log records VACUUM START and VACUUM END commits.
    /// Deletion-vector files and everything under <c>_delta_log</c> or other hidden folders are never touched.
    /// </summary>
    public async Task<DeltaVacuumResult> VacuumAsync(TimeSpan? retention = null, bool dryRun = false, bool force = false, CancellationToken cancellationToken = default)
    {
        if (retention is { } r) ArgumentOutOfRangeException.ThrowIfLessThan(r, TimeSpan.Zero);
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: nothing to vacuum.");
        CheckWritable(snapshot, removes: false);
        var configured = TableProperties.RetentionOf(snapshot.Metadata.Configuration);
        var keep = retention ?? configured;
        if (keep < configured && !force)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"A retention of {keep.TotalHours:0.##} hours is shorter than the table's {configured.TotalHours:0.##} hours (delta.deletedFileRetentionDuration): " +
                "files still needed by readers of older versions or by writers about to commit could be deleted. Force it (--force on the command line) to do it anyway.");

        var cutoff = DateTimeOffset.UtcNow - keep;
        var cutoffMs = cutoff.ToUnixTimeMilliseconds();
        var valid = ValidFiles(snapshot, cutoffMs);

        var doomed = new List<(string Path, long Size)>();
        var running = new Dictionary<string, bool>(StringComparer.Ordinal);
        await foreach (var file in _table.Storage.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            if (!IsVacuumable(file.Path) || valid.Contains(file.Path) || file.LastModified >= cutoff || IsStagingOfRunningWriter(file.Path, running)) continue;
            doomed.Add((file.Path, file.Size));
        }
        var result = new DeltaVacuumResult([.. doomed.Select(d => d.Path)], doomed.Sum(d => d.Size), dryRun, keep);
        if (dryRun) return result;

        var start = new DeltaTransaction(_table, snapshot, DeltaOperations.VacuumStart);
        start.Parameters["retentionCheckEnabled"] = force ? "false" : "true";
        start.Parameters["specifiedRetentionMillis"] = ((long)keep.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        start.Parameters["defaultRetentionMillis"] = ((long)configured.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        start.Metrics["numFilesToDelete"] = doomed.Count;
        start.Metrics["sizeOfDataToDelete"] = result.Bytes;
        var started = await CommitAsync(start, null, cancellationToken).ConfigureAwait(false);
        LogEvents.VacuumStarted(_table.Logger, _table.Location, started.Version, doomed.Count, result.Bytes, keep.TotalHours);
        var planned = doomed.Count;

        // Writers may have committed between the snapshot read above and VACUUM START: what any version up to START refers to stays.
        // Writers committing after START refuse to when this vacuum may have deleted their files (ConflictChecker).
        if (started.Version > snapshot.Version)
        {
            var atStart = await TransientIo.RetryAsync(() => _table.GetSnapshotAsync(started.Version, cancellationToken), cancellationToken).ConfigureAwait(false);
            var stillValid = ValidFiles(atStart, cutoffMs);
            doomed = [.. doomed.Where(d => !stillValid.Contains(d.Path))];
            result = new DeltaVacuumResult([.. doomed.Select(d => d.Path)], doomed.Sum(d => d.Size), dryRun, keep);
        }

        var deleted = 0L;
        await Parallel.ForEachAsync(doomed.Where(d => StagingWrite(d.Path) is null), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (d, ct) =>
        {
            if (await _table.Storage.DeleteAsync(d.Path, ct).ConfigureAwait(false)) Interlocked.Increment(ref deleted);
        }).ConfigureAwait(false);
        // The files of a dead writer's staging folder go while VACUUM holds that writer's lock, so no writer can take it up meanwhile.
        foreach (var write in doomed.Where(d => StagingWrite(d.Path) is not null).GroupBy(d => StagingWrite(d.Path)!, StringComparer.Ordinal))
        {
            var lockPath = _table.Storage.LocalPathOrNull(DataFileWriter.StagingFolder + "/" + write.Key + DataFileWriter.LockSuffix);
            FileStream? held = null;
            if (lockPath is not null && !DataFileWriter.TryTakeLock(lockPath, out held)) continue;
            using (held)
            {
                foreach (var d in write)
                {
                    if (await _table.Storage.DeleteAsync(d.Path, cancellationToken).ConfigureAwait(false)) deleted++;
                }
            }
        }
        var folders = DeleteEmptyFolders(doomed.Select(d => d.Path));

        // Read at the same snapshot as START: it adds and removes nothing, so the lost race for START's version is harmless.
        var end = new DeltaTransaction(_table, snapshot, DeltaOperations.VacuumEnd);
        end.Parameters["status"] = "COMPLETED";
        end.Metrics["numDeletedFiles"] = deleted;
        end.Metrics["numVacuumedDirectories"] = folders;
        var ended = await CommitAsync(end, null, cancellationToken).ConfigureAwait(false);
        LogEvents.VacuumEnded(_table.Logger, _table.Location, ended.Version, deleted, folders, planned - doomed.Count);
        return result;
    }

    /// <summary>The table-relative paths VACUUM keeps: live files and files removed after <paramref name="cutoffMs"/>.</summary>
    private HashSet<string> ValidFiles(DeltaSnapshot snapshot, long cutoffMs)
    {
        var valid = new HashSet<string>(StringComparer.Ordinal);
        void Keep(string path, DeletionVectorDescriptor? dv)
        {
            valid.Add(DeltaPaths.ToTableRelative(path, _table.Storage));
            // The vector's file goes with its data file: readers of the version, or of those within the retention, still need it.
            if (dv is not null && DeletionVectors.FilePath(dv, _table.Storage) is { } vector) valid.Add(vector);
        }
        foreach (var f in snapshot.Files) Keep(f.Path, f.DeletionVector);
        foreach (var t in snapshot.Tombstones.Where(t => (t.DeletionTimestamp ?? 0) > cutoffMs)) Keep(t.Path, t.DeletionVector);
        return valid;
    }

    /// <summary>
    /// Removes the folders (partition folders, staging folders) that deleting <paramref name="deletedFiles"/> left empty, deepest first, up to
    /// the table root; returns how many. Local disk only: object stores have no folders. A folder a writer fills meanwhile is not empty and stays;
    /// a writer that finds its folder gone creates it again.
    /// </summary>
    private int DeleteEmptyFolders(IEnumerable<string> deletedFiles)
    {
        if (_table.Storage.LocalPathOrNull("") is null) return 0;
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in deletedFiles)
        {
            for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1)) folders.Add(path[..slash]);
        }
        var removed = 0;
        foreach (var folder in folders.OrderByDescending(f => f.Count(c => c == '/')).ThenBy(f => f, StringComparer.Ordinal))
        {
            var local = _table.Storage.LocalPathOrNull(folder);
            try
            {
                if (local is null || !Directory.Exists(local) || Directory.EnumerateFileSystemEntries(local).Any()) continue;
                Directory.Delete(local, recursive: false);
                removed++;
            }
            catch (IOException)
            {
                // Filled or removed meanwhile: leave it.
            }
        }
        return removed;
    }

    /// <summary>
    /// True for the files of a staging folder (and its lock) whose writer still runs, whatever their age: a writer holds its lock until
    /// its staged files are gone. <paramref name="running"/> caches the answer per write.
    /// </summary>
    private bool IsStagingOfRunningWriter(string path, Dictionary<string, bool> running)
    {
        if (StagingWrite(path) is not { } write) return false;
        if (!running.TryGetValue(write, out var held))
        {
            var lockPath = _table.Storage.LocalPathOrNull(DataFileWriter.StagingFolder + "/" + write + DataFileWriter.LockSuffix);
            FileStream? probe = null;
            held = lockPath is not null && !DataFileWriter.TryTakeLock(lockPath, out probe);
            probe?.Dispose();
            running[write] = held;
        }
        return held;
    }

    /// <summary>The write id of a file in the writers' staging folder (its folder, or its lock file), or null for other files.</summary>
    private static string? StagingWrite(string path)
    {
        if (!path.StartsWith(DataFileWriter.StagingFolder + "/", StringComparison.Ordinal)) return null;
        var name = path[(DataFileWriter.StagingFolder.Length + 1)..];
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 ? name[..slash] : name.EndsWith(DataFileWriter.LockSuffix, StringComparison.Ordinal) ? name[..^DataFileWriter.LockSuffix.Length] : name;
    }

    /// <summary>
    /// Files VACUUM may consider: not under <c>_delta_log</c>, not in a hidden folder (a name starting with '_' or '.' that is not
    /// a partition folder), not a checksum. The writer's own staging folder is the exception: its leftovers are orphans. Deletion
    /// vectors are considered as Spark's VACUUM does: one that no file of the version (or tombstone within the retention) names goes.
    /// </summary>
    private static bool IsVacuumable(string path)
    {
        var segments = path.Split('/');
        if (segments[0] == DataFileWriter.StagingFolder) return true;
        foreach (var s in segments)
        {
            if ((s.StartsWith('_') || s.StartsWith('.')) && !s.Contains('=', StringComparison.Ordinal)) return false;
        }
        var name = segments[^1];
        return !name.EndsWith(".crc", StringComparison.Ordinal);
    }

    /// <summary>Writes a checkpoint of the latest version now (normally one is written every <c>delta.checkpointInterval</c> commits); returns its version.</summary>
    public async Task<long> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = await LoadSnapshotAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: nothing to checkpoint.");
        return await CheckpointWriter.WriteAsync(_table, snapshot.Version, cancellationToken).ConfigureAwait(false);
    }
}
