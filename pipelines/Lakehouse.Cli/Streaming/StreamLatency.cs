using System.Globalization;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Silver;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Streaming;

/// <summary>Produce → visible latencies of a streamed dataset, in milliseconds.</summary>
/// <param name="Events">Stream events measured (bronze rows with a partition, offset and producer timestamp, in the window asked for).</param>
/// <param name="SilverP50Ms">Median from the producer's timestamp to the silver commit that made the event's bronze version visible in silver.</param>
/// <param name="SilverP99Ms">99th percentile of the same.</param>
/// <param name="GoldP50Ms">Median to the gold commit that consumed that silver version (null: no gold table).</param>
/// <param name="GoldP99Ms">99th percentile of the same.</param>
/// <param name="BronzeP50Ms">Median to the bronze commit that holds the event.</param>
/// <param name="BronzeP99Ms">99th percentile of the same.</param>
internal sealed record StreamLatencies(long Events, double SilverP50Ms, double SilverP99Ms, double? GoldP50Ms, double? GoldP99Ms, double BronzeP50Ms, double BronzeP99Ms)
{
    /// <summary>Events of the window that silver has made visible (the others are not yet).</summary>
    public long SilverEvents { get; init; }

    /// <summary>Events of the window that gold has made visible.</summary>
    public long GoldEvents { get; init; }

    /// <summary>The earliest producer timestamp measured.</summary>
    public DateTimeOffset? FirstProduced { get; init; }

    /// <summary>The latest producer timestamp measured.</summary>
    public DateTimeOffset? LastProduced { get; init; }

    /// <summary>When the last of the measured events became visible in silver (its commit's time).</summary>
    public DateTimeOffset? SilverDoneAt { get; init; }

    /// <summary>When the last of the measured events became visible in gold.</summary>
    public DateTimeOffset? GoldDoneAt { get; init; }
}

/// <summary>
/// Measures, after a stream ran (or while it runs), how long each event took from its producer (the Kafka message timestamp,
/// CreateTime, which librdkafka sets when the producer hands it the message; Event Hubs' enqueued time) to be visible in bronze,
/// silver and gold, from the lake alone: bronze rows give each event's partition, offset and producer time; bronze's commits give,
/// per version, the next offset of every partition (txn) and the time the commit file appeared; silver's commits the bronze version
/// they consumed; gold's (page_performance_daily or the dataset's first gold output) the silver version. An event is visible in silver
/// when the first silver commit that consumed its bronze version appeared, in gold when the first gold commit that consumed that
/// silver commit's version appeared. Clocks: the producer and the lake's storage must share one (this machine).
/// </summary>
internal static class StreamLatency
{
    /// <summary>The latencies of every stream event of <paramref name="dataset"/> in the lake at <paramref name="lake"/>.</summary>
    internal static Task<StreamLatencies> MeasureAsync(ILakeStorage lake, DuckEngine engine, string dataset, string? goldTable = null, CancellationToken cancellationToken = default) =>
        MeasureAsync(lake, engine, dataset, goldTable, null, null, null, cancellationToken);

