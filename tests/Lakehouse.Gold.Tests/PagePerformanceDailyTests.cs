using Lakehouse.Testing;

namespace Lakehouse.Gold.Tests;

public sealed class PagePerformanceDailyTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private string[] Aggregate(string valuesSql)
    {
        using var lease = fixture.Engine.Lease();
        var events = $"SELECT event_time::TIMESTAMPTZ AS event_time, page_url, session_id, tti_ms::DOUBLE AS tti_ms, ttar_ms::DOUBLE AS ttar_ms, status::INTEGER AS status " +
                     $"FROM (VALUES {valuesSql}) AS v(event_time, page_url, session_id, tti_ms, ttar_ms, status)";
        using var result = lease.Connection.Query($"SELECT event_date::VARCHAR, page_url, events::VARCHAR, sessions::VARCHAR, round(COLUMNS('_ms$|_rate$'), 9)::VARCHAR FROM ({PagePerformanceDaily.Sql(events)}) ORDER BY ALL");
        var rows = new List<string>();
        while (result.Read())
            rows.Add(string.Join('|', Enumerable.Range(0, result.ColumnCount).Select(i => result.IsNull(i) ? "NULL" : result.GetString(i))));
        return [.. rows];
    }

    [Fact]
    public void Sql_FivePageViews_ExactAveragesPercentilesAndErrorRate()
    {
        var rows = Aggregate("""
            ('2024-05-01 08:00:00+00', '/a', 's1', 100, 10, 200),
            ('2024-05-01 09:00:00+00', '/a', 's1', 200, NULL, 200),
            ('2024-05-01 10:00:00+00', '/a', 's2', 300, 30, 404),
            ('2024-05-01 11:00:00+00', '/a', 's3', 400, 40, 503),
            ('2024-05-01 12:00:00+00', '/a', 's3', 1000, 50, 200)
            """);
        // TTI 100,200,300,400,1000: avg 400, p50 300, p95 = 400 + 0.8 * 600 = 880. TTAR without the null: 10,30,40,50.
        // p50 of TTAR = 35, p95 = 40 + 0.85 * 10 = 48.5. Two of five statuses are 400 or above.
        Assert.Equal(["2024-05-01|/a|5|3|400.0|300.0|880.0|32.5|35.0|48.5|0.4"], rows);
    }

    [Fact]
    public void Sql_EventsAcrossMidnightAndOffsets_DayIsTheUtcDay()
    {
        var rows = Aggregate("""
            ('2024-05-01 23:30:00-02:00', '/a', 's1', 1, 1, 200),
            ('2024-05-02 00:30:00+02:00', '/a', 's1', 3, 3, 200),
            ('2024-05-02 00:10:00+00', '/b', 's2', 5, NULL, 500)
            """);
        Assert.Equal([
            "2024-05-01|/a|1|1|3.0|3.0|3.0|3.0|3.0|3.0|0.0",
            "2024-05-02|/a|1|1|1.0|1.0|1.0|1.0|1.0|1.0|0.0",
            "2024-05-02|/b|1|1|5.0|5.0|5.0|NULL|NULL|NULL|1.0",
        ], rows);
    }
    [Fact]
    public void Sql_TtisTooLargeForADecimal_AverageOfTheirValues()
    {
        // An expectation set to warn lets a TTI in the wrong unit through: 1e30 failed the exact decimal sum, and the whole gold run.
        // The exact means rounded to a double (Python's fractions): TTI (100 + 1e30 - 5 + 1.7976931348623157e308 + 350) / 5,
        // TTAR (10 + 2e22) / 2. Both orders of the rows give the same bits.
        const string Rows = """
            ('2024-05-01 08:00:00+00', '/a', 's1', 100, 10, 200),
            ('2024-05-01 08:01:00+00', '/a', 's1', 1e30, 2e22, 200),
            ('2024-05-01 08:02:00+00', '/a', 's1', -5, NULL, 200),
            ('2024-05-01 08:03:00+00', '/a', 's1', 1.7976931348623157e308, NULL, 200),
            ('2024-05-01 08:04:00+00', '/a', 's1', 350, NULL, 200)
            """;
        string Averages(string rows)
        {
            using var lease = fixture.Engine.Lease();
            var events = $"SELECT event_time::TIMESTAMPTZ AS event_time, page_url, session_id, tti_ms::DOUBLE AS tti_ms, ttar_ms::DOUBLE AS ttar_ms, status::INTEGER AS status " +
                         $"FROM (VALUES {rows}) AS v(event_time, page_url, session_id, tti_ms, ttar_ms, status)";
            using var r = lease.Connection.Query($"SELECT tti_avg_ms, ttar_avg_ms, tti_p50_ms FROM ({PagePerformanceDaily.Sql(events)})");
            Assert.True(r.Read());
            return $"{r.GetDouble(0):R}|{r.GetDouble(1):R}|{r.GetDouble(2):R}";
        }

        Assert.Equal("3.5953862697246315E+307|1E+22|350", Averages(Rows));
        Assert.Equal(Averages(Rows), Averages(string.Join(",\n", Rows.Split(",\n").Reverse())));
    }
}
