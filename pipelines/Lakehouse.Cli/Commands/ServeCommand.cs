using System.CommandLine;
using System.Globalization;
using Lakehouse.Serve;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse serve</c>: the HTTP server (HTTP ingest into bronze, the dashboard over gold) until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("serve", "Serve HTTP ingest (POST /ingest/<dataset>) into the lake's bronze tables and the dashboard (GET /) until Ctrl+C or SIGTERM.")
        {
            Details = """
                POST /ingest/<dataset> with Content-Type application/x-ndjson (or text/plain: one event per line) or application/json
                (a JSON array of events, or one object). 202 comes only once the events are committed to bronze.<dataset>; the answer
                carries the request id (also the events' source in bronze) and the bronze version. Concurrent requests share commits.
                An Idempotency-Key header makes a retry land nothing twice. Other answers: 400 malformed body (a JSON body that does not
                parse; NDJSON lines are landed whatever they hold), 404 unknown dataset, 413 body over --max-body-bytes (or with more events than --max-buffered-bytes holds at 256 bytes
                each beside their bytes), 415 another
                Content-Type, 422 an Idempotency-Key reused with another body, 503 + Retry-After when the queue or the body memory is
                full or the server is stopping. Errors are RFC 7807 problem+json.
                GET / is the dashboard: TTI and TTAR per page (p50/p95), the trend per day, windowed metrics, alerts, gold runs and silver
                quality, read from the lake's gold tables and silver/_quality; an open page checks for new table versions every
                --refresh-seconds and redraws what changed. Its JSON is under /api/ (versions, pages, trend, windows, alerts, runs).
                Ctrl+C or SIGTERM stops accepting, answers the requests in flight, commits what was queued, then exits 130 (143).
                The address is printed on standard output as "listening on <url>" (port 0 picks a free port).
                Requests that name a host other than an IP address, localhost or an --allowed-host are answered 400, and a POST a web page
                of another origin sends (Origin, Sec-Fetch-Site) 403: pages in a browser cannot read the dashboard through a re-pointed DNS
                name or land events. Programs (curl, collectors) send no Origin and are not concerned.
                """,
            Examples =
            [
                "lakehouse serve --lake ./lake",
                "lakehouse serve --urls http://0.0.0.0:8080 --max-body-bytes 67108864",
                "lakehouse serve --lake ./lake --refresh-seconds 2   # then open http://127.0.0.1:8080/",
                "curl -H 'Content-Type: application/x-ndjson' --data-binary @events.ndjson http://127.0.0.1:8080/ingest/weblogs",
            ],
        };
        var urls = CommandLine.Text("--urls", $"Where to listen: http://host:port, several separated by ';' (default {LakehouseServerOptions.DefaultUrl}; port 0: a free port).", "urls");
        urls.Validators.Add(result =>
        {
            var given = Split(result.GetValueOrDefault<string?>());
            if (given.Length == 0) result.AddError($"--urls: give at least one address to listen on, e.g. {LakehouseServerOptions.DefaultUrl}.");
            foreach (var url in given)
            {
                if (LakehouseServerOptions.CheckUrl(url) is { } problem) result.AddError("--urls: " + problem);
            }
        });
        var maxBody = CommandLine.WholeNumber("--max-body-bytes", "The largest request body in bytes (default 33554432, 32 MiB); bigger ones are answered 413.", min: 1, max: int.MaxValue - 64);
        var maxBuffered = CommandLine.WholeNumber("--max-buffered-bytes", "Request bodies held in memory at once, in bytes, each event counting 256 bytes more (default 536870912, 512 MiB); past it requests are answered 503.", min: 1);
        var maxQueued = CommandLine.WholeNumber("--max-queued-requests", "Requests waiting for a commit, per dataset (default 1024); past it requests are answered 503.", min: 1, max: 1_000_000);
        var maxCommitEvents = CommandLine.WholeNumber("--max-commit-events", "A commit takes waiting requests up to this many events (default 1000000).", min: 1, max: int.MaxValue);
        var refresh = CommandLine.WholeNumber("--refresh-seconds", "How often an open dashboard checks for new table versions (default 5).", min: 1, max: 3600);
        var allowedHosts = CommandLine.Text("--allowed-host",
            "Host names clients reach the server by, besides IP addresses and localhost, several separated by ';' (requests naming another host are refused).", "names");
        // Each name is compared with the Host of a request as it is: a wildcard or a name with spaces would never match, silently.
        allowedHosts.Validators.Add(result =>
        {
            var given = Split(result.GetValueOrDefault<string?>());
            if (given.Length == 0) result.AddError("--allowed-host: give at least one host name, e.g. --allowed-host lakehouse.example.");
            foreach (var name in given.Where(n => Uri.CheckHostName(n) != UriHostNameType.Dns))
                result.AddError($"--allowed-host: '{name}' is not a host name (letters, digits, '-' and '.'; no wildcards: list each name). IP addresses and localhost are always allowed.");
        });
        foreach (var o in new Option[] { urls, maxBody, maxBuffered, maxQueued, maxCommitEvents, refresh, allowedHosts }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new LakehouseServerOptions();
            if (parse.GetValue(urls) is { } given) options.Urls = Split(given);
            if (parse.GetValue(maxBody) is { } body) options.Ingest.MaxBodyBytes = body;
            if (parse.GetValue(maxBuffered) is { } buffered) options.Ingest.MaxBufferedBytes = buffered;
            else if (options.Ingest.MaxBodyBytes > options.Ingest.MaxBufferedBytes) options.Ingest.MaxBufferedBytes = options.Ingest.MaxBodyBytes;
            if (options.Ingest.MaxBufferedBytes < options.Ingest.MaxBodyBytes)
                throw CommandLine.Usage($"--max-buffered-bytes ({options.Ingest.MaxBufferedBytes}) must be at least --max-body-bytes ({options.Ingest.MaxBodyBytes})");
            if (parse.GetValue(maxQueued) is { } queued) options.Ingest.GroupCommit.MaxQueuedSubmissions = (int)queued;
            if (parse.GetValue(maxCommitEvents) is { } events) options.Ingest.GroupCommit.MaxCommitEvents = (int)events;
            if (parse.GetValue(refresh) is { } seconds) options.Dashboard.RefreshInterval = TimeSpan.FromSeconds(seconds);
            options.AllowedHosts = Split(parse.GetValue(allowedHosts));

            using var lake = session.OpenLake(parse);
            var server = LakehouseServer.Create(options, lake.Root, lake.Engine, lake.LoggerFactory);
            await using (server.ConfigureAwait(false))
            {
                await StartAsync(server, session, cancellationToken).ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: stop gracefully below, then end as cancelled (130 or 143).
                }
                await server.StopAsync().ConfigureAwait(false);
                var (requests, accepted, committed, commits) = server.Totals;
                await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"served {requests:N0} ingest requests: {accepted:N0} accepted, {committed:N0} events in {commits:N0} commits")).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>Starts <paramref name="server"/> and prints <c>listening on &lt;url&gt;</c> for each of its addresses (what scripts wait for).</summary>
    internal static async Task StartAsync(LakehouseServer server, CliSession session, CancellationToken cancellationToken)
    {
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var address in server.Addresses) await session.Out.WriteLineAsync($"listening on {address.ToString().TrimEnd('/')}").ConfigureAwait(false);
        await session.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private static string[] Split(string? urls) =>
        urls is null ? [] : urls.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
