using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Engine;
using Lakehouse.Sql;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Serve.Dashboard;

/// <summary>
/// Where a table stands: its latest version, not written yet, or broken (with why). <paramref name="Committed"/> is when the log file
/// of that version was written, and <paramref name="Stamp"/> names that file (time, size, ETag): a table deleted and written again
/// has the same versions in other files, and must not be answered from what was cached for the table it replaced.
/// </summary>
internal readonly record struct TableState(long? Version, string? Problem, DateTimeOffset? Committed = null, string? Stamp = null)
{
    internal static TableState Missing => default;

    internal bool Exists => Version is not null;
}

/// <summary>The rows of one query: column names, DuckDB type names, and the values as <see cref="DuckResult.GetValue"/> reads them.</summary>
internal sealed record TableRows(IReadOnlyList<string> Columns, IReadOnlyList<string> Types, IReadOnlyList<object?[]> Rows);

/// <summary>How a panel's table answered.</summary>
internal enum SectionStatus
{
    /// <summary>Read: the rows (maybe none) of the table at <see cref="TableSection.Version"/>.</summary>
    Ok,

    /// <summary>The table has not been written yet: the panel says "no data yet".</summary>
    NoData,

    /// <summary>The table exists but cannot be read (a damaged log, a missing file, columns not as expected): the message says why.</summary>
    Error,
}

/// <summary>One table's part of an answer.</summary>
internal sealed record TableSection(DashboardTable Table, SectionStatus Status, long? Version, string? Message, TableRows? Rows);

/// <summary>
/// Reads the dashboard's tables through <see cref="LakeQuery"/> (the read-only SQL of <c>lakehouse sql</c>), caching each answer
/// under the table version it was computed from. Polling costs one listing of each table's log while nothing changes: the
/// latest version is found from the listing (<see cref="DeltaTable.LatestVersionAsync"/>), and a query runs only for a version
/// not seen before, against exactly that version (<c>gold."alerts@v3"</c>).
/// </summary>
/// <remarks>
/// Queries run one at a time: <see cref="LakeQuery"/> names its views after the tables (<c>gold."alerts@v3"</c>) in the
/// database every pooled connection shares, so two requests preparing the same view at once would drop it under each other.
/// With answers cached per version this costs little: a query runs once per table version, not once per request.
/// </remarks>
internal sealed class DashboardReader : IDisposable
{
    /// <summary>Answers kept; past it the cache starts again (every entry is a few hundred rows at most).</summary>
    private const int MaxCacheEntries = 512;

    private readonly ILakeStorage _lake;
    private readonly DuckEngine _engine;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, TableRows> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _reported = new(StringComparer.Ordinal);
    private long _queries;

    internal DashboardReader(ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        _lake = lake;
        _engine = engine;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger<DashboardReader>();
    }

    /// <summary>Queries run so far (answers not taken from the cache).</summary>
    internal long QueriesRun => Interlocked.Read(ref _queries);

    /// <summary>The table's latest version and its log file from its log listing; missing when it has no log; broken (with the reason) when the log cannot be listed or is not whole.</summary>
    internal async Task<TableState> StateAsync(DashboardTable table, CancellationToken cancellationToken)
    {
        try
        {
            var latest = await DeltaTable.Open(_lake.Scope(table.Folder), _engine, _loggerFactory).LatestCommitAsync(cancellationToken).ConfigureAwait(false);
            if (latest is not { } l) return TableState.Missing;
            var stamp = string.Create(CultureInfo.InvariantCulture, $"{l.File.LastModified.UtcTicks}/{l.File.Size}/{l.File.ETag}");
            return new TableState(l.Version, null, l.File.LastModified, stamp);
        }
        catch (LakehouseException e)
        {
            Report(table, e);
            return new TableState(null, $"{table.Label} cannot be read: {ClientMessages.FromLakeRoot(_lake, e.Message)}");
        }
    }

