using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Delta.Log;

/// <summary>Rebuilds a snapshot from a log segment: checkpoint actions first, then each commit in order.</summary>
internal sealed class LogReplay
{
    private readonly Dictionary<(string, string?), AddAction> _files = [];
    private readonly Dictionary<(string, string?), RemoveAction> _tombstones = [];
    private readonly Dictionary<string, TxnAction> _txns = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DomainMetadataAction> _domains = new(StringComparer.Ordinal);
    private readonly bool _withFiles;
    private ProtocolAction? _protocol;
    private MetadataAction? _metadata;

    private LogReplay(bool withFiles) => _withFiles = withFiles;

    /// <summary>
    /// Rebuilds the snapshot of <paramref name="segment"/>. Without <paramref name="withFiles"/> only the table's state is rebuilt
    /// (protocol, metadata, txns, domains: what a blind append needs), skipping the file actions that make up nearly all of a big
    /// table's checkpoint; the snapshot then has no files or tombstones (<see cref="DeltaSnapshot.FilesLoaded"/> is false).
    /// </summary>
    internal static async Task<DeltaSnapshot> LoadAsync(ILakeStorage storage, DuckEngine engine, LogSegment segment, LastCheckpointInfo? lastCheckpoint, bool withFiles,
        CancellationToken cancellationToken)
    {
        var replay = new LogReplay(withFiles);
        if (segment.Checkpoint.Count > 0)
        {
            var checkpoint = await CheckpointReader.ReadAsync(storage, engine, segment.Checkpoint, withFiles, cancellationToken).ConfigureAwait(false);
            CheckAgainstPointer(storage.Location, segment, checkpoint, lastCheckpoint, withFiles);
            foreach (var action in checkpoint.Actions) replay.Apply(action);
        }

        var contents = new byte[segment.Deltas.Count][];
        await StorageWork.ForEachFileAsync(storage, contents.Length,
            async (i, ct) => contents[i] = await storage.ReadAsync(segment.Deltas[i].File.Path, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        CommitInfoAction? lastInfo = null;
        for (var i = 0; i < contents.Length; i++)
        {
            var actions = ParseCommit(contents[i], segment.Deltas[i].File.Path, storage.Location);
            foreach (var action in actions)
            {
                replay.Apply(action);
                if (action is CommitInfoAction info && segment.Deltas[i].Kind == LogFileKind.Commit && segment.Deltas[i].Version == segment.Version) lastInfo = info;
            }
        }

        var table = storage.Location;
        if (replay._protocol is null)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Delta log of '{table}' has no protocol action at version {segment.Version} (no protocol action found).");
        if (replay._metadata is null)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Delta log of '{table}' has no metaData action at version {segment.Version}.");
        ProtocolSupport.CheckReadable(replay._protocol, table);

        lastInfo ??= await CheckpointCommitInfoAsync(storage, segment, cancellationToken).ConfigureAwait(false);
        var timestamp = CommitTimestamp(lastInfo, segment);
        foreach (var expired in Write.TableProperties.ExpiredTransactions(replay._metadata.Configuration, replay._txns)) replay._txns.Remove(expired);
        return new DeltaSnapshot(
            segment.Version,
            replay._protocol,
            replay._metadata,
            [.. replay._files.Values],
            [.. replay._tombstones.Values],
            replay._txns,
            replay._domains.Where(d => !d.Value.Removed).ToDictionary(d => d.Key, d => d.Value),
            timestamp,
            segment.CheckpointVersion,
            withFiles);
    }

    /// <summary>
    /// The actions of a commit (or log compaction) file. A commit always holds at least one action, so an empty one (zero bytes, or only
    /// blank lines) was cut off or emptied: refused as a damaged log rather than read as a commit that changed nothing.
    /// </summary>
    internal static List<DeltaAction> ParseCommit(ReadOnlySpan<byte> content, string path, string table)
    {
        // The file named with its table: a command that reads several tables (status, sql) must say which one is damaged.
        var actions = ActionSerializer.ParseLines(content, table.TrimEnd('/') + "/" + path);
        if (actions.Count == 0 && content.Trim(" \t\r\n"u8).IsEmpty)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                $"Delta log of '{table}' is damaged: commit file '{path}' is empty ({content.Length} bytes, no actions). A commit is never empty: it was cut off or emptied, " +
                "so the versions from it on cannot be read correctly. Restore the file from a copy, or read an earlier version.");
        return actions;
    }

    /// <summary>
    /// When <c>_last_checkpoint</c> describes the checkpoint the snapshot starts from, what was read must match it: its number of actions
    /// (size), of parts, and of add actions (numOfAddFiles). A shorter checkpoint is still valid Parquet, and read as it is it would
    /// silently lose files.
    /// </summary>
    private static void CheckAgainstPointer(string table, LogSegment segment, CheckpointContent read, LastCheckpointInfo? pointer, bool withFiles)
    {
        if (pointer is null || pointer.Version != segment.CheckpointVersion) return;
        var files = string.Join(", ", segment.Checkpoint.Select(c => "'" + c.File.Path + "'"));
        string? problem = null;
        if (pointer.Parts is { } parts && segment.Checkpoint[0].Kind == LogFileKind.MultiPartCheckpoint && segment.Checkpoint.Count != parts)
            problem = $"it has {segment.Checkpoint.Count} parts, {LogFiles.LastCheckpointPath} says {parts}";
        else if (pointer.Size is { } size && read.Rows is { } rows && rows != size)
            problem = $"it holds {rows} actions, {LogFiles.LastCheckpointPath} says {size} (size)";
        else if (withFiles && pointer.NumOfAddFiles is { } adds && read.Actions.OfType<AddAction>().Count() is var added && added != adds)
            problem = $"it holds {added} add actions, {LogFiles.LastCheckpointPath} says {adds} (numOfAddFiles)";
        if (problem is not null)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                $"Delta log of '{table}' is damaged: checkpoint {files} is incomplete: {problem}. Delete the damaged checkpoint and {LogFiles.LastCheckpointPath} " +
                "to read the table from its commit files (if they are still there).");
    }