    /// <summary>
    /// The latencies of the stream events of <paramref name="dataset"/> produced at or after <paramref name="producedSince"/> and before
    /// <paramref name="producedBefore"/> (no bound when null); <paramref name="cache"/> keeps the commits read, so a caller measuring every
    /// minute reads each commit file once. With <paramref name="producedBefore"/> the stream is taken as still running: an event of the
    /// window that silver (gold) has not made visible yet counts with its age now, a lower bound of its latency, so that the slowest
    /// events are not left out of their window (<see cref="StreamLatencies.SilverEvents"/> counts only the visible ones).
    /// </summary>
    internal static async Task<StreamLatencies> MeasureAsync(ILakeStorage lake, DuckEngine engine, string dataset, string? goldTable, DateTimeOffset? producedSince,
        DateTimeOffset? producedBefore, StreamCommitCache? cache, CancellationToken cancellationToken = default)
    {
        cache ??= new StreamCommitCache();
        DateTimeOffset? pendingAt = producedBefore is null ? null : DateTimeOffset.UtcNow;
        long silverVisible = 0, goldVisible = 0;
        var bronze = await cache.CommitsAsync(lake.Scope(SilverTables.Bronze(dataset)), cancellationToken).ConfigureAwait(false);
        var silver = await cache.CommitsAsync(lake.Scope(SilverTables.Silver(dataset)), cancellationToken).ConfigureAwait(false);
        var gold = goldTable is null ? [] : await cache.CommitsAsync(lake.Scope(GoldTables.Gold(goldTable)), cancellationToken).ConfigureAwait(false);

        // Per source partition, by its txn application id (StreamIngestor.AppId): (next offset after the version, the version, when it
        // appeared), in version order. Only the ingest's own ids: a hub partition's guard counter (hub/<name>/<partition>) ends in the
        // same partition, and its small values would break the search by offset.
        var ends = new Dictionary<string, List<(long End, long Version, DateTimeOffset At)>>(StringComparer.Ordinal);
        foreach (var c in bronze)
        {
            foreach (var (appId, next) in c.Txns)
            {
                if (!ends.TryGetValue(appId, out var list)) ends[appId] = list = [];
                list.Add((next, c.Version, c.At));
            }
        }
        var silverApp = SilverJob.AppId(dataset);
        var goldApp = GoldTables.AppId(dataset);
        var silverSeen = silver.Where(c => c.Txns.ContainsKey(silverApp)).Select(c => (Consumed: c.Txns[silverApp], c.Version, c.At)).ToList();
        var goldSeen = gold.Where(c => c.Txns.ContainsKey(goldApp)).Select(c => (Consumed: c.Txns[goldApp], c.At)).ToList();

        var table = DeltaTable.Open(lake.Scope(SilverTables.Bronze(dataset)), engine);
        var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var toBronze = new List<double>();
        var toSilver = new List<double>();
        var toGold = new List<double>();
        var visible = new Dictionary<long, (DateTimeOffset? Silver, DateTimeOffset? Gold)>();
        DateTimeOffset? first = null, last = null, silverDone = null, goldDone = null;
        var since = producedSince is { } s ? string.Create(CultureInfo.InvariantCulture, $" AND epoch_ms(enqueued_time) >= {s.ToUnixTimeMilliseconds()}") : "";
        if (producedBefore is { } b) since += string.Create(CultureInfo.InvariantCulture, $" AND epoch_ms(enqueued_time) < {b.ToUnixTimeMilliseconds()}");
        using (var lease = engine.Lease())
        {
            using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var reader = lease.Connection.Query(
                $"SELECT source_kind, source, source_partition, source_offset, epoch_ms(enqueued_time) FROM ({scan.Sql}) " +
                $"WHERE source_partition IS NOT NULL AND source_offset IS NOT NULL AND enqueued_time IS NOT NULL{since}", cancellationToken);
            while (reader.Read())
            {
                var appId = StreamIngestor.AppId(reader.GetString(0), reader.GetString(1), reader.GetString(2));
                var offset = reader.GetInt64(3);
                var produced = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4));
                if (!ends.TryGetValue(appId, out var list)) continue;
                var i = FirstAtLeast(list, offset + 1);
                if (i < 0) continue;
                var (_, version, bronzeAt) = list[i];
                toBronze.Add((bronzeAt - produced).TotalMilliseconds);
                if (first is null || produced < first) first = produced;
                if (last is null || produced > last) last = produced;
                if (!visible.TryGetValue(version, out var seen))
                {
                    var si = silverSeen.FindIndex(x => x.Consumed >= version);
                    var gi = si < 0 ? -1 : goldSeen.FindIndex(x => x.Consumed >= silverSeen[si].Version);
                    visible[version] = seen = (si < 0 ? null : silverSeen[si].At, gi < 0 ? null : goldSeen[gi].At);
                }
                if (seen.Silver is { } silverAt)
                {
                    toSilver.Add((silverAt - produced).TotalMilliseconds);
                    silverVisible++;
                    if (silverDone is null || silverAt > silverDone) silverDone = silverAt;
                }
                else if (pendingAt is { } now)
                {
                    toSilver.Add(Math.Max(0, (now - produced).TotalMilliseconds));
                }
                if (seen.Gold is { } goldAt)
                {
                    toGold.Add((goldAt - produced).TotalMilliseconds);
                    goldVisible++;
                    if (goldDone is null || goldAt > goldDone) goldDone = goldAt;
                }
                else if (pendingAt is { } now)
                {
                    toGold.Add(Math.Max(0, (now - produced).TotalMilliseconds));
                }
            }
        }
        return new StreamLatencies(toBronze.Count, Percentile(toSilver, 0.5), Percentile(toSilver, 0.99),
            toGold.Count > 0 ? Percentile(toGold, 0.5) : null, toGold.Count > 0 ? Percentile(toGold, 0.99) : null,
            Percentile(toBronze, 0.5), Percentile(toBronze, 0.99))
        {
            SilverEvents = silverVisible,
            GoldEvents = goldVisible,
            FirstProduced = first,
            LastProduced = last,
            SilverDoneAt = silverDone,
            GoldDoneAt = goldDone,
        };
    }

    private static int FirstAtLeast(List<(long End, long Version, DateTimeOffset At)> list, long end)
    {
        int lo = 0, hi = list.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (list[mid].End >= end)
            {
                found = mid;
                hi = mid - 1;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return found;
    }

    /// <summary>The <paramref name="p"/> quantile (nearest rank) of <paramref name="values"/>, which it sorts; NaN when empty.</summary>
    internal static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[Math.Clamp((int)Math.Ceiling(p * values.Count) - 1, 0, values.Count - 1)];
    }
}

