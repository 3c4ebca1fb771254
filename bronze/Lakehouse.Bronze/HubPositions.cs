using System.Globalization;
using Lakehouse.Delta;

namespace Lakehouse.Bronze;

/// <summary>
/// What bronze holds of one event hub partition, read from the Delta log's txn actions (no data file is read), so that a live
/// consumer and the Capture files of the same hub land each event once. An event's identity is (hub, partition, sequence
/// number): the hub by its name (case-insensitive, as Event Hubs names are), the live rows' <c>source</c>; the sequence number
/// is the live rows' <c>source_offset</c> and a Capture record's SequenceNumber.
/// </summary>
/// <remarks>
/// Application ids:
/// <list type="bullet">
/// <item><c>eventhubs/&lt;hub&gt;/&lt;partition&gt;</c> and <c>kafka/&lt;topic&gt;/&lt;partition&gt;</c>: the live consumer's next sequence
/// number (it holds everything from where it first started up to there);</item>
/// <item><c>capture/&lt;hub&gt;/&lt;partition&gt;/&lt;first&gt;/&lt;file location&gt;</c> at version last + 1: a run of consecutive sequence
/// numbers of a Capture file that bronze holds (landed from the file, or already there);</item>
/// <item><c>hub/&lt;hub&gt;/&lt;partition&gt;</c>: a counter every live commit of the partition moves by one, and so does a Capture
/// landing whose records reach the live position (or when there is none), each with the value it read as
/// <see cref="Delta.Write.DeltaAppTransaction.Previous"/>: a live batch and a Capture landing planned against the same state
/// cannot both commit (the second fails with Conflict and is planned again). A Capture file wholly below the live position needs
/// no such check: the live consumer never commits below its position again.</item>
/// <item><c>capture-guard/&lt;hub&gt;/&lt;partition&gt;</c>: the same for Capture landings among themselves (every one moves it).</item>
/// </list>
/// </remarks>
internal sealed record HubPositions(long? Live, long Guard, IReadOnlyList<(long First, long Last)> Captured)
{
    /// <summary>The Capture landings' own counter of the partition (-1: none), which serializes Capture landings among themselves.</summary>
    internal long CaptureGuard { get; init; } = -1;

    /// <summary>The application id of the Capture landings' counter of a hub partition.</summary>
    internal static string CaptureGuardId(string hub, string partition) => $"capture-guard/{Normal(hub)}/{partition}";

    /// <summary>The prefix of the Capture runs' application ids.</summary>
    internal const string CapturePrefix = "capture/";

    /// <summary>The guard counter's application id of a hub partition.</summary>
    internal static string GuardId(string hub, string partition) => $"hub/{Normal(hub)}/{partition}";

    /// <summary>The application id of a run of a Capture file starting at <paramref name="first"/> (its version: the run's last sequence number + 1).</summary>
    internal static string CaptureRunId(string hub, string partition, long first, string file) =>
        string.Create(CultureInfo.InvariantCulture, $"{CapturePrefix}{Normal(hub)}/{partition}/{first}/{file}");

    /// <summary>A hub name as application ids hold it (Event Hubs names are case-insensitive).</summary>
    internal static string Normal(string hub) => hub.ToLowerInvariant();

    /// <summary>
    /// What <paramref name="snapshot"/> (null: no table yet) holds of <paramref name="hub"/>'s <paramref name="partition"/>; the live
    /// position is that of <paramref name="liveAppIds"/> (the first present).
    /// </summary>
    internal static HubPositions Of(DeltaSnapshot? snapshot, string hub, string partition, params string[] liveAppIds)
    {
        if (snapshot is null) return new HubPositions(null, -1, []);
        long? live = null;
        foreach (var id in liveAppIds)
        {
            // The live source names the hub as its address does; compare as Event Hubs does, without case.
            if (snapshot.TransactionVersion(id) is { } exact) live = live is { } l ? Math.Max(l, exact) : exact;
            else if (snapshot.Transactions.FirstOrDefault(t => string.Equals(t.Key, id, StringComparison.OrdinalIgnoreCase)).Value is { } other)
                live = live is { } l2 ? Math.Max(l2, other.Version) : other.Version;
        }
        var guard = snapshot.TransactionVersion(GuardId(hub, partition)) ?? -1;
        var prefix = $"{CapturePrefix}{Normal(hub)}/{partition}/";
        var runs = new List<(long, long)>();
        foreach (var (id, txn) in snapshot.Transactions)
        {
            if (!id.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = id.AsSpan(prefix.Length);
            var slash = rest.IndexOf('/');
            if (slash <= 0 || !long.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var first)) continue;
            runs.Add((first, txn.Version - 1));
        }
        runs.Sort();
        return new HubPositions(live, guard, Merge(runs)) { CaptureGuard = snapshot.TransactionVersion(CaptureGuardId(hub, partition)) ?? -1 };
    }

    /// <summary>
    /// Where a live consumer of the partition starts: from its own position (null: the beginning), moved past every sequence
    /// number Capture landed from there on without a gap. Null when it starts at the beginning of what the hub retains.
    /// </summary>
    internal long? Start()
    {
        var s = Live ?? 0;
        foreach (var (first, last) in Captured)
        {
            if (first > s) break;
            if (last >= s) s = last + 1;
        }
        return Live is null && s == 0 ? null : s;
    }

    /// <summary>
    /// The event hubs bronze holds: those read live (the names of eventhubs/… and kafka/… positions, as their commits name
    /// them) and those landed from Capture files (normalized names).
    /// </summary>
    internal static IReadOnlySet<string> KnownHubs(DeltaSnapshot? snapshot)
    {
        var hubs = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (snapshot is null) return hubs;
        foreach (var id in snapshot.Transactions.Keys)
        {
            var kind = id.StartsWith(SourceKinds.EventHubs + "/", StringComparison.Ordinal) ? SourceKinds.EventHubs
                : id.StartsWith(SourceKinds.Kafka + "/", StringComparison.Ordinal) ? SourceKinds.Kafka : null;
            if (kind is not null)
            {
                var last = id.LastIndexOf('/');
                if (last > kind.Length + 1) hubs.Add(id[(kind.Length + 1)..last]);
            }
            else if (id.StartsWith(CapturePrefix, StringComparison.Ordinal) && id.IndexOf('/', CapturePrefix.Length) is var end and > 0)
            {
                hubs.Add(id[CapturePrefix.Length..end]);
            }
        }
        return hubs;
    }

    /// <summary>True when a Capture run holds <paramref name="sequence"/>.</summary>
    internal bool CaptureHolds(long sequence)
    {
        var lo = 0;
        var hi = Captured.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            var (first, last) = Captured[mid];
            if (sequence < first) hi = mid - 1;
            else if (sequence > last) lo = mid + 1;
            else return true;
        }
        return false;
    }

    /// <summary>The runs of sorted <paramref name="sequences"/>: consecutive numbers as one (first, last).</summary>
    internal static List<(long First, long Last)> Runs(IEnumerable<long> sequences)
    {
        var runs = new List<(long First, long Last)>();
        foreach (var s in sequences.Order())
        {
            if (runs.Count > 0 && (runs[^1].Last == s || runs[^1].Last + 1 == s)) runs[^1] = (runs[^1].First, s);
            else runs.Add((s, s));
        }
        return runs;
    }

    private static List<(long First, long Last)> Merge(List<(long First, long Last)> sorted)
    {
        var merged = new List<(long First, long Last)>();
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && r.First <= merged[^1].Last + 1) merged[^1] = (merged[^1].First, Math.Max(merged[^1].Last, r.Last));
            else merged.Add(r);
        }
        return merged;
    }
}