    /// <summary>The rows of <paramref name="sql"/> over <paramref name="table"/> at its latest version (see <see cref="ReadAsync(DashboardTable, TableState, string, Func{string, string}, CancellationToken)"/>).</summary>
    internal async Task<TableSection> ReadAsync(DashboardTable table, string queryKey, Func<string, string> sql, CancellationToken cancellationToken) =>
        await ReadAsync(table, await StateAsync(table, cancellationToken).ConfigureAwait(false), queryKey, sql, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The rows of <paramref name="sql"/> (given the table's SQL name at the version of <paramref name="state"/>) from the cache
    /// when this query (<paramref name="queryKey"/>: the query and its parameters) was answered at that version before, else
    /// computed now. A table not written yet is <see cref="SectionStatus.NoData"/>; one that cannot be read is
    /// <see cref="SectionStatus.Error"/> with the reason, and is not cached (the next poll tries again).
    /// </summary>
    internal async Task<TableSection> ReadAsync(DashboardTable table, TableState state, string queryKey, Func<string, string> sql, CancellationToken cancellationToken)
    {
        if (state.Problem is { } problem) return new TableSection(table, SectionStatus.Error, null, problem, null);
        if (state.Version is not { } version)
            return new TableSection(table, SectionStatus.NoData, null, $"no data yet: {table.Label} has not been written (no Delta table at {table.Folder})", null);
        var key = $"{table.Label}@{version} {state.Stamp}\n{queryKey}";
        if (_cache.TryGetValue(key, out var cached)) return new TableSection(table, SectionStatus.Ok, version, null, cached);

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        TableRows rows;
        try
        {
            if (_cache.TryGetValue(key, out cached)) return new TableSection(table, SectionStatus.Ok, version, null, cached); // another request just read it
            var clock = Stopwatch.StartNew();
            using var lease = _engine.Lease();
            var options = new LakeSqlOptions { LoggerFactory = _loggerFactory };
            using var query = await LakeQuery.PrepareAsync(_engine, lease.Connection, _lake, sql(table.At(version)), options, cancellationToken).ConfigureAwait(false);
            using var result = lease.Connection.Query(query.Sql, cancellationToken);
            rows = ReadRows(result);
            Interlocked.Increment(ref _queries);
            Log.DashboardQueried(_log, table.Label, version, queryKey, rows.Rows.Count, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is LakehouseException or InvalidCastException)
        {
            Report(table, e);
            return new TableSection(table, SectionStatus.Error, version, $"{table.Label} (version {version}) cannot be shown: {ClientMessages.FromLakeRoot(_lake, e.Message)}", null);
        }
        finally
        {
            _gate.Release();
        }
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();
        _cache[key] = rows;
        return new TableSection(table, SectionStatus.Ok, version, null, rows);
    }

    /// <summary>Logs a broken table once per problem, not on every poll of every open page.</summary>
    private void Report(DashboardTable table, Exception e)
    {
        if (_reported.TryGetValue(table.Label, out var last) && last == e.Message) return;
        _reported[table.Label] = e.Message;
        Log.DashboardTableBroken(_log, table.Label, e);
    }

    /// <summary>
    /// The longest text an answer holds whole: silver keeps a page URL up to 8,192 characters, but a sensor id or an alert's
    /// message can be as long as an event (1 MiB); 50 rows of those made answers of 50 MB, and the cache kept them.
    /// </summary>
    internal const int MaxTextLength = 8192;

    private static TableRows ReadRows(DuckResult result)
    {
        var types = Enumerable.Range(0, result.ColumnCount).Select(result.TypeName).ToArray();
        var rows = new List<object?[]>();
        while (result.Read())
        {
            var row = new object?[result.ColumnCount];
            for (var i = 0; i < row.Length; i++) row[i] = Shortened(result.GetValue(i));
            rows.Add(row);
        }
        return new TableRows([.. result.Names], types, rows);
    }

    /// <summary>Text longer than <see cref="MaxTextLength"/> cut to it (not inside a surrogate pair) and ended with "…"; other values as they are.</summary>
    private static object? Shortened(object? value)
    {
        if (value is not string { Length: > MaxTextLength } text) return value;
        var length = char.IsHighSurrogate(text[MaxTextLength - 1]) ? MaxTextLength - 1 : MaxTextLength;
        return string.Concat(text.AsSpan(0, length), "…");
    }

    public void Dispose() => _gate.Dispose();
}
