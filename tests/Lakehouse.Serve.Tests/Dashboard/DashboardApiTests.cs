using System.Net;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests.Dashboard;

/// <summary>
/// The dashboard's JSON API through a real HttpClient against the real server, over a temporary lake whose gold and silver
/// tables were written by the project's Delta writer from hand-made rows: the numbers returned are the numbers in the tables.
/// </summary>
public sealed class DashboardApiTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private async Task<ServerScope> LakeAsync(bool withRuns = true)
    {
        var scope = await ServerScope.StartAsync(fixture.Engine);
        await DashboardLake.WriteAllAsync(fixture.Engine, scope.Lake, withRuns);
        return scope;
    }

    private static async Task<JsonElement> GetAsync(ServerScope scope, string path)
    {
        using var response = await scope.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string?> Strings(JsonElement rows, string column) =>
        [.. rows.EnumerateArray().Select(r => r.GetProperty(column).ValueKind == JsonValueKind.Null ? null : r.GetProperty(column).ToString())];

    private static void AssertOk(JsonElement section, string table, long version, int rows)
    {
        Assert.Equal((table, "ok", version, rows),
            (section.GetProperty("table").GetString(), section.GetProperty("status").GetString(), section.GetProperty("version").GetInt64(), section.GetProperty("rows").GetArrayLength()));
    }

    [Fact]
    public async Task Pages_NoDate_LatestDayExactValuesBusiestFirstAndTheDays()
    {
        await using var scope = await LakeAsync();

        var answer = await GetAsync(scope, "/api/pages");

        Assert.Equal("2026-11-01", answer.GetProperty("date").GetString());
        Assert.Equal(["2026-11-01", "2026-10-31"], answer.GetProperty("dates").EnumerateArray().Select(d => d.GetString()));
        var pages = answer.GetProperty("pages");
        AssertOk(pages, "gold.page_performance_daily", 0, 3);
        var rows = pages.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(
            [
                (DashboardLake.Home, 1200L, 300L, 812.5, 750.0, 1834.25, (double?)210.5, (double?)190.0, (double?)402.75, 0.015625),
                (DashboardLake.Product, 800L, 250L, 1020.0, 990.5, 2210.75, 305.0, 280.0, 610.5, 0.03125),
                (DashboardLake.Cart, 400L, 180L, 640.25, 600.0, 1205.5, null, null, null, 0.0625),
            ],
            rows.Select(r => (r.GetProperty("page_url").GetString(), r.GetProperty("events").GetInt64(), r.GetProperty("sessions").GetInt64(),
                r.GetProperty("tti_avg_ms").GetDouble(), r.GetProperty("tti_p50_ms").GetDouble(), r.GetProperty("tti_p95_ms").GetDouble(),
                Nullable(r.GetProperty("ttar_avg_ms")), Nullable(r.GetProperty("ttar_p50_ms")), Nullable(r.GetProperty("ttar_p95_ms")),
                r.GetProperty("error_rate").GetDouble())));
        Assert.Equal(
            ["page_url", "events", "sessions", "tti_avg_ms", "tti_p50_ms", "tti_p95_ms", "ttar_avg_ms", "ttar_p50_ms", "ttar_p95_ms", "error_rate"],
            rows[0].EnumerateObject().Select(p => p.Name));
    }

    private static double? Nullable(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetDouble();

    [Fact]
    public async Task Pages_GivenDayAndLimit_ThatDaysBusiestPagesOnly()
    {
        await using var scope = await LakeAsync();

        var day = await GetAsync(scope, "/api/pages?date=2026-10-31");
        var one = await GetAsync(scope, "/api/pages?date=2026-10-31&limit=1");
        var empty = await GetAsync(scope, "/api/pages?date=2025-01-01");

        Assert.Equal("2026-10-31", day.GetProperty("date").GetString());
        Assert.Equal([DashboardLake.Home, DashboardLake.Product], Strings(day.GetProperty("pages").GetProperty("rows"), "page_url"));
        Assert.Equal(["1700.5", "2100"], Strings(day.GetProperty("pages").GetProperty("rows"), "tti_p95_ms"));
        Assert.Equal([DashboardLake.Home], Strings(one.GetProperty("pages").GetProperty("rows"), "page_url"));
        AssertOk(empty.GetProperty("pages"), "gold.page_performance_daily", 0, 0);
    }

    [Fact]
    public async Task Trend_TwoDays_EventSumsEventWeightedAveragesAndHighestP95OldestFirst()
    {
        await using var scope = await LakeAsync();

        var trend = (await GetAsync(scope, "/api/trend")).GetProperty("trend");

        AssertOk(trend, "gold.page_performance_daily", 0, 2);
        var rows = trend.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(
            [
                ("2026-10-31", 1600L, 2L, (790.0 * 1000 + 1000.0 * 600) / 1600, 2100.0, (0.0078125 * 1000 + 0.015625 * 600) / 1600),
                ("2026-11-01", 2400L, 3L, (812.5 * 1200 + 1020.0 * 800 + 640.25 * 400) / 2400, 2210.75, (0.015625 * 1200 + 0.03125 * 800 + 0.0625 * 400) / 2400),
            ],
            rows.Select(r => (r.GetProperty("event_date").GetString(), r.GetProperty("events").GetInt64(), r.GetProperty("pages").GetInt64(),
                r.GetProperty("tti_avg_ms").GetDouble(), r.GetProperty("tti_p95_max_ms").GetDouble(), r.GetProperty("error_rate").GetDouble())));
        Assert.Equal("2026-11-01", (await GetAsync(scope, "/api/trend?days=1")).GetProperty("trend").GetProperty("rows")[0].GetProperty("event_date").GetString());
    }

    [Fact]
    public async Task Windows_PageAndSensorTables_LatestWindowsFirstWithEveryColumnExact()
    {
        await using var scope = await LakeAsync();

        var pages = await GetAsync(scope, "/api/windows");
        var sensors = await GetAsync(scope, "/api/windows?table=sensor_metrics_1m&limit=1");

        Assert.Equal(("page_metrics_1m", "page_url"), (pages.GetProperty("name").GetString(), pages.GetProperty("keyColumn").GetString()));
        AssertOk(pages.GetProperty("windows"), "gold.page_metrics_1m", 0, 4);
        var first = pages.GetProperty("windows").GetProperty("rows")[0];
        Assert.Equal(
            """{"page_url":"https://shop.example/","window_start":"2026-11-01T12:01:00Z","window_end":"2026-11-01T12:02:00Z","events":12,"tti_avg_ms":790,"tti_p95_ms":1400,"error_rate":0,"late_events":0,"is_final":false}""",
            first.GetRawText());
        Assert.Equal([DashboardLake.Home, DashboardLake.Home, DashboardLake.Product, DashboardLake.Quoted], Strings(pages.GetProperty("windows").GetProperty("rows"), "page_url"));

        AssertOk(sensors.GetProperty("windows"), "gold.sensor_metrics_1m", 0, 1);
        Assert.Equal(
            """{"sensor_id":"sensor-3","window_start":"2026-11-01T12:00:00Z","window_end":"2026-11-01T12:01:00Z","events":6,"value_avg":70.5,"value_min":70,"value_max":71,"late_events":0,"is_final":true}""",
            sensors.GetProperty("windows").GetProperty("rows")[0].GetRawText());
    }

    [Theory]
    [InlineData(DashboardLake.Quoted, 1)] // a quote and "--" in a real key are matched as text
    [InlineData("x' OR '1'='1", 0)]
    [InlineData("https://shop.example/' UNION SELECT * FROM silver._quality --", 0)]
    [InlineData("'; DROP TABLE t; --", 0)]
    public async Task Windows_KeyWithQuotesAndSql_MatchedAsTextOnly(string key, int expected)
    {
        await using var scope = await LakeAsync();

        var answer = await GetAsync(scope, "/api/windows?table=page_metrics_1m&key=" + Uri.EscapeDataString(key));

        AssertOk(answer.GetProperty("windows"), "gold.page_metrics_1m", 0, expected);
        Assert.All(Strings(answer.GetProperty("windows").GetProperty("rows"), "page_url"), u => Assert.Equal(key, u));
    }

    [Fact]
    public async Task Alerts_LatestFirstCountsPerRuleAndOneRule()
    {
        await using var scope = await LakeAsync();

        var all = await GetAsync(scope, "/api/alerts");
        var one = await GetAsync(scope, "/api/alerts?rule=status_error&limit=5");

        AssertOk(all.GetProperty("alerts"), "gold.alerts", 0, 3);
        Assert.Equal(
            """{"alert_id":"a-3","rule":"temperature_high","key":"sensor-7","window_start":"2026-11-01T12:05:00Z","window_end":"2026-11-01T12:06:00Z","value":101.5,"threshold":100,"detected_at":"2026-11-01T12:06:10Z","message":"sensor-7 read 101.5 °F, above 100 °F"}""",
            JsonSerializer.Serialize(all.GetProperty("alerts").GetProperty("rows")[0], Relaxed));
        Assert.Equal(["a-3", "a-2", "a-1"], Strings(all.GetProperty("alerts").GetProperty("rows"), "alert_id"));
        Assert.Equal([("status_error", 1L, "2026-11-01T12:04:10Z"), ("temperature_high", 2L, "2026-11-01T12:06:10Z")],
            all.GetProperty("counts").GetProperty("rows").EnumerateArray().Select(r => (r.GetProperty("rule").GetString(), r.GetProperty("alerts").GetInt64(), r.GetProperty("latest_detected_at").GetString())));
        Assert.Equal(["a-2"], Strings(one.GetProperty("alerts").GetProperty("rows"), "alert_id"));
    }

    [Fact]
    public async Task Runs_GoldRunsNewestFirstAndSilverQualityOneRowPerRun()
    {
        await using var scope = await LakeAsync();

        var answer = await GetAsync(scope, "/api/runs");

        AssertOk(answer.GetProperty("runs"), "gold._runs", 0, 2);
        Assert.Equal(
            """{"run_id":"g-2","dataset":"sensors","kind":"incremental","status":"failed","started_at":"2026-11-01T12:05:00Z","finished_at":"2026-11-01T12:05:01Z","silver_version_from":7,"silver_version_to":8,"dates_recomputed":0,"rows_in":0,"rows_written":0,"late_events":0,"watermark":null,"alerts_new":0,"message":"silver.sensors version 8 cannot be read"}""",
            answer.GetProperty("runs").GetProperty("rows")[0].GetRawText());
        Assert.Equal("2026-11-01T12:00:02.5Z", answer.GetProperty("runs").GetProperty("rows")[1].GetProperty("finished_at").GetString());
        AssertOk(answer.GetProperty("quality"), "silver._quality", 0, 1);
        Assert.Equal(
            """{"run_id":"s-1","dataset":"weblogs","mode":"incremental","status":"committed","started_at":"2026-11-01T11:58:00Z","finished_at":"2026-11-01T11:58:03Z","rows_in":5000,"rows_out":4890,"rows_quarantined":60,"duplicates_removed":50,"rows_warned":7,"rules_failed":"status_is_http 20, tti_present 40"}""",
            answer.GetProperty("quality").GetProperty("rows")[0].GetRawText());
    }

    [Fact]
    public async Task Api_EmptyLake_EverySectionNoDataYetNotAnError()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);

        var versions = await GetAsync(scope, "/api/versions");
        var pages = await GetAsync(scope, "/api/pages");
        var sections = new[]
        {
            pages.GetProperty("pages"),
            (await GetAsync(scope, "/api/trend")).GetProperty("trend"),
            (await GetAsync(scope, "/api/windows?table=sensor_metrics_5m")).GetProperty("windows"),
            (await GetAsync(scope, "/api/windows?table=sensor_sessions")).GetProperty("windows"),
            (await GetAsync(scope, "/api/alerts")).GetProperty("alerts"),
            (await GetAsync(scope, "/api/alerts")).GetProperty("counts"),
            (await GetAsync(scope, "/api/runs")).GetProperty("runs"),
            (await GetAsync(scope, "/api/runs")).GetProperty("quality"),
        };

        Assert.Equal(5.0, versions.GetProperty("refreshSeconds").GetDouble());
        Assert.Equal(
            ["gold.page_performance_daily", "gold.page_metrics_1m", "gold.page_metrics_5m", "gold.sensor_metrics_1m", "gold.sensor_metrics_5m", "gold.sensor_sessions",
             "gold.alerts", "gold._runs", "silver._quality"],
            versions.GetProperty("tables").EnumerateObject().Select(p => p.Name));
        Assert.All(versions.GetProperty("tables").EnumerateObject(), p => Assert.Equal("""{"status":"no_data","version":null}""", p.Value.GetRawText()));
        Assert.Equal(JsonValueKind.Null, pages.GetProperty("date").ValueKind);
        Assert.Equal(0, pages.GetProperty("dates").GetArrayLength());
        foreach (var section in sections)
        {
            var table = section.GetProperty("table").GetString()!;
            Assert.Equal(("no_data", JsonValueKind.Null, 0), (section.GetProperty("status").GetString(), section.GetProperty("version").ValueKind, section.GetProperty("rows").GetArrayLength()));
            Assert.Equal($"no data yet: {table} has not been written (no Delta table at {table.Replace('.', '/')})", section.GetProperty("message").GetString());
        }
        Assert.Equal(0, scope.Server.Dashboard.Reader.QueriesRun);
    }

    [Fact]
    public async Task Api_TableWithAGapInItsLog_ErrorNamingTheTableInItsSectionOthersServed()
    {
        await using var scope = await LakeAsync();
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "alerts", DashboardLake.AlertsSql); // version 1
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "alerts", DashboardLake.AlertsSql); // version 2
        File.Delete(Path.Combine(scope.Lake, "gold", "alerts", "_delta_log", "00000000000000000001.json"));

        var alerts = await GetAsync(scope, "/api/alerts");
        var versions = await GetAsync(scope, "/api/versions");
        var pages = await GetAsync(scope, "/api/pages");

        var section = alerts.GetProperty("alerts");
        Assert.Equal(("gold.alerts", "error", 0), (section.GetProperty("table").GetString(), section.GetProperty("status").GetString(), section.GetProperty("rows").GetArrayLength()));
        Assert.StartsWith("gold.alerts cannot be read: ", section.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("00000000000000000001.json is missing", section.GetProperty("message").GetString(), StringComparison.Ordinal);
        // Where the lake is on the server's disk is not the client's business: tables and files are named from the lake's root.
        Assert.DoesNotContain(scope.Lake, section.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(scope.Lake, versions.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("gold.alerts cannot be read: Delta log of 'gold/alerts' is not contiguous: commit 00000000000000000001.json is missing (needed to rebuild version 2).",
            section.GetProperty("message").GetString());
        Assert.Equal("error", versions.GetProperty("tables").GetProperty("gold.alerts").GetProperty("status").GetString());
        AssertOk(pages.GetProperty("pages"), "gold.page_performance_daily", 0, 3);
    }

    [Fact]
    public async Task Api_TextLongerThan8192Characters_CutWithAnEllipsisShorterTextWhole()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        // A sensor id of 100,000 characters, one of exactly 8,192, and one whose 8,192nd character starts a surrogate pair.
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "alerts", DashboardLake.AlertsSql
            .Replace("'sensor-7', TIMESTAMPTZ '2026-11-01 12:00:00+00'", "repeat('k', 100000), TIMESTAMPTZ '2026-11-01 12:00:00+00'", StringComparison.Ordinal)
            .Replace("'sensor-3'", "repeat('e', 8192)", StringComparison.Ordinal)
            .Replace("'sensor-7', TIMESTAMPTZ '2026-11-01 12:05:00+00'", "repeat('s', 8191) || '😀😀', TIMESTAMPTZ '2026-11-01 12:05:00+00'", StringComparison.Ordinal));

        using var response = await scope.Client.GetAsync(new Uri(scope.BaseAddress, "/api/alerts"));
        var body = await response.Content.ReadAsStringAsync();
        var keys = JsonDocument.Parse(body).RootElement.GetProperty("alerts").GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("alert_id").GetString()!, r => r.GetProperty("key").GetString()!);

        Assert.Equal(new string('k', 8192) + "…", keys["a-1"]);
        Assert.Equal(new string('e', 8192), keys["a-2"]);
        Assert.Equal(new string('s', 8191) + "…", keys["a-3"]);
        Assert.True(body.Length < 40_000, $"the answer is {body.Length} characters");
    }

    [Fact]
    public async Task Api_TableWithoutTheColumnsOfTheDesign_ErrorNamingTheColumnInItsSection()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "sensor_metrics_5m",
            "SELECT DATE '2026-11-01' AS event_date, 'sensor-1' AS sensor_id, TIMESTAMPTZ '2026-11-01 12:00:00+00' AS window_start, 3::BIGINT AS events");

        var section = (await GetAsync(scope, "/api/windows?table=sensor_metrics_5m")).GetProperty("windows");

        Assert.Equal(("error", 0L), (section.GetProperty("status").GetString(), section.GetProperty("version").GetInt64()));
        var message = section.GetProperty("message").GetString()!;
        Assert.StartsWith("gold.sensor_metrics_5m (version 0) cannot be shown: ", message, StringComparison.Ordinal);
        Assert.Contains("window_end", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/pages?date=2026-11-01'%20OR%20'1'='1", "date: '2026-11-01' OR '1'='1' is not a day written yyyy-MM-dd (e.g. 2026-11-01).")]
    [InlineData("/api/pages?date=2026-02-30", "date: '2026-02-30' is not a day written yyyy-MM-dd (e.g. 2026-11-01).")]
    [InlineData("/api/pages?date=", "date: '' is not a day written yyyy-MM-dd (e.g. 2026-11-01).")]
    [InlineData("/api/pages?limit=1000000", "limit: '1000000' is not a whole number from 1 to 1000.")]
    [InlineData("/api/pages?limit=99999999999999999999999", "limit: '99999999999999999999999' is not a whole number from 1 to 1000.")]
    [InlineData("/api/pages?limit=0", "limit: '0' is not a whole number from 1 to 1000.")]
    [InlineData("/api/pages?limit=-1", "limit: '-1' is not a whole number from 1 to 1000.")]
    [InlineData("/api/pages?limit=10;DROP%20TABLE%20x", "limit: '10;DROP TABLE x' is not a whole number from 1 to 1000.")]
    [InlineData("/api/pages?limit=1&limit=2", "limit: given 2 times; give it once.")]
    [InlineData("/api/pages?sql=SELECT%201", "Unknown parameter 'sql': this endpoint takes date, limit.")]
    [InlineData("/api/trend?days=367", "days: '367' is not a whole number from 1 to 366.")]
    [InlineData("/api/windows?table=alerts", "table: 'alerts' is not one of page_metrics_1m, page_metrics_5m, sensor_metrics_1m, sensor_metrics_5m, sensor_sessions.")]
    [InlineData("/api/windows?table=..%2F..%2Fsilver%2Fweblogs", "table: '../../silver/weblogs' is not one of page_metrics_1m, page_metrics_5m, sensor_metrics_1m, sensor_metrics_5m, sensor_sessions.")]
    [InlineData("/api/windows?table=gold.page_metrics_1m", "table: 'gold.page_metrics_1m' is not one of page_metrics_1m, page_metrics_5m, sensor_metrics_1m, sensor_metrics_5m, sensor_sessions.")]
    [InlineData("/api/windows?table=page_metrics_1m%22;%20SELECT%201;--", "table: 'page_metrics_1m\"; SELECT 1;--' is not one of page_metrics_1m, page_metrics_5m, sensor_metrics_1m, sensor_metrics_5m, sensor_sessions.")]
    [InlineData("/api/windows?key=a%0Ab", "key: give 1 to 2048 characters without control characters (got 3 characters).")]
    [InlineData("/api/alerts?rule=temperature_high'%20OR%201=1%20--", "rule: 'temperature_high' OR 1=1 --' is not one of temperature_high, temperature_low, sensor_silent, value_spike, status_error, tti_p95_regression.")]
    [InlineData("/api/runs?limit=5000&x=1", "Unknown parameter 'x': this endpoint takes limit. limit: '5000' is not a whole number from 1 to 1000.")]
    [InlineData("/api/versions?table=gold.alerts", "Unknown parameter 'table': this endpoint takes none.")]
    public async Task Api_HostileOrWrongParameters_400NamingTheProblemAndNoQueryRun(string path, string detail)
    {
        await using var scope = await LakeAsync();

        using var response = await scope.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("Bad query parameter", detail), (problem.GetProperty("title").GetString(), problem.GetProperty("detail").GetString()));
        Assert.Equal(0, scope.Server.Dashboard.Reader.QueriesRun);
    }

    [Fact]
    public async Task Api_KeyOverTheLimit_400WithoutEchoingIt()
    {
        await using var scope = await LakeAsync();

        using var response = await scope.Client.GetAsync("/api/windows?key=" + new string('k', 5000));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("key: give 1 to 2048 characters without control characters (got 5000 characters).",
            JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Api_PolledWithoutACommit_AnsweredFromTheCacheANewVersionIsReadAtOnce()
    {
        await using var scope = await LakeAsync();
        var reader = scope.Server.Dashboard.Reader;

        var first = await GetAsync(scope, "/api/alerts");
        var afterFirst = reader.QueriesRun;
        var again = await GetAsync(scope, "/api/alerts");
        var afterAgain = reader.QueriesRun;
        var version = await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "alerts", $"""
            SELECT * FROM (VALUES (DATE '2026-11-02', 'a-4', 'sensor_silent', 'sensor-9', TIMESTAMPTZ '2026-11-02 00:00:00+00', TIMESTAMPTZ '2026-11-02 00:05:00+00',
              300.0::DOUBLE, 300.0::DOUBLE, TIMESTAMPTZ '2026-11-02 00:05:10+00', 'no event from sensor-9 for 5 minutes')) AS t({DashboardLake.AlertColumns})
            """);
        var versions = await GetAsync(scope, "/api/versions");
        var fresh = await GetAsync(scope, "/api/alerts");

        Assert.Equal((2L, 2L), (afterFirst, afterAgain)); // the alerts and the counts, once
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(1, version);
        var alertsState = versions.GetProperty("tables").GetProperty("gold.alerts");
        Assert.Equal(("ok", 1L), (alertsState.GetProperty("status").GetString(), alertsState.GetProperty("version").GetInt64()));
        Assert.True(alertsState.GetProperty("committed").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-10));
        AssertOk(fresh.GetProperty("alerts"), "gold.alerts", 1, 4);
        Assert.Equal(["a-4", "a-3", "a-2", "a-1"], Strings(fresh.GetProperty("alerts").GetProperty("rows"), "alert_id"));
        Assert.Equal(["1", "1", "2"], Strings(fresh.GetProperty("counts").GetProperty("rows"), "alerts"));
        Assert.Equal(4L, reader.QueriesRun);
    }

    /// <summary>
    /// A table deleted and written again (gold rebuilt from scratch, as the gold job's message tells after a silver restore) starts
    /// again at version 0: it was answered from what the cache held for the old version 0, and /api/versions did not change, so an open
    /// page kept the old numbers until the server restarted.
    /// </summary>
    [Fact]
    public async Task Api_TableDeletedAndWrittenAgain_NewRowsAtTheSameVersionAndVersionsChange()
    {
        await using var scope = await LakeAsync();
        var before = await GetAsync(scope, "/api/trend");
        var stateBefore = (await GetAsync(scope, "/api/versions")).GetProperty("tables").GetProperty("gold.page_performance_daily").GetRawText();
        Directory.Delete(Path.Combine(scope.Lake, "gold", "page_performance_daily"), recursive: true);
        var version = await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "page_performance_daily", $"""
            SELECT * FROM (VALUES (DATE '2026-11-02', '{DashboardLake.Home}', 10::BIGINT, 3::BIGINT, 500.0::DOUBLE, 450.0::DOUBLE, 900.0::DOUBLE,
              NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE, 0.0::DOUBLE)) AS t({DashboardLake.PageColumns})
            """);

        var stateAfter = (await GetAsync(scope, "/api/versions")).GetProperty("tables").GetProperty("gold.page_performance_daily").GetRawText();
        var after = await GetAsync(scope, "/api/trend");
        var pages = await GetAsync(scope, "/api/pages");

        Assert.Equal(0, version);
        Assert.Equal(["2026-10-31", "2026-11-01"], Strings(before.GetProperty("trend").GetProperty("rows"), "event_date"));
        AssertOk(after.GetProperty("trend"), "gold.page_performance_daily", 0, 1);
        Assert.Equal(["2026-11-02"], Strings(after.GetProperty("trend").GetProperty("rows"), "event_date"));
        Assert.Equal(["10"], Strings(after.GetProperty("trend").GetProperty("rows"), "events"));
        Assert.NotEqual(stateBefore, stateAfter);
        Assert.Equal("2026-11-02", pages.GetProperty("date").GetString());
        Assert.Equal(["900"], Strings(pages.GetProperty("pages").GetProperty("rows"), "tti_p95_ms"));
    }

    /// <summary>HEAD, which HTTP asks a server to take wherever it takes GET (monitors, <c>curl -I</c>), was answered 405.</summary>
    [Theory]
    [InlineData("/")]
    [InlineData("/dashboard.js")]
    [InlineData("/api/versions")]
    [InlineData("/api/pages?date=2024-05-02&limit=1")]
    [InlineData("/metrics")]
    public async Task Head_ReadEndpoints_GetsHeadersWithoutBody(string path)
    {
        await using var scope = await LakeAsync();
        using var get = await scope.Client.GetAsync(path);
        var body = await get.Content.ReadAsByteArrayAsync();

        using var head = await scope.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (get.StatusCode, head.StatusCode));
        Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
        Assert.Equal(body.Length, head.Content.Headers.ContentLength ?? body.Length);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Root_EmbeddedPageAndAssets_ServedWithTheirTypesStrictCspAndNothingFromElsewhere()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);

        using var page = await scope.Client.GetAsync("/");
        using var script = await scope.Client.GetAsync("/dashboard.js");
        using var style = await scope.Client.GetAsync("/dashboard.css");
        var html = await page.Content.ReadAsStringAsync();
        var js = await script.Content.ReadAsStringAsync();
        var css = await style.Content.ReadAsStringAsync();
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/dashboard.js");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", script.Headers.ETag!.ToString());
        using var notModified = await scope.Client.SendAsync(conditional);

        Assert.Equal((HttpStatusCode.OK, "text/html; charset=utf-8"), (page.StatusCode, page.Content.Headers.ContentType?.ToString()));
        Assert.Equal("text/javascript; charset=utf-8", script.Content.Headers.ContentType?.ToString());
        Assert.Equal("text/css; charset=utf-8", style.Content.Headers.ContentType?.ToString());
        Assert.Contains("<script src=\"/dashboard.js\" defer></script>", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/dashboard.css\">", html, StringComparison.Ordinal);
        Assert.StartsWith("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        // Nothing is loaded from another host: every src and href of the page is on this server (or data:), the script and the
        // style name no other address (the SVG namespace is a name, not a fetch), and values never become HTML.
        Assert.All(System.Text.RegularExpressions.Regex.Matches(html, @"\b(?:src|href)=""([^""]*)""").Select(m => m.Groups[1].Value),
            url => Assert.Matches("^(/[a-z.]*|data:,)$", url));
        foreach (var text in new[] { html, js.Replace("'http://www.w3.org/2000/svg'", "", StringComparison.Ordinal), css })
        {
            Assert.DoesNotContain("http:", text, StringComparison.Ordinal);
            Assert.DoesNotContain("https:", text, StringComparison.Ordinal);
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }
}
