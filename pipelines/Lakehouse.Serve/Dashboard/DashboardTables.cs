using System.Globalization;
using Lakehouse.Engine;

namespace Lakehouse.Serve.Dashboard;

/// <summary>A lake table the dashboard reads: <c>&lt;lake&gt;/&lt;layer&gt;/&lt;name&gt;</c>.</summary>
internal sealed record DashboardTable(string Layer, string Name)
{
    /// <summary>The name as SQL and the answers write it: <c>gold.alerts</c>.</summary>
    public string Label => Layer + "." + Name;

    /// <summary>The table's folder under the lake root.</summary>
    public string Folder => Layer + "/" + Name;

    /// <summary>
    /// The table at exactly <paramref name="version"/> in the time-travel form of <c>lakehouse sql</c> (<c>gold."alerts@v3"</c>):
    /// an answer is computed from the version its cache entry is filed under, even when a commit lands meanwhile.
    /// </summary>
    public string At(long version) => Layer + "." + SqlText.Identifier(string.Create(CultureInfo.InvariantCulture, $"{Name}@v{version}"));
}

/// <summary>A windowed metrics table: its key column (page or sensor), the column its windows are ordered by, and the columns shown.</summary>
internal sealed record WindowTable(DashboardTable Table, string KeyColumn, string OrderColumn, IReadOnlyList<string> Columns);

/// <summary>
/// The tables the dashboard reads, with the columns DESIGN.md names ("Names that tests, scripts and users rely on"). Only these
/// are ever opened: a name in a query string selects one of them, never a path or a piece of SQL.
/// </summary>
internal static class DashboardTables
{
    internal static readonly DashboardTable PagePerformanceDaily = new("gold", "page_performance_daily");
    internal static readonly DashboardTable Alerts = new("gold", "alerts");
    internal static readonly DashboardTable Runs = new("gold", "_runs");
    internal static readonly DashboardTable Quality = new("silver", "_quality");

    private static readonly string[] PageWindowColumns =
        ["page_url", "window_start", "window_end", "events", "tti_avg_ms", "tti_p95_ms", "error_rate", "late_events", "is_final"];

    private static readonly string[] SensorWindowColumns =
        ["sensor_id", "window_start", "window_end", "events", "value_avg", "value_min", "value_max", "late_events", "is_final"];

    /// <summary>The windowed tables <c>/api/windows?table=</c> takes, by name, in the order the page offers them.</summary>
    internal static IReadOnlyList<WindowTable> Windows { get; } =
    [
        new(new("gold", "page_metrics_1m"), "page_url", "window_start", PageWindowColumns),
        new(new("gold", "page_metrics_5m"), "page_url", "window_start", PageWindowColumns),
        new(new("gold", "sensor_metrics_1m"), "sensor_id", "window_start", SensorWindowColumns),
        new(new("gold", "sensor_metrics_5m"), "sensor_id", "window_start", SensorWindowColumns),
        new(new("gold", "sensor_sessions"), "sensor_id", "session_start", ["sensor_id", "session_start", "session_end", "events"]),
    ];

    /// <summary>The alert rules of DESIGN.md; <c>/api/alerts?rule=</c> takes one of them.</summary>
    internal static IReadOnlyList<string> AlertRules { get; } =
        ["temperature_high", "temperature_low", "sensor_silent", "value_spike", "status_error", "tti_p95_regression"];

    /// <summary>Every table the dashboard reads, for <c>/api/versions</c>.</summary>
    internal static IReadOnlyList<DashboardTable> All { get; } =
        [PagePerformanceDaily, .. Windows.Select(w => w.Table), Alerts, Runs, Quality];

    internal static WindowTable? Window(string name) => Windows.FirstOrDefault(w => string.Equals(w.Table.Name, name, StringComparison.Ordinal));
}