    /// <summary>
    /// The commitInfo of the snapshot's own commit when the snapshot is read from a checkpoint of that version (no commit is replayed
    /// after it), so that its time is the commit's, as history shows it, and not a file's modification time (a copied table's files
    /// are as new as the copy). Null when the commit file is gone (log cleanup) or cannot be read: the checkpoint alone is the state,
    /// and a damaged commit it makes unnecessary must not stop the read.
    /// </summary>
    private static async Task<CommitInfoAction?> CheckpointCommitInfoAsync(ILakeStorage storage, LogSegment segment, CancellationToken cancellationToken)
    {
        if (segment.Deltas.Any(d => d.Version == segment.Version)) return null;
        if (segment.AllCommits.LastOrDefault(c => c.Version == segment.Version && c.Kind == LogFileKind.Commit) is not { } commit) return null;
        try
        {
            return await CommitInfoReader.ReadAsync(storage, commit, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.CorruptLog or LakehouseErrorReason.NotFound)
        {
            return null;
        }
    }

    /// <summary>In-commit timestamp, else commitInfo.timestamp, else the commit file's modification time.</summary>
    internal static DateTimeOffset CommitTimestamp(CommitInfoAction? info, LogSegment segment)
    {
        if (info?.InCommitTimestamp is { } ict) return DateTimeOffset.FromUnixTimeMilliseconds(ict);
        if (info?.Timestamp is { } ts) return DateTimeOffset.FromUnixTimeMilliseconds(ts);
        var file = segment.AllCommits.LastOrDefault(c => c.Version == segment.Version) ?? (segment.Checkpoint.Count > 0 ? segment.Checkpoint[0] : null);
        return file?.File.LastModified ?? DateTimeOffset.UnixEpoch;
    }

    private void Apply(DeltaAction action)
    {
        switch (action)
        {
            case AddAction or RemoveAction when !_withFiles:
                break;
            case AddAction add:
                _files[add.Key] = add;
                _tombstones.Remove(add.Key);
                break;
            case RemoveAction remove:
                _files.Remove(remove.Key);
                _tombstones[remove.Key] = remove;
                break;
            case ProtocolAction p:
                _protocol = p;
                break;
            case MetadataAction m:
                _metadata = m;
                break;
            case TxnAction t:
                _txns[t.AppId] = t;
                break;
            case DomainMetadataAction d:
                _domains[d.Domain] = d;
                break;
        }
    }
}

/// <summary>What a checkpoint holds: its actions, and its number of action rows (null when not every row was counted).</summary>
internal sealed record CheckpointContent(List<DeltaAction> Actions, long? Rows);

/// <summary>Reads checkpoint files (classic, multi-part, V2 with sidecars; parquet or JSON) into actions.</summary>
internal static class CheckpointReader
{
    /// <summary>
    /// The checkpoint's actions, and how many action rows it holds (sidecars included) when that is known; without
    /// <paramref name="withFiles"/> only the actions that are not file actions (sidecars hold only file actions, and are then not read).
    /// </summary>
    internal static async Task<CheckpointContent> ReadAsync(ILakeStorage storage, DuckEngine engine, IReadOnlyList<LogFile> parts, bool withFiles, CancellationToken cancellationToken)
    {
        var actions = new List<DeltaAction>();
        long rows = 0;
        var parquet = parts.Where(p => p.File.Path.EndsWith(".parquet", StringComparison.Ordinal)).Select(p => p.File.Path).ToList();
        foreach (var json in parts.Where(p => p.File.Path.EndsWith(".json", StringComparison.Ordinal)))
        {
            var content = await storage.ReadAsync(json.File.Path, cancellationToken).ConfigureAwait(false);
            actions.AddRange(ActionSerializer.ParseLines(content, json.File.Path));
            rows += CountLines(content);
        }
        if (parquet.Count > 0) rows += await ReadParquetAsync(storage, engine, parquet, withFiles, actions, cancellationToken).ConfigureAwait(false);

        var sidecars = actions.OfType<SidecarAction>().Select(s => (Path: SidecarPath(s.Path, storage), s.SizeInBytes)).ToList();
        if (sidecars.Count == 0) return new CheckpointContent(actions, rows);
        if (!withFiles) return new CheckpointContent(actions, null);
        await CheckSidecarSizesAsync(storage, parts, sidecars, cancellationToken).ConfigureAwait(false);
        rows += await ReadParquetAsync(storage, engine, [.. sidecars.Select(s => s.Path)], withFiles, actions, cancellationToken).ConfigureAwait(false);
        return new CheckpointContent(actions, rows);
    }

