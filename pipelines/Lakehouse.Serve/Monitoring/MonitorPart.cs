using System.Globalization;
using Lakehouse.Serve.Ingest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Serve.Monitoring;

/// <summary><c>GET /metrics</c> (Prometheus text: HTTP ingest's counters and the command's own) and <c>GET /progress</c> (JSON).</summary>
internal sealed class MonitorPart(MonitorOptions options, HttpIngestEndpoint? ingest) : IServerPart
{
    internal const int DefaultLast = 20;
    internal const int MaxLast = 1000;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Map(WebApplication app)
    {
        app.MapMethods("/metrics", ReadMethods.GetAndHead, (HttpContext context) =>
        {
            var text = new PrometheusText();
            if (ingest is not null)
            {
                var s = ingest.Statistics;
                text.Counter("lakehouse_http_ingest_requests_total", "Requests to POST /ingest/{dataset}.", s.Requests)
                    .Counter("lakehouse_http_ingest_accepted_total", "Ingest requests answered 202 (their events committed to bronze).", s.Accepted)
                    .Counter("lakehouse_http_ingest_events_total", "Events committed to bronze by HTTP ingest.", s.Events)
                    .Counter("lakehouse_http_ingest_refused_total", "Ingest requests answered 400, 404, 413, 415 or 422.", s.Refused)
                    .Counter("lakehouse_http_ingest_overloaded_total", "Ingest requests answered 503 (queue or memory full, or stopping).", s.Overloaded)
                    .Counter("lakehouse_http_ingest_commits_total", "Bronze commits made by HTTP ingest.", ingest.Commits)
                    .Gauge("lakehouse_http_ingest_queued", "Ingest submissions waiting for a bronze commit.", ingest.Queued);
            }
            options.Metrics?.Invoke(text);
            return Results.Text(text.ToString(), PrometheusText.ContentType);
        });
        app.MapMethods("/progress", ReadMethods.GetAndHead, (HttpContext context) =>
        {
            if (options.Progress is null) return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No progress", detail: "This server runs no stream.");
            var last = DefaultLast;
            if (context.Request.Query["last"] is { Count: > 0 } given &&
                (!int.TryParse(given.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out last) || last is < 1 or > MaxLast))
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad parameter", detail: $"last must be a whole number from 1 to {MaxLast}.");
            return Results.Text(options.Progress(last), "application/json; charset=utf-8");
        });
    }

    public void BeginStop()
    {
    }

    public Task StopAsync() => Task.CompletedTask;
}
