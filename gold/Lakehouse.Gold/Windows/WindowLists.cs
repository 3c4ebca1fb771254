using System.Runtime.CompilerServices;
using Lakehouse.Engine;

namespace Lakehouse.Gold.Windows;

/// <summary>
/// The measures of sliding windows that need the rows' values themselves, computed in C# from the per-minute parts the window
/// aggregate stages (each key's minute, split by lateness class, with its values as lists): exact quantiles, as DuckDB's
/// <c>quantile_cont</c> gives them to the bit, over all of a window's rows and over its on-time rows, and the late rows' distinct
/// micro-batches and last ingest time. SQL had to gather the five minutes' lists of every window, flatten them, and sort or
/// deduplicate the copy (again for the on-time answer): that was most of the 5-minute windows' cost. Here each minute's lists are
/// read once and sorted once, and a window's quantile is picked by walking its minutes' sorted values from the nearer end, in
/// parallel over keys.
/// </summary>
internal static class WindowLists
{
    /// <summary>A quantile column: <paramref name="Name"/> from the parts' list column <paramref name="Values"/>, at <paramref name="Q"/>.</summary>
    internal sealed record Quantile(string Name, string Values, double Q);

    /// <summary>
    /// The columns <see cref="Write"/> makes, as an empty relation: <c>minutes</c> (INTEGER, the window's size), <c>start_us</c>
    /// (BIGINT), <c>k</c> (the key, VARCHAR),
    /// <c>late_batches</c> and <c>revised_at_us</c> (BIGINT), then per quantile its value over all the window's rows and
    /// <c>&lt;name&gt;_on_time</c> over its on-time rows (DOUBLE).
    /// </summary>
    internal static string EmptySql(IReadOnlyList<Quantile> quantiles) =>
        "SELECT CAST(NULL AS INTEGER) AS minutes, CAST(NULL AS BIGINT) AS start_us, CAST(NULL AS VARCHAR) AS k, CAST(NULL AS BIGINT) AS late_batches, CAST(NULL AS BIGINT) AS revised_at_us" +
        string.Concat(quantiles.Select(q => $", CAST(NULL AS DOUBLE) AS {SqlText.Identifier(q.Name)}, CAST(NULL AS DOUBLE) AS {SqlText.Identifier(q.Name + "_on_time")}")) +
        " WHERE false";

