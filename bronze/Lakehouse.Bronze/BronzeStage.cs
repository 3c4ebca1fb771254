using System.Globalization;
using Lakehouse.Engine;

namespace Lakehouse.Bronze;

/// <summary>
/// The one way rows reach bronze (<c>BronzeTable.CommitAsync</c> of events for streams and HTTP, the landing ingest for files):
/// rows are appended through DuckDB's appender into narrow staging tables, and <see cref="SelectSql"/> turns them into bronze's
/// columns for one Delta commit.
/// </summary>
/// <remarks>
/// Per row only what differs from row to row is appended: the payload, the source's number, the offset and the line (the
/// <c>rows</c> table); rows that also carry a key or an enqueued time (streams, Capture files) go to the <c>keyed</c> table with
/// those two. What a whole source shares (kind, name, partition: a topic partition, a file, an HTTP request) is a row of a small
/// <c>sources</c> table joined in when committing, and ingest_time and ingest_date are constants of the commit (the ingest time in
/// UTC to the microsecond, and its UTC date). A stage holds one engine connection while rows are appended, until
/// <see cref="Seal"/>; <see cref="Dispose"/> drops its tables.
/// </remarks>
internal sealed class BronzeStage : IDisposable
{
    private readonly DuckEngine _engine;
    private readonly string _id = Guid.NewGuid().ToString("N");
    private readonly List<Source> _sources = [];
    private readonly Dictionary<(string Kind, string Name, string? Partition), long> _sourceIds = [];
    private DuckEngine.ConnectionLease? _lease;
    private DuckAppender? _rows;
    private DuckAppender? _keyed;
    private bool _anyRows;
    private bool _anyKeyed;
    private bool _dropped;

    // The source of the last event added (events of one source come in runs): found again without hashing its name.
    private SourcePosition? _lastPosition;
    private long _lastSource;

