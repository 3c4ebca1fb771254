using System.Collections.Concurrent;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Delta.Write;

/// <summary>Data files a write produced, not yet committed.</summary>
internal sealed class WrittenFiles
{
    internal List<AddAction> Adds { get; } = [];

    /// <summary>Table-relative paths of the files (what to delete if the commit fails for good).</summary>
    internal List<string> Paths { get; } = [];

    internal long Rows { get; set; }

    internal long Bytes { get; set; }
}

/// <summary>
/// Writes the rows of a SELECT as Delta data files: ZSTD Parquet through DuckDB's COPY, Hive-style partition folders
/// (partition columns are not stored in the files), <c>part-NNNNN-uuid.c000.zstd.parquet</c> names and per-file statistics.
/// Local tables are staged in <c>_lakehouse_staging/&lt;write id&gt;/</c> inside the table (with a held lock file beside it, so VACUUM
/// leaves a running write alone) and renamed into place; the folders are removed when the write ends. Remote tables are staged
/// in the engine's scratch folder and uploaded. Nothing is committed here: files without a commit are invisible to readers
/// and VACUUM removes them once they are older than the retention.
/// </summary>
internal static class DataFileWriter
{
    /// <summary>The hidden folder (inside a local table) where DuckDB writes before files are renamed into place.</summary>
    internal const string StagingFolder = "_lakehouse_staging";