/// <summary>One commit of a table's log: its version, when its file appeared, and its txn actions (app id → version).</summary>
internal sealed record StreamCommit(long Version, DateTimeOffset At, Dictionary<string, long> Txns);

/// <summary>The commits <see cref="StreamLatency"/> has read, by file: a commit file never changes once written.</summary>
internal sealed class StreamCommitCache
{
    private readonly Dictionary<string, StreamCommit> _commits = new(StringComparer.Ordinal);

    /// <summary>Every commit file of a table's log, in version order (those read before from the cache).</summary>
    internal async Task<List<StreamCommit>> CommitsAsync(ILakeStorage table, CancellationToken cancellationToken)
    {
        var commits = new List<StreamCommit>();
        await foreach (var file in table.ListAsync("_delta_log/", cancellationToken).ConfigureAwait(false))
        {
            var name = file.Path[(file.Path.LastIndexOf('/') + 1)..];
            if (name.Length != 25 || !name.EndsWith(".json", StringComparison.Ordinal) ||
                !long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                continue;
            var key = table.Location + "|" + file.Path;
            if (!_commits.TryGetValue(key, out var commit))
            {
                var txns = new Dictionary<string, long>(StringComparer.Ordinal);
                var text = System.Text.Encoding.UTF8.GetString(await table.ReadAsync(file.Path, cancellationToken).ConfigureAwait(false));
                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!line.Contains("\"txn\"", StringComparison.Ordinal)) continue;
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.TryGetProperty("txn", out var txn)) txns[txn.GetProperty("appId").GetString()!] = txn.GetProperty("version").GetInt64();
                }
                _commits[key] = commit = new StreamCommit(version, file.LastModified, txns);
            }
            commits.Add(commit);
        }
        commits.Sort((a, b) => a.Version.CompareTo(b.Version));
        return commits;
    }
}
