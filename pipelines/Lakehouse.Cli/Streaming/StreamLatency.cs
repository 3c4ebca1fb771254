using System.Globalization;
using System.Text.Json;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Silver;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Streaming;

/// <summary>Produce → visible latencies of a streamed dataset, in milliseconds.</summary>
/// <param name="Events">Stream events measured (bronze rows with a partition, offset and producer timestamp).</param>
/// <param name="SilverP50Ms">Median from the producer's timestamp to the silver commit that made the event's bronze version visible in silver.</param>
/// <param name="SilverP99Ms">99th percentile of the same.</param>
/// <param name="GoldP50Ms">Median to the gold commit that consumed that silver version (null: no gold table).</param>
/// <param name="GoldP99Ms">99th percentile of the same.</param>
/// <param name="BronzeP50Ms">Median to the bronze commit that holds the event.</param>
/// <param name="BronzeP99Ms">99th percentile of the same.</param>
internal sealed record StreamLatencies(long Events, double SilverP50Ms, double SilverP99Ms, double? GoldP50Ms, double? GoldP99Ms, double BronzeP50Ms, double BronzeP99Ms);

/// <summary>
/// Measures, after a stream ran, how long each event took from its producer (the Kafka message timestamp, CreateTime; Event Hubs'
/// enqueued time) to be visible in bronze, silver and gold, from the lake alone: bronze rows give each event's partition, offset and
/// producer time; bronze's commits give, per version, the next offset of every partition (txn) and the time the commit file appeared;
/// silver's commits the bronze version they consumed; gold's (page_performance_daily or the dataset's first gold output) the silver
/// version. An event is visible in silver when the first silver commit that consumed its bronze version appeared. Clocks: the producer
/// and the lake's storage must share one (this machine).
/// </summary>
internal static class StreamLatency
{
    /// <summary>The latencies of every stream event of <paramref name="dataset"/> in the lake at <paramref name="lake"/>.</summary>
    internal static async Task<StreamLatencies> MeasureAsync(ILakeStorage lake, DuckEngine engine, string dataset, string? goldTable = null, CancellationToken cancellationToken = default)
    {
        var bronze = await CommitsAsync(lake.Scope(SilverTables.Bronze(dataset)), cancellationToken).ConfigureAwait(false);
        var silver = await CommitsAsync(lake.Scope(SilverTables.Silver(dataset)), cancellationToken).ConfigureAwait(false);
        var gold = goldTable is null ? [] : await CommitsAsync(lake.Scope(GoldTables.Gold(goldTable)), cancellationToken).ConfigureAwait(false);

        // Per partition: (next offset after the version, the version, when it appeared), in version order.
        var ends = new Dictionary<string, List<(long End, long Version, DateTimeOffset At)>>(StringComparer.Ordinal);
        foreach (var c in bronze)
        {
            foreach (var (appId, next) in c.Txns)
            {
                var slash = appId.LastIndexOf('/');
                if (slash < 0 || appId.StartsWith("lakehouse-", StringComparison.Ordinal)) continue;
                var partition = appId[(slash + 1)..];
                if (!ends.TryGetValue(partition, out var list)) ends[partition] = list = [];
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
        using (var lease = engine.Lease())
        {
            using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var reader = lease.Connection.Query(
                $"SELECT source_partition, source_offset, epoch_ms(enqueued_time) FROM ({scan.Sql}) WHERE source_offset IS NOT NULL AND enqueued_time IS NOT NULL", cancellationToken);
            while (reader.Read())
            {
                var partition = reader.GetString(0);
                var offset = reader.GetInt64(1);
                var produced = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2));
                if (!ends.TryGetValue(partition, out var list)) continue;
                var i = FirstAtLeast(list, offset + 1);
                if (i < 0) continue;
                var (_, version, bronzeAt) = list[i];
                toBronze.Add((bronzeAt - produced).TotalMilliseconds);
                if (!visible.TryGetValue(version, out var seen))
                {
                    var s = silverSeen.FindIndex(x => x.Consumed >= version);
                    var g = s < 0 ? -1 : goldSeen.FindIndex(x => x.Consumed >= silverSeen[s].Version);
                    visible[version] = seen = (s < 0 ? null : silverSeen[s].At, g < 0 ? null : goldSeen[g].At);
                }
                if (seen.Silver is { } silverAt) toSilver.Add((silverAt - produced).TotalMilliseconds);
                if (seen.Gold is { } goldAt) toGold.Add((goldAt - produced).TotalMilliseconds);
            }
        }
        return new StreamLatencies(toBronze.Count, Percentile(toSilver, 0.5), Percentile(toSilver, 0.99),
            toGold.Count > 0 ? Percentile(toGold, 0.5) : null, toGold.Count > 0 ? Percentile(toGold, 0.99) : null,
            Percentile(toBronze, 0.5), Percentile(toBronze, 0.99));
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

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[Math.Clamp((int)Math.Ceiling(p * values.Count) - 1, 0, values.Count - 1)];
    }

    private sealed record Commit(long Version, DateTimeOffset At, Dictionary<string, long> Txns);

    /// <summary>Every commit file of a table's log: its version, when it appeared (the file's time), and its txn actions.</summary>
    private static async Task<List<Commit>> CommitsAsync(ILakeStorage table, CancellationToken cancellationToken)
    {
        var commits = new List<Commit>();
        await foreach (var file in table.ListAsync("_delta_log/", cancellationToken).ConfigureAwait(false))
        {
            var name = file.Path[(file.Path.LastIndexOf('/') + 1)..];
            if (name.Length != 25 || !name.EndsWith(".json", StringComparison.Ordinal) ||
                !long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                continue;
            var txns = new Dictionary<string, long>(StringComparer.Ordinal);
            var text = System.Text.Encoding.UTF8.GetString(await table.ReadAsync(file.Path, cancellationToken).ConfigureAwait(false));
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!line.Contains("\"txn\"", StringComparison.Ordinal)) continue;
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("txn", out var txn)) txns[txn.GetProperty("appId").GetString()!] = txn.GetProperty("version").GetInt64();
            }
            commits.Add(new Commit(version, file.LastModified, txns));
        }
        commits.Sort((a, b) => a.Version.CompareTo(b.Version));
        return commits;
    }
}
