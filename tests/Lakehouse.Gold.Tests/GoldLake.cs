using System.Globalization;
using System.Text;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold.Tests;

/// <summary>One silver web-log row as the test writes it.</summary>
internal sealed record WebRow(string Id, DateTimeOffset Time, string? Page, string? Session, double Tti, double? Ttar, int Status, DateTimeOffset Ingest);

/// <summary>One silver sensor reading as the test writes it (value in °F for temperatures).</summary>
internal sealed record SensorRow(string Sensor, DateTimeOffset Time, double Value, string Status, DateTimeOffset Ingest, string DeviceType = "temperature");

/// <summary>
/// A lake in a temporary folder whose silver tables the test writes directly (the columns gold reads, partitioned by event_date,
/// as silver writes them), so gold is tested on exactly known rows; runs gold and reads its tables back.
/// </summary>
internal sealed class GoldLake(DuckEngine engine, string name) : IDisposable
{
    private readonly TempDirectory _temp = new(name);

    internal ILakeStorage Root => LakeStorage.Open(_temp.Path);

    /// <summary>The lake's folder.</summary>
    internal string Folder => _temp.Path;

    internal DuckEngine Engine => engine;

    internal DeltaTable Table(string relative) => DeltaTable.Open(Root.Scope(relative), engine);

    /// <summary>Appends <paramref name="rows"/> to silver.weblogs in one commit; returns the silver version.</summary>
    internal async Task<long> AppendWebAsync(IEnumerable<WebRow> rows)
    {
        var writer = DeltaWriter.Create(Table("silver/weblogs"), new DeltaWriteOptions { PartitionColumns = ["event_date"] });
        return (await writer.AppendAsync(WebSql(rows))).Version;
    }

    /// <summary>Replaces the event dates of <paramref name="rows"/> (from..to) in silver.weblogs, as a silver rerun does.</summary>
    internal async Task<long> ReplaceWebAsync(DateOnly from, DateOnly to, IEnumerable<WebRow> rows)
    {
        var writer = DeltaWriter.Create(Table("silver/weblogs"), new DeltaWriteOptions { PartitionColumns = ["event_date"] });
        return (await writer.ReplacePartitionsAsync(WebSql(rows), $"event_date BETWEEN DATE '{from:yyyy-MM-dd}' AND DATE '{to:yyyy-MM-dd}'")).Version;
    }

    /// <summary>Appends <paramref name="rows"/> to silver.sensors in one commit; returns the silver version.</summary>
    internal async Task<long> AppendSensorsAsync(IEnumerable<SensorRow> rows)
    {
        var values = string.Join(",\n", rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"('{r.Sensor}', '{r.DeviceType}', '{Ts(r.Time)}', {r.Value.ToString("R", CultureInfo.InvariantCulture)}, '{r.Status}', '{Ts(r.Ingest)}')")));
        var sql = "SELECT sensor_id, device_type, CAST(ts AS TIMESTAMPTZ) AS \"timestamp\", CAST(value AS DOUBLE) AS value, 'F' AS unit, NULL::VARCHAR AS location, status, " +
                  "CAST(CAST(ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS event_date, CAST(ingest AS TIMESTAMPTZ) AS ingest_time, 'kafka|sensors|0|' || sensor_id || ts AS bronze_position " +
                  $"FROM (VALUES {values}) AS v(sensor_id, device_type, ts, value, status, ingest)";
        var writer = DeltaWriter.Create(Table("silver/sensors"), new DeltaWriteOptions { PartitionColumns = ["event_date"] });
        return (await writer.AppendAsync(sql)).Version;
    }

    private static string WebSql(IEnumerable<WebRow> rows)
    {
        var values = new StringBuilder();
        var none = !rows.Any();
        if (none) rows = [new WebRow("", DateTimeOffset.UnixEpoch, "", "", 0, null, 0, DateTimeOffset.UnixEpoch)];
        foreach (var r in rows)
        {
            if (values.Length > 0) values.Append(",\n");
            values.Append(CultureInfo.InvariantCulture,
                $"('{r.Id}', '{Ts(r.Time)}', {(r.Page is null ? "NULL" : $"'{r.Page}'")}, {(r.Session is null ? "NULL" : $"'{r.Session}'")}, {r.Tti.ToString("R", CultureInfo.InvariantCulture)}, {(r.Ttar is { } t ? t.ToString("R", CultureInfo.InvariantCulture) : "NULL")}, {r.Status}, '{Ts(r.Ingest)}')");
        }
        return "SELECT event_id, CAST(ts AS TIMESTAMPTZ) AS \"timestamp\", page_url, session_id, CAST(tti AS DOUBLE) AS tti_ms, CAST(ttar AS DOUBLE) AS ttar_ms, " +
               "CAST(status AS INTEGER) AS status, CAST(CAST(ts AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS event_date, CAST(ingest AS TIMESTAMPTZ) AS ingest_time, " +
               "'kafka|weblogs|0|' || event_id AS bronze_position " +
               $"FROM (VALUES {values}) AS v(event_id, ts, page_url, session_id, tti, ttar, status, ingest)" + (none ? " WHERE false" : "");
    }

    private static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", CultureInfo.InvariantCulture);

    internal Task<GoldRunResult> RunAsync(string dataset = "weblogs", GoldRunOptions? options = null, ILoggerFactory? loggerFactory = null) =>
        GoldJob.Open(Root, engine, loggerFactory).RunAsync(DatasetCatalog.BuiltIn.Get(dataset), options);

    /// <summary>
    /// The rows of <c>SELECT {columns} FROM table [WHERE {where}] ORDER BY {orderBy}</c>, each as text ("NULL" for null), columns joined by '|'.
    /// </summary>
    internal async Task<List<string>> RowsAsync(string table, string columns, string orderBy, string? where = null)
    {
        var delta = Table(table);
        if (!await delta.ExistsAsync()) return [];
        var snapshot = await delta.GetSnapshotAsync();
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(delta, snapshot, lease.Connection);
        var rows = new List<string>();
        using var r = lease.Connection.Query(
            $"SELECT COLUMNS(c -> c <> '__o')::VARCHAR FROM (SELECT {columns}, row_number() OVER (ORDER BY {orderBy}) AS __o FROM ({scan.Sql}) WHERE {where ?? "true"}) ORDER BY __o");
        while (r.Read())
            rows.Add(string.Join('|', Enumerable.Range(0, r.ColumnCount).Select(i => r.IsNull(i) ? "NULL" : r.GetString(i))));
        return rows;
    }

    public void Dispose() => _temp.Dispose();
}
