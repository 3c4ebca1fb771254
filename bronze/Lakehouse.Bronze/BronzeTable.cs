using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>
/// The bronze table of one dataset, <c>&lt;lake&gt;/bronze/&lt;dataset&gt;</c>: raw events with their source position, partitioned by
/// ingest date. Every commit carries the sources' progress as Delta <c>txn</c> actions in the same commit as the data, so a
/// restarted reader resumes exactly where the table stands and a repeated batch commits nothing (exactly-once).
/// </summary>
/// <remarks>
/// Columns: <c>payload</c> (binary, every byte), <c>source_kind</c>, <c>source</c>, <c>source_partition</c>, <c>source_offset</c>,
/// <c>source_line</c>, <c>source_key</c>, <c>enqueued_time</c>, <c>ingest_time</c> (UTC timestamps) and <c>ingest_date</c> (the partition).
/// </remarks>
public sealed class BronzeTable
{
    /// <summary>The partition column.</summary>
    public const string PartitionColumn = "ingest_date";

    /// <summary>The zstd level of bronze's data files when the write options set none (OPTIMIZE rewrites them at the options' level).</summary>
    public const int DefaultCompressionLevel = 1;

    /// <summary>The columns in table order, with their DuckDB types.</summary>
    public static IReadOnlyList<(string Name, string DuckType)> Columns { get; } =
    [
        ("payload", "BLOB"),
        ("source_kind", "VARCHAR"),
        ("source", "VARCHAR"),
        ("source_partition", "VARCHAR"),
        ("source_offset", "BIGINT"),
        ("source_line", "BIGINT"),
        ("source_key", "VARCHAR"),
        ("enqueued_time", "TIMESTAMPTZ"),
        ("ingest_time", "TIMESTAMPTZ"),
        (PartitionColumn, "DATE"),
    ];

    private readonly DuckEngine _engine;
    private readonly DeltaWriter _writer;
    private readonly ILogger _log;

    private BronzeTable(DeltaTable table, DuckEngine engine, DeltaWriteOptions? options, ILoggerFactory? loggerFactory)
    {
        Table = table;
        _engine = engine;
        _writer = DeltaWriter.Create(table, Options(options));
        _log = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<BronzeTable>();
    }

    /// <summary>The bronze table at <paramref name="storage"/> (created by the first commit).</summary>
    public static BronzeTable Open(ILakeStorage storage, DuckEngine engine, ILoggerFactory? loggerFactory = null, DeltaWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(engine);
        return new BronzeTable(DeltaTable.Open(storage, engine, loggerFactory), engine, options, loggerFactory);
    }

    /// <summary>The underlying Delta table.</summary>
    public DeltaTable Table { get; }

    /// <summary>
    /// The progress the table holds for each application id starting with <paramref name="appIdPrefix"/> (the txn version:
    /// for streams the next offset or sequence number to read). Empty when the table does not exist yet.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> PositionsAsync(string appIdPrefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appIdPrefix);
        if (!await Table.ExistsAsync(cancellationToken).ConfigureAwait(false)) return new Dictionary<string, long>();
        var snapshot = await Table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return snapshot.Transactions.Where(t => t.Key.StartsWith(appIdPrefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key, t => t.Value.Version, StringComparer.Ordinal);
    }

    /// <summary>
    /// Commits <paramref name="events"/> with <paramref name="positions"/> as one Delta version, <paramref name="ingestTime"/>
    /// (default: now) as their ingest_time and its UTC date as ingest_date. Returns Committed = false when the table already holds
    /// every position (the batch was committed before: a retry after a crash or a re-delivery). A batch with positions but no
    /// events still commits: it records progress (a file with no events is still seen once). A position whose
    /// <see cref="DeltaAppTransaction.Previous"/> no longer matches fails with Conflict.
    /// </summary>
    public async Task<DeltaCommitResult> CommitAsync(IReadOnlyList<BronzeEvent> events, IReadOnlyCollection<DeltaAppTransaction> positions,
        DateTimeOffset? ingestTime = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(positions);
        if (events.Count == 0 && positions.Count == 0) throw new ArgumentException("Nothing to commit: no events and no positions.", nameof(events));
        using var stage = CreateStage();
        stage.Add(events, cancellationToken);
        stage.Seal();
        return await CommitAsync(stage, positions, ingestTime, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new stage for rows to commit to this table (the caller disposes it).</summary>
    internal BronzeStage CreateStage() => new(_engine);

    /// <summary>
    /// Commits the rows of a sealed <paramref name="stage"/> with <paramref name="positions"/>, as
    /// <see cref="CommitAsync(IReadOnlyList{BronzeEvent}, IReadOnlyCollection{DeltaAppTransaction}, DateTimeOffset?, CancellationToken)"/> does.
    /// </summary>
    internal async Task<DeltaCommitResult> CommitAsync(BronzeStage stage, IReadOnlyCollection<DeltaAppTransaction> positions, DateTimeOffset? ingestTime = null,
        CancellationToken cancellationToken = default)
    {
        var select = stage.SelectSql(ingestTime ?? DateTimeOffset.UtcNow);
        var casted = $"SELECT {string.Join(", ", Columns.Select(c => $"CAST({SqlText.Identifier(c.Name)} AS {c.DuckType}) AS {SqlText.Identifier(c.Name)}"))} FROM ({select})";
        var result = await _writer.AppendAsync(casted, positions, cancellationToken).ConfigureAwait(false);
        if (result.Committed)
        {
            var rows = result.Metric("numOutputRows");
            Log.Committed(_log, Table.Location, result.Version, rows, positions.Count);
        }
        return result;
    }

    private static DeltaWriteOptions Options(DeltaWriteOptions? options)
    {
        var o = options ?? new DeltaWriteOptions();
        o.PartitionColumns = [PartitionColumn];
        // Bronze is written once per event and read rarely (silver reads each file once): zstd's fastest level, unless set.
        o.CompressionLevel ??= DefaultCompressionLevel;
        if (!o.TableProperties.ContainsKey(BronzeGroupCommitter.IdempotencyKeyRetentionProperty))
            o.TableProperties = new Dictionary<string, string>(o.TableProperties, StringComparer.Ordinal) { [BronzeGroupCommitter.IdempotencyKeyRetentionProperty] = BronzeGroupCommitter.DefaultIdempotencyKeyRetention };
        return o;
    }
}
