using System.Globalization;
using Lakehouse.Delta;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Gold;

/// <summary>
/// The silver rows one gold run recomputes from, staged in DuckDB tables (visible to every connection of the engine): the rows of the dates to recompute and their
/// neighbours, each with the watermark that was in force when it arrived, and the current watermark. Tables are dropped on dispose.
/// </summary>
/// <remarks>
/// The watermark follows the lake, not the clock: it is the newest event time silver holds, minus the delay. The watermark a row
/// arrived under is the newest event time of the rows that reached bronze strictly before it (earlier <c>ingest_time</c>), minus the
/// delay; rows that landed together (one bronze commit, one ingest time) are one micro-batch and never make each other late. So
/// lateness is a property of the data, the same whichever runs computed it, and a rerun from scratch gives the same answer.
/// </remarks>
internal sealed class GoldStage : IDisposable
{
    private readonly DuckEngine.ConnectionLease _lease;
    private readonly string _events = "gold_events_" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _extra = [];
    private bool _created;

    private readonly string _eventTime;

    private GoldStage(DuckEngine.ConnectionLease lease, DeltaTable silver, DeltaSnapshot snapshot, string eventTime, TimeSpan delay, IReadOnlySet<string> newFiles)
    {
        _lease = lease;
        _silver = silver;
        _snapshot = snapshot;
        _eventTime = eventTime;
        _time = SqlText.Identifier(eventTime);
        _delay = delay;
        _newFiles = newFiles;
    }

    /// <summary>The staged rows (see <see cref="GoldInputs.Events"/>).</summary>
    internal string Events => _events;

    /// <summary>The connection the stage's tables live on: run every query over them on it.</summary>
    internal DuckConnection Connection => _lease.Connection;

    /// <summary>The current watermark (null: silver is empty).</summary>
    internal DateTimeOffset? Watermark { get; private set; }

    /// <summary>The current watermark as a SQL expression.</summary>
    internal string WatermarkSql => Watermark is { } w ? Timestamp(w) : "CAST(NULL AS TIMESTAMPTZ)";

    /// <summary>How many rows were staged.</summary>
    internal long Rows { get; private set; }

    /// <summary>
    /// Opens a stage over silver <paramref name="snapshot"/>: the watermark each micro-batch arrived under, the current watermark,
    /// and the one before <paramref name="newFiles"/> (the files silver added since gold last consumed it) arrived.
    /// </summary>
    internal static async Task<GoldStage> OpenAsync(DuckEngine engine, DeltaTable silver, DeltaSnapshot snapshot, string eventTime, TimeSpan delay,
        IReadOnlySet<string> newFiles, CancellationToken cancellationToken)
    {
        var stage = new GoldStage(engine.Lease(), silver, snapshot, eventTime, delay, newFiles);
        try
        {
            await stage.WatermarksAsync(cancellationToken).ConfigureAwait(false);
            return stage;
        }
        catch
        {
            stage.Dispose();
            throw;
        }
    }

    private readonly DeltaTable _silver;
    private readonly DeltaSnapshot _snapshot;
    private readonly string _time;
    private readonly TimeSpan _delay;
    private readonly IReadOnlySet<string> _newFiles;

    /// <summary>The watermark before this run's new silver rows arrived (null: none, e.g. on the first run).</summary>
    internal DateTimeOffset? PreviousWatermark { get; private set; }

    private async Task WatermarksAsync(CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        var delaySql = $"INTERVAL '{(long)_delay.TotalMicroseconds} microseconds'";
        // The newest event time of each micro-batch (ingest time), over all of silver: two columns, one pass.
        using (var all = await DeltaScan.CreateAsync(_silver, _snapshot, connection, null, cancellationToken).ConfigureAwait(false))
        {
            connection.Execute(
                $"CREATE TABLE {_events}_wm AS SELECT ingest_time, " +
                $"max(newest) OVER (ORDER BY ingest_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - {delaySql} AS arrival_watermark, newest " +
                $"FROM (SELECT ingest_time, max({_time}) AS newest FROM ({all.Sql}) GROUP BY ingest_time)", cancellationToken);
        }
        Watermark = Micros(connection.Scalar($"SELECT epoch_us(max(newest)) FROM {_events}_wm", cancellationToken)) - _delay;
        var old = _snapshot.Files.Where(f => !_newFiles.Contains(Uri.UnescapeDataString(f.Path))).ToList();
        if (old.Count == 0) return;
        using var before = await DeltaScan.CreateAsync(_silver, _snapshot, connection, new DeltaScanOptions { Files = old }, cancellationToken).ConfigureAwait(false);
        PreviousWatermark = Micros(connection.Scalar($"SELECT epoch_us(max({_time})) FROM ({before.Sql})", cancellationToken)) - _delay;
    }

