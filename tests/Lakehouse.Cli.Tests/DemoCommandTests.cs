using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse demo</c> end to end: landing files, bronze exactly once, gold against an independent reading of the landing files.</summary>
public sealed class DemoCommandTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("cli-demo");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Demo_RunTwice_GoldMatchesTheLandingFilesAndBronzeLandsOnce()
    {
        var lake = _temp.Combine("lake");
        var first = await CliRunner.RunAsync("demo", "--lake", lake, "--events", "20000", "--seed", "7");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("bronze   weblogs: 20,000 raw lines landed as version 0", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("from 20,000 events as version 0", first.Stdout, StringComparison.Ordinal);

        var landing = Directory.GetFiles(Path.Combine(lake, "_lakehouse", "landing", "weblogs"), "*.ndjson", SearchOption.AllDirectories);
        var files = SqlText.LiteralList(landing);
        var gold = $"SELECT * FROM read_parquet({SqlText.Literal(Path.Combine(lake, "gold", "page_performance_daily", "*.parquet"))})";
        using (var lease = fixture.Engine.Lease())
        {
            // The landing files hold 20,000 distinct events over 3 days.
            Assert.Equal("20000|20000|3", lease.Connection.Scalar(
                $"SELECT count(*) || '|' || count(DISTINCT event_id) || '|' || count(DISTINCT CAST(\"timestamp\" AS TIMESTAMPTZ)::DATE) FROM read_json({files})"));
            // Gold per (day, page) against the same numbers computed straight from the landing files (the sample's URLs are already normalized).
            var expected = $"""
                SELECT CAST(CAST("timestamp" AS TIMESTAMPTZ) AS DATE) AS d, page_url AS p, count(*) AS n, count(DISTINCT session_id) AS s,
                       round(avg(tti_ms), 6) AS tti, round(quantile_cont(ttar_ms, 0.95), 6) AS ttar95, round(avg((status >= 400)::INT), 6) AS err
                FROM read_json({files}) GROUP BY ALL
                """;
            var actual = $"SELECT event_date AS d, page_url AS p, events AS n, sessions AS s, round(tti_avg_ms, 6), round(ttar_p95_ms, 6), round(error_rate, 6) FROM ({gold})";
            Assert.Equal(0L, lease.Connection.Scalar($"SELECT count(*) FROM (({expected}) EXCEPT ALL ({actual}) UNION ALL (({actual}) EXCEPT ALL ({expected})))"));
            Assert.Equal(lease.Connection.Scalar($"SELECT count(*) FROM ({expected})"), lease.Connection.Scalar($"SELECT count(*) FROM ({gold})"));
        }

        var second = await CliRunner.RunAsync("demo", "--lake", lake, "--events", "20000", "--seed", "7");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("this batch is already landed (exactly once), nothing written; version 0", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("from 20,000 events as version 1", second.Stdout, StringComparison.Ordinal);
        var bronze = await CliRunner.RunAsync("table", "info", "bronze.weblogs", "--lake", lake);
        Assert.Contains("rows:       20000\n", bronze.Stdout, StringComparison.Ordinal);
        Assert.Contains("version:    0 ", bronze.Stdout, StringComparison.Ordinal);

        var sql = await CliRunner.RunAsync("sql", "--lake", lake, "SELECT sum(events) FROM gold.page_performance_daily", "--format", "csv");
        Assert.Equal("sum(events)\n20000\n", sql.Stdout);
    }

    [Fact]
    public async Task Demo_BadOptions_UsageErrors()
    {
        var r = await CliRunner.RunAsync("demo", "--lake", _temp.Combine("lake"), "--events", "0");
        Assert.Equal((2, "error: --events must be between 1 and 100000000\n"), (r.ExitCode, r.Stderr));
        var remote = await CliRunner.RunAsync("demo", "--lake", "abfss://c@a.dfs.core.windows.net/lake");
        Assert.Equal(2, remote.ExitCode);
        Assert.False(Directory.Exists(_temp.Combine("lake")));
    }
}
