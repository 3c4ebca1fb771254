using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Delta;

/// <summary>The files one commit added and removed (see <see cref="DeltaTable.GetChangesAsync"/>).</summary>
/// <param name="Version">The commit's version.</param>
/// <param name="Operation">commitInfo.operation (WRITE, MERGE, OPTIMIZE, ...), null when the commit has none.</param>
/// <param name="Adds">Its add actions; those with DataChange false rearrange rows already in the table (compaction).</param>
/// <param name="Removes">Its remove actions; those with DataChange true took rows out of the table.</param>
public sealed record DeltaCommitChanges(long Version, string? Operation, IReadOnlyList<AddAction> Adds, IReadOnlyList<RemoveAction> Removes);

/// <summary>One entry of a table's history (from the commit's commitInfo).</summary>
/// <param name="Version">The commit version.</param>
/// <param name="Timestamp">When it was committed.</param>
/// <param name="Operation">The operation, e.g. WRITE, MERGE, OPTIMIZE.</param>
/// <param name="OperationParameters">The operation's parameters as JSON, or null.</param>
/// <param name="OperationMetrics">The operation's metrics as JSON, or null.</param>
/// <param name="EngineInfo">The writer's engine, e.g. "Apache-Spark/3.5.0 Delta-Lake/3.1.0" or "Lakehouse/1.0".</param>
public sealed record CommitSummary(long Version, DateTimeOffset Timestamp, string? Operation, string? OperationParameters, string? OperationMetrics, string? EngineInfo);

/// <summary>
/// A Delta table in lake storage. Reading goes through snapshots; every snapshot is rebuilt from the log
/// (checkpoint plus later commits) and refuses protocols and features it cannot honour.
/// </summary>
public sealed class DeltaTable
{
    private DeltaTable(ILakeStorage storage, DuckEngine engine, ILogger logger)
    {
        Storage = storage;
        Engine = engine;
        Logger = logger;
    }

    /// <summary>
    /// Opens the table rooted at <paramref name="storage"/> (the folder that holds _delta_log). Reads and writes of the table log through
    /// <paramref name="loggerFactory"/> (category Lakehouse.Delta; events 3000 and up); without one they log nothing.
    /// </summary>
    public static DeltaTable Open(ILakeStorage storage, DuckEngine engine, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(engine);
        return new DeltaTable(storage, engine, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Lakehouse.Delta"));
    }

    /// <summary>Where this table's readers and writers log.</summary>
    internal ILogger Logger { get; }

    /// <summary>Where the table lives.</summary>
    public string Location => Storage.Location;

    internal ILakeStorage Storage { get; }

    internal DuckEngine Engine { get; }

    /// <summary>
    /// The table-relative path of a data file, as a scan names it (<see cref="Scan.DeltaScan.FileColumn"/>): the log's path decoded,
    /// or an absolute URI's path inside the table. A path outside the table is refused (UnsupportedFeature).
    /// </summary>
    public string RelativePath(AddAction file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return DeltaPaths.ToTableRelative(file.Path, Storage);
    }

    /// <summary>True when the folder holds a Delta log with at least one commit or checkpoint.</summary>
    public async Task<bool> ExistsAsync(CancellationToken cancellationToken = default) =>
        (await ListLogAsync(cancellationToken).ConfigureAwait(false)).Count > 0;

    internal Task<List<LogFile>> ListLogAsync(CancellationToken cancellationToken) => ListLogAsync("", cancellationToken);

    private async Task<List<LogFile>> ListLogAsync(string startFrom, CancellationToken cancellationToken)
    {
        var files = new List<LogFile>();
        await foreach (var f in Storage.ListAsync(LogFiles.LogFolder, startFrom, cancellationToken).ConfigureAwait(false))
        {
            if (LogFiles.Classify(f) is { } log) files.Add(log);
            else if (LogFiles.FolderNamedLikeLogFile(f.Path) is { } folder) throw FolderInLog(folder);
            else if (LogFiles.MisnamedLogFile(f.Path[LogFiles.LogFolder.Length..]))
                throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                    $"Delta log of '{Location}' is damaged: '{f.Path}' is named like a log file, but its version is not 20 digits, so no reader sees the actions in it. " +
                    "Rename it to its 20-digit name if it belongs to the log, or move it out of _delta_log.");
        }
        return files;
    }

