using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Serve.Dashboard;

/// <summary>
/// The dashboard: <c>GET /</c> is a page (HTML, CSS and JavaScript embedded in this assembly; no CDN, nothing fetched from
/// elsewhere) that draws gold and silver from the JSON endpoints under <c>/api/</c>, each reading the real Delta tables through
/// the lake's read-only SQL. A table not written yet answers "no data yet"; one that cannot be read answers its reason in its
/// own section, so one broken table never blanks the page. Query-string values are checked (400 with the reason otherwise)
/// and reach SQL only as typed values or quoted literals.
/// </summary>
internal sealed class DashboardPart : IServerPart, IDisposable
{
    private const int PageDatesShown = 366;

    private readonly DashboardOptions _options;
    private readonly DashboardReader _reader;
    private readonly ILogger _log;
    private readonly IReadOnlyList<Asset> _assets;
    private volatile bool _stopping;

    internal DashboardPart(DashboardOptions options, ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        _options = options;
        _reader = new DashboardReader(lake, engine, loggerFactory);
        _log = loggerFactory.CreateLogger<DashboardPart>();
        _assets =
        [
            Asset.Load("/", "index.html", "text/html; charset=utf-8"),
            Asset.Load("/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
            Asset.Load("/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ];
    }

    /// <summary>The reader behind the API (its query count shows what the cache saved).</summary>
    internal DashboardReader Reader => _reader;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Map(WebApplication app)
    {
        foreach (var asset in _assets) app.MapMethods(asset.Path, ReadMethods.GetAndHead, new RequestDelegate(context => ServeAssetAsync(context, asset)));
        Api(app, "/api/versions", VersionsAsync);
        Api(app, "/api/pages", PagesAsync);
        Api(app, "/api/trend", TrendAsync);
        Api(app, "/api/windows", WindowsAsync);
        Api(app, "/api/alerts", AlertsAsync);
        Api(app, "/api/runs", RunsAsync);
    }

    public void BeginStop() => _stopping = true;

    public Task StopAsync()
    {
        _stopping = true;
        return Task.CompletedTask;
    }

    public void Dispose() => _reader.Dispose();

    private void Api(IEndpointRouteBuilder app, string path, Func<HttpContext, CancellationToken, Task<byte[]?>> answer) =>
        app.MapMethods(path, ReadMethods.GetAndHead, new RequestDelegate(async context =>
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            if (_stopping)
            {
                await Results.Problem(detail: "The server is stopping.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Stopping",
                    instance: context.Request.Path).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            if (await answer(context, context.RequestAborted).ConfigureAwait(false) is not { } body) return; // answered 400
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }));

    /// <summary>Answers 400 naming every problem, and returns false, when the query string is not right.</summary>
    private async Task<bool> CheckedAsync(HttpContext context, QueryParameters parameters)
    {
        if (parameters.Problems.Count == 0) return true;
        var detail = string.Join(" ", parameters.Problems);
        Log.DashboardRefused(_log, context.Request.Path.Value ?? "", detail);
        await Results.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad query parameter", instance: context.Request.Path)
            .ExecuteAsync(context).ConfigureAwait(false);
        return false;
    }

    /// <summary><c>/api/versions</c>: each table's latest version (null when not written yet), and how often the page asks.</summary>
    private async Task<byte[]?> VersionsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!await CheckedAsync(context, QueryParameters.Check(context.Request.Query)).ConfigureAwait(false)) return null;
        var states = await Task.WhenAll(DashboardTables.All.Select(t => _reader.StateAsync(t, cancellationToken))).ConfigureAwait(false);
        return DashboardJson.Write(w =>
        {
            w.WriteNumber("refreshSeconds", _options.RefreshInterval.TotalSeconds);
            w.WriteStartObject("tables");
            for (var i = 0; i < states.Length; i++)
            {
                w.WriteStartObject(DashboardTables.All[i].Label);
                w.WriteString("status", states[i].Problem is not null ? "error" : states[i].Exists ? "ok" : "no_data");
                if (states[i].Version is { } v) w.WriteNumber("version", v);
                else w.WriteNull("version");
                // When that version's log file was written: a table deleted and written again keeps its version numbers, and the page
                // redraws a panel when anything here changes.
                if (states[i].Committed is { } committed) w.WriteString("committed", committed.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
                if (states[i].Problem is { } problem) w.WriteString("message", problem);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// <c>/api/pages?date=yyyy-MM-dd&amp;limit=N</c>: TTI and TTAR (average, p50, p95), events, sessions and error rate per page on
    /// one day (default: the latest day in the table), and the days there are.
    /// </summary>
    private async Task<byte[]?> PagesAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var parameters = QueryParameters.Check(context.Request.Query, "date", "limit");
        var date = parameters.Day("date");
        var limit = parameters.WholeNumber("limit", 50, QueryParameters.MaxLimit);
        if (!await CheckedAsync(context, parameters).ConfigureAwait(false)) return null;

        var table = DashboardTables.PagePerformanceDaily;
        var state = await _reader.StateAsync(table, cancellationToken).ConfigureAwait(false);
        var dates = await _reader.ReadAsync(table, state, "dates", t => DashboardQueries.PageDates(t, PageDatesShown), cancellationToken).ConfigureAwait(false);
        var days = dates.Rows?.Rows.Select(r => r[0]).OfType<DateTime>().Select(DateOnly.FromDateTime).ToList() ?? [];
        var day = date ?? (days.Count > 0 ? days[0] : null);
        var pages = day is { } d && dates.Status == SectionStatus.Ok
            ? await _reader.ReadAsync(table, state, Key("pages", d, limit), t => DashboardQueries.Pages(t, d, limit), cancellationToken).ConfigureAwait(false)
            : dates with { Rows = null };
        return DashboardJson.Write(w =>
        {
            if (day is { } shown) w.WriteString("date", Day(shown));
            else w.WriteNull("date");
            w.WriteStartArray("dates");
            foreach (var x in days) w.WriteStringValue(Day(x));
            w.WriteEndArray();
            DashboardJson.Section(w, "pages", pages);
        });
    }

    /// <summary><c>/api/trend?days=N</c>: per day (the last N days with data, default 30), events, TTI average and the highest page p95.</summary>
    private async Task<byte[]?> TrendAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var parameters = QueryParameters.Check(context.Request.Query, "days");
        var days = parameters.WholeNumber("days", 30, PageDatesShown);
        if (!await CheckedAsync(context, parameters).ConfigureAwait(false)) return null;
        var trend = await _reader.ReadAsync(DashboardTables.PagePerformanceDaily, Key("trend", days), t => DashboardQueries.Trend(t, days), cancellationToken)
            .ConfigureAwait(false);
        return DashboardJson.Write(w => DashboardJson.Section(w, "trend", trend));
    }

    /// <summary><c>/api/windows?table=page_metrics_1m&amp;key=…&amp;limit=N</c>: the latest windows of one windowed table.</summary>
    private async Task<byte[]?> WindowsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var parameters = QueryParameters.Check(context.Request.Query, "table", "key", "limit");
        var name = parameters.OneOf("table", [.. DashboardTables.Windows.Select(x => x.Table.Name)], DashboardTables.Windows[0].Table.Name)!;
        var key = parameters.Text("key", 2048);
        var limit = parameters.WholeNumber("limit", 60, QueryParameters.MaxLimit);
        if (!await CheckedAsync(context, parameters).ConfigureAwait(false)) return null;
        var window = DashboardTables.Window(name)!;
        var section = await _reader.ReadAsync(window.Table, Key("windows", key ?? "", limit), t => DashboardQueries.Windows(t, window, key, limit), cancellationToken)
            .ConfigureAwait(false);
        return DashboardJson.Write(w =>
        {
            w.WriteString("name", name);
            w.WriteString("keyColumn", window.KeyColumn);
            DashboardJson.Section(w, "windows", section);
        });
    }

    /// <summary><c>/api/alerts?rule=…&amp;limit=N</c>: the latest alerts, and how many there are per rule.</summary>
    private async Task<byte[]?> AlertsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var parameters = QueryParameters.Check(context.Request.Query, "rule", "limit");
        var rule = parameters.OneOf("rule", DashboardTables.AlertRules);
        var limit = parameters.WholeNumber("limit", 50, QueryParameters.MaxLimit);
        if (!await CheckedAsync(context, parameters).ConfigureAwait(false)) return null;
        var table = DashboardTables.Alerts;
        var state = await _reader.StateAsync(table, cancellationToken).ConfigureAwait(false);
        var alerts = await _reader.ReadAsync(table, state, Key("alerts", rule ?? "", limit), t => DashboardQueries.Alerts(t, rule, limit), cancellationToken).ConfigureAwait(false);
        var counts = await _reader.ReadAsync(table, state, "counts", DashboardQueries.AlertCounts, cancellationToken).ConfigureAwait(false);
        return DashboardJson.Write(w =>
        {
            DashboardJson.Section(w, "alerts", alerts);
            DashboardJson.Section(w, "counts", counts);
        });
    }

    /// <summary><c>/api/runs?limit=N</c>: the latest gold runs (<c>gold/_runs</c>) and silver runs with their quality counts (<c>silver/_quality</c>).</summary>
    private async Task<byte[]?> RunsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var parameters = QueryParameters.Check(context.Request.Query, "limit");
        var limit = parameters.WholeNumber("limit", 20, QueryParameters.MaxLimit);
        if (!await CheckedAsync(context, parameters).ConfigureAwait(false)) return null;
        var runs = await _reader.ReadAsync(DashboardTables.Runs, Key("runs", limit), t => DashboardQueries.Runs(t, limit), cancellationToken).ConfigureAwait(false);
        var quality = await _reader.ReadAsync(DashboardTables.Quality, Key("quality", limit), t => DashboardQueries.Quality(t, limit), cancellationToken).ConfigureAwait(false);
        return DashboardJson.Write(w =>
        {
            DashboardJson.Section(w, "runs", runs);
            DashboardJson.Section(w, "quality", quality);
        });
    }

    private static string Key(string query, params object[] values) =>
        query + " " + string.Join(" ", values.Select(v => v switch
        {
            DateOnly d => Day(d),
            string s => JsonSerializer.Serialize(s), // quoted: "a b" 3 and "a" "b 3" stay apart
            _ => Convert.ToString(v, CultureInfo.InvariantCulture),
        }));

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task ServeAssetAsync(HttpContext context, Asset asset)
    {
        var headers = context.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Bytes.Length;
        await context.Response.Body.WriteAsync(asset.Bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A file of the page, read once from the assembly's resources.</summary>
    private sealed record Asset(string Path, byte[] Bytes, string ContentType, string ETag)
    {
        internal static Asset Load(string path, string file, string contentType)
        {
            var name = "Lakehouse.Serve.Dashboard." + file;
            using var stream = typeof(Asset).Assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"The dashboard's resource '{name}' is not in the assembly.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return new Asset(path, bytes, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"");
        }
    }
}