    /// <summary>
    /// Each sidecar must have the size its <c>sidecar</c> action records (sizeInBytes), when it records one. A sidecar cut off,
    /// replaced or changed after the checkpoint was written may still be valid Parquet, and read as it is it would lose or change files;
    /// without <c>_last_checkpoint</c> (or when it points elsewhere) nothing else would notice. One size lookup per sidecar: a checkpoint
    /// without sidecars costs nothing more. A sidecar that is gone is left to the read, which refuses it as NotFound.
    /// </summary>
    private static async Task CheckSidecarSizesAsync(ILakeStorage storage, IReadOnlyList<LogFile> parts, List<(string Path, long? SizeInBytes)> sidecars,
        CancellationToken cancellationToken)
    {
        var sizes = new long?[sidecars.Count];
        await StorageWork.ForEachFileAsync(storage, sidecars.Count, async (i, ct) =>
        {
            if (sidecars[i].SizeInBytes is not null) sizes[i] = (await storage.GetInfoAsync(sidecars[i].Path, ct).ConfigureAwait(false))?.Size;
        }, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < sidecars.Count; i++)
        {
            if (sizes[i] is not { } size || size == sidecars[i].SizeInBytes) continue;
            throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                $"Delta log of '{storage.Location}' is damaged: sidecar '{sidecars[i].Path}' of checkpoint '{parts[0].File.Path}' has {size} bytes, the checkpoint says " +
                $"{sidecars[i].SizeInBytes} (sizeInBytes): it was cut off, replaced or changed after the checkpoint was written, so the files it lists cannot be trusted. " +
                $"Delete the damaged checkpoint and {LogFiles.LastCheckpointPath} to read the table from its commit files (if they are still there).");
        }
    }

