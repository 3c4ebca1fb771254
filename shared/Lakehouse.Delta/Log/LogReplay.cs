using System.Text.Json;
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
    private ProtocolAction? _protocol;
    private MetadataAction? _metadata;

    internal static async Task<DeltaSnapshot> LoadAsync(ILakeStorage storage, DuckEngine engine, LogSegment segment, CancellationToken cancellationToken)
    {
        var replay = new LogReplay();
        if (segment.Checkpoint.Count > 0)
            foreach (var action in await CheckpointReader.ReadAsync(storage, engine, segment.Checkpoint, cancellationToken).ConfigureAwait(false))
                replay.Apply(action);

        var contents = new byte[segment.Deltas.Count][];
        await Parallel.ForEachAsync(Enumerable.Range(0, contents.Length), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, ct) => contents[i] = await storage.ReadAsync(segment.Deltas[i].File.Path, ct).ConfigureAwait(false)).ConfigureAwait(false);
        CommitInfoAction? lastInfo = null;
        for (var i = 0; i < contents.Length; i++)
        {
            var actions = ActionSerializer.ParseLines(contents[i], segment.Deltas[i].File.Path);
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

        var timestamp = CommitTimestamp(lastInfo, segment);
        return new DeltaSnapshot(
            segment.Version,
            replay._protocol,
            replay._metadata,
            [.. replay._files.Values],
            [.. replay._tombstones.Values],
            replay._txns,
            replay._domains.Where(d => !d.Value.Removed).ToDictionary(d => d.Key, d => d.Value),
            timestamp,
            segment.CheckpointVersion);
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

/// <summary>Reads checkpoint files (classic, multi-part, V2 with sidecars; parquet or JSON) into actions.</summary>
internal static class CheckpointReader
{
    internal static async Task<List<DeltaAction>> ReadAsync(ILakeStorage storage, DuckEngine engine, IReadOnlyList<LogFile> parts, CancellationToken cancellationToken)
    {
        var actions = new List<DeltaAction>();
        var parquet = parts.Where(p => p.File.Path.EndsWith(".parquet", StringComparison.Ordinal)).Select(p => p.File.Path).ToList();
        foreach (var json in parts.Where(p => p.File.Path.EndsWith(".json", StringComparison.Ordinal)))
            actions.AddRange(ActionSerializer.ParseLines(await storage.ReadAsync(json.File.Path, cancellationToken).ConfigureAwait(false), json.File.Path));
        if (parquet.Count > 0) actions.AddRange(await ReadParquetAsync(storage, engine, parquet, cancellationToken).ConfigureAwait(false));

        var sidecars = actions.OfType<SidecarAction>().Select(s => SidecarPath(s.Path, storage)).ToList();
        if (sidecars.Count > 0) actions.AddRange(await ReadParquetAsync(storage, engine, sidecars, cancellationToken).ConfigureAwait(false));
        return actions;
    }

    private static string SidecarPath(string path, ILakeStorage storage)
    {
        if (!path.Contains(':', StringComparison.Ordinal) && !path.StartsWith('/')) return LakePath.Combine("_delta_log", "_sidecars", Uri.UnescapeDataString(path));
        return DeltaPaths.ToTableRelative(path, storage);
    }

    private static async Task<List<DeltaAction>> ReadParquetAsync(ILakeStorage storage, DuckEngine engine, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var locals = await Task.WhenAll(files.Select(f => storage.GetLocalCopyAsync(f, cancellationToken))).ConfigureAwait(false);
        var actions = new List<DeltaAction>();
        using var lease = engine.Lease();
        var sql = $"SELECT to_json(t)::VARCHAR FROM read_parquet({SqlText.LiteralList(locals)}, union_by_name = true) t";
        try
        {
            using var result = lease.Connection.Query(sql);
            var row = 0;
            while (result.Read())
            {
                row++;
                ActionSerializer.ParseObject(result.GetBytes(0), actions, files[0], row);
            }
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Engine)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Checkpoint '{string.Join(", ", files)}' cannot be read: {e.Message}", e);
        }
        return actions;
    }
}

/// <summary>Reads the commitInfo of single commits (history, timestamps).</summary>
internal static class CommitInfoReader
{
    internal static async Task<CommitInfoAction?> ReadAsync(ILakeStorage storage, LogFile commit, CancellationToken cancellationToken)
    {
        var bytes = await storage.ReadAsync(commit.File.Path, cancellationToken).ConfigureAwait(false);
        return ActionSerializer.ParseLines(bytes, commit.File.Path).OfType<CommitInfoAction>().FirstOrDefault();
    }

    internal static JsonElement? Parse(CommitInfoAction? info)
    {
        if (info is null) return null;
        using var doc = JsonDocument.Parse(info.Json);
        return doc.RootElement.Clone();
    }
}
