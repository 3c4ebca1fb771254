using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Gold.Alerts;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold;

/// <summary>What a gold output's query is given: the staged silver rows and the run's watermark.</summary>
/// <param name="Events">
/// A DuckDB relation of the silver rows of the dates being recomputed (one group of them at a time) and, as context, the rows of the
/// neighbouring days within a margin of those dates (see <see cref="GoldStage.LoadAsync"/>), with the columns the output asked for plus
/// <c>timestamp</c>, <c>event_date</c>, <c>ingest_time</c> and <c>arrival_watermark</c>; for an output with
/// <see cref="GoldOutput.NextReadingsOf"/>, also each key's next reading after each date (<see cref="GoldStage.WithNextReadings"/>).
/// </param>
/// <param name="Watermark">The current watermark as a SQL expression (a TIMESTAMPTZ literal, or NULL for an empty silver table).</param>
/// <param name="SessionGap">The gap that ends a session window.</param>
/// <param name="Alerts">The alert thresholds.</param>
/// <param name="Daily">
/// For page alerts: a relation of <c>page_performance_daily</c> rows from <see cref="AlertSettings.BaselineDays"/> days before the
/// first recomputed date on, read after this run's commit of that table; null when the dataset does not build it.
/// </param>
/// <param name="Shared">
/// Stages a query's result, or a table C# computes, once per group of dates and slice of keys, by name, and returns the staged table
/// (the same table for the same name): the aggregate that a windowed table and its corrections table both project, and the parts and
/// list measures that a kind's 1- and 5-minute windows share. A corrections table is sliced as its windowed table is, and a kind's
/// 1-minute tables as its 5-minute ones, so all read the same slice's staged tables.
/// </param>
/// <param name="Only">
/// For a keyed output (<see cref="GoldOutput.Key"/>) computed from the events its touched keys need: the touched keys (<c>k</c>,
/// <c>w</c>), so that sliding windows are combined for those only; null otherwise.
/// </param>
/// <param name="Sessions">
/// For an output that <see cref="GoldOutput.CountsSessions"/> in an incremental run: a relation of <c>event_date</c>, <c>page_url</c> and
/// <c>sessions</c>, the distinct sessions of each page and day, counted on from the table's (<see cref="PagePerformanceDaily.SessionsAdded"/>); null
/// otherwise (counted from the events).
/// </param>
internal sealed record GoldInputs(string Events, string Watermark, TimeSpan SessionGap, AlertSettings Alerts, string? Daily, IGoldStaging Shared,
    string? Only = null, string? Sessions = null);

/// <summary>
/// One gold table a dataset can produce: the silver columns it needs, whether a change to a day also changes the day before
/// (sliding windows that start before midnight and end after it), and its query.
/// </summary>
/// <param name="Table">The table's name under <c>gold/</c>.</param>
/// <param name="Columns">The silver columns the query reads (beyond timestamp, event_date, ingest_time).</param>
/// <param name="ReachesBack">A change on day D also changes rows of day D − 1 (so D − 1 is recomputed too).</param>
/// <param name="Select">The query: rows with an <c>event_date</c> column; the job keeps those of the dates it recomputes.</param>
/// <param name="InsertNew">
/// The table keeps what it once held (alerts): rows are inserted by key when new, never replaced, so a rerun repeats nothing.
/// </param>
/// <param name="FollowsWatermark">
/// Its rows change when the watermark moves even without new data (is_final; a trailing silence): the days between the previous
/// and the current watermark are recomputed too.
/// </param>
/// <param name="NextReadingsOf">
/// A key column whose next reading after a recomputed date the query needs even when it lies beyond the day after (a sensor's
/// silence that spans a whole day): the job adds, per key, the first reading of the next day of the run that has one.
/// </param>
/// <param name="SliceKey">
/// A column every row of the output belongs to one value of (its rows are per key): a large day is computed in slices of keys
/// (by hash), so the state of the heavy aggregates (exact percentiles over lists of values) follows a slice. Null: never sliced.
/// </param>
/// <param name="CountsSessions">
/// Each row counts the distinct sessions of a page and day (page_performance_daily): an incremental run whose new silver rows only add to
/// the day counts on from the table's count, the sessions the new rows bring (<see cref="GoldInputs.Sessions"/>), instead of counting the
/// day's again; its other columns are still computed from the whole day.
/// </param>
/// <param name="ReachesAhead">
/// A change on day D also changes rows of day D + 1 when silver holds rows on it (a spike whose later reading is in its first minute
/// and whose earlier one is a reading of D), so D + 1 is recomputed too.
/// </param>
/// <param name="Key">
/// What each row depends on (a key value within a window or a day), when that is narrower than its day: an incremental run whose new
/// silver rows only add to the table recomputes the rows of the keys they reach and keeps the others. Null: the touched days are
/// recomputed whole (page_performance_daily: a page's exact percentiles need all of its day).
/// </param>
internal sealed record GoldOutput(string Table, IReadOnlyList<string> Columns, bool ReachesBack, Func<GoldInputs, string> Select, bool InsertNew = false,
    bool FollowsWatermark = false, string? NextReadingsOf = null, string? SliceKey = null, GoldKey? Key = null, bool ReachesAhead = false, bool CountsSessions = false);

