using System.Globalization;
using Lakehouse.Engine;

namespace Lakehouse.Bronze.Landing;

/// <summary>A file staged in a batch: where it is, how its rows are labelled, and the identities its commit records.</summary>
internal sealed class StagedFile
{
    internal StagedFile(int index, LandingFileIdentity identity, string kind, string? partition)
    {
        Index = index;
        Identity = identity;
        Kind = kind;
        Partition = partition;
    }

    internal int Index { get; }

    internal LandingFileIdentity Identity { get; }

    /// <summary>The rows' source_kind.</summary>
    internal string Kind { get; }

    /// <summary>The rows' source_partition (Capture files), or null.</summary>
    internal string? Partition { get; }

    /// <summary>The txn application ids the commit records for this file (its listing identity, and its content identity when read).</summary>
    internal List<string> AppIds { get; } = [];

    /// <summary>False when only the identity is recorded (its content was ingested before under another version).</summary>
    internal bool HasRows { get; set; }

    internal long Events { get; set; }

    internal long PayloadBytes { get; set; }
}

/// <summary>
/// The rows of one batch of files, staged in DuckDB tables through the appender before they are committed to bronze in one
/// Delta commit: narrow tables (payload, file number, offset, line; Capture rows also key and enqueued time) and a small table
/// of the files, joined when committing, so the per-row cost is the payload copy.
/// </summary>
internal sealed class LandingStage : IDisposable
{
    private readonly DuckEngine _engine;
    private readonly string _id = Guid.NewGuid().ToString("N");
    private DuckEngine.ConnectionLease? _lease;
    private DuckAppender? _lines;
    private DuckAppender? _captured;
    private bool _dropped;
    private bool _anyLines;
    private bool _anyCaptured;

    internal LandingStage(DuckEngine engine)
    {
        _engine = engine;
        _lease = engine.Lease();
        _lease.Connection.Execute($"CREATE TABLE {LinesTable} (payload BLOB, file BIGINT, source_offset BIGINT, source_line BIGINT)");
        _lease.Connection.Execute($"CREATE TABLE {CapturedTable} (payload BLOB, file BIGINT, source_offset BIGINT, source_line BIGINT, source_key VARCHAR, enqueued_time TIMESTAMPTZ)");
    }

    private string LinesTable => "landing_lines_" + _id;

    private string CapturedTable => "landing_captured_" + _id;

    private string FilesTable => "landing_files_" + _id;

    internal List<StagedFile> Files { get; } = [];

    /// <summary>Events staged in files still in the batch.</summary>
    internal long Events => Files.Sum(f => f.Events);

    /// <summary>Payload bytes staged in files still in the batch.</summary>
    internal long PayloadBytes => Files.Sum(f => f.PayloadBytes);

    /// <summary>Bytes of the files in the batch as stored (compressed or not).</summary>
    internal long FileBytes => Files.Sum(f => f.Identity.Size);

    internal StagedFile Add(LandingFileIdentity identity, string kind, string? partition)
    {
        var file = new StagedFile(Files.Count == 0 ? 1 : Files[^1].Index + 1, identity, kind, partition);
        Files.Add(file);
        return file;
    }

    /// <summary>Appends a line, array element or CSV record of <paramref name="file"/>.</summary>
    internal void AddLine(StagedFile file, ReadOnlySpan<byte> payload, long offset, long line)
    {
        var appender = _lines ??= Connection.CreateAppender(LinesTable);
        _anyLines = true;
        appender.AppendBlob(payload).AppendInt64(file.Index).AppendInt64(offset).AppendInt64(line).EndRow();
        file.Events++;
        file.PayloadBytes += payload.Length;
    }

    /// <summary>Appends a captured event of <paramref name="file"/>.</summary>
    internal void AddCaptured(StagedFile file, ReadOnlySpan<byte> body, long sequenceNumber, long record, DateTimeOffset? enqueuedTime, string? key)
    {
        var appender = _captured ??= Connection.CreateAppender(CapturedTable);
        _anyCaptured = true;
        appender.AppendBlob(body).AppendInt64(file.Index).AppendInt64(sequenceNumber).AppendInt64(record).Append(key).Append(enqueuedTime?.UtcDateTime).EndRow();
        file.Events++;
        file.PayloadBytes += body.Length;
    }