    private LakehouseException FolderInLog(string folder) =>
        new(LakehouseErrorReason.CorruptLog,
            $"Delta log of '{Location}' is damaged: '{folder}' is a folder, not a log file. Move it out of _delta_log (a commit file of that name cannot be written or read while it is there).");

    /// <summary>
    /// The log files a snapshot at <paramref name="version"/> (the latest when null) is rebuilt from, with <c>_last_checkpoint</c>. When the
    /// pointer names a checkpoint at or below the version that is complete, only the files from it on are listed, which is what the pointer
    /// is for (PROTOCOL.md "Last Checkpoint File"); a missing, damaged or stale pointer only costs the listing of the whole log.
    /// </summary>
    internal async Task<LogListing> ListLogForSnapshotAsync(long? version, CancellationToken cancellationToken)
    {
        var hint = await LastCheckpointHintAsync(cancellationToken).ConfigureAwait(false);
        if (hint is not null && (version is null || version >= hint.Version))
        {
            var recent = await ListLogAsync(LogFiles.VersionPrefix(hint.Version), cancellationToken).ConfigureAwait(false);
            if (LogSegment.HasCompleteCheckpoint(recent, hint.Version)) return new LogListing(recent, hint);
        }
        return new LogListing(await ListLogAsync(cancellationToken).ConfigureAwait(false), hint);
    }