/// <summary>The gold tables the job knows, by the name a dataset definition's <c>gold_outputs</c> uses.</summary>
internal static class GoldOutputs
{
    /// <summary>The name of the alerts table, which several datasets feed.</summary>
    internal const string AlertsTable = GoldTables.Alerts;

    private static readonly string[] PageColumns = ["page_url", "session_id", "tti_ms", "ttar_ms", "status"];
    private static readonly string[] SensorColumns = ["sensor_id", "device_type", "value", "status"];
    private static readonly string[] AccessColumns = ["path", "status", "bytes", "client_ip"];

    /// <summary>
    /// The types gold reads the columns of each family of outputs as (an integer column serves where a number is read): a column of
    /// another type passed the definition check and failed the gold run with the engine's cast error (a string tti_ms, "slow").
    /// </summary>
    private static readonly Dictionary<string[], Dictionary<string, DatasetColumnType[]>> ColumnTypes = new()
    {
        [PageColumns] = new()
        {
            ["page_url"] = [DatasetColumnType.String],
            ["session_id"] = [DatasetColumnType.String],
            ["tti_ms"] = [DatasetColumnType.Number, DatasetColumnType.Integer],
            ["ttar_ms"] = [DatasetColumnType.Number, DatasetColumnType.Integer],
            ["status"] = [DatasetColumnType.Integer],
        },
        [SensorColumns] = new()
        {
            ["sensor_id"] = [DatasetColumnType.String],
            ["device_type"] = [DatasetColumnType.String],
            ["value"] = [DatasetColumnType.Number, DatasetColumnType.Integer],
            ["status"] = [DatasetColumnType.String],
        },
        [AccessColumns] = new()
        {
            ["path"] = [DatasetColumnType.String],
            ["status"] = [DatasetColumnType.Integer],
            ["bytes"] = [DatasetColumnType.Integer],
            ["client_ip"] = [DatasetColumnType.String],
        },
    };

    private static readonly GoldKey PageMinute = new("page_url", GoldKeySpan.Minute);
    private static readonly GoldKey PageSliding = new("page_url", GoldKeySpan.Sliding);
    private static readonly GoldKey SensorMinute = new("sensor_id", GoldKeySpan.Minute);
    private static readonly GoldKey SensorSliding = new("sensor_id", GoldKeySpan.Sliding);

    /// <summary>A web session's events of a day: what page_sessions' rows depend on, and the events that tell whether a page had a session before.</summary>
    internal static readonly GoldKey SessionDay = new("session_id", GoldKeySpan.Day);

