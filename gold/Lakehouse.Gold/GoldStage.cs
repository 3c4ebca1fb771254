using System.Globalization;
using Lakehouse.Delta;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold;

/// <summary>
/// The silver rows one gold run recomputes from, staged on the stage's connection: a view of the rows of one group of dates to recompute
/// and their context, each with the watermark that was in force when it arrived (a table), and the current watermark. Dropped on dispose.
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
    private bool _staged;

    private readonly string _eventTime;

    private GoldStage(DuckEngine.ConnectionLease lease, DeltaTable silver, DeltaSnapshot snapshot, string eventTime, WindowSettings windows, IReadOnlySet<string> newFiles)
    {
        _lease = lease;
        _silver = silver;
        _snapshot = snapshot;
        _eventTime = eventTime;
        _time = SqlText.Identifier(eventTime);
        _delay = windows.WatermarkDelay;
        _futureTolerance = windows.FutureTolerance;
        _newFiles = newFiles;
    }

    /// <summary>The staged rows (see <see cref="GoldInputs.Events"/>).</summary>
    internal string Events => _events;

    /// <summary>
    /// Whether the group's rows fit in DuckDB's memory (see <see cref="LoadAsync"/>): a part of them, such as the rows the keys of a
    /// keyed output need, may then be staged whole as a table, whether <see cref="Events"/> is one or a view over the files.
    /// </summary>
    internal bool RowsFit { get; private set; }

    /// <summary>The connection the stage's tables live on: run every query over them on it.</summary>
    internal DuckConnection Connection => _lease.Connection;

    /// <summary>
    /// DuckDB's memory a sliced row may take, sized when the 5-minute windows' lists held each row five times (list aggregates cannot
    /// spill); the windows' staged parts now hold it once, and the size was kept. At 512MB (488 MiB) a slice is about 250,000 rows,
    /// which kept gold under its limit on a day of 3.3M events.
    /// </summary>
    private const long BytesPerSlicedRow = 2048;

    /// <summary>
    /// Rows per slice on <paramref name="connection"/>'s engine: <paramref name="most"/>, or fewer when DuckDB's memory limit
    /// (<c>memory_limit</c>) cannot hold that many.
    /// </summary>
    internal static long RowsPerSlice(DuckConnection connection, long most) =>
        MemoryLimit(connection) is { } bytes ? Math.Clamp(bytes / BytesPerSlicedRow, 1, most) : most;

    /// <summary>DuckDB's memory limit in bytes (<c>memory_limit</c>); null when not understood.</summary>
    private static long? MemoryLimit(DuckConnection connection)
    {
        using var r = connection.Query("SELECT current_setting('memory_limit')", CancellationToken.None);
        return r.Read() && !r.IsNull(0) ? MemoryBytes(r.GetString(0)) : null;
    }

    /// <summary>
    /// Parquet bytes times this is taken as what the staged rows of those files may take in DuckDB's memory (a day of 10M web-log
    /// events: 162 MB of Parquet, about 1 GB staged).
    /// </summary>
    private const long StagedBytesPerParquetByte = 8;

    /// <summary>
    /// Whether the rows of <paramref name="files"/>, staged as an in-memory table, take at most a quarter of DuckDB's memory limit,
    /// leaving the rest to the aggregates over them; false when the limit is not known.
    /// </summary>
    private static bool FitsInMemory(DuckConnection connection, IReadOnlyList<AddAction> files) =>
        MemoryLimit(connection) is { } bytes && files.Sum(f => f.Size) <= bytes / 4 / StagedBytesPerParquetByte;

    /// <summary>Bytes of a DuckDB memory setting as it prints it ("488.2 MiB", "18.8 GiB", "1000 bytes"); null when not understood.</summary>
    internal static long? MemoryBytes(string text)
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0) return null;
        double? unit = parts[1] switch
        {
            "bytes" => 1,
            "KiB" => 1L << 10,
            "MiB" => 1L << 20,
            "GiB" => 1L << 30,
            "TiB" => 1L << 40,
            "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            _ => null,
        };
        return unit is { } u ? (long)Math.Min(n * u, long.MaxValue) : null;
    }

    /// <summary>The current watermark (null: silver is empty).</summary>
    internal DateTimeOffset? Watermark { get; private set; }

    /// <summary>The current watermark as a SQL expression.</summary>
    internal string WatermarkSql => Watermark is { } w ? Timestamp(w) : "CAST(NULL AS TIMESTAMPTZ)";

    /// <summary>
    /// Opens a stage over silver <paramref name="snapshot"/>: the watermark each micro-batch arrived under, the current watermark,
    /// and the one before <paramref name="newFiles"/> (the files silver added since gold last consumed it) arrived.
    /// </summary>
    internal static async Task<GoldStage> OpenAsync(DuckEngine engine, DeltaTable silver, DeltaSnapshot snapshot, string eventTime, WindowSettings windows,
        IReadOnlySet<string> newFiles, CancellationToken cancellationToken)
    {
        var stage = new GoldStage(engine.Lease(), silver, snapshot, eventTime, windows, newFiles);
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
    private readonly TimeSpan _futureTolerance;
    private readonly IReadOnlySet<string> _newFiles;

    /// <summary>The watermark before this run's new silver rows arrived (null: none, e.g. on the first run).</summary>
    internal DateTimeOffset? PreviousWatermark { get; private set; }

    private async Task WatermarksAsync(CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        // The newest event time of each micro-batch (ingest time) of each live file, old (gold has seen it) or new: from the
        // summaries of the files (SilverBatches), which read only files this process has not summarized yet.
        var (files, read) = await SilverBatches.OfAsync(_silver, _snapshot, connection, _eventTime, _futureTolerance, cancellationToken).ConfigureAwait(false);
        FilesRead = read;
        var batches = _events + "_batches";
        connection.Execute($"CREATE TEMP TABLE {batches}(is_new BOOLEAN, ingest_us BIGINT, newest_us BIGINT)", cancellationToken);
        _extra.Add(batches);
        using (var appender = connection.CreateAppender(batches))
        {
            foreach (var (file, fileBatches) in files)
            {
                var isNew = IsNew(file);
                foreach (var b in fileBatches)
                {
                    appender.AppendRow(isNew, b.IngestUs, b.NewestUs);
                    if (isNew) NewAhead += b.Ahead;
                }
            }
            appender.Close();
        }
        var delayUs = WindowSql.Integer((long)_delay.TotalMicroseconds);
        connection.Execute(
            $"CREATE TABLE {_events}_wm AS SELECT make_timestamptz(ingest_us) AS ingest_time, " +
            $"make_timestamptz(max(newest_us) OVER (ORDER BY ingest_us ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) - {delayUs}) AS arrival_watermark " +
            $"FROM (SELECT ingest_us, max(newest_us) AS newest_us FROM {batches} GROUP BY ingest_us)", cancellationToken);
        long? newFirst, oldLast;
        using (var r = connection.Query(
            $"SELECT max(newest_us), max(newest_us) FILTER (WHERE NOT is_new), max(ingest_us) FILTER (WHERE NOT is_new), min(ingest_us) FILTER (WHERE is_new) FROM {batches}",
            cancellationToken))
        {
            r.Read();
            Watermark = Micros(r.IsNull(0) ? null : r.GetInt64(0)) - _delay;
            PreviousWatermark = Micros(r.IsNull(1) ? null : r.GetInt64(1)) - _delay;
            oldLast = r.IsNull(2) ? null : r.GetInt64(2);
            newFirst = r.IsNull(3) ? null : r.GetInt64(3);
        }
        NewArrivedLast = newFirst is { } first && oldLast is { } last && first >= last;
    }

    /// <summary>
    /// How many rows of the new silver files are stamped more than the future tolerance after their ingest time: in the windows of
    /// their times, but not in the watermark.
    /// </summary>
    internal long NewAhead { get; private set; }

    /// <summary>How many silver files the watermarks read (the others' summaries were known from an earlier run of this process).</summary>
    internal int FilesRead { get; private set; }

    /// <summary>
    /// Whether every new silver row (of the files added since gold last consumed silver) arrived at or after the last of the others
    /// (<c>ingest_time</c>): then the watermark each older row arrived under is unchanged, and so is every gold row none of the new
    /// rows reaches. False when unknown (no older or no new rows).
    /// </summary>
    internal bool NewArrivedLast { get; private set; }

    private static DateTimeOffset? Micros(object? value) => value is long us ? DateTimeOffset.UnixEpoch.AddTicks(us * 10) : null;

    /// <summary>
    /// Stages (replacing what an earlier call staged) the rows of the dates of <paramref name="group"/>, with the columns
    /// <paramref name="columns"/> (plus the event time as <c>timestamp</c>, <c>event_date</c>, <c>ingest_time</c>, <c>arrival_watermark</c>),
    /// and as context the rows of the days on each side whose time is at most <paramref name="before"/> before one of those dates or
    /// less than <paramref name="after"/> after it (windows and look-backs that cross midnight). Returns how many rows of the
    /// group's own dates it staged. <paramref name="inMemory"/> says whether the rows are staged as an in-memory table or as a view
    /// over the files; null: a table when they fit (<see cref="FitsInMemory"/>), unless <paramref name="fewRead"/>: then a view even
    /// when they fit, for a group of which the outputs read most rows once (a keyed run reads the rows of a few keys and each
    /// whole-day output the day once; loading the day into a table first cost more than it saved: a 1,000-event append to a day of
    /// 10M events in stream order took 8.5 and 9.7 s that way against 7.2 and 7.8 s, runs alternated).
    /// </summary>
    /// <remarks>
    /// One group at a time keeps the staged rows, and the aggregates over them (exact percentiles keep every value and cannot spill),
    /// to a group's days plus the margins, however many dates the run recomputes.
    /// </remarks>
    internal async Task<long> LoadAsync(IReadOnlyCollection<string> columns, IReadOnlySet<DateOnly> group, TimeSpan before, TimeSpan after, bool? inMemory,
        bool fewRead, CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        DropEvents();
        var dates = WithNeighbours(group);
        var (snapshot, eventTime, time) = (_snapshot, _eventTime, _time);
        var files = Files(snapshot, dates);
        var own = Files(snapshot, group);
        var neighbours = files.Except(own).ToList();
        var extra = columns.Where(c => c != eventTime && c is not ("timestamp" or GoldTables.EventDate or "ingest_time" or "arrival_watermark"))
            .Distinct().Select(c => "s." + SqlText.Identifier(c));
        var select = string.Join(", ", new[] { $"s.{time} AS \"timestamp\"", "s.event_date", "s.ingest_time", "w.arrival_watermark" }.Concat(extra));
        var margins = string.Join(" OR ", group.Order().Select(d =>
        {
            var start = new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return $"(s.{time} >= {Timestamp(start - before)} AND s.{time} < {Timestamp(start.AddDays(1) + after)})";
        }));
        var where = group.Count == 0 ? "false" : $"s.event_date IN ({DateList(group)}) OR {margins}";
        // The group's own partitions whole, and of the neighbours' only the margins: a filter on the event time alone, which DuckDB
        // pushes into the Parquet scan (row groups outside the margins are skipped by their statistics; of the others only the time
        // column is decoded for the rows that fail it), where one OR of the partition and the time would read every row of them.
        async Task<string> PartAsync(List<AddAction> part)
        {
            var scan = await DeltaScan.CreateAsync(_silver, snapshot, connection, new DeltaScanOptions { Files = part }, cancellationToken).ConfigureAwait(false);
            _scans.Add(scan);
            return $"SELECT {select} FROM ({scan.Sql}) AS s LEFT JOIN {_events}_wm AS w USING (ingest_time)";
        }
        // Neighbours exist only around a group's dates, so an empty group stages the empty scan of its own (no) files.
        var staged = await PartAsync(own).ConfigureAwait(false);
        if (neighbours.Count > 0) staged += $" UNION ALL {await PartAsync(neighbours).ConfigureAwait(false)} WHERE {margins}";
        // A table when the group's rows fit easily in DuckDB's memory: every output (and each slice of one) then reads them from
        // memory instead of the Parquet files and the watermark join again. Otherwise a view: each output streams the rows from the
        // files, so memory holds only the aggregates' state (an in-memory table of a 3.3M-event day is some 400 MB that DuckDB
        // cannot evict).
        RowsFit = inMemory ?? FitsInMemory(connection, files);
        _staged = inMemory ?? (RowsFit && !fewRead);
        connection.Execute($"CREATE TEMP {(_staged ? "TABLE" : "VIEW")} {_events} AS {staged}", cancellationToken);
        _created = true;
        _newView = (files.Where(IsNew).ToList(), select, where);
        return Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {_events} WHERE {(group.Count == 0 ? "false" : $"event_date IN ({DateList(group)})")}", cancellationToken),
            CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A view of the staged rows (<see cref="Events"/>) that silver added since gold last consumed it, read from their own files:
    /// made on first use in a group (only keyed outputs ask; a whole-day run never scans the files twice).
    /// </summary>
    internal async Task<string> NewEventsAsync(CancellationToken cancellationToken)
    {
        var name = _events + "_new";
        if (_newView is not { } v) return name;
        var connection = _lease.Connection;
        if (v.Files.Count == 0)
        {
            connection.Execute($"CREATE TEMP VIEW {name} AS SELECT * FROM {_events} WHERE false", cancellationToken);
        }
        else
        {
            _newScan = await DeltaScan.CreateAsync(_silver, _snapshot, connection, new DeltaScanOptions { Files = v.Files }, cancellationToken).ConfigureAwait(false);
            connection.Execute(
                $"CREATE TEMP VIEW {name} AS SELECT {v.Select} FROM ({_newScan.Sql}) AS s LEFT JOIN {_events}_wm AS w USING (ingest_time) WHERE {v.Where}", cancellationToken);
        }
        _newView = null;
        return name;
    }

    /// <summary>What <see cref="NewEventsAsync"/> makes its view of, until it has.</summary>
    private (List<AddAction> Files, string Select, string Where)? _newView;

    private readonly List<DeltaScan> _scans = [];
    private DeltaScan? _newScan;

    private void DropEvents()
    {
        if (_created)
        {
            _lease.Connection.Execute($"DROP VIEW IF EXISTS {_events}_new");
            _lease.Connection.Execute($"DROP {(_staged ? "TABLE" : "VIEW")} IF EXISTS {_events}");
        }
        _created = false;
        _newView = null;
        foreach (var scan in _scans) scan.Dispose();
        _scans.Clear();
        _newScan?.Dispose();
        _newScan = null;
    }

    /// <summary>
    /// Counts into <see cref="LateEvents"/> the rows of the dates of <paramref name="recomputed"/> and their neighbours that silver added since
    /// gold last consumed it and that were behind the watermark in force when they arrived: one streaming pass over the new files. When
    /// silver's commits since then did more than append (a compaction folded new rows into other files, a rerun rewrote partitions), the
    /// new rows are those that arrived after <paramref name="arrivedAfterUs"/>, the newest ingest time of the rows gold had consumed: the
    /// new files then missed folded rows (0 late) and held a rerun's old ones (counted again).
    /// </summary>
    internal async Task CountLateAsync(IReadOnlySet<DateOnly> recomputed, long? arrivedAfterUs, CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        var dates = WithNeighbours(recomputed);
        var files = arrivedAfterUs is null
            ? Files(_snapshot, dates).Where(IsNew).ToList()
            : Files(_snapshot, dates);
        if (files.Count == 0)
        {
            LateEvents = 0;
            return;
        }
        using var scan = await DeltaScan.CreateAsync(_silver, _snapshot, connection, new DeltaScanOptions { Files = files }, cancellationToken).ConfigureAwait(false);
        var arrived = arrivedAfterUs is { } us ? $" AND epoch_us(s.ingest_time) > {WindowSql.Integer(us)}" : "";
        LateEvents = Convert.ToInt64(connection.Scalar(
            $"SELECT count(*) FROM ({scan.Sql}) AS s JOIN {_events}_wm AS w USING (ingest_time) WHERE s.{_time} < w.arrival_watermark{arrived}", cancellationToken),
            CultureInfo.InvariantCulture);
    }

    /// <summary>The newest ingest time (microseconds) of the rows of <paramref name="snapshot"/> of silver; null when it holds none.</summary>
    internal async Task<long?> NewestIngestAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (snapshot.Files.Count == 0) return null;
        using var scan = await DeltaScan.CreateAsync(_silver, snapshot, _lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        return _lease.Connection.Scalar($"SELECT max(epoch_us(ingest_time)) FROM ({scan.Sql})", cancellationToken) is long us ? us : null;
    }

    /// <summary>Of the rows silver added since gold last consumed it, those behind the watermark in force when they arrived.</summary>
    internal long LateEvents { get; private set; }

    /// <summary>
    /// Stages, per <paramref name="key"/> and event date of <paramref name="recomputed"/>, their neighbours and every later date silver
    /// holds, the first event time: what <see cref="WithNextReadings"/> takes each key's next reading after a date from (one small table, a
    /// row per key and day). A key's next reading can be days later (a sensor silent over whole days): with the neighbours only, a pause
    /// over two or more empty days after a recomputed date was taken for a silence up to the watermark.
    /// </summary>
    internal async Task LoadFirstReadingsAsync(string key, IReadOnlySet<DateOnly> recomputed, CancellationToken cancellationToken)
    {
        var connection = _lease.Connection;
        var dates = WithNeighbours(recomputed);
        if (recomputed.Count > 0)
        {
            var held = new HashSet<DateOnly>();
            foreach (var f in _snapshot.Files) GoldTables.AddEventDate(held, f.PartitionValues);
            var first = recomputed.Min();
            dates.UnionWith(held.Where(d => d > first));
        }
        using var scan = await DeltaScan.CreateAsync(_silver, _snapshot, connection, new DeltaScanOptions { Files = Files(_snapshot, dates) }, cancellationToken).ConfigureAwait(false);
        var k = SqlText.Identifier(key);
        var name = Materialize("firsts",
            $"SELECT {k} AS k, event_date, min({_time}) AS first_time FROM ({scan.Sql}) WHERE {k} IS NOT NULL AND {_time} IS NOT NULL GROUP BY {k}, event_date", cancellationToken);
        _firsts = (name, k);
    }

    private (string Table, string Key)? _firsts;

    /// <summary>
    /// The staged rows plus, per key and date of <paramref name="group"/>, the key's first reading on a later day (only <c>timestamp</c>,
    /// the key and <c>event_date</c> set): so a pause that starts on a group date ends at the reading that really follows it, also after
    /// empty days, as when every date was staged at once. Needs
    /// <see cref="LoadFirstReadingsAsync"/>.
    /// </summary>
    internal string WithNextReadings(IReadOnlySet<DateOnly> group)
    {
        if (_firsts is not { } f) throw new InvalidOperationException("LoadFirstReadingsAsync first.");
        if (group.Count == 0) return _events;
        return $"""
            (SELECT * FROM {_events} UNION ALL BY NAME
             SELECT f.k AS {f.Key}, min(f.first_time) AS "timestamp", min(f.event_date) AS event_date
             FROM {f.Table} AS f JOIN (SELECT unnest([{DateList(group)}]) AS d) AS g ON f.event_date > g.d
             GROUP BY f.k, g.d)
            """;
    }

    /// <summary>Creates a table of this stage from <paramref name="sql"/> (dropped with the stage); returns its name.</summary>
    internal string Materialize(string part, string sql, CancellationToken cancellationToken = default)
    {
        var name = $"{_events}_{part}";
        _lease.Connection.Execute($"CREATE OR REPLACE TABLE {name} AS {sql}", cancellationToken);
        _extra.Add(name);
        return name;
    }

    /// <summary>Has <paramref name="write"/> create a table of this stage on its connection (dropped with the stage); returns its name.</summary>
    internal string Write(string part, Action<DuckConnection, string, CancellationToken> write, CancellationToken cancellationToken)
    {
        var name = $"{_events}_{part}";
        _lease.Connection.Execute($"DROP TABLE IF EXISTS {name}", cancellationToken);
        _extra.Add(name);
        write(_lease.Connection, name, cancellationToken);
        return name;
    }

    /// <summary>Drops a table <see cref="Materialize"/> or <see cref="Write"/> made, once no output reads it any more (its memory goes back at once).</summary>
    internal void Drop(string table)
    {
        _lease.Connection.Execute($"DROP TABLE IF EXISTS {table}");
        _extra.Remove(table);
    }

    /// <summary><paramref name="dates"/> and the day on each side of each.</summary>
    private static HashSet<DateOnly> WithNeighbours(IEnumerable<DateOnly> dates) => dates.SelectMany(d => new[] { d.AddDays(-1), d, d.AddDays(1) }).ToHashSet();

    /// <summary>The live files of the partitions of <paramref name="dates"/> (in a table partitioned by event_date).</summary>
    internal static List<AddAction> Files(DeltaSnapshot snapshot, IReadOnlySet<DateOnly> dates)
    {
        var wanted = dates.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        return [.. snapshot.Files.Where(f => f.PartitionValues.TryGetValue(GoldTables.EventDate, out var d) && d is not null && wanted.Contains(d))];
    }

    /// <summary>
    /// Whether silver's new rows (its files added since gold last consumed it) are at most half of the rows of <paramref name="group"/>'s
    /// dates, by the files' statistics: the test a keyed recompute passes (<see cref="GoldJob"/>), made before the rows are staged.
    /// False when a file has no row count, or the group no rows.
    /// </summary>
    internal bool FewNewRows(IReadOnlySet<DateOnly> group)
    {
        long all = 0, added = 0;
        foreach (var f in Files(_snapshot, group))
        {
            if (StatsJson.NumRecords(f) is not { } n) return false;
            all += n;
            if (IsNew(f)) added += n;
        }
        return all > 0 && added * 2 <= all;
    }

    /// <summary>Whether silver added <paramref name="file"/> since gold last consumed it (one of the run's new files).</summary>
    private bool IsNew(AddAction file) => _newFiles.Contains(Uri.UnescapeDataString(file.Path));

    /// <summary>A SQL list of DATE literals.</summary>
    internal static string DateList(IEnumerable<DateOnly> dates) =>
        string.Join(", ", dates.Order().Select(d => $"DATE '{d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'"));

    /// <summary>The TIMESTAMPTZ literal of <paramref name="micros"/> microseconds since 1970 (see <see cref="Timestamp(DateTimeOffset)"/>).</summary>
    internal static string Timestamp(long micros) => Timestamp(Micros(micros)!.Value);

    internal static string Timestamp(DateTimeOffset t) =>
        $"CAST(TIMESTAMP '{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}' AS TIMESTAMPTZ)";

    public void Dispose()
    {
        try
        {
            _lease.Connection.Execute($"DROP TABLE IF EXISTS {_events}_wm");
            DropEvents();
            foreach (var t in _extra) _lease.Connection.Execute($"DROP TABLE IF EXISTS {t}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The connection is broken; the pool discards it with its temp tables.
        }
        _lease.Dispose();
    }
}
