using System.Collections.Concurrent;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Gold;

/// <summary>
/// Per live silver data file, the newest event time of each ingest time (micro-batch) among its rows that are not stamped more
/// than the future tolerance after that ingest time (<see cref="Windows.WindowSettings.FutureTolerance"/>), and how many are:
/// what gold's watermarks are made of. A data file never changes once written, so a process summarizes each file once, keyed by table, path, size and
/// deletion vector: a stream's gold step then reads only the files silver added since its last step, where it read two columns
/// of all of silver, every day of it, at every step. The entries of files no longer live are dropped at each run.
/// </summary>
internal static class SilverBatches
{
    /// <summary>
    /// One ingest time of a file's rows (microseconds since 1970; null for rows without one), the newest event time among them that
    /// is within the future tolerance of it, and how many of them are stamped further ahead (they do not move the watermark).
    /// </summary>
    internal readonly record struct Batch(long? IngestUs, long? NewestUs, long Ahead);

    private static readonly ConcurrentDictionary<string, Dictionary<string, Batch[]>> Known = new(StringComparer.Ordinal);

    /// <summary>The batches of every live file of <paramref name="snapshot"/>, in the snapshot's order of files, and how many files were read for them now.</summary>
    internal static async Task<(List<(AddAction File, Batch[] Batches)> Files, int Read)> OfAsync(DeltaTable silver, DeltaSnapshot snapshot, DuckConnection connection, string eventTime,
        TimeSpan futureTolerance, CancellationToken cancellationToken)
    {
        var location = silver.Location + "\n" + futureTolerance.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var known = Known.TryGetValue(location, out var k) ? k : [];
        var live = new Dictionary<string, Batch[]>(StringComparer.Ordinal);
        var missing = new List<AddAction>();
        foreach (var f in snapshot.Files)
        {
            if (known.TryGetValue(Key(f), out var batches)) live[Key(f)] = batches;
            else missing.Add(f);
        }
        if (missing.Count > 0)
        {
            foreach (var (file, batches) in await ReadAsync(silver, snapshot, connection, eventTime, futureTolerance, missing, cancellationToken).ConfigureAwait(false))
                live[Key(file)] = batches;
        }
        Known[location] = live;
        return ([.. snapshot.Files.Select(f => (f, live[Key(f)]))], missing.Count);
    }

    private static async Task<List<(AddAction File, Batch[] Batches)>> ReadAsync(DeltaTable silver, DeltaSnapshot snapshot, DuckConnection connection, string eventTime,
        TimeSpan futureTolerance, List<AddAction> files, CancellationToken cancellationToken)
    {
        var time = SqlText.Identifier(eventTime);
        var ahead = $"{time} > ingest_time + {Windows.WindowSql.Interval(futureTolerance)}";
        var rows = new Dictionary<string, List<Batch>>(StringComparer.Ordinal);
        using (var scan = await DeltaScan.CreateAsync(silver, snapshot, connection, new DeltaScanOptions { Files = files, IncludeFilePath = true }, cancellationToken).ConfigureAwait(false))
        using (var r = connection.Query(
            $"SELECT {SqlText.Identifier(DeltaScan.FileColumn)}, epoch_us(ingest_time), epoch_us(max({time}) FILTER (WHERE NOT coalesce({ahead}, false))), " +
            $"count(*) FILTER (WHERE {ahead}) FROM ({scan.Sql}) GROUP BY ALL", cancellationToken))
        {
            while (r.Read())
            {
                var file = r.GetString(0);
                if (!rows.TryGetValue(file, out var list)) rows[file] = list = [];
                list.Add(new Batch(r.IsNull(1) ? null : r.GetInt64(1), r.IsNull(2) ? null : r.GetInt64(2), r.GetInt64(3)));
            }
        }
        var result = new List<(AddAction, Batch[])>(files.Count);
        foreach (var f in files)
        {
            var name = silver.RelativePath(f);
            result.Add((f, rows.Remove(name, out var batches) ? [.. batches] : []));
        }
        if (rows.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"The scan of silver '{silver.Location}' named a data file the log does not: '{rows.Keys.First()}'.");
        return result;
    }

    private static string Key(AddAction f) => f.Path + "\n" + f.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n" + f.DeletionVector?.UniqueId;
}
