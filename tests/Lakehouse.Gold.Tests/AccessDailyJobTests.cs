using System.Globalization;
using Lakehouse.Delta.Write;
using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

/// <summary>access_daily through the gold job, against a computation written separately in C#.</summary>
public sealed class AccessDailyJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly GoldLake _lake = new(fixture.Engine, "gold-access");

    public void Dispose() => _lake.Dispose();

    private sealed record Request(string Client, DateTimeOffset Time, string? Path, int Status, long? Bytes);

    [Fact]
    public async Task Run_AccessLogs_EveryColumnEqualsAnIndependentComputation()
    {
        var random = new Random(9);
        var start = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
        int[] statuses = [101, 200, 200, 200, 204, 301, 304, 400, 404, 404, 500, 503];
        var requests = Enumerable.Range(0, 2000).Select(i => new Request(
            "10.0.0." + random.Next(30), start.AddSeconds(random.Next(2 * 86_400)), random.Next(40) == 0 ? null : "/p" + random.Next(6),
            statuses[random.Next(statuses.Length)], random.Next(8) == 0 ? null : random.Next(100_000))).ToList();
        var values = string.Join(",\n", requests.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"('{r.Client}', TIMESTAMPTZ '{r.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}+00', {(r.Path is null ? "NULL" : $"'{r.Path}'")}, {r.Status}, {(r.Bytes is { } b ? b.ToString(CultureInfo.InvariantCulture) : "NULL")})")));
        var sql = "SELECT client_ip, ts AS \"timestamp\", path, CAST(status AS BIGINT) AS status, CAST(bytes AS BIGINT) AS bytes, " +
                  "CAST(ts AT TIME ZONE 'UTC' AS DATE) AS event_date, TIMESTAMPTZ '2024-05-03 00:00:00+00' AS ingest_time, 'file|a.log||' || row_number() OVER () AS bronze_position " +
                  $"FROM (VALUES {values}) AS v(client_ip, ts, path, status, bytes)";
        await DeltaWriter.Create(_lake.Table("silver/accesslogs"), new DeltaWriteOptions { PartitionColumns = ["event_date"] }).AppendAsync(sql);

        var result = await _lake.RunAsync("accesslogs");

        var expected = requests.GroupBy(r => (Day: DateOnly.FromDateTime(r.Time.UtcDateTime), Path: r.Path ?? "-"))
            .OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Path, StringComparer.Ordinal)
            .Select(g => string.Join('|', g.Key.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), g.Key.Path, g.Count(), g.Sum(r => r.Bytes ?? 0),
                g.Count(r => r.Status is >= 100 and < 200), g.Count(r => r.Status is >= 200 and < 300), g.Count(r => r.Status is >= 300 and < 400),
                g.Count(r => r.Status is >= 400 and < 500), g.Count(r => r.Status is >= 500 and < 600),
                (g.Count(r => r.Status >= 400) / (double)g.Count()).ToString("R", CultureInfo.InvariantCulture), g.Select(r => r.Client).Distinct().Count()))
            .ToList();
        var actual = await _lake.RowsAsync("gold/access_daily",
            "strftime(event_date, '%Y-%m-%d'), path, requests, bytes, status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, error_rate, distinct_clients", "event_date, path");
        Assert.Equal(expected, actual);
        Assert.Equal([new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2)], result.Dates);
    }

    /// <summary>
    /// Silver takes any 64-bit byte count a line states, so a day's sum can pass BIGINT's range: that path's bytes are null (not
    /// representable), its other columns and the other paths as ever. The sum's cast failed the run, this one and every later one.
    /// </summary>
    [Fact]
    public async Task Run_BytesSumPastTheLargest64BitInteger_NullForThatPathAndTheRunCommits()
    {
        (string Path, long Bytes)[] requests = [("/huge", long.MaxValue), ("/huge", 64), ("/small", 10), ("/small", 20)];
        var values = string.Join(", ", requests.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"('{r.Path}', {r.Bytes}, {i})")));
        var sql = "SELECT '10.0.0.1' AS client_ip, TIMESTAMPTZ '2024-05-01 10:00:00+00' + to_seconds(i) AS \"timestamp\", path, CAST(200 AS BIGINT) AS status, " +
                  "CAST(bytes AS BIGINT) AS bytes, DATE '2024-05-01' AS event_date, TIMESTAMPTZ '2024-05-02 00:00:00+00' AS ingest_time, 'file|a.log||' || i AS bronze_position " +
                  $"FROM (VALUES {values}) AS v(path, bytes, i)";
        await DeltaWriter.Create(_lake.Table("silver/accesslogs"), new DeltaWriteOptions { PartitionColumns = ["event_date"] }).AppendAsync(sql);

        await _lake.RunAsync("accesslogs");

        // long.MaxValue + 64 does not fit a long; 10 + 20 does.
        Assert.True((Int128)long.MaxValue + 64 > long.MaxValue);
        Assert.Equal(["/huge|2|NULL|2", "/small|2|30|2"], await _lake.RowsAsync("gold/access_daily", "path, requests, bytes, status_2xx", "path"));
    }
}