    private static readonly GoldOutput[] Known =
    [
        new(PagePerformanceDaily.TableName, PageColumns, false,
            i => PagePerformanceDaily.Sql($"SELECT \"timestamp\" AS event_time, page_url, session_id, tti_ms, ttar_ms, status FROM {Web(i)}", i.Sessions), CountsSessions: true),
        new(AccessDaily.TableName, AccessColumns, false,
            i => AccessDaily.Sql($"SELECT event_date, path, CAST(status AS INTEGER) AS status, CAST(bytes AS BIGINT) AS bytes, client_ip FROM {i.Events}")),
        new("page_metrics_1m", PageColumns, false, i => WindowedMetrics.Page1m.Windowed(Aggregate(i, WindowedMetrics.Page1m, Web(i)), i.Watermark), FollowsWatermark: true,
            SliceKey: "page_url", Key: PageMinute),
        new("page_metrics_5m", PageColumns, true, i => WindowedMetrics.Page5m.Windowed(Aggregate(i, WindowedMetrics.Page5m, Web(i)), i.Watermark), FollowsWatermark: true,
            SliceKey: "page_url", Key: PageSliding),
        new("page_sessions", PageColumns, false, i => WindowedMetrics.PageSessions(Web(i), i.SessionGap), SliceKey: "session_id", Key: SessionDay),
        new("sensor_metrics_1m", SensorColumns, false, i => WindowedMetrics.Sensor1m.Windowed(Aggregate(i, WindowedMetrics.Sensor1m, Sensor(i)), i.Watermark), FollowsWatermark: true,
            Key: SensorMinute),
        new("sensor_metrics_5m", SensorColumns, true, i => WindowedMetrics.Sensor5m.Windowed(Aggregate(i, WindowedMetrics.Sensor5m, Sensor(i)), i.Watermark), FollowsWatermark: true,
            Key: SensorSliding),
        new("sensor_sessions", SensorColumns, false, i => WindowedMetrics.SensorSessions(Sensor(i), i.SessionGap), Key: new("sensor_id", GoldKeySpan.Day)),
    ];

    /// <summary>
    /// The corrections table each windowed table brings along (<c>&lt;table&gt;_corrections</c>, one row per window that received
    /// late events, see <see cref="WindowedMetrics.SensorCorrections1m"/>): built whenever the windowed table is, never listed in a
    /// definition. Lateness is fixed by the ingest order, so these change only with new rows, not when the watermark moves.
    /// </summary>
    private static readonly Dictionary<string, GoldOutput> Corrections = new GoldOutput[]
    {
        new("page_metrics_1m" + WindowedMetrics.CorrectionsSuffix, PageColumns, false, i => WindowedMetrics.Page1m.Corrections(Aggregate(i, WindowedMetrics.Page1m, Web(i))), SliceKey: "page_url",
            Key: PageMinute),
        new("page_metrics_5m" + WindowedMetrics.CorrectionsSuffix, PageColumns, true, i => WindowedMetrics.Page5m.Corrections(Aggregate(i, WindowedMetrics.Page5m, Web(i))), SliceKey: "page_url",
            Key: PageSliding),
        new("sensor_metrics_1m" + WindowedMetrics.CorrectionsSuffix, SensorColumns, false, i => WindowedMetrics.Sensor1m.Corrections(Aggregate(i, WindowedMetrics.Sensor1m, Sensor(i))), Key: SensorMinute),
        new("sensor_metrics_5m" + WindowedMetrics.CorrectionsSuffix, SensorColumns, true, i => WindowedMetrics.Sensor5m.Corrections(Aggregate(i, WindowedMetrics.Sensor5m, Sensor(i))), Key: SensorSliding),
    }.ToDictionary(o => o.Table[..^WindowedMetrics.CorrectionsSuffix.Length], StringComparer.Ordinal);

