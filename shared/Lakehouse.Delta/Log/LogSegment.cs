using Lakehouse.Core;

namespace Lakehouse.Delta.Log;

/// <summary>
/// The files needed to rebuild one version: the newest complete checkpoint at or below it, then every
/// commit after the checkpoint up to the version (log compaction files stand in for the commits they cover).
/// </summary>
internal sealed record LogSegment(long Version, IReadOnlyList<LogFile> Checkpoint, IReadOnlyList<LogFile> Deltas, IReadOnlyList<LogFile> AllCommits)
{
    internal long CheckpointVersion => Checkpoint.Count == 0 ? -1 : Checkpoint[0].Version;

    /// <summary>Builds the segment for <paramref name="version"/> (latest when null) from a full listing of _delta_log.</summary>
    internal static LogSegment Build(IReadOnlyList<LogFile> listing, long? version, string tableForErrors)
    {
        var commits = listing.Where(f => f.Kind == LogFileKind.Commit).OrderBy(f => f.Version).ToList();
        var checkpoints = CompleteCheckpoints(listing);
        if (commits.Count == 0 && checkpoints.Count == 0)
            throw LogFiles.NotATable(tableForErrors);

        var latest = Math.Max(commits.Count > 0 ? commits[^1].Version : -1, NewestAtOrBelow(checkpoints.Keys, long.MaxValue));
        var target = version ?? latest;
        if (target < 0) throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Version {target} is not valid: versions start at 0.");
        if (target > latest)
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Version {target} of '{tableForErrors}' does not exist; the latest version is {latest}.");

        var checkpointVersion = NewestAtOrBelow(checkpoints.Keys, target);
        var checkpoint = checkpointVersion >= 0 ? checkpoints[checkpointVersion] : [];
        var deltas = commits.Where(c => c.Version > checkpointVersion && c.Version <= target).ToList();

        // The commits after the checkpoint must be exactly checkpoint+1 .. target.
        var expected = checkpointVersion + 1;
        foreach (var c in deltas)
        {
            if (c.Version != expected) break;
            expected++;
        }
        if (expected != target + 1)
        {
            var compacted = FillWithCompactions(listing, deltas, checkpointVersion, target);
            if (compacted is null)
            {
                if (checkpointVersion < 0 && commits.Count > 0 && commits[0].Version > 0 && target >= commits[0].Version)
                    throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                        $"Delta log of '{tableForErrors}' cannot rebuild version {target}: commits before {commits[0].Version:D20}.json are gone and there is no checkpoint to start from.");
                if (checkpointVersion < 0 && (commits.Count == 0 || target < commits[0].Version))
                    throw new LakehouseException(LakehouseErrorReason.NotFound,
                        $"Version {target} of '{tableForErrors}' is no longer available: its commit files were removed and no checkpoint covers it.");
                throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                    $"Delta log of '{tableForErrors}' is not contiguous: commit {expected:D20}.json is missing (needed to rebuild version {target}).");
            }
            deltas = compacted;
        }
        return new LogSegment(target, checkpoint, deltas, commits);
    }

    /// <summary>The newest commit version of <paramref name="listing"/>; -1 when it has none.</summary>
    internal static long NewestCommit(IReadOnlyList<LogFile> listing)
    {
        // Plain loops here and below: LINQ over long versions cost a short command's first snapshot about 5 ms of compiling.
        var newest = -1L;
        foreach (var f in listing)
        {
            if (f.Kind == LogFileKind.Commit && f.Version > newest) newest = f.Version;
        }
        return newest;
    }

    private static long NewestAtOrBelow(IEnumerable<long> versions, long limit)
    {
        var newest = -1L;
        foreach (var v in versions)
        {
            if (v <= limit && v > newest) newest = v;
        }
        return newest;
    }

    /// <summary>True when <paramref name="listing"/> holds a complete checkpoint (every part of it) of <paramref name="version"/>.</summary>
    internal static bool HasCompleteCheckpoint(IReadOnlyList<LogFile> listing, long version) =>
        CompleteCheckpoints(listing.Where(f => f.Version == version).ToList()).ContainsKey(version);

    /// <summary>Every checkpoint version of <paramref name="listing"/> that is complete, with its files.</summary>
    internal static Dictionary<long, List<LogFile>> CompleteCheckpoints(IReadOnlyList<LogFile> listing)
    {
        var result = new Dictionary<long, List<LogFile>>();
        var checkpointFiles = listing.Where(f => f.Kind is LogFileKind.Checkpoint or LogFileKind.V2Checkpoint or LogFileKind.MultiPartCheckpoint).ToList();
        if (checkpointFiles.Count == 0) return result; // a young table's: no grouping to compile
        foreach (var group in checkpointFiles.GroupBy(f => f.Version))
        {
            // Prefer a single-file checkpoint (classic or V2); else a multi-part one with every part present.
            var single = group.FirstOrDefault(f => f.Kind == LogFileKind.Checkpoint) ?? group.FirstOrDefault(f => f.Kind == LogFileKind.V2Checkpoint);
            if (single is not null)
            {
                result[group.Key] = [single];
                continue;
            }
            foreach (var byParts in group.GroupBy(f => f.Parts))
            {
                var parts = byParts.GroupBy(f => f.Part).Select(g => g.First()).OrderBy(f => f.Part).ToList();
                if (parts.Count == byParts.Key && parts.Select(p => p.Part).SequenceEqual(Enumerable.Range(1, byParts.Key)))
                {
                    result[group.Key] = parts;
                    break;
                }
            }
        }
        return result;
    }

    private static List<LogFile>? FillWithCompactions(IReadOnlyList<LogFile> listing, List<LogFile> deltas, long checkpointVersion, long target)
    {
        var byVersion = deltas.ToDictionary(d => d.Version);
        var compactions = listing.Where(f => f.Kind == LogFileKind.Compaction && f.Version > checkpointVersion && f.EndVersion <= target)
            .OrderBy(f => f.Version).ThenByDescending(f => f.EndVersion).ToList();
        var result = new List<LogFile>();
        var next = checkpointVersion + 1;
        while (next <= target)
        {
            // A compaction file starting here covers the most commits at once; else the commit itself.
            var compaction = compactions.FirstOrDefault(c => c.Version == next);
            if (compaction is not null)
            {
                result.Add(compaction);
                next = compaction.EndVersion + 1;
                continue;
            }
            if (!byVersion.TryGetValue(next, out var commit)) return null;
            result.Add(commit);
            next++;
        }
        return result;
    }
}