    /// <summary>
    /// Writes <paramref name="selectSql"/> (columns: the schema's, logical names, already of their table types) as data files,
    /// zstd at <paramref name="compressionLevel"/> (null: DuckDB's default). <paramref name="stagedSource"/>: see
    /// <see cref="DeltaWriteOptions.StagedSource"/>. On failure every file written so far is deleted.
    /// </summary>
    internal static async Task<WrittenFiles> WriteAsync(
        DeltaTable table, DuckConnection connection, string selectSql, StructType schema, IReadOnlyList<string> partitionColumns,
        long targetFileSize, int? compressionLevel, bool dataChange, bool stagedSource, CancellationToken cancellationToken)
    {
        FaultPoint.Reach(FaultPoint.BeforeDataFiles);
        var storage = table.Storage;
        var writeId = Guid.NewGuid().ToString("N");
        var localRoot = storage.LocalPathOrNull("");
        var staging = localRoot is not null
            ? Path.Combine(localRoot, StagingFolder, writeId)
            : table.Engine.ScratchDirectory(Path.Combine("delta-write", writeId));
        var result = new WrittenFiles();
        var partitionFields = partitionColumns.Select(c => schema.Find(c)!).ToList();
        var dataFields = schema.Fields.Where(f => !partitionColumns.Contains(f.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        if (dataFields.Count == 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, "A Delta table needs at least one column that is not a partition column.");
        FileStream? stagingLock = null;
        try
        {
            // In a local table the staging folder is visible to VACUUM: the lock beside it says a writer is still at work there.
            if (localRoot is not null) stagingLock = await HoldLockAsync(staging + LockSuffix, cancellationToken).ConfigureAwait(false);
            CreateFolder(staging);
            var staged = Copy(connection, selectSql, staging, partitionFields, dataFields, targetFileSize, compressionLevel, stagedSource, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            var stats = FileStatistics.Compute(connection, [.. staged.Select(s => s.LocalPath)], dataFields);

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var index = 0;
            var moves = new List<(string Local, string Relative)>();
            foreach (var file in staged)
            {
                var fileStats = stats[file.LocalPath];
                CheckNotNull(schema, partitionFields, file.Values, fileStats, table.Location);
                var name = string.Create(CultureInfo.InvariantCulture, $"part-{index++:D5}-{Guid.NewGuid()}.c000.zstd.parquet");
                var relative = partitionFields.Count == 0 ? name : PartitionEncoding.FolderPath(partitionColumns, file.Values) + "/" + name;
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; i < partitionColumns.Count; i++) values[partitionColumns[i]] = file.Values[i];
                result.Adds.Add(new AddAction(DeltaPaths.ToLogPath(relative), values, file.Size, now, dataChange, fileStats.Json));
                result.Rows += fileStats.NumRecords;
                result.Bytes += file.Size;
                moves.Add((file.LocalPath, LakePath.Normalize(relative)));
            }
            // Every path is checked above before any file is placed, so a value the lake cannot name (a NUL) refuses the
            // write without leaving a partition folder behind.
            await PlaceAsync(storage, moves, result, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            await DeleteQuietlyAsync(table, result.Paths).ConfigureAwait(false);
            throw;
        }
        finally
        {
            try
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                if (stagingLock is not null)
                {
                    stagingLock.Dispose();
                    File.Delete(staging + LockSuffix);
                }
                // A table's staging folder is shared by concurrent writers: the last one out removes it (a writer that meanwhile put its
                // own folder in it keeps it, and one that finds it gone creates it again). The engine's scratch folder is left to the
                // engine, which removes it at dispose: removing it here raced another writer's creation of its folder in it.
                var parent = Path.GetDirectoryName(staging)!;
                if (localRoot is not null && Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any()) Directory.Delete(parent, recursive: false);
            }
            catch (IOException)
            {
                // Left behind (in use, or filled meanwhile): VACUUM clears old staging files.
            }
        }
    }

    /// <summary>The lock file beside a staging folder (<c>_lakehouse_staging/&lt;write id&gt;.lock</c>), held open while the write runs.</summary>
    internal const string LockSuffix = ".lock";

    /// <summary>
    /// Creates and holds a lock file (open with FileShare.None: an advisory flock on Unix, released by the kernel when the process dies),
    /// so VACUUM leaves the staging folder of a running writer alone whatever its retention, and cleans up after a crashed one. VACUUM
    /// holds the lock of a dead writer while it deletes its files and the lock file: a lock taken on a file VACUUM unlinked meanwhile is
    /// no lock, so the writer checks that its lock file is still there once it holds it, and otherwise takes a new one.
    /// </summary>
    private static async Task<FileStream> HoldLockAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            CreateFolder(Path.GetDirectoryName(path)!);
            FileStream? stream = null;
            try
            {
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
                if (File.Exists(path)) return stream;
            }
            catch (IOException) when (attempt < 100)
            {
                // The shared staging folder was removed (empty) by a writer finishing meanwhile, or VACUUM holds the lock for a moment.
            }
            stream?.Dispose();
            await Task.Delay(attempt < 10 ? 1 : 10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the staging lock at <paramref name="lockPath"/> for VACUUM: false when a running writer holds it; true otherwise, with the
    /// lock held in <paramref name="held"/> (null when there is no lock file) until VACUUM has deleted the write's files.
    /// </summary>
    internal static bool TryTakeLock(string lockPath, out FileStream? held)
    {
        held = null;
        try
        {
            held = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Creates a folder with its parents, again if another writer or VACUUM removed an empty parent meanwhile (they remove the
    /// folders they leave empty).
    /// </summary>
    private static void CreateFolder(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.CreateDirectory(path);
                return;
            }
            catch (Exception e) when (e is DirectoryNotFoundException or IOException && attempt < 5)
            {
                // A parent vanished between two steps of the creation.
            }
        }
    }

    private sealed record StagedFile(string LocalPath, string?[] Values, long Rows, long Size);

    private static List<StagedFile> Copy(DuckConnection connection, string selectSql, string staging, List<StructField> partitionFields,
        List<StructField> dataFields, long targetFileSize, int? compressionLevel, bool stagedSource, CancellationToken cancellationToken)
    {
        var columns = string.Join(", ", dataFields.Select(f => "__w." + SqlText.Identifier(f.Name)));
        var size = targetFileSize.ToString(CultureInfo.InvariantCulture);
        var zstd = compressionLevel is { } level ? string.Create(CultureInfo.InvariantCulture, $"COMPRESSION zstd, COMPRESSION_LEVEL {level}") : "COMPRESSION zstd";
        string sql;
        string?[]? single = null;
        List<StagedFile> files;
        try
        {
            if (partitionFields.Count == 0)
            {
                sql = $"COPY (SELECT {columns} FROM ({selectSql}) AS __w) TO {SqlText.Literal(staging)} " +
                      $"(FORMAT parquet, {zstd}, FILE_SIZE_BYTES {size}, FILENAME_PATTERN 'data_{{i}}', RETURN_STATS)";
            }
            else
            {
                // An empty string (or binary) is refused rather than written as the null it would be read back as, and so are bytes
                // that are not UTF-8, which no partition text holds.
                var key = PartitionEncoding.KeySql([.. partitionFields.Select(f =>
                    PartitionEncoding.SerializeSql(PartitionEncoding.RefuseUnkeptValueSql("__w." + SqlText.Identifier(f.Name), f), f.Type))]);
                if (stagedSource && SinglePartition(connection, selectSql, key, cancellationToken) is { } only)
                {
                    // One partition: a plain COPY, which rotates files itself; each row is checked against the partition read first.
                    single = PartitionEncoding.DecodeKey(PartitionEncoding.KeyColumn + "=" + only, partitionFields.Count);
                    var changed = SqlText.Literal("The source of the write read differently the second time (its partition values changed): nothing was written.");
                    sql = $"COPY (SELECT {columns} FROM ({selectSql}) AS __w WHERE CASE WHEN {key} = {SqlText.Literal(only)} THEN true ELSE error({changed}) END) " +
                          $"TO {SqlText.Literal(Path.Combine(staging, "single"))} (FORMAT parquet, {zstd}, FILE_SIZE_BYTES {size}, FILENAME_PATTERN 'data_{{i}}', RETURN_STATS)";
                }
                else
                {
                    sql = $"COPY (SELECT {columns}, {key} AS {SqlText.Identifier(PartitionEncoding.KeyColumn)} FROM ({selectSql}) AS __w) TO {SqlText.Literal(staging)} " +
                          $"(FORMAT parquet, {zstd}, PARTITION_BY ({SqlText.Identifier(PartitionEncoding.KeyColumn)}), FILENAME_PATTERN 'data_{{uuid}}', RETURN_STATS)";
                }
            }
            files = RunCopy(connection, sql, f =>
                partitionFields.Count == 0 ? [] : single ?? PartitionEncoding.DecodeKey(Path.GetFileName(Path.GetDirectoryName(f)!), partitionFields.Count), cancellationToken);
        }
        catch (LakehouseException e) when (PartitionEncoding.Refusal(e, partitionFields) is { } refusal)
        {
            throw refusal;
        }
        if (partitionFields.Count == 0 || single is not null) return files;

        // PARTITION_BY cannot rotate files, so a partition bigger than the target is split in a second pass.
        var result = new List<StagedFile>();
        var split = 0;
        foreach (var f in files)
        {
            if (f.Size <= targetFileSize + (targetFileSize / 2) || f.Rows < 2)
            {
                result.Add(f);
                continue;
            }
            var folder = Path.Combine(staging, "split-" + (split++).ToString(CultureInfo.InvariantCulture));
            var resplit = $"COPY (SELECT * FROM read_parquet({SqlText.Literal(f.LocalPath)})) TO {SqlText.Literal(folder)} " +
                          $"(FORMAT parquet, {zstd}, FILE_SIZE_BYTES {size}, FILENAME_PATTERN 'data_{{i}}', RETURN_STATS)";
            result.AddRange(RunCopy(connection, resplit, _ => f.Values, cancellationToken));
            File.Delete(f.LocalPath);
        }
        return result;
    }

    /// <summary>The partition key (<see cref="PartitionEncoding.KeySql"/>) of every row of the source when they all share one; null otherwise (or no rows).</summary>
    private static string? SinglePartition(DuckConnection connection, string selectSql, string key, CancellationToken cancellationToken)
    {
        // min and max, not a count of distinct keys: no hash table of the keys on the write's path.
        using var r = connection.Query($"SELECT min({key}), max({key}) FROM ({selectSql}) AS __w", cancellationToken);
        return r.Read() && !r.IsNull(0) && r.GetString(0) == r.GetString(1) ? r.GetString(0) : null;
    }

    private static List<StagedFile> RunCopy(DuckConnection connection, string sql, Func<string, string?[]> values, CancellationToken cancellationToken)
    {
        var files = new List<StagedFile>();
        {
            try
            {
                using var r = connection.Query(sql, cancellationToken);
                while (r.Read())
                {
                    var path = r.GetString(0);
                    var rows = r.GetInt64(1);
                    var bytes = r.GetInt64(2);
                    if (rows == 0)
                    {
                        File.Delete(path);
                        continue;
                    }
                    files.Add(new StagedFile(path, values(path), rows, bytes));
                }
            }
            catch (LakehouseException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (LakehouseException e) when (e.Message.Contains("File name too long", StringComparison.Ordinal))
            {
                // The staging folder of a partition encodes its values (hex of UTF-8) in one file name of at most 255 bytes.
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    "A partition value is too long: partition values may be at most about 120 bytes (UTF-8) in all, because each partition is a folder. " +
                    "Partition by a shorter column (a date, a code) instead.", e);
            }
        }
        return files;
    }

    private static void CheckNotNull(StructType schema, List<StructField> partitionFields, string?[] values, FileStats stats, string table)
    {
        for (var i = 0; i < partitionFields.Count; i++)
        {
            if (!partitionFields[i].Nullable && values[i] is null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Column '{partitionFields[i].Name}' of '{table}' is not nullable, but the data has nulls in it.");
        }
        foreach (var f in schema.Fields)
        {
            if (!f.Nullable && stats.TopLevelNulls.TryGetValue(f.Name, out var n) && n > 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Column '{f.Name}' of '{table}' is not nullable, but the data has {n} null(s) in it.");
        }
    }

    private static async Task PlaceAsync(ILakeStorage storage, List<(string Local, string Relative)> moves, WrittenFiles result, CancellationToken cancellationToken)
    {
        if (storage.LocalPathOrNull("") is not null)
        {
            foreach (var (local, relative) in moves)
            {
                var target = storage.LocalPathOrNull(relative)!;
                for (var attempt = 1; ; attempt++)
                {
                    CreateFolder(Path.GetDirectoryName(target)!);
                    try
                    {
                        File.Move(local, target);
                        break;
                    }
                    catch (DirectoryNotFoundException) when (attempt < 5 && File.Exists(local))
                    {
                        // VACUUM removed the (empty) partition folder between its creation and the move.
                    }
                }
                result.Paths.Add(relative);
            }
            return;
        }
        var placed = new bool[moves.Count];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, moves.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    await storage.UploadAsync(moves[i].Relative, moves[i].Local, ct).ConfigureAwait(false);
                    placed[i] = true;
                }).ConfigureAwait(false);
        }
        finally
        {
            for (var i = 0; i < moves.Count; i++)
                if (placed[i]) result.Paths.Add(moves[i].Relative);
        }
    }

    /// <summary>Deletes files that were written but will never be committed (best effort, logged when it fails: VACUUM catches what is left).</summary>
    internal static async Task DeleteQuietlyAsync(DeltaTable table, IReadOnlyList<string> relativePaths)
    {
        if (relativePaths.Count == 0) return;
        var failed = new ConcurrentQueue<(string Path, Exception Error)>();
        await Parallel.ForEachAsync(relativePaths, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (p, ct) =>
        {
            try
            {
                await table.Storage.DeleteAsync(p, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LakehouseException or IOException or UnauthorizedAccessException)
            {
                failed.Enqueue((p, e));
            }
        }).ConfigureAwait(false);
        if (failed.TryPeek(out var first))
            LogEvents.OrphanCleanupFailed(table.Logger, failed.Count, table.Location, first.Path, first.Error.Message, first.Error);
    }
}