    private async Task<LastCheckpointInfo?> LastCheckpointHintAsync(CancellationToken cancellationToken)
    {
        // Most young tables have none: on local disk a stat says so, without the two exceptions of a failed read.
        if (Storage.LocalPathOrNull(LogFiles.LastCheckpointPath) is { } local && !File.Exists(local)) return null;
        try
        {
            return LastCheckpointInfo.Parse(await Storage.ReadAsync(LogFiles.LastCheckpointPath, cancellationToken).ConfigureAwait(false));
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The latest version, found from the listing of the log alone (from the last checkpoint on; no commit file is read): cheap
    /// enough to poll for changes. It is the version <see cref="GetSnapshotAsync(long?, CancellationToken)"/> would load; null when
    /// the folder holds no Delta log.
    /// </summary>
    /// <exception cref="LakehouseException">The log cannot rebuild its latest version (a commit missing after the checkpoint).</exception>
    public async Task<long?> LatestVersionAsync(CancellationToken cancellationToken = default) =>
        (await LatestCommitAsync(cancellationToken).ConfigureAwait(false))?.Version;

    /// <summary>
    /// The latest version, as <see cref="LatestVersionAsync"/> finds it from the same one listing, with its log file as listed (the
    /// commit, else the checkpoint of that version: size, modification time, ETag). A table deleted and written again has the versions
    /// it had, from 0, in other files: a reader that caches per version tells the two apart by the file. Null when the folder holds no
    /// Delta log.
    /// </summary>
    /// <exception cref="LakehouseException">The log cannot rebuild its latest version (a commit missing after the checkpoint).</exception>
    public async Task<(long Version, LakeFile File)?> LatestCommitAsync(CancellationToken cancellationToken = default)
    {
        var listing = await ListLogForSnapshotAsync(null, cancellationToken).ConfigureAwait(false);
        if (listing.Files.Count == 0) return null;
        var version = LogSegment.Build(listing.Files, null, Location).Version;
        var file = listing.Files.Where(f => f.Version == version && f.Kind != LogFileKind.Compaction).OrderBy(f => f.Kind == LogFileKind.Commit ? 0 : 1).First();
        return (version, file.File);
    }

    /// <summary>The snapshot at <paramref name="version"/>, or at the latest version when null.</summary>
    public Task<DeltaSnapshot> GetSnapshotAsync(long? version = null, CancellationToken cancellationToken = default) =>
        GetSnapshotAsync(version, withFiles: true, cancellationToken);

    /// <summary>The snapshot at <paramref name="version"/>; without <paramref name="withFiles"/>, only the table's state (see <see cref="LogReplay.LoadAsync"/>).</summary>
    internal async Task<DeltaSnapshot> GetSnapshotAsync(long? version, bool withFiles, CancellationToken cancellationToken) =>
        await GetSnapshotAsync(await ListLogForSnapshotAsync(version, cancellationToken).ConfigureAwait(false), version, withFiles, cancellationToken).ConfigureAwait(false);

    /// <summary>The snapshot at <paramref name="version"/> rebuilt from <paramref name="listing"/>, made by <see cref="ListLogForSnapshotAsync"/> for that version.</summary>
    internal Task<DeltaSnapshot> GetSnapshotAsync(LogListing listing, long? version, bool withFiles, CancellationToken cancellationToken)
    {
        if (listing.Files.Count == 0)
            throw LogFiles.NotATable(Location);
        var latest = LogSegment.NewestCommit(listing.Files);
        if (latest >= 0 && (version is null || version == latest))
        {
            // A folder named like the next commit hides from the listing (it is not a file) and would make every writer fail to commit.
            var next = LogFiles.CommitPath(latest + 1);
            if (Storage.LocalPathOrNull(next) is { } local && Directory.Exists(local)) throw FolderInLog(next);
        }
        var segment = LogSegment.Build(listing.Files, version, Location);
        return LogReplay.LoadAsync(Storage, Engine, segment, listing.LastCheckpoint, withFiles, cancellationToken);
    }

    /// <summary>
    /// Checks that every live data file of <paramref name="snapshot"/> is in storage with the size its add action records. Answers taken
    /// from the log alone (row counts from file statistics) call this first, so a missing or cut-off file is reported instead of counted.
    /// Throws CorruptLog naming the first such file and how many there are. Costs one listing (remote stores) or one stat per file (local disk).
    /// </summary>
    public async Task CheckFilesAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var files = snapshot.Files.Select(f => (Path: DeltaPaths.ToTableRelative(f.Path, Storage), f.Size)).ToList();
        var actual = new long?[files.Count];
        if (Storage.LocalPathOrNull("") is not null)
        {
            await StorageWork.ForEachFileAsync(Storage, files.Count,
                async (i, ct) => actual[i] = (await Storage.GetInfoAsync(files[i].Path, ct).ConfigureAwait(false))?.Size, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var listed = new Dictionary<string, long>(StringComparer.Ordinal);
            await foreach (var f in Storage.ListAsync("", cancellationToken).ConfigureAwait(false)) listed[f.Path] = f.Size;
            for (var i = 0; i < files.Count; i++) actual[i] = listed.TryGetValue(files[i].Path, out var size) ? size : null;
        }
        var missing = Enumerable.Range(0, files.Count).Where(i => actual[i] is null).ToList();
        if (missing.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                $"Data file '{files[missing[0]].Path}' is live in version {snapshot.Version} of '{Location}' but missing from storage" +
                (missing.Count > 1 ? $" ({missing.Count} of its {files.Count} live files are missing)." : "."));
        var resized = Enumerable.Range(0, files.Count).Where(i => files[i].Size > 0 && actual[i] != files[i].Size).ToList();
        if (resized.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                $"Data file '{files[resized[0]].Path}' of '{Location}' has {actual[resized[0]]} bytes in storage, but version {snapshot.Version} records {files[resized[0]].Size}: " +
                "it was replaced or cut off" + (resized.Count > 1 ? $" ({resized.Count} files differ)." : "."));
    }

    /// <summary>
    /// Checks everything a reader of the latest version relies on and reports every problem found, not only the first: the log folder
    /// (stray or misnamed files, folders named like log files, gaps), every commit file (empty, cut off, unparsable), every checkpoint (unreadable,
    /// incomplete, or holding less than <c>_last_checkpoint</c> says), the version checksum file when there is one, and every live data file
    /// (present, with the size its add action records). With <paramref name="deep"/>, each data file is also opened: it must read as Parquet,
    /// store the table's columns in types that read as the schema's, and hold the rows its statistics claim. Nothing is changed.
    /// A location without a table (no _delta_log, or one with nothing but leftovers of an interrupted first commit) is NotFound.
    /// </summary>
    public Task<DeltaCheckReport> CheckAsync(bool deep = false, CancellationToken cancellationToken = default) =>
        new DeltaTableChecker(this, deep).RunAsync(cancellationToken);

    /// <summary>The snapshot of the latest version committed at or before <paramref name="timestamp"/>.</summary>
    public async Task<DeltaSnapshot> GetSnapshotAsync(DateTimeOffset timestamp, CancellationToken cancellationToken = default)
    {
        var version = await VersionAtAsync(timestamp, cancellationToken).ConfigureAwait(false);
        return await GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The latest version committed at or before <paramref name="timestamp"/>. A commit's time is its in-commit timestamp, else its
    /// commitInfo.timestamp, else the commit file's modification time, adjusted as Delta's history manager does so that times
    /// only grow: a commit stamped no later than the one before it (a writer with a skewed clock) counts as 1 ms after it. These are
    /// the times <see cref="GetHistoryAsync"/> shows, so a timestamp read off the history selects that version.
    /// </summary>
    public async Task<long> VersionAtAsync(DateTimeOffset timestamp, CancellationToken cancellationToken = default)
    {
        var timeline = await CommitTimelineAsync(cancellationToken).ConfigureAwait(false);
        if (timeline.Count == 0) throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{Location}' has no commit files to time-travel over.");
        int lo = 0, hi = timeline.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (timeline[mid].Time <= timestamp)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        if (found < 0)
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                $"The timestamp {timestamp.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z is before the earliest available commit (version {timeline[0].Commit.Version} at {timeline[0].Time.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z).");
        return timeline[found].Commit.Version;
    }

    /// <summary>One commit with its commitInfo (null when it has none) and its adjusted time.</summary>
    private sealed record TimedCommit(LogFile Commit, CommitInfoAction? Info, DateTimeOffset Time);

    /// <summary>
    /// Every available commit, oldest first, with its time made monotonic as DeltaHistoryManager.monotonizeCommitTimestamps does
    /// (each time at least the previous one's + 1 ms). The whole log is read (only the head of each commit file, where commitInfo is),
    /// because one early commit stamped in the future moves the times of every commit after it.
    /// </summary>
    private async Task<List<TimedCommit>> CommitTimelineAsync(CancellationToken cancellationToken)
    {
        var commits = (await ListLogAsync(cancellationToken).ConfigureAwait(false)).Where(f => f.Kind == LogFileKind.Commit).OrderBy(f => f.Version).ToList();
        var infos = new CommitInfoAction?[commits.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, commits.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) => infos[i] = await CommitInfoReader.ReadAsync(Storage, commits[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        var timeline = new List<TimedCommit>(commits.Count);
        var previous = long.MinValue;
        for (var i = 0; i < commits.Count; i++)
        {
            var raw = infos[i]?.InCommitTimestamp ?? infos[i]?.Timestamp ?? commits[i].File.LastModified.ToUnixTimeMilliseconds();
            var time = previous != long.MinValue && raw <= previous ? previous + 1 : raw;
            timeline.Add(new TimedCommit(commits[i], infos[i], DateTimeOffset.FromUnixTimeMilliseconds(time)));
            previous = time;
        }
        return timeline;
    }

    /// <summary>
    /// How many commits after <paramref name="afterVersion"/> up to <paramref name="toVersion"/> change the table's data (add or
    /// remove files with <c>dataChange</c>): what an incremental reader still has to consume. A compaction, a vacuum or a commit of
    /// progress markers alone changes none. When the log no longer holds them all, every commit of the range is counted.
    /// </summary>
    public async Task<long> CountDataChangesAsync(long afterVersion, long toVersion, CancellationToken cancellationToken = default)
    {
        if (toVersion <= afterVersion) return 0;
        try
        {
            var changes = await GetChangesAsync(afterVersion, toVersion, cancellationToken).ConfigureAwait(false);
            return changes.Count(c => c.Adds.Any(a => a.DataChange) || c.Removes.Any(r => r.DataChange));
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            return toVersion - afterVersion;
        }
    }

    /// <summary>
    /// The data changes of the commits after <paramref name="afterVersion"/> up to <paramref name="toVersion"/>, oldest first: what an
    /// incremental reader of the table consumes (the way Delta's streaming source reads a table). Every commit in the range must
    /// still be in the log: one removed by log cleanup, or never written, is a <see cref="LakehouseException"/> (NotFound) naming it,
    /// because reading around it would silently skip its rows.
    /// </summary>
    /// <param name="afterVersion">The last version already consumed (-1: from the start).</param>
    /// <param name="toVersion">The last version to read.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    public async Task<IReadOnlyList<DeltaCommitChanges>> GetChangesAsync(long afterVersion, long toVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(afterVersion, -1);
        ArgumentOutOfRangeException.ThrowIfLessThan(toVersion, afterVersion);
        if (toVersion == afterVersion) return [];
        var commits = (await ListLogAsync(LogFiles.VersionPrefix(afterVersion + 1), cancellationToken).ConfigureAwait(false))
            .Where(f => f.Kind == LogFileKind.Commit && f.Version > afterVersion && f.Version <= toVersion)
            .ToDictionary(f => f.Version);
        for (var v = afterVersion + 1; v <= toVersion; v++)
        {
            if (!commits.ContainsKey(v))
                throw new LakehouseException(LakehouseErrorReason.NotFound,
                    $"Commit {v} of '{Location}' is not in its log (removed by log cleanup, or never written), so the changes after version {afterVersion} cannot be read in full.");
        }
        var result = new DeltaCommitChanges[toVersion - afterVersion];
        await Parallel.ForEachAsync(Enumerable.Range(0, result.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var commit = commits[afterVersion + 1 + i];
            var bytes = await Storage.ReadAsync(commit.File.Path, ct).ConfigureAwait(false);
            var actions = LogReplay.ParseCommit(bytes, commit.File.Path, Location);
            var info = actions.OfType<CommitInfoAction>().FirstOrDefault();
            result[i] = new DeltaCommitChanges(commit.Version, info?.Operation, [.. actions.OfType<AddAction>()], [.. actions.OfType<RemoveAction>()]);
        }).ConfigureAwait(false);
        return result;
    }

    /// <summary>The table's commits, newest first; at most <paramref name="limit"/> when given. Times are adjusted as <see cref="VersionAtAsync"/> says.</summary>
    public async Task<IReadOnlyList<CommitSummary>> GetHistoryAsync(int? limit = null, CancellationToken cancellationToken = default)
    {
        var timeline = await CommitTimelineAsync(cancellationToken).ConfigureAwait(false);
        // No commit left is still a table when a checkpoint is (log cleanup); nothing at all is no table, not an empty history.
        if (timeline.Count == 0 && !await ExistsAsync(cancellationToken).ConfigureAwait(false))
            throw LogFiles.NotATable(Location);
        var result = new List<CommitSummary>(Math.Min(timeline.Count, limit ?? int.MaxValue));
        for (var i = timeline.Count - 1; i >= 0 && result.Count < (limit ?? int.MaxValue); i--)
        {
            var (commit, info, time) = timeline[i];
            string? parameters = null, metrics = null, engine = null;
            if (info is not null)
            {
                using var doc = JsonDocument.Parse(info.Json);
                var root = doc.RootElement;
                parameters = root.TryGetProperty("operationParameters", out var p) ? p.GetRawText() : null;
                metrics = root.TryGetProperty("operationMetrics", out var m) ? m.GetRawText() : null;
                // commitInfo is the writer's own: a name of another kind (a number, an object) is shown as written, not a failed history.
                engine = root.TryGetProperty("engineInfo", out var e) ? ActionSerializer.Text(e)
                    : root.TryGetProperty("clientVersion", out var cv) ? ActionSerializer.Text(cv) : null;
            }
            result.Add(new CommitSummary(commit.Version, time, info?.Operation, parameters, metrics, engine));
        }
        return result;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"DeltaTable({Location})");
}
