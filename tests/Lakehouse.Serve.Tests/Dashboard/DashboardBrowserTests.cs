using System.Text.Json;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Serve.Tests.Dashboard;

/// <summary>
/// The dashboard in headless Chromium (Debian's chromium) against the real server over hand-made gold tables: the page's
/// scripts run, and what they drew shows the numbers that are in the tables, formatted as displayed; a screenshot of each is
/// kept in the folder the test prints (TestResults/dashboard under the test's output folder, or $LAKEHOUSE_TEST_ARTIFACTS).
/// </summary>
public sealed class DashboardBrowserTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>What the page shows, read from its DOM: table rows as [the row's data-key, its cell texts…] (the bar column left out).</summary>
    private const string ReadPage = """
        (() => {
          const rows = sel => [...document.querySelectorAll(sel)].map(tr =>
            [tr.dataset.key, ...[...tr.querySelectorAll('td')].filter(td => td.dataset.col !== 'tti_p95_bar').map(td => td.textContent)]);
          const block = (panel, name) => {
            const b = document.querySelector(`#panel-${panel} [data-block="${name}"]`);
            const m = b.querySelector('.msg');
            return [b.dataset.status, m.hidden ? '' : m.textContent];
          };
          return {
            date: document.getElementById('pages-date').value,
            pages: rows('#panel-pages tbody tr'),
            trend: rows('#panel-trend tbody tr'),
            trendBars: String(document.querySelectorAll('#panel-trend svg rect.events').length),
            windows: rows('#panel-windows tbody tr'),
            chips: [...document.querySelectorAll('#panel-alerts .chip')].map(c => [c.dataset.rule, c.querySelector('b').textContent]),
            alerts: rows('#panel-alerts [data-block="alerts"] tbody tr').map(r => r[0]),
            runs: block('runs', 'runs'),
            runRows: rows('#panel-runs [data-block="runs"] tbody tr').map(r => r[0]),
            quality: rows('#panel-runs [data-block="quality"] tbody tr'),
            status: document.getElementById('status').textContent,
          };
        })()
        """;

    private static string ArtifactFolder()
    {
        var folder = Environment.GetEnvironmentVariable("LAKEHOUSE_TEST_ARTIFACTS") is { Length: > 0 } given
            ? given
            : Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private async Task<string> KeepScreenshotAsync(HeadlessChromium chromium, string name)
    {
        var png = await chromium.ScreenshotAsync();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a }, png[..8]);
        Assert.True(png.Length > 20_000, $"the screenshot is only {png.Length} bytes: was anything drawn?");
        var path = Path.Combine(ArtifactFolder(), name);
        await File.WriteAllBytesAsync(path, png);
        output.WriteLine($"screenshot kept: {path} ({png.Length:N0} bytes)");
        return path;
    }

    private static List<List<string>> Rows(JsonElement page, string name) => page.GetProperty(name).Deserialize<List<List<string>>>()!;

    [Fact]
    public async Task Dashboard_OpenedInHeadlessChromium_ShowsTheNumbersInGoldAsDisplayedAndKeepsAScreenshot()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        await DashboardLake.WriteAllAsync(fixture.Engine, scope.Lake, withRuns: false); // gold/_runs not written yet

        await using var chromium = await HeadlessChromium.StartAsync(scope.BaseAddress, height: 1600);
        Assert.True(await chromium.WaitForAsync("document.body.dataset.state === 'ready'", Patience),
            "the page did not finish its first round of loading: " + (await chromium.EvaluateAsync("document.body.innerText")).GetString());
        var page = await chromium.EvaluateAsync(ReadPage);
        await KeepScreenshotAsync(chromium, "dashboard.png");

        Assert.Equal("2026-11-01", page.GetProperty("date").GetString());
        Assert.Equal(
            [
                [DashboardLake.Home, DashboardLake.Home, "1,200", "300", "812.5", "750", "1,834.3", "210.5", "190", "402.8", "1.6 %"],
                [DashboardLake.Product, DashboardLake.Product, "800", "250", "1,020", "990.5", "2,210.8", "305", "280", "610.5", "3.1 %"],
                [DashboardLake.Cart, DashboardLake.Cart, "400", "180", "640.3", "600", "1,205.5", "–", "–", "–", "6.3 %"],
            ],
            Rows(page, "pages"));
        // Newest day first; the day's TTI average is weighted by events: (812.5·1200 + 1020·800 + 640.25·400) / 2400 = 852.96.
        Assert.Equal(
            [
                ["2026-11-01", "2026-11-01", "2,400", "3", "853", "2,210.8", "2.9 %"],
                ["2026-10-31", "2026-10-31", "1,600", "2", "868.8", "2,100", "1.1 %"],
            ],
            Rows(page, "trend"));
        Assert.Equal("2", page.GetProperty("trendBars").GetString());
        Assert.Equal([DashboardLake.Home, DashboardLake.Home, "2026-11-01 12:01:00", "2026-11-01 12:02:00", "12", "790", "1,400", "0 %", "0", "no"], Rows(page, "windows")[0]);
        Assert.Equal(4, Rows(page, "windows").Count);
        Assert.Equal([["status_error", "1"], ["temperature_high", "2"]], Rows(page, "chips"));
        Assert.Equal(["a-3", "a-2", "a-1"], page.GetProperty("alerts").Deserialize<List<string>>());
        Assert.Equal(["no_data", "no data yet (gold._runs)"], page.GetProperty("runs").Deserialize<List<string>>());
        Assert.Equal(
            [["s-1", "2026-11-01 11:58:00", "weblogs", "incremental", "committed", "5,000", "4,890", "60", "50", "7", "status_is_http 20, tti_present 40"]],
            Rows(page, "quality"));
        Assert.StartsWith("updated ", page.GetProperty("status").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_OpenWhileGoldCommits_ShowsTheNewVersionsWithoutAReload()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Dashboard.RefreshInterval = TimeSpan.FromSeconds(1));
        await DashboardLake.WriteAllAsync(fixture.Engine, scope.Lake, withRuns: false);
        await using var chromium = await HeadlessChromium.StartAsync(scope.BaseAddress, height: 1600);
        Assert.True(await chromium.WaitForAsync("document.body.dataset.state === 'ready'", Patience), "the page did not load");
        await chromium.EvaluateAsync("window.sameDocument = true"); // gone if the page were reloaded

        // The gold job commits a new day, an alert and its first run record while the page is open.
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "page_performance_daily", $"""
            SELECT * FROM (VALUES (DATE '2026-11-02', 'https://shop.example/new', 10::BIGINT, 4::BIGINT, 500.0::DOUBLE, 480.0::DOUBLE, 999.5::DOUBLE,
              100.0::DOUBLE, 90.0::DOUBLE, 150.25::DOUBLE, 0.0::DOUBLE)) AS t({DashboardLake.PageColumns})
            """);
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "alerts", $"""
            SELECT * FROM (VALUES (DATE '2026-11-02', 'a-4', 'sensor_silent', 'sensor-9', TIMESTAMPTZ '2026-11-02 00:00:00+00', TIMESTAMPTZ '2026-11-02 00:05:00+00',
              300.0::DOUBLE, 300.0::DOUBLE, TIMESTAMPTZ '2026-11-02 00:05:10+00', 'no event from sensor-9 for 5 minutes')) AS t({DashboardLake.AlertColumns})
            """);
        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "_runs", DashboardLake.RunsSql, partitioned: false);

        var shown = await chromium.WaitForAsync(
            "document.querySelector('#panel-pages tr[data-key=\"https://shop.example/new\"]') && document.querySelector('#panel-alerts tr[data-key=\"a-4\"]') " +
            "&& document.querySelector('#panel-runs [data-block=\"runs\"] tr[data-key=\"g-1\"]')", Patience);
        var page = await chromium.EvaluateAsync(ReadPage);
        await KeepScreenshotAsync(chromium, "dashboard-after-commits.png");

        Assert.True(shown, "the page did not show the new versions: " + page.GetRawText());
        Assert.True((await chromium.EvaluateAsync("window.sameDocument === true")).GetBoolean(), "the page was reloaded");
        Assert.Equal("2026-11-02", page.GetProperty("date").GetString()); // it follows the latest day until one is picked
        Assert.Equal([["https://shop.example/new", "https://shop.example/new", "10", "4", "500", "480", "999.5", "100", "90", "150.3", "0 %"]], Rows(page, "pages"));
        Assert.Equal(["2026-11-02", "2026-11-01", "2026-10-31"], Rows(page, "trend").Select(r => r[0]));
        Assert.Equal([["sensor_silent", "1"], ["status_error", "1"], ["temperature_high", "2"]], Rows(page, "chips"));
        Assert.Equal(["ok", ""], page.GetProperty("runs").Deserialize<List<string>>());
        Assert.Equal(["g-2", "g-1"], page.GetProperty("runRows").Deserialize<List<string>>());
    }

    /// <summary>
    /// A panel shows what the user picked, not an older answer that arrived after it: while a refresh round's request for the windows
    /// of page_metrics_1m (which just got a new version) is still on its way, the user picks sensor_metrics_1m. The page drew the late
    /// page_metrics_1m rows over the sensor rows under a select that says sensor_metrics_1m, and, its signature then matching the
    /// sensor table's version, kept them until that table changed.
    /// </summary>
    [Fact]
    public async Task Dashboard_TablePickedWhileARefreshIsOnItsWay_ShowsThePickedTableNotTheLateAnswer()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Dashboard.RefreshInterval = TimeSpan.FromSeconds(1));
        await DashboardLake.WriteAllAsync(fixture.Engine, scope.Lake);
        await using var chromium = await HeadlessChromium.StartAsync(scope.BaseAddress, height: 1600);
        Assert.True(await chromium.WaitForAsync("document.body.dataset.state === 'ready'", Patience), "the page did not load");
        // The page's requests for page_metrics_1m take 2.5 s from now on; the others are as fast as the server.
        await chromium.EvaluateAsync("""
            (() => {
              window.slowStarted = 0; window.slowDone = 0;
              const realFetch = window.fetch;
              window.fetch = (url, init) => String(url).includes('table=page_metrics_1m')
                ? (window.slowStarted++, new Promise(r => setTimeout(r, 2500)).then(() => realFetch(url, init)).then(r => { window.slowDone++; return r; }))
                : realFetch(url, init);
              return true;
            })()
            """);

        await DashboardLake.AppendAsync(fixture.Engine, scope.Lake, "gold", "page_metrics_1m", DashboardLake.PageWindowsSql);
        Assert.True(await chromium.WaitForAsync("window.slowStarted >= 1", Patience), "no refresh of the windows panel started");
        await chromium.EvaluateAsync("""
            (() => {
              const select = document.getElementById('windows-table');
              select.value = 'sensor_metrics_1m';
              select.dispatchEvent(new Event('change'));
              return true;
            })()
            """);
        Assert.True(await chromium.WaitForAsync("window.slowDone >= 1", Patience), "the late answer never came");
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // it is drawn (or not) and a refresh round or two pass
        var page = await chromium.EvaluateAsync(ReadPage);

        Assert.Equal("sensor_metrics_1m", (await chromium.EvaluateAsync("document.getElementById('windows-table').value")).GetString());
        Assert.Equal(["sensor-3", "sensor-7"], Rows(page, "windows").Select(r => r[0]));
    }
}