    /// <summary>The window aggregate of the staged events (a group of dates, a slice of keys), staged once for the windowed table and its corrections.</summary>
    private static string Aggregate(GoldInputs i, WindowedMetrics.WindowAggregate aggregate, string events) =>
        "SELECT * FROM " + i.Shared.Table(aggregate.Name, aggregate.Aggregate(i.Shared, events, i.Only));

    /// <summary>The web events with the types the window builders take.</summary>
    private static string Web(GoldInputs i) =>
        $"(SELECT * REPLACE (CAST(tti_ms AS DOUBLE) AS tti_ms, CAST(ttar_ms AS DOUBLE) AS ttar_ms, CAST(status AS INTEGER) AS status) FROM {i.Events})";

    /// <summary>The sensor readings with the types the window builders and rules take.</summary>
    private static string Sensor(GoldInputs i) =>
        $"(SELECT * REPLACE (CAST(value AS DOUBLE) AS value, CAST(status AS VARCHAR) AS status) FROM {i.Events})";

    /// <summary>
    /// <c>alerts</c> for a dataset: the sensor rules for a dataset with sensor readings' columns, the page rule for one that builds
    /// <c>page_performance_daily</c>. Inserted by <c>alert_id</c> when new, with the run's time as <c>detected_at</c>.
    /// </summary>
    private static GoldOutput? Alerts(DatasetDefinition definition)
    {
        bool Has(IEnumerable<string> columns) => columns.All(c => definition.Columns.Any(d => d.Name == c));
        if (Has(SensorColumns))
            return new(AlertsTable, SensorColumns, true, i => AlertRules.SensorAlerts(Sensor(i), i.Watermark, i.Alerts), InsertNew: true, FollowsWatermark: true,
                NextReadingsOf: "sensor_id", ReachesAhead: true);
        if (definition.GoldOutputs.Contains(PagePerformanceDaily.TableName))
            return new(AlertsTable, [], true, i => AlertRules.PageAlerts(i.Daily!, i.Alerts), InsertNew: true);
        return null;
    }

    /// <summary>The names gold knows.</summary>
    internal static IEnumerable<string> Names => Known.Select(o => o.Table).Append(AlertsTable);

    /// <summary>
    /// The outputs <paramref name="definition"/> lists, refusing a name gold does not know and an output whose columns the dataset
    /// lacks (a definition file is user input: the message names the output and what is missing).
    /// </summary>
    internal static IReadOnlyList<GoldOutput> For(DatasetDefinition definition)
    {
        var result = new List<GoldOutput>();
        foreach (var name in definition.GoldOutputs)
        {
            if (name == AlertsTable)
            {
                result.Add(Alerts(definition) ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name} lists gold output 'alerts', which needs sensor readings (columns {string.Join(", ", SensorColumns)}) or page_performance_daily among its outputs."));
                continue;
            }
            var output = Known.FirstOrDefault(o => o.Table == name)
                ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name} lists gold output '{name}', which gold does not know (it knows: {string.Join(", ", Names)}).");
            var missing = output.Columns.Where(c => definition.Columns.All(d => d.Name != c)).ToList();
            if (missing.Count > 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name} lists gold output '{name}', which needs the column(s) {string.Join(", ", missing)} that the dataset does not have.");
            foreach (var family in ColumnTypes.Where(f => output.Columns.SequenceEqual(f.Key)).Select(f => f.Value))
            {
                foreach (var (column, types) in family)
                {
                    var have = definition.Columns.First(d => d.Name == column).Type;
                    if (!types.Contains(have))
                        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                            $"Dataset {definition.Name} lists gold output '{name}', which reads column '{column}' as {string.Join(" or ", types.Select(DatasetColumnTypes.NameOf))}, " +
                            $"but the dataset has it as {DatasetColumnTypes.NameOf(have)}.");
                }
            }
            result.Add(output);
            if (Corrections.TryGetValue(name, out var corrections)) result.Add(corrections);
        }
        // Alerts last: the page rule reads this run's page_performance_daily.
        return [.. result.OrderBy(o => o.InsertNew)];
    }
}
