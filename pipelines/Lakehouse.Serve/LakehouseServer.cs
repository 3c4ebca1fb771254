using Lakehouse.Core;
using Lakehouse.Engine;
using Lakehouse.Serve.Dashboard;
using Lakehouse.Serve.Ingest;
using Lakehouse.Serve.Monitoring;
using Lakehouse.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Serve;

/// <summary>What HTTP ingest has done since the server started.</summary>
/// <param name="Requests">Requests to <c>POST /ingest/{dataset}</c>.</param>
/// <param name="Accepted">Of those, answered 202.</param>
/// <param name="Events">Events committed to bronze.</param>
/// <param name="Commits">Bronze commits made (one holds the events of several requests).</param>
public sealed record IngestTotals(long Requests, long Accepted, long Events, long Commits);

/// <summary>
/// The HTTP server of <c>lakehouse serve</c> (ASP.NET Core's Kestrel, plain HTTP/1.1): HTTP ingest into bronze
/// (<c>POST /ingest/{dataset}</c>), the dashboard over gold and silver (<c>GET /</c>, <c>GET /api/…</c>), and <c>GET /metrics</c>
/// and <c>GET /progress</c> (<see cref="LakehouseServerOptions.Monitor"/>). It does not handle signals itself: the
/// caller stops it (the CLI on Ctrl+C or SIGTERM), and a stop refuses new requests, lets those in flight finish and commits
/// everything that was queued before it returns.
/// </summary>
public sealed class LakehouseServer : IAsyncDisposable
{
    private readonly LakehouseServerOptions _options;
    private readonly ILogger _log;
    private readonly HttpIngestEndpoint _ingest;
    private readonly DashboardPart _dashboard;
    private readonly IReadOnlyList<IServerPart> _parts;
    private readonly WebApplication _app;
    private int _state; // 0 created, 1 started, 2 stopped

    private LakehouseServer(LakehouseServerOptions options, ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        _options = options;
        _log = loggerFactory.CreateLogger<LakehouseServer>();
        _ingest = new HttpIngestEndpoint(options.Ingest, lake, engine, loggerFactory);
        _dashboard = new DashboardPart(options.Dashboard, lake, engine, loggerFactory);
        var monitor = new MonitorPart(options.Monitor, options.IngestEnabled ? _ingest : null);
        _parts = options.IngestEnabled ? [_ingest, _dashboard, monitor] : [_dashboard, monitor];

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "lakehouse" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Above the ingest limit, which the endpoint enforces itself on the decoded body (reading at most one byte past it):
            // Kestrel's limit applies to the bytes sent and must not cut in first.
            kestrel.Limits.MaxRequestBodySize = options.Ingest.MaxBodyBytes + 65_536;
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.Services.AddSingleton<ILoggerFactory>(new HostLoggerFactory(loggerFactory));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, CallerStopsLifetime>();
        builder.Services.AddRoutingCore();
        builder.Services.AddProblemDetails();
        _app = builder.Build();
        _app.UseExceptionHandler();
        _app.UseStatusCodePages();
        _app.Use(async (context, next) =>
        {
            if (RequestGuard.Check(context.Request, options.AllowedHosts) is { } refused)
            {
                if (context.Request.ContentLength is null or > 0) context.Response.Headers.Connection = "close"; // the body is not read
                await Results.Problem(detail: refused.Detail, statusCode: refused.Status, title: refused.Title, instance: context.Request.Path).ExecuteAsync(context).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
        _app.UseRouting();
        foreach (var part in _parts) part.Map(_app);
    }

    /// <summary>
    /// A server over the lake at <paramref name="lake"/> (bronze tables at <c>bronze/&lt;dataset&gt;</c>, the dashboard's at
    /// <c>gold/…</c> and <c>silver/_quality</c>), writing and reading through
    /// <paramref name="engine"/>. It listens once <see cref="StartAsync"/> is called.
    /// </summary>
    public static LakehouseServer Create(LakehouseServerOptions options, ILakeStorage lake, DuckEngine engine, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(engine);
        return new LakehouseServer(options, lake, engine, loggerFactory ?? NullLoggerFactory.Instance);
    }

    /// <summary>The addresses listened on, with the ports picked for port 0; empty before <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<Uri> Addresses =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a)).ToList() ?? [];

    /// <summary>HTTP ingest's totals so far.</summary>
    public IngestTotals Totals
    {
        get
        {
            var s = _ingest.Statistics;
            return new IngestTotals(s.Requests, s.Accepted, s.Events, _ingest.Commits);
        }
    }

    internal HttpIngestEndpoint Ingest => _ingest;

    internal DashboardPart Dashboard => _dashboard;

    /// <summary>
    /// Starts listening. An address that cannot be bound (in use, not an address of this machine) fails with InvalidInput, and so
    /// does a lake whose dataset definitions are not valid (naming each broken file).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) throw new InvalidOperationException("The server was started before.");
        try
        {
            foreach (var part in _parts) await part.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A part refused to start (the lake's dataset definitions are not valid): nothing listens, the started parts stop.
            Interlocked.Exchange(ref _state, 2);
            await StopPartsAsync().ConfigureAwait(false);
            throw;
        }
        try
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            Interlocked.Exchange(ref _state, 2);
            await StopPartsAsync().ConfigureAwait(false);
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Cannot listen on {string.Join(", ", _options.Urls)}: {e.Message}", e);
        }
        var addresses = string.Join(", ", Addresses);
        Log.Listening(_log, addresses);
    }

    /// <summary>
    /// Starts stopping without waiting: from now on new ingest requests are answered 503 with Retry-After, while it still
    /// listens, while requests in flight are answered and what they queued is committed; /progress and /metrics
    /// still answer. For a process that has other work to stop first (the stream's layers) before it calls <see cref="StopAsync"/>.
    /// </summary>
    public void BeginStop()
    {
        foreach (var part in _parts) part.BeginStop();
    }

    /// <summary>
    /// Stops gracefully: it stops listening at once (new connections are refused, idle ones closed; a request read just before
    /// is answered 503); requests in flight get their answers (waiting at most
    /// <see cref="LakehouseServerOptions.ShutdownTimeout"/>, after which their connections are closed); every queued submission
    /// is committed before this returns, answered or not.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) != 1) return;
        Log.Stopping(_log, _ingest.Queued);
        foreach (var part in _parts) part.BeginStop();
        using (var timeout = new CancellationTokenSource(_options.ShutdownTimeout))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        await StopPartsAsync().ConfigureAwait(false);
        var totals = Totals;
        Log.Stopped(_log, totals.Requests, totals.Events, totals.Commits);
    }

    /// <summary>Stops (see <see cref="StopAsync"/>) and releases the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await StopPartsAsync().ConfigureAwait(false);
        if (!_options.IngestEnabled) await _ingest.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _dashboard.Dispose();
    }

    private async Task StopPartsAsync()
    {
        foreach (var part in _parts) await part.StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The caller's logger factory, less the generic host's own events: a failed start is reported once, by
    /// <see cref="StartAsync"/>'s exception naming the address, not also as "Hosting failed to start".
    /// </summary>
    private sealed class HostLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

        public ILogger CreateLogger(string categoryName) =>
            categoryName == HostCategory ? NullLogger.Instance : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The caller owns the inner factory.
        }
    }

    /// <summary>The host's lifetime without signal handling: the CLI owns Ctrl+C and SIGTERM and calls <see cref="StopAsync"/>.</summary>
    private sealed class CallerStopsLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
