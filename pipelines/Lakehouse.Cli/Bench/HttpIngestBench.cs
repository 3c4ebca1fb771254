using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Lakehouse.Cli.Samples;
using Lakehouse.Core;
using Lakehouse.Engine;
using Lakehouse.Serve;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Bench;

/// <summary>One load level of the HTTP ingest benchmark: <c>clients</c> posting one body after the other for <c>seconds</c>.</summary>
internal sealed record HttpIngestRun(
    int Clients, int Requests, long Events, double Seconds, double EventsPerSecond, double MegabytesPerSecond,
    double P50Ms, double P99Ms, double MaxMs, long Commits, double EventsPerCommit, int Refused, long BronzeRows);

/// <summary>
/// The <c>http_ingest</c> case of <c>lakehouse bench</c>: NDJSON bodies of <c>events_per_request</c> web-log events posted to an in-process
/// <c>lakehouse serve</c> on 127.0.0.1 by 1 to N concurrent clients (the clients run in the same process, on the same cores).
/// A request's latency runs from sending it to reading its 202, which comes after the bronze commit holding its events.
/// </summary>
internal sealed record HttpIngestBenchResult(int EventsPerRequest, long BodyBytes, int DistinctBodies, IReadOnlyList<HttpIngestRun> Runs, double TotalSeconds);

/// <summary>The HTTP ingest case of the benchmark (see <see cref="HttpIngestBenchResult"/>).</summary>
internal static class HttpIngestBench
{
    private const int EventsPerRequest = 1000;
    private const int DistinctBodies = 16;

    /// <summary>One load level per entry of <paramref name="clientCounts"/>, each for <paramref name="duration"/>, in a fresh lake under <paramref name="run"/>.</summary>
    internal static async Task<HttpIngestBenchResult> RunAsync(DuckEngine engine, string run, IReadOnlyList<int> clientCounts, TimeSpan duration,
        Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var bodies = Bodies(engine);
        var runs = new List<HttpIngestRun>();
        foreach (var clients in clientCounts)
        {
            var lake = Path.Combine(run, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http-{clients}"));
            Directory.CreateDirectory(lake);
            try
            {
                runs.Add(await RunOneAsync(engine, lake, bodies, clients, duration, cancellationToken).ConfigureAwait(false));
                var r = runs[^1];
                progress(FormattableString.Invariant($"http_ingest: {clients} clients: {r.EventsPerSecond:N0} events/s, p50 {r.P50Ms:N1} ms, p99 {r.P99Ms:N1} ms, {r.EventsPerCommit:N0} events/commit"));
            }
            finally
            {
                Directory.Delete(lake, recursive: true);
            }
        }
        return new HttpIngestBenchResult(EventsPerRequest, bodies[0].Length, bodies.Length, runs, Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    private static async Task<HttpIngestRun> RunOneAsync(DuckEngine engine, string lake, byte[][] bodies, int clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        var options = new LakehouseServerOptions { Urls = ["http://127.0.0.1:0"] };
        options.Ingest.GroupCommit.CompactEveryCommits = 0; // the benchmark measures ingest, not compaction
        var server = LakehouseServer.Create(options, LakeStorage.Open(lake), engine);
        await using (server.ConfigureAwait(false))
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients + 1 }) { BaseAddress = server.Addresses[0], Timeout = TimeSpan.FromMinutes(5) };
            await PostAsync(http, bodies[0], cancellationToken).ConfigureAwait(false); // creates the table: not timed

            var latencies = new List<double>[clients];
            var refused = 0;
            var started = Stopwatch.GetTimestamp();
            var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
            {
                var mine = latencies[c] = [];
                for (var i = c; Stopwatch.GetTimestamp() < end; i++)
                {
                    var sent = Stopwatch.GetTimestamp();
                    if (await PostAsync(http, bodies[i % bodies.Length], cancellationToken).ConfigureAwait(false)) mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    else Interlocked.Increment(ref refused);
                }
            }, cancellationToken))).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var commitsBefore = 1L;
            var (_, _, events, commits) = server.Totals;
            await server.StopAsync().ConfigureAwait(false);

            var all = latencies.SelectMany(l => l).Order().ToList();
            var timedEvents = all.Count * (long)EventsPerRequest;
            var table = Delta.DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, "bronze", "weblogs")), engine);
            var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            long rows;
            using (var lease = engine.Lease())
            using (var scan = await Delta.Scan.DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                rows = Convert.ToInt64(lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})", cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }
            if (rows != events)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The HTTP benchmark's bronze table holds {rows} rows, but {events} events were answered 202.");
            var bytes = all.Count * (double)bodies[0].Length;
            return new HttpIngestRun(clients, all.Count, timedEvents, Math.Round(seconds, 2), Math.Round(timedEvents / seconds), Math.Round(bytes / seconds / 1e6, 1),
                Percentile(all, 0.50), Percentile(all, 0.99), Math.Round(all.Count > 0 ? all[^1] : 0, 1), commits - commitsBefore,
                Math.Round(commits > commitsBefore ? timedEvents / (double)(commits - commitsBefore) : 0), refused, rows);
        }
    }

    private static async Task<bool> PostAsync(HttpClient http, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await http.PostAsync("/ingest/weblogs", content, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable) return false;
        if (response.StatusCode != HttpStatusCode.Accepted)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The HTTP benchmark's request was answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        return true;
    }

    /// <summary>Distinct NDJSON bodies of web-log events as producers send them.</summary>
    private static byte[][] Bodies(DuckEngine engine)
    {
        using var lease = engine.Lease();
        using var result = lease.Connection.Query($"SELECT CAST(to_json(t) AS VARCHAR) FROM ({WebLogSample.Sql(EventsPerRequest * DistinctBodies, 7, new DateOnly(2024, 5, 1))}) t");
        var lines = new List<string>();
        while (result.Read()) lines.Add(result.GetString(0));
        return [.. lines.Chunk(EventsPerRequest).Select(chunk => Encoding.UTF8.GetBytes(string.Join('\n', chunk) + "\n"))];
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)], 1);
}