    private static long CountLines(ReadOnlySpan<byte> content)
    {
        long n = 0;
        foreach (var line in content.Split((byte)'\n'))
        {
            if (!content[line].Trim(" \t\r"u8).IsEmpty) n++;
        }
        return n;
    }

    private static string SidecarPath(string path, ILakeStorage storage)
    {
        if (!path.Contains(':', StringComparison.Ordinal) && !path.StartsWith('/')) return LakePath.Combine("_delta_log", "_sidecars", Uri.UnescapeDataString(path));
        return DeltaPaths.ToTableRelative(path, storage);
    }

    /// <summary>
    /// The fields of a checkpoint's <c>add</c> struct that become an <see cref="AddAction"/>, and the SQL reading each ({0} is the
    /// field): scalars as their types, maps and the deletion vector as JSON text.
    /// </summary>
    private static readonly (string Field, string Sql)[] AddColumns =
    [
        ("path", "CAST({0} AS VARCHAR)"),
        ("partitionValues", "to_json({0})::VARCHAR"),
        ("size", "CAST({0} AS BIGINT)"),
        ("modificationTime", "CAST({0} AS BIGINT)"),
        ("dataChange", "CAST({0} AS BOOLEAN)"),
        ("stats", "CAST({0} AS VARCHAR)"),
        ("tags", "to_json({0})::VARCHAR"),
        ("deletionVector", "to_json({0})::VARCHAR"),
        ("baseRowId", "CAST({0} AS BIGINT)"),
        ("defaultRowCommitVersion", "CAST({0} AS BIGINT)"),
        ("clusteringProvider", "CAST({0} AS VARCHAR)"),
    ];

    /// <summary>The checkpoint columns of the actions that are not about files.</summary>
    private static readonly string[] StateColumns = ["protocol", "metaData", "txn", "domainMetadata"];

