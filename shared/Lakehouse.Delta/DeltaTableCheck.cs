using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Delta;

/// <summary>How bad a finding of <see cref="DeltaTable.CheckAsync"/> is.</summary>
public enum DeltaCheckSeverity
{
    /// <summary>The table (or the version named) cannot be read correctly: readers and writers refuse it.</summary>
    Error,

    /// <summary>Something a reader ignores by the protocol (a stale <c>_last_checkpoint</c>, an incomplete multi-part checkpoint, a stray file in the log).</summary>
    Warning,

    /// <summary>Information: files a crash or a later commit left behind, which VACUUM removes.</summary>
    Note,
}

/// <summary>One finding of a table check: the file it is about (table-relative, or the table's location) and what is wrong.</summary>
/// <param name="Severity">Error, warning or note.</param>
/// <param name="File">The file, relative to the table root (e.g. <c>_delta_log/00000000000000000003.json</c>).</param>
/// <param name="Problem">What is wrong with it, in a sentence.</param>
public sealed record DeltaCheckFinding(DeltaCheckSeverity Severity, string File, string Problem);

/// <summary>What <see cref="DeltaTable.CheckAsync"/> found.</summary>
/// <param name="Location">The table's location.</param>
/// <param name="Version">The latest version, or null when no snapshot of it could be rebuilt.</param>
/// <param name="LiveFiles">The live data files of that version (0 when it could not be rebuilt).</param>
/// <param name="Deep">True when every data file was opened.</param>
/// <param name="Findings">Every finding, errors first.</param>
public sealed record DeltaCheckReport(string Location, long? Version, int LiveFiles, bool Deep, IReadOnlyList<DeltaCheckFinding> Findings)
{
    /// <summary>True when no finding is an <see cref="DeltaCheckSeverity.Error"/>.</summary>
    public bool IsHealthy => Findings.All(f => f.Severity != DeltaCheckSeverity.Error);
}

/// <summary>
/// The checks behind <see cref="DeltaTable.CheckAsync"/>: everything a reader of the latest version relies on, each problem reported
/// (not only the first). What the protocol lets a reader ignore is a warning; what makes readers refuse the table is an error.
/// </summary>
internal sealed class DeltaTableChecker(DeltaTable table, bool deep)
{
    private readonly List<DeltaCheckFinding> _findings = [];

    private ILakeStorage Storage => table.Storage;

    private void Error(string file, string problem) => _findings.Add(new DeltaCheckFinding(DeltaCheckSeverity.Error, file, problem));

    private void Warning(string file, string problem) => _findings.Add(new DeltaCheckFinding(DeltaCheckSeverity.Warning, file, problem));

    private void Note(string file, string problem) => _findings.Add(new DeltaCheckFinding(DeltaCheckSeverity.Note, file, problem));

    internal async Task<DeltaCheckReport> RunAsync(CancellationToken cancellationToken)
    {
        var (logFiles, pointer) = await CheckLogFolderAsync(cancellationToken).ConfigureAwait(false);
        if (logFiles.Count == 0)
        {
            // Nothing to check, rather than a table to repair: the folder holds no table yet (a table whose first commit was
            // interrupted has none until the next run that writes it creates it).
            if (_findings.Count == 0)
                throw LogFiles.NotATable(table.Location, "Nothing to check: a table whose first commit was interrupted has none until the next write creates it.");
            return Report(null, 0);
        }
        CheckContiguous(logFiles);
        await CheckCommitsAsync(logFiles, cancellationToken).ConfigureAwait(false);
        await CheckCheckpointsAsync(logFiles, pointer, cancellationToken).ConfigureAwait(false);

        DeltaSnapshot snapshot;
        try
        {
            snapshot = await table.GetSnapshotAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e)
        {
            // A damaged file already named above makes the snapshot fail with the same message: report the snapshot only when it adds something.
            if (!_findings.Any(f => f.Severity == DeltaCheckSeverity.Error && e.Message.Contains(f.File, StringComparison.Ordinal)))
                Error(FileNamedIn(e.Message), e.Message);
            return Report(null, 0);
        }
        await CheckChecksumAsync(snapshot, cancellationToken).ConfigureAwait(false);
        var present = await CheckDataFilesAsync(snapshot, cancellationToken).ConfigureAwait(false);
        if (deep) await CheckDataFileContentsAsync(snapshot, present, cancellationToken).ConfigureAwait(false);
        return Report(snapshot.Version, snapshot.Files.Count);
    }