    private static DateTimeOffset? Micros(object? value) => value is long us ? DateTimeOffset.UnixEpoch.AddTicks(us * 10) : null;

    /// <summary>
    /// Stages the rows whose event date is in <paramref name="recomputed"/> or next to one, with the columns <paramref name="columns"/>
    /// (plus the event time as <c>timestamp</c>, <c>event_date</c>, <c>ingest_time</c>, <c>arrival_watermark</c>).
    /// </summary>
    internal async Task LoadAsync(IReadOnlyCollection<string> columns, IReadOnlySet<DateOnly> recomputed, CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        // Context: the day on each side, for windows and gaps that cross midnight.
        var dates = recomputed.SelectMany(d => new[] { d.AddDays(-1), d, d.AddDays(1) }).ToHashSet();
        var (snapshot, eventTime, time, newFiles) = (_snapshot, _eventTime, _time, _newFiles);
        var files = Files(snapshot, dates);
        using var scan = await DeltaScan.CreateAsync(_silver, snapshot, connection, new DeltaScanOptions { Files = files, IncludeFilePath = true }, cancellationToken).ConfigureAwait(false);
        var extra = columns.Where(c => c != eventTime && c is not ("timestamp" or GoldTables.EventDate or "ingest_time" or "arrival_watermark"))
            .Distinct().Select(c => "s." + SqlText.Identifier(c));
        var isNew = newFiles.Count == 0 ? "false" : $"s.{DeltaScan.FileColumn} IN ({string.Join(", ", newFiles.Select(SqlText.Literal))})";
        var select = string.Join(", ", new[] { $"s.{time} AS \"timestamp\"", "s.event_date", "s.ingest_time", "w.arrival_watermark", $"{isNew} AS __is_new" }.Concat(extra));
        var inDates = dates.Count == 0 ? "false" : $"s.event_date IN ({DateList(dates)})";
        connection.Execute(
            $"CREATE TABLE {_events} AS SELECT {select} FROM ({scan.Sql}) AS s LEFT JOIN {_events}_wm AS w USING (ingest_time) WHERE {inDates}", cancellationToken);
        _created = true;
        Rows = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {_events} WHERE {(recomputed.Count == 0 ? "false" : $"event_date IN ({DateList(recomputed)})")}", cancellationToken), CultureInfo.InvariantCulture);
        LateEvents = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {_events} WHERE __is_new AND \"timestamp\" < arrival_watermark", cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Of the rows silver added since gold last consumed it, those behind the watermark in force when they arrived.</summary>
    internal long LateEvents { get; private set; }

    /// <summary>Creates a table of this stage from <paramref name="sql"/> (dropped with the stage); returns its name.</summary>
    internal string Materialize(string part, string sql, CancellationToken cancellationToken = default)
    {
        var name = $"{_events}_{part}";
        _lease.Connection.Execute($"CREATE OR REPLACE TABLE {name} AS {sql}", cancellationToken);
        _extra.Add(name);
        return name;
    }

    /// <summary>The live files of the partitions of <paramref name="dates"/>.</summary>
    private static List<AddAction> Files(DeltaSnapshot snapshot, IReadOnlySet<DateOnly> dates)
    {
        var wanted = dates.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        return [.. snapshot.Files.Where(f => f.PartitionValues.TryGetValue(GoldTables.EventDate, out var d) && d is not null && wanted.Contains(d))];
    }

    /// <summary>A SQL list of DATE literals.</summary>
    internal static string DateList(IEnumerable<DateOnly> dates) =>
        string.Join(", ", dates.Order().Select(d => $"DATE '{d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'"));

    internal static string Timestamp(DateTimeOffset t) =>
        $"CAST(TIMESTAMP '{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}' AS TIMESTAMPTZ)";

    public void Dispose()
    {
        try
        {
            _lease.Connection.Execute($"DROP TABLE IF EXISTS {_events}_wm");
            if (_created) _lease.Connection.Execute($"DROP TABLE IF EXISTS {_events}");
            foreach (var t in _extra) _lease.Connection.Execute($"DROP TABLE IF EXISTS {t}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The connection is broken; the pool discards it with its temp tables.
        }
        _lease.Dispose();
    }
}