    /// <summary>
    /// Creates <paramref name="table"/> (see <see cref="EmptySql"/>) with one row per window of each size in <paramref name="sizes"/>
    /// (minutes), starting every minute, that holds a part of <paramref name="parts"/>. The parts are rows of <c>minute_us</c> (BIGINT), the key
    /// column <paramref name="key"/> (VARCHAR, NULL is a key of its own), <c>c</c> (the lateness class: a part at minute offset
    /// <c>o</c> of a window is late for it when <c>c ≥ minutes − o</c>), <c>ingests</c> (the ingest times of its rows that are late
    /// for some window, as microseconds since 1970; NULL for none) and each quantile's list of values (NULL for none). For a window
    /// with late parts, <c>late_batches</c> is the number of distinct ingest times of its late parts and <c>revised_at_us</c> the
    /// last; both NULL otherwise. A quantile is NULL over no values; the on-time one is NULL unless the window has a late part, as
    /// the SQL on-time answer is.
    /// </summary>
    internal static void Write(DuckConnection connection, string parts, string key, IReadOnlyList<Quantile> quantiles, IReadOnlyList<int> sizes, string table,
        CancellationToken cancellationToken)
    {
        var groups = new Dictionary<string, List<Part>>(StringComparer.Ordinal);
        List<Part>? nullKey = null;
        var columns = string.Concat(quantiles.Select(q => ", " + SqlText.Identifier(q.Values)));
        using (var r = connection.Query($"SELECT minute_us, {SqlText.Identifier(key)}, CAST(c AS INTEGER), ingests{columns} FROM {parts}", cancellationToken))
        {
            string? last = null;
            List<Part>? current = null;
            while (r.Read())
            {
                var k = r.IsNull(1) ? null : r.GetString(1);
                if (current is null || !string.Equals(k, last, StringComparison.Ordinal))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    current = k is null ? nullKey ??= [] : groups.TryGetValue(k, out var g) ? g : groups[k] = [];
                    last = k;
                }
                var values = new long[quantiles.Count][];
                for (var i = 0; i < values.Length; i++) values[i] = r.IsNull(4 + i) ? [] : Keys(r.GetDoubles(4 + i));
                current.Add(new Part(r.GetInt64(0), (int)r.GetInt64(2), r.IsNull(3) ? [] : r.GetInt64s(3), values));
            }
        }
        var keys = groups.Select(g => (Key: (string?)g.Key, Parts: g.Value)).ToList();
        if (nullKey is not null) keys.Add((null, nullKey));
        var results = new Window[keys.Count][];
        Parallel.For(0, keys.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var byMinute = keys[i].Parts;
            // Sorted here, in parallel, not while the single reader reads them (a third of its time on the bench's day).
            for (var p = 0; p < byMinute.Count; p++)
            {
                foreach (var values in byMinute[p].Values) Array.Sort(values);
                byMinute[p] = byMinute[p] with { Ingests = SortedDistinct(byMinute[p].Ingests) };
            }
            byMinute.Sort((a, b) => a.Minute.CompareTo(b.Minute));
            results[i] = [.. sizes.SelectMany(minutes => Windows(byMinute, quantiles, minutes))];
        });

        var names = string.Concat(quantiles.Select(q => $", {SqlText.Identifier(q.Name)} DOUBLE, {SqlText.Identifier(q.Name + "_on_time")} DOUBLE"));
        connection.Execute($"CREATE TABLE {table} (minutes INTEGER, start_us BIGINT, k VARCHAR, late_batches BIGINT, revised_at_us BIGINT{names})", cancellationToken);
        using var appender = connection.CreateAppender(table);
        for (var i = 0; i < keys.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var w in results[i])
            {
                appender.Append(w.Minutes).AppendInt64(w.Start).Append(keys[i].Key).AppendInt64(w.LateBatches).AppendInt64(w.RevisedAt);
                foreach (var value in w.Values) appender.AppendDouble(value);
                appender.EndRow();
            }
        }
        appender.Close();
    }

    /// <summary>
    /// One key's minute and lateness class: the late rows' ingest times, sorted and distinct, and each quantile's values as sorted
    /// <see cref="OrderKey"/>s (both as read until the key's windows are computed, which sorts them).
    /// </summary>
    private readonly record struct Part(long Minute, int Class, long[] Ingests, long[][] Values);

    /// <summary>A window's size and start, its late rows' batches and last ingest time (null without late rows), and per quantile its value over all rows and over the on-time rows.</summary>
    private readonly record struct Window(int Minutes, long Start, long? LateBatches, long? RevisedAt, double?[] Values);

    /// <summary>The windows of <paramref name="minutes"/> minutes of one key, from its parts sorted by minute.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Window[] Windows(List<Part> parts, IReadOnlyList<Quantile> quantiles, int minutes)
    {
        var minute = WindowSql.MinuteMicros;
        var starts = new List<long>(parts.Count * minutes);
        foreach (var p in parts)
            for (var o = minutes - 1; o >= 0; o--) starts.Add(p.Minute - o * minute);
        starts.Sort();
        var windows = new List<Window>(starts.Count / Math.Max(1, minutes - 1));
        var lists = new List<long[]>();
        var onTime = new List<long[]>();
        var ingests = new List<long>();
        var first = 0;
        long? previous = null;
        foreach (var start in starts)
        {
            if (start == previous) continue;
            previous = start;
            while (first < parts.Count && parts[first].Minute < start) first++;
            var end = first;
            var late = false;
            ingests.Clear();
            for (; end < parts.Count && parts[end].Minute < start + minutes * minute; end++)
            {
                if (!IsLate(parts[end], start, minutes)) continue;
                late = true;
                ingests.AddRange(parts[end].Ingests);
            }
            long? batches = null, revised = null;
            if (late)
            {
                ingests.Sort();
                batches = ingests.Count == 0 ? 0 : 1;
                for (var i = 1; i < ingests.Count; i++)
                    if (ingests[i] != ingests[i - 1]) batches++;
                revised = ingests.Count == 0 ? null : ingests[^1];
            }
            var values = new double?[2 * quantiles.Count];
            for (var q = 0; q < quantiles.Count; q++)
            {
                lists.Clear();
                onTime.Clear();
                for (var j = first; j < end; j++)
                {
                    lists.Add(parts[j].Values[q]);
                    if (late && !IsLate(parts[j], start, minutes)) onTime.Add(parts[j].Values[q]);
                }
                values[2 * q] = Interpolated(lists, quantiles[q].Q);
                values[2 * q + 1] = late ? Interpolated(onTime, quantiles[q].Q) : null;
            }
            windows.Add(new Window(minutes, start, batches, revised, values));
        }
        return [.. windows];
    }

    /// <summary>Whether the part's rows are late for the window starting at <paramref name="start"/>: class c at minute offset o, c ≥ minutes − o.</summary>
    private static bool IsLate(Part part, long start, int minutes) => part.Class >= minutes - (int)((part.Minute - start) / WindowSql.MinuteMicros);

    /// <summary>
    /// The quantile <paramref name="q"/> of the union of <paramref name="lists"/> (each sorted), as DuckDB's <c>quantile_cont</c>
    /// computes it: at rank (n − 1)·q, between the values at its floor and ceiling, lo·(1 − d) + hi·d (the other way of writing it,
    /// lo + (hi − lo)·d, differed in the last bit in 81,084 of the bench day's 369,663 windows); null for no values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double? Interpolated(List<long[]> lists, double q)
    {
        var n = 0;
        foreach (var l in lists) n += l.Length;
        if (n == 0) return null;
        var rank = (n - 1) * q;
        var floor = Math.Floor(rank);
        var ceiling = Math.Ceiling(rank);
        var (lo, hi) = Pick(lists, n, (int)floor, (int)ceiling);
        if (floor == ceiling) return lo;
        var d = rank - floor;
        return lo * (1 - d) + hi * d;
    }

    /// <summary>The values at ranks <paramref name="lower"/> and <paramref name="upper"/> (0-based, lower ≤ upper ≤ lower + 1) of the union of sorted lists, walking from the nearer end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Lower, double Upper) Pick(List<long[]> lists, int n, int lower, int upper)
    {
        Span<int> at = lists.Count <= 64 ? stackalloc int[lists.Count] : new int[lists.Count];
        long lo = 0, hi = 0;
        if (upper >= n / 2)
        {
            // From the top: step t gives the value at rank n − 1 − t.
            for (var i = 0; i < lists.Count; i++) at[i] = lists[i].Length - 1;
            for (var rank = n - 1; rank >= lower; rank--)
            {
                var best = -1;
                for (var i = 0; i < lists.Count; i++)
                    if (at[i] >= 0 && (best < 0 || lists[i][at[i]] > lists[best][at[best]])) best = i;
                var v = lists[best][at[best]--];
                if (rank == upper) hi = v;
                if (rank == lower) lo = v;
            }
        }
        else
        {
            for (var i = 0; i < lists.Count; i++) at[i] = 0;
            for (var rank = 0; rank <= upper; rank++)
            {
                var best = -1;
                for (var i = 0; i < lists.Count; i++)
                    if (at[i] < lists[i].Length && (best < 0 || lists[i][at[i]] < lists[best][at[best]])) best = i;
                var v = lists[best][at[best]++];
                if (rank == lower) lo = v;
                if (rank == upper) hi = v;
            }
        }
        return (FromOrderKey(lo), FromOrderKey(hi));
    }

    /// <summary>The values as <see cref="OrderKey"/>s.</summary>
    private static long[] Keys(double[] values)
    {
        var keys = new long[values.Length];
        for (var i = 0; i < values.Length; i++) keys[i] = OrderKey(values[i]);
        return keys;
    }

    /// <summary>The values sorted, each once.</summary>
    private static long[] SortedDistinct(long[] values)
    {
        Array.Sort(values);
        var n = 0;
        for (var i = 0; i < values.Length; i++)
            if (i == 0 || values[i] != values[n - 1]) values[n++] = values[i];
        return n == values.Length ? values : values[..n];
    }

    /// <summary>
    /// A double as a long that sorts as DuckDB sorts doubles: -∞ first, NaN (any NaN, as one) last; -0 sorts just before +0.
    /// </summary>
    internal static long OrderKey(double value)
    {
        if (double.IsNaN(value)) return long.MaxValue;
        var bits = BitConverter.DoubleToInt64Bits(value);
        return bits ^ ((bits >> 63) & long.MaxValue);
    }

    private static double FromOrderKey(long key) => BitConverter.Int64BitsToDouble(key ^ ((key >> 63) & long.MaxValue));
}