    private DeltaCheckReport Report(long? version, int files) =>
        new(table.Location, version, files, deep, [.. _findings.OrderBy(f => f.Severity).ThenBy(f => f.File, StringComparer.Ordinal)]);

    /// <summary>The first quoted table-relative path in a message, else the log folder.</summary>
    private static string FileNamedIn(string message)
    {
        foreach (var part in message.Split('\''))
        {
            if (part.StartsWith(LogFiles.LogFolder, StringComparison.Ordinal)) return part;
        }
        return LogFiles.LogFolder;
    }

    // ---- the log folder -------------------------------------------------------------------------------------------------

    /// <summary>Lists _delta_log: returns its log files and the _last_checkpoint pointer; reports folders and files that do not belong.</summary>
    private async Task<(List<LogFile> Files, LastCheckpointInfo? Pointer)> CheckLogFolderAsync(CancellationToken cancellationToken)
    {
        var files = new List<LogFile>();
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var hasPointer = false;
        await foreach (var f in Storage.ListAsync(LogFiles.LogFolder, cancellationToken).ConfigureAwait(false))
        {
            if (LogFiles.Classify(f) is { } log)
            {
                files.Add(log);
                continue;
            }
            if (LogFiles.FolderNamedLikeLogFile(f.Path) is { } folder)
            {
                if (folders.Add(folder)) Error(folder, "is a folder named like a log file: no commit or checkpoint of that name can be written or read while it is there. Move it out of _delta_log.");
                continue;
            }
            var name = f.Path[LogFiles.LogFolder.Length..];
            if (name == "_last_checkpoint")
            {
                hasPointer = true;
                continue;
            }
            if (LogFiles.MisnamedLogFile(name))
            {
                Error(f.Path, "is named like a log file but its version is not 20 digits: readers do not see it, so the actions in it are not part of the table. A writer that does not follow the protocol, or a copy tool, wrote it.");
                continue;
            }
            if (LogFiles.IsHarmlessInLog(name)) continue;
            Warning(f.Path, "is not a Delta log file: readers ignore it.");
        }
        LastCheckpointInfo? pointer = null;
        if (hasPointer)
        {
            var content = await Storage.ReadAsync(LogFiles.LastCheckpointPath, cancellationToken).ConfigureAwait(false);
            pointer = LastCheckpointInfo.Parse(content);
            if (pointer is null)
                Warning(LogFiles.LastCheckpointPath, $"is not a JSON object with a version ({content.Length} bytes): readers ignore it and list the whole log, which is slower. The next checkpoint rewrites it.");
        }
        return (files, pointer);
    }

    /// <summary>Versions missing between the first and the last commit (a compaction file may stand in for commits).</summary>
    private void CheckContiguous(List<LogFile> files)
    {
        var commits = files.Where(f => f.Kind == LogFileKind.Commit).Select(f => f.Version).ToHashSet();
        if (commits.Count == 0) return;
        var covered = new HashSet<long>(commits);
        foreach (var c in files.Where(f => f.Kind == LogFileKind.Compaction))
            for (var v = c.Version; v <= c.EndVersion; v++) covered.Add(v);
        var (first, last) = (commits.Min(), commits.Max());
        for (var v = first + 1; v < last; v++)
        {
            if (covered.Contains(v)) continue;
            var end = v;
            while (end + 1 < last && !covered.Contains(end + 1)) end++;
            var what = end == v ? $"commit {v} is missing" : $"commits {v} to {end} are missing";
            Error(LogFiles.CommitPath(v), $"{what} from the log between {first} and {last}: the log is not contiguous, so versions from {v} on cannot be rebuilt.");
            v = end;
        }
    }