    /// <summary>Takes a file and its rows out of the batch (it changed while it was read, could not be read, or is already in bronze).</summary>
    internal void Remove(StagedFile file)
    {
        Flush();
        var index = file.Index.ToString(CultureInfo.InvariantCulture);
        using (var lease = _lease is null ? _engine.Lease() : null)
        {
            var connection = lease?.Connection ?? _lease!.Connection;
            connection.Execute($"DELETE FROM {LinesTable} WHERE file = {index}");
            connection.Execute($"DELETE FROM {CapturedTable} WHERE file = {index}");
        }
        Files.Remove(file);
    }

    /// <summary>Ends appending: the rows are in the tables and the stage's connection goes back to the pool.</summary>
    internal void Seal()
    {
        Flush();
        _lease?.Dispose();
        _lease = null;
    }

    /// <summary>
    /// The SELECT of the batch's rows in bronze's columns, with <paramref name="ingestTime"/> as ingest_time (and its date as
    /// ingest_date). Writes the file table first.
    /// </summary>
    internal string SelectSql(DateTimeOffset ingestTime)
    {
        using var lease = _engine.Lease();
        lease.Connection.Execute($"CREATE OR REPLACE TABLE {FilesTable} (file BIGINT, source_kind VARCHAR, source VARCHAR, source_partition VARCHAR)");
        if (Files.Count > 0)
        {
            var values = string.Join(", ", Files.Select(f =>
                $"({f.Index.ToString(CultureInfo.InvariantCulture)}, {SqlText.Literal(f.Kind)}, {SqlText.Literal(f.Identity.Location)}, {(f.Partition is null ? "NULL" : SqlText.Literal(f.Partition))})"));
            lease.Connection.Execute($"INSERT INTO {FilesTable} VALUES {values}");
        }
        var utc = ingestTime.UtcDateTime;
        var time = SqlText.Literal(utc.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00");
        var date = SqlText.Literal(utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        // Only the tables that got rows are read (a batch of text files has no Capture rows), and never none: the SELECT gives the columns.
        var lines = $"""
            SELECT s.payload, f.source_kind, f.source, f.source_partition, s.source_offset, s.source_line, NULL AS source_key, NULL AS enqueued_time,
                   TIMESTAMPTZ {time} AS ingest_time, DATE {date} AS ingest_date
            FROM {LinesTable} AS s JOIN {FilesTable} AS f ON s.file = f.file
            """;
        var captured = $"""
            SELECT s.payload, f.source_kind, f.source, f.source_partition, s.source_offset, s.source_line, s.source_key, s.enqueued_time,
                   TIMESTAMPTZ {time} AS ingest_time, DATE {date} AS ingest_date
            FROM {CapturedTable} AS s JOIN {FilesTable} AS f ON s.file = f.file
            """;
        return (_anyLines, _anyCaptured) switch
        {
            (true, true) => lines + "\nUNION ALL\n" + captured,
            (false, true) => captured,
            _ => lines,
        };
    }

    private DuckConnection Connection => (_lease ?? throw new InvalidOperationException("The stage is sealed.")).Connection;

    private void Flush()
    {
        _lines?.Close();
        _lines?.Dispose();
        _lines = null;
        _captured?.Close();
        _captured?.Dispose();
        _captured = null;
    }

    /// <summary>Drops the stage's tables.</summary>
    public void Dispose()
    {
        if (_dropped) return;
        _dropped = true;
        try
        {
            _lines?.Dispose();
            _captured?.Dispose();
        }
        finally
        {
            _lease?.Dispose();
            _lease = null;
            using var lease = _engine.Lease();
            foreach (var table in new[] { LinesTable, CapturedTable, FilesTable })
                lease.Connection.Execute($"DROP TABLE IF EXISTS {table}", CancellationToken.None);
        }
    }
}