    internal BronzeStage(DuckEngine engine)
    {
        _engine = engine;
        _lease = engine.Lease();
        try
        {
            _lease.Connection.Execute($"CREATE TABLE {RowsTable} (payload BLOB, source_id BIGINT, source_offset BIGINT, source_line BIGINT)");
            _lease.Connection.Execute($"CREATE TABLE {KeyedTable} (payload BLOB, source_id BIGINT, source_offset BIGINT, source_line BIGINT, source_key VARCHAR, enqueued_time TIMESTAMPTZ)");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string RowsTable => "bronze_stage_rows_" + _id;

    private string KeyedTable => "bronze_stage_keyed_" + _id;

    private string SourcesTable => "bronze_stage_sources_" + _id;

    /// <summary>
    /// A source of rows (a partition of a topic or event hub, a file, an HTTP request) and its number in this stage: the rows'
    /// source_kind, source and source_partition.
    /// </summary>
    internal long AddSource(string kind, string name, string? partition)
    {
        if (_sourceIds.TryGetValue((kind, name, partition), out var id)) return id;
        id = _sources.Count + 1;
        _sources.Add(new Source(kind, name, partition));
        _sourceIds.Add((kind, name, partition), id);
        return id;
    }

    /// <summary>Appends a row of <paramref name="source"/> without key or enqueued time (a line of a file, an element of an HTTP body).</summary>
    internal void Add(long source, ReadOnlySpan<byte> payload, long? offset, long? line)
    {
        var appender = _rows ??= Connection.CreateAppender(RowsTable);
        _anyRows = true;
        appender.AppendBlob(payload).AppendInt64(source).AppendInt64(offset).AppendInt64(line).EndRow();
    }

    /// <summary>Appends a row of <paramref name="source"/> with its key and enqueued time (either may be null).</summary>
    internal void Add(long source, ReadOnlySpan<byte> payload, long? offset, long? line, string? key, DateTimeOffset? enqueuedTime)
    {
        if (key is null && enqueuedTime is null)
        {
            Add(source, payload, offset, line);
            return;
        }
        var appender = _keyed ??= Connection.CreateAppender(KeyedTable);
        _anyKeyed = true;
        appender.AppendBlob(payload).AppendInt64(source).AppendInt64(offset).AppendInt64(line).Append(key).Append(enqueuedTime?.UtcDateTime).EndRow();
    }

    /// <summary>Appends <paramref name="events"/>, each under the source its position names.</summary>
    internal void Add(IReadOnlyList<BronzeEvent> events, CancellationToken cancellationToken)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if ((i & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
            var e = events[i];
            var p = e.Source;
            Add(SourceOf(p), e.Payload, p.Offset, p.Line, e.Key, e.EnqueuedTime);
        }
    }

    /// <summary>Takes the rows of <paramref name="source"/> out of the stage (a file that changed while it was read, or is in bronze already).</summary>
    internal void RemoveSource(long source)
    {
        Flush();
        var id = source.ToString(CultureInfo.InvariantCulture);
        using (var lease = _lease is null ? _engine.Lease() : null)
        {
            var connection = lease?.Connection ?? _lease!.Connection;
            connection.Execute($"DELETE FROM {RowsTable} WHERE source_id = {id}");
            connection.Execute($"DELETE FROM {KeyedTable} WHERE source_id = {id}");
        }
        _sources[(int)source - 1] = _sources[(int)source - 1] with { Removed = true };
        _lastPosition = null;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a connection that sees every row appended so far: the stage's own while rows are still
    /// appended, a pooled one once it is sealed.
    /// </summary>
    internal async Task<T> WithConnectionAsync<T>(Func<DuckConnection, Task<T>> action)
    {
        Flush();
        _lastPosition = null;
        if (_lease is not null) return await action(_lease.Connection).ConfigureAwait(false);
        using var lease = _engine.Lease();
        return await action(lease.Connection).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the rows of <paramref name="source"/> whose <c>source_offset</c> matches <paramref name="offsetPredicate"/> (SQL over
    /// the column <c>source_offset</c>, e.g. an IN subquery) out of the stage, on <paramref name="connection"/> (from
    /// <see cref="WithConnectionAsync"/>). Returns how many rows and payload bytes were taken out.
    /// </summary>
    internal (long Rows, long Bytes) RemoveRows(DuckConnection connection, long source, string offsetPredicate)
    {
        var id = source.ToString(CultureInfo.InvariantCulture);
        long rows = 0, bytes = 0;
        foreach (var table in new[] { RowsTable, KeyedTable })
        {
            var where = $"source_id = {id} AND ({offsetPredicate})";
            using (var reader = connection.Query($"SELECT count(*), CAST(coalesce(sum(octet_length(payload)), 0) AS BIGINT) FROM {table} WHERE {where}"))
            {
                reader.Read();
                rows += reader.GetInt64(0);
                bytes += reader.GetInt64(1);
            }
            connection.Execute($"DELETE FROM {table} WHERE {where}");
        }
        return (rows, bytes);
    }

    /// <summary>Ends appending: the rows are in the tables and the stage's connection goes back to the pool.</summary>
    internal void Seal()
    {
        Flush();
        _lease?.Dispose();
        _lease = null;
    }

    /// <summary>
    /// The SELECT of the staged rows in bronze's columns and order (<see cref="BronzeTable.Columns"/>), with
    /// <paramref name="ingestTime"/> (UTC, to the microsecond) as ingest_time and its UTC date as ingest_date. Writes the sources
    /// table first; call it after <see cref="Seal"/>, again after <see cref="RemoveSource"/>.
    /// </summary>
    internal string SelectSql(DateTimeOffset ingestTime)
    {
        if (_lease is not null) throw new InvalidOperationException("Seal the stage first.");
        using (var lease = _engine.Lease())
        {
            lease.Connection.Execute($"CREATE OR REPLACE TABLE {SourcesTable} (source_id BIGINT, source_kind VARCHAR, source VARCHAR, source_partition VARCHAR)");
            var live = _sources.Select((s, i) => (Source: s, Id: i + 1L)).Where(s => !s.Source.Removed).ToList();
            foreach (var chunk in live.Chunk(1000))
            {
                var values = string.Join(", ", chunk.Select(s =>
                    $"({s.Id.ToString(CultureInfo.InvariantCulture)}, {SqlText.Literal(s.Source.Kind)}, {SqlText.Literal(s.Source.Name)}, {(s.Source.Partition is null ? "NULL" : SqlText.Literal(s.Source.Partition))})"));
                lease.Connection.Execute($"INSERT INTO {SourcesTable} VALUES {values}");
            }
        }
        var utc = ingestTime.UtcDateTime;
        var time = SqlText.Literal(utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00");
        var date = SqlText.Literal(utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        string Select(string table, bool keyed) => $"""
            SELECT r.payload, s.source_kind, s.source, s.source_partition, r.source_offset, r.source_line,
                   {(keyed ? "r.source_key" : "NULL")} AS source_key, {(keyed ? "r.enqueued_time" : "NULL")} AS enqueued_time,
                   TIMESTAMPTZ {time} AS ingest_time, DATE {date} AS ingest_date
            FROM {table} AS r JOIN {SourcesTable} AS s ON r.source_id = s.source_id
            """;
        // Only the tables that got rows are read, and never none: the SELECT gives the columns of an empty commit too.
        return (_anyRows, _anyKeyed) switch
        {
            (true, true) => Select(RowsTable, false) + "\nUNION ALL\n" + Select(KeyedTable, true),
            (false, true) => Select(KeyedTable, true),
            _ => Select(RowsTable, false),
        };
    }

    private DuckConnection Connection => (_lease ?? throw new InvalidOperationException("The stage is sealed.")).Connection;

    private long SourceOf(SourcePosition p)
    {
        var last = _lastPosition;
        if (last is not null && ReferenceEquals(last.Name, p.Name) && ReferenceEquals(last.Partition, p.Partition) && ReferenceEquals(last.Kind, p.Kind)) return _lastSource;
        _lastSource = AddSource(p.Kind, p.Name, p.Partition);
        _lastPosition = p;
        return _lastSource;
    }

    private void Flush()
    {
        _rows?.Close();
        _rows?.Dispose();
        _rows = null;
        _keyed?.Close();
        _keyed?.Dispose();
        _keyed = null;
    }

    /// <summary>Drops the stage's tables.</summary>
    public void Dispose()
    {
        if (_dropped) return;
        _dropped = true;
        try
        {
            _rows?.Dispose();
            _keyed?.Dispose();
        }
        finally
        {
            _lease?.Dispose();
            _lease = null;
            using var lease = _engine.Lease();
            foreach (var table in new[] { RowsTable, KeyedTable, SourcesTable })
                lease.Connection.Execute($"DROP TABLE IF EXISTS {table}", CancellationToken.None);
        }
    }

    private sealed record Source(string Kind, string Name, string? Partition, bool Removed = false);
}
