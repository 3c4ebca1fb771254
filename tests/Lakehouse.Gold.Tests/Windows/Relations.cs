using System.Globalization;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests.Windows;

/// <summary>A web event as the window builders read it.</summary>
internal sealed record WebEvent(
    DateTimeOffset Timestamp,
    string? PageUrl,
    string? SessionId = null,
    double? TtiMs = null,
    int? Status = 200,
    DateTimeOffset? IngestTime = null,
    DateTimeOffset? ArrivalWatermark = null);

/// <summary>A sensor reading as the window and alert builders read it.</summary>
internal sealed record SensorReading(
    DateTimeOffset Timestamp,
    string? SensorId,
    double? Value,
    string DeviceType = "temperature",
    string? Status = "normal",
    DateTimeOffset? IngestTime = null,
    DateTimeOffset? ArrivalWatermark = null);

/// <summary>Hand-made events as DuckDB relations (VALUES lists with the silver types), and query results read back.</summary>
internal static class Relations
{
    /// <summary>A UTC instant from text (<c>2026-03-01 10:00:00.000001</c>).</summary>
    internal static DateTimeOffset At(string utc) =>
        DateTimeOffset.ParseExact(utc, ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    internal static string WebSql(IEnumerable<WebEvent> events) => Values(
        events.Select(e => new[] { Time(e.Timestamp), Text(e.PageUrl), Text(e.SessionId), Number(e.TtiMs), e.Status?.ToString(CultureInfo.InvariantCulture) ?? "NULL", Time(e.IngestTime), Time(e.ArrivalWatermark) }),
        "ts, page_url, session_id, tti, status, ingest, mark",
        "CAST(ts AS TIMESTAMPTZ) AS timestamp, CAST(page_url AS VARCHAR) AS page_url, CAST(session_id AS VARCHAR) AS session_id, "
        + "CAST(tti AS DOUBLE) AS tti_ms, CAST(tti AS DOUBLE) / 2 AS ttar_ms, CAST(status AS INTEGER) AS status, "
        + "CAST(ingest AS TIMESTAMPTZ) AS ingest_time, CAST(mark AS TIMESTAMPTZ) AS arrival_watermark");

    internal static string SensorsSql(IEnumerable<SensorReading> readings) => Values(
        readings.Select(r => new[] { Time(r.Timestamp), Text(r.SensorId), Text(r.DeviceType), Number(r.Value), Text(r.Status), Time(r.IngestTime), Time(r.ArrivalWatermark) }),
        "ts, sensor_id, device_type, value, status, ingest, mark",
        "CAST(ts AS TIMESTAMPTZ) AS timestamp, CAST(sensor_id AS VARCHAR) AS sensor_id, CAST(device_type AS VARCHAR) AS device_type, "
        + "CAST(value AS DOUBLE) AS value, CAST(status AS VARCHAR) AS status, CAST(ingest AS TIMESTAMPTZ) AS ingest_time, "
        + "CAST(mark AS TIMESTAMPTZ) AS arrival_watermark");

    /// <summary>A TIMESTAMPTZ literal, or NULL.</summary>
    internal static string Time(DateTimeOffset? t) =>
        t is { } v ? $"TIMESTAMPTZ '{v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}+00'" : "NULL";

    private static string Text(string? s) => s is null ? "NULL" : SqlText.Literal(s);

    private static string Number(double? d) => d is { } v ? $"'{v.ToString("R", CultureInfo.InvariantCulture)}'" : "NULL";

    private static string Values(IEnumerable<string[]> rows, string names, string select)
    {
        var lines = rows.Select(r => "(" + string.Join(", ", r) + ")").ToList();
        var width = names.Split(',').Length;
        var body = lines.Count > 0 ? string.Join(",\n", lines) : "(" + string.Join(", ", Enumerable.Repeat("NULL", width)) + ")";
        return $"SELECT {select} FROM (VALUES {body}) AS v({names})" + (lines.Count > 0 ? "" : " WHERE false");
    }

    /// <summary>Runs a query and reads every row as a name → value map (timestamps as UTC DateTimeOffset, dates as DateOnly).</summary>
    internal static List<Dictionary<string, object?>> Query(EngineFixture fixture, string sql)
    {
        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query(sql);
        var rows = new List<Dictionary<string, object?>>();
        while (result.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < result.ColumnCount; i++)
            {
                object? value = result.IsNull(i) ? null : result.TypeName(i) switch
                {
                    "DATE" => DateOnly.FromDateTime(result.GetDateTime(i)),
                    "TIMESTAMPTZ" or "TIMESTAMP" => new DateTimeOffset(result.GetDateTime(i), TimeSpan.Zero),
                    _ => result.GetValue(i),
                };
                row[result.Names[i]] = value;
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The column types of a query's result, by name.</summary>
    internal static Dictionary<string, string> Types(EngineFixture fixture, string sql)
    {
        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query($"SELECT * FROM ({sql}) LIMIT 0");
        return Enumerable.Range(0, result.ColumnCount).ToDictionary(i => result.Names[i], result.TypeName, StringComparer.Ordinal);
    }
}

/// <summary>A staging on the fixture's engine, for the window builders that stage parts: each table under a name of its own, kept with the fixture's database.</summary>
internal sealed class FixtureStaging(EngineFixture fixture) : IGoldStaging
{
    public string Table(string name, string sql)
    {
        var table = Unique(name);
        using var lease = fixture.Engine.Lease();
        lease.Connection.Execute($"CREATE TABLE {table} AS {sql}");
        return table;
    }

    public string Computed(string name, string emptySql, Action<DuckConnection, string, CancellationToken> write)
    {
        var table = Unique(name);
        using var lease = fixture.Engine.Lease();
        write(lease.Connection, table, CancellationToken.None);
        return table;
    }

    private static string Unique(string name) => $"staged_{name}_{Guid.NewGuid():N}";
}