    /// <summary>
    /// Reads checkpoint parquet files, one action per row as the protocol writes them. Add rows (nearly all of a big table's
    /// checkpoint) and txn rows (one per exactly-once marker: landed files, idempotency keys, of which a table can hold millions) are
    /// read column by column; the other rows are turned into JSON by DuckDB and parsed like commit lines. Without
    /// <paramref name="withFiles"/> only the columns of <see cref="StateColumns"/> are read at all.
    /// </summary>
    private static async Task<long> ReadParquetAsync(ILakeStorage storage, DuckEngine engine, IReadOnlyList<string> files, bool withFiles, List<DeltaAction> actions,
        CancellationToken cancellationToken)
    {
        var locals = await Task.WhenAll(files.Select(f => storage.GetLocalCopyAsync(f, cancellationToken))).ConfigureAwait(false);
        using var lease = engine.Lease();
        var source = $"read_parquet({SqlText.LiteralList(locals)}, union_by_name = true)";
        long rows = 0;
        try
        {
            var rowsOf = source;
            var where = "";
            var schema = Schema(lease.Connection, source);
            if (!withFiles)
            {
                // The rows are counted from the footers (no data read), to check the checkpoint against _last_checkpoint.
                rows = Convert.ToInt64(lease.Connection.Scalar($"SELECT count(*) FROM {source}", cancellationToken), CultureInfo.InvariantCulture);
                schema = schema.Where(c => StateColumns.Contains(c.Key, StringComparer.Ordinal)).ToDictionary(StringComparer.Ordinal);
                if (schema.Count == 0) return rows;
                rowsOf = $"(SELECT {string.Join(", ", schema.Keys.Select(SqlText.Identifier))} FROM {source})";
                where = $" WHERE {string.Join(" OR ", schema.Keys.Select(c => "t." + SqlText.Identifier(c) + " IS NOT NULL"))}";
            }
            var addFields = withFiles ? schema.GetValueOrDefault("add", []) : [];
            var txnFields = schema.GetValueOrDefault("txn", []);
            var txnTyped = txnFields.Contains("appId") && txnFields.Contains("version");
            var typed = new List<string>();
            if (addFields.Count > 0) typed.Add("t.\"add\"");
            if (txnTyped) typed.Add("t.txn");
            // A row the protocol writes holds one action. One holding more (another writer's, or damaged) takes the JSON path, which reads
            // every action of a row as it does on a commit line: read by columns, its add or txn was kept and the others lost.
            var alone = $"({string.Join(" + ", schema.Select(c => $"CAST({Presence(c.Key, c.Value)} IS NOT NULL AS INTEGER)"))}) = 1";
            var json = typed.Count == 0 ? "to_json(t)::VARCHAR" : $"CASE WHEN NOT ({alone} AND ({string.Join(" OR ", typed.Select(c => c + " IS NOT NULL"))})) THEN to_json(t)::VARCHAR END";
            var addColumns = AddColumns.Select(c => addFields.Contains(c.Field) ? string.Format(CultureInfo.InvariantCulture, c.Sql, "t.\"add\"." + SqlText.Identifier(c.Field)) : "NULL");
            string[] txnColumns = txnTyped
                ? ["CAST(t.txn.appId AS VARCHAR)", "CAST(t.txn.version AS BIGINT)", txnFields.Contains("lastUpdated") ? "CAST(t.txn.lastUpdated AS BIGINT)" : "NULL"]
                : ["NULL", "NULL", "NULL"];
            var sql = $"SELECT {json}, {(addFields.Count > 0 ? "t.\"add\" IS NOT NULL" : "false")}, {(txnTyped ? "t.txn IS NOT NULL" : "false")}, " +
                $"{string.Join(", ", addColumns)}, {string.Join(", ", txnColumns)} FROM {rowsOf} t{where}";
            using var result = lease.Connection.Query(sql, cancellationToken);
            var row = 0;
            var txn = 3 + AddColumns.Length;
            while (result.Read())
            {
                row++;
                if (withFiles) rows++;
                if (!result.IsNull(0))
                {
                    ActionSerializer.ParseObject(result.GetBytes(0), actions, files[0], row);
                    continue;
                }
                if (result.GetBoolean(1))
                {
                    actions.Add(ActionSerializer.AddFromColumns(
                        String(result, 3), String(result, 4), Long(result, 5), Long(result, 6), result.IsNull(7) ? null : result.GetBoolean(7), String(result, 8),
                        String(result, 9), String(result, 10), Long(result, 11), Long(result, 12), String(result, 13), files[0], row));
                }
                if (result.GetBoolean(2)) actions.Add(ActionSerializer.TxnFromColumns(String(result, txn), Long(result, txn + 1), Long(result, txn + 2), files[0], row));
            }
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Checkpoint '{string.Join(", ", files)}' cannot be read: {e.Message}", e);
        }
        return rows;

        static string? String(DuckResult r, int column) => r.IsNull(column) ? null : r.GetString(column);
        static long? Long(DuckResult r, int column) => r.IsNull(column) ? null : r.GetInt64(column);
    }

    /// <summary>
    /// A field of action column <paramref name="column"/> (with its <paramref name="fields"/>) that is null exactly when the action is
    /// absent: a leaf the protocol requires (remove.path, metaData.id, ...), whose nullness the Parquet reader gets from that leaf alone.
    /// The whole struct's nullness made DuckDB decode every nested field of it: 0.35 s more per 1M rows. A column without a known leaf
    /// is taken whole.
    /// </summary>
    private static string Presence(string column, HashSet<string> fields)
    {
        var leaf = column switch
        {
            "add" or "remove" or "sidecar" or "cdc" => "path",
            "txn" => "appId",
            "metaData" => "id",
            "protocol" => "minReaderVersion",
            "domainMetadata" => "domain",
            _ => null,
        };
        var whole = "t." + SqlText.Identifier(column);
        return leaf is not null && fields.Contains(leaf) ? whole + "." + SqlText.Identifier(leaf) : whole;
    }

    /// <summary>
    /// The files' top-level columns, in order, each with its field names (empty when it is not a struct): two DESCRIBEs whatever the
    /// number of columns. The fields of every struct come from one DESCRIBE that unnests them all, each behind a marker column; one
    /// DESCRIBE per column cost about 0.8 ms each, a quarter of loading a small table's snapshot from its checkpoint.
    /// </summary>
    private static Dictionary<string, HashSet<string>> Schema(DuckConnection connection, string source)
    {
        var schema = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var structs = new List<string>();
        using (var r = connection.Query($"DESCRIBE SELECT * FROM {source}"))
        {
            while (r.Read())
            {
                schema[r.GetString(0)] = new HashSet<string>(StringComparer.Ordinal);
                if (r.GetString(1).StartsWith("STRUCT(", StringComparison.Ordinal)) structs.Add(r.GetString(0));
            }
        }
        if (structs.Count == 0) return schema;
        const string Marker = "__lakehouse_struct_";
        var unnested = string.Join(", ", structs.Select((c, i) => $"1 AS {SqlText.Identifier(Marker + i.ToString(CultureInfo.InvariantCulture))}, unnest(t.{SqlText.Identifier(c)})"));
        using (var r = connection.Query($"DESCRIBE SELECT {unnested} FROM {source} t"))
        {
            HashSet<string>? fields = null;
            while (r.Read())
            {
                var name = r.GetString(0);
                if (name.StartsWith(Marker, StringComparison.Ordinal)
                    && int.TryParse(name.AsSpan(Marker.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < structs.Count)
                    fields = schema[structs[i]];
                else fields?.Add(name);
            }
        }
        return schema;
    }

    /// <summary>The field names of a struct column; empty when the files have no such column or it is not a struct.</summary>
    internal static HashSet<string> StructFields(DuckConnection connection, string source, string column) =>
        Schema(connection, source).GetValueOrDefault(column, []);
}

/// <summary>Reads the commitInfo of single commits (history, timestamps).</summary>
internal static class CommitInfoReader
{
    /// <summary>How much of a commit file is read first: commitInfo is normally its first line.</summary>
    private const int HeadBytes = 8192;

    /// <summary>The commit's commitInfo, or null when it has none. Reads the head of the file, and the rest only when commitInfo is not in it.</summary>
    internal static async Task<CommitInfoAction?> ReadAsync(ILakeStorage storage, LogFile commit, CancellationToken cancellationToken)
    {
        var path = commit.File.Path;
        var head = await storage.ReadRangeAsync(path, 0, HeadBytes, cancellationToken).ConfigureAwait(false);
        var whole = head.Length < HeadBytes;
        var complete = whole ? head.AsSpan() : head.AsSpan(0, head.AsSpan().LastIndexOf((byte)'\n') + 1);
        var info = First(ActionSerializer.ParseLines(complete, path));
        if (info is not null || whole) return info;
        return First(ActionSerializer.ParseLines(await storage.ReadAsync(path, cancellationToken).ConfigureAwait(false), path));

        static CommitInfoAction? First(List<DeltaAction> actions) => actions.OfType<CommitInfoAction>().FirstOrDefault();
    }
}