    private async Task CheckCommitsAsync(List<LogFile> files, CancellationToken cancellationToken)
    {
        var commits = files.Where(f => f.Kind is LogFileKind.Commit or LogFileKind.Compaction).OrderBy(f => f.Version).ToList();
        var problems = new string?[commits.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, commits.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                var bytes = await Storage.ReadAsync(commits[i].File.Path, ct).ConfigureAwait(false);
                LogReplay.ParseCommit(bytes, commits[i].File.Path, table.Location); // a cut-off last line does not parse
            }
            catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.CorruptLog or LakehouseErrorReason.NotFound)
            {
                problems[i] = e.Message;
            }
        }).ConfigureAwait(false);
        for (var i = 0; i < commits.Count; i++)
            if (problems[i] is { } p) Error(commits[i].File.Path, p);
    }

    private async Task CheckCheckpointsAsync(List<LogFile> files, LastCheckpointInfo? pointer, CancellationToken cancellationToken)
    {
        var byVersion = files.Where(f => f.Kind is LogFileKind.Checkpoint or LogFileKind.MultiPartCheckpoint or LogFileKind.V2Checkpoint)
            .GroupBy(f => f.Version).OrderBy(g => g.Key).ToList();
        foreach (var group in byVersion)
        {
            if (!LogSegment.HasCompleteCheckpoint([.. group], group.Key))
            {
                Warning(group.First().File.Path, $"the multi-part checkpoint of version {group.Key} is incomplete ({group.Count()} of {group.First().Parts} parts): readers ignore it, as the protocol says.");
                continue;
            }
            var parts = LogSegment.Build([.. group], group.Key, table.Location).Checkpoint;
            try
            {
                await CheckpointReader.ReadAsync(Storage, table.Engine, parts, withFiles: true, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.CorruptLog or LakehouseErrorReason.NotFound)
            {
                // A message that already says what to do (a sidecar of another size) is not told twice.
                Error(parts[0].File.Path, e.Message.Contains("Delete the damaged checkpoint", StringComparison.Ordinal) ? e.Message
                    : e.Message + " Delete the damaged checkpoint (and _last_checkpoint if it points at it) to read the table from its commit files, if they are still there.");
            }
        }
        if (pointer is not null && !byVersion.Any(g => g.Key == pointer.Version))
        {
            Warning(LogFiles.LastCheckpointPath, $"points at version {pointer.Version}, which has no checkpoint: it is only a hint, so readers list the whole log and use the newest complete checkpoint (slower, not wrong).");
        }
        else if (pointer is not null && !_findings.Any(f => f.Severity == DeltaCheckSeverity.Error && f.File.StartsWith(LogFiles.VersionPrefix(pointer.Version), StringComparison.Ordinal)))
        {
            // The checkpoint reads; check it holds what the pointer says (a cut-off checkpoint is still valid Parquet).
            try
            {
                await table.GetSnapshotAsync(await table.ListLogForSnapshotAsync(pointer.Version, cancellationToken).ConfigureAwait(false), pointer.Version, true, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.CorruptLog && e.Message.Contains("is incomplete", StringComparison.Ordinal))
            {
                Error(LogFiles.CheckpointPath(pointer.Version), e.Message);
            }
            catch (LakehouseException)
            {
                // Other problems of that version are reported by the snapshot of the latest version, or do not concern the checkpoint.
            }
        }
    }

    // ---- the version checksum -------------------------------------------------------------------------------------------

    /// <summary>When the latest version has a version checksum file (PROTOCOL.md "Version Checksum File"), its file count and size must match.</summary>
    private async Task CheckChecksumAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        var path = LogFiles.LogFolder + snapshot.Version.ToString("D20", CultureInfo.InvariantCulture) + ".crc";
        byte[] bytes;
        try
        {
            bytes = await Storage.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Any(p => p.Name is "numFiles" or "tableSizeBytes" && p.Value.ValueKind != JsonValueKind.Number))
            {
                Warning(path, "is not a checksum of numbers (numFiles, tableSizeBytes): readers do not need it.");
                return;
            }
            if (root.TryGetProperty("numFiles", out var n) && n.TryGetInt64(out var numFiles) && numFiles != snapshot.Files.Count)
                Error(path, $"says version {snapshot.Version} has {numFiles} live files, but its log adds up to {snapshot.Files.Count}: the log or the checksum was changed after the commit.");
            var size = snapshot.Files.Sum(f => f.Size);
            if (root.TryGetProperty("tableSizeBytes", out var s) && s.TryGetInt64(out var tableSize) && tableSize != size)
                Error(path, $"says version {snapshot.Version} holds {tableSize} bytes, but its live files add up to {size}: the log or the checksum was changed after the commit.");
        }
        catch (JsonException e)
        {
            Warning(path, $"is not valid JSON ({e.Message}): readers do not need it.");
        }
    }

    // ---- data files -----------------------------------------------------------------------------------------------------

    /// <summary>Reports live files missing from storage or of another size; returns the indexes of those that are there.</summary>
    private async Task<List<int>> CheckDataFilesAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        var files = snapshot.Files;
        var relative = new string?[files.Count];
        for (var i = 0; i < files.Count; i++)
        {
            try
            {
                relative[i] = DeltaPaths.ToTableRelative(files[i].Path, Storage);
            }
            catch (LakehouseException e)
            {
                Error(files[i].Path, e.Message);
            }
        }
        var listed = new Dictionary<string, LakeFile>(StringComparer.Ordinal);
        await foreach (var f in Storage.ListAsync("", cancellationToken).ConfigureAwait(false))
            if (!f.Path.StartsWith(LogFiles.LogFolder, StringComparison.Ordinal)) listed[f.Path] = f;

        var present = new List<int>();
        var live = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < files.Count; i++)
        {
            if (relative[i] is not { } path) continue;
            live.Add(path);
            if (files[i].DeletionVector is { StorageType: "u" or "p" } dv && DeletionVectors.FilePath(dv, Storage) is { } dvPath)
            {
                live.Add(dvPath);
                if (!listed.ContainsKey(dvPath)) Error(dvPath, $"the deletion vector of live data file '{path}' is missing from storage: its deleted rows cannot be told apart.");
            }
            if (!listed.TryGetValue(path, out var actual))
                Error(path, $"is live in version {snapshot.Version} but missing from storage: a commit names a data file that does not exist.");
            else if (files[i].Size > 0 && actual.Size != files[i].Size)
                Error(path, $"has {actual.Size} bytes in storage, but version {snapshot.Version} records {files[i].Size}: it was replaced or cut off.");
            else
                present.Add(i);
        }

        // Files in the table folder that no live add names: left by interrupted writes or removed by later commits.
        var orphans = listed.Keys.Where(p => !live.Contains(p) && IsDataFolderPath(p)).Order(StringComparer.Ordinal).ToList();
        if (orphans.Count > 0)
        {
            var removed = snapshot.Tombstones.Select(t => DeltaPaths.ToTableRelative(t.Path, Storage))
                .Concat(snapshot.Tombstones.Select(t => t.DeletionVector is { } dv ? DeletionVectors.FilePath(dv, Storage) : null).OfType<string>())
                .ToHashSet(StringComparer.Ordinal);
            var tombstoned = orphans.Count(removed.Contains);
            Note(orphans[0], $"{orphans.Count} file(s) in the table folder are not part of version {snapshot.Version}, such as this one ({tombstoned} named by remove actions " +
                $"still in the log, {orphans.Count - tombstoned} by no action in it: left by interrupted or failed writes, or removed long ago). Readers ignore them; " +
                "VACUUM deletes them after the retention period.");
        }
        return present;
    }

    /// <summary>True for paths where data files may live (PROTOCOL.md "Data Files": the root or any folder not starting with '_' or '.').</summary>
    private static bool IsDataFolderPath(string path) =>
        path.Split('/').All(segment => !segment.StartsWith('_') && !segment.StartsWith('.'));

    /// <summary>Opens every present live file: it must read as Parquet, hold the table's columns in types that read as the schema's, and the rows its statistics claim.</summary>
    private async Task CheckDataFileContentsAsync(DeltaSnapshot snapshot, List<int> present, CancellationToken cancellationToken)
    {
        var files = snapshot.Files;
        var locals = new string[files.Count];
        await Parallel.ForEachAsync(present, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) => locals[i] = await Storage.GetLocalCopyAsync(DeltaPaths.ToTableRelative(files[i].Path, Storage), ct).ConfigureAwait(false)).ConfigureAwait(false);
        using var lease = table.Engine.Lease();
        // A memory of this check's own, not the process's: a check reads every footer.
        var schemas = new FileSchemaMemory();
        foreach (var i in present)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = DeltaPaths.ToTableRelative(files[i].Path, Storage);
            long rows;
            try
            {
                rows = Convert.ToInt64(lease.Connection.Scalar($"SELECT num_rows FROM parquet_file_metadata({SqlText.Literal(locals[i])})", cancellationToken), CultureInfo.InvariantCulture);
                DataFileTypes.Check(lease.Connection, snapshot, [locals[i]], [path], table.Location, schemas);
            }
            catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.Engine or LakehouseErrorReason.CorruptLog)
            {
                Error(path, e.Reason == LakehouseErrorReason.Engine ? $"is not readable Parquet: {e.Message}" : e.Message);
                continue;
            }
            if (StatsJson.NumRecords(files[i].Stats) is { } claimed && claimed != rows)
                Error(path, $"holds {rows} rows, but its add action's statistics say {claimed} (numRecords): the file was replaced, or the statistics are wrong and row counts taken from them are too.");
        }
    }
}
