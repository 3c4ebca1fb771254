using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Delta;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;

namespace Lakehouse.Cli.Tests.Kafka;

/// <summary>
/// <c>lakehouse stream --from kafka://…</c> as a user runs it: the real binary in child processes, <c>lakehouse produce</c> sending
/// simulated web logs (with duplicates and malformed events) into librdkafka's mock cluster, /progress and /metrics read over HTTP,
/// SIGTERM mid-stream, and every layer checked afterwards against what the producer says it sent.
/// </summary>
public sealed class StreamCommandTests(EngineFixture engine, KafkaClusterFixture kafka) : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private static readonly Dictionary<string, string> KafkaEnvironment = new() { ["LAKEHOUSE_KAFKA_PROPERTIES"] = KafkaMockCluster.FastGroupProperties };
    private readonly TempDirectory _temp = new("cli-stream");
    private readonly string _topic = "weblogs" + Guid.NewGuid().ToString("N")[..8];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private KafkaMockCluster Cluster => kafka.Cluster;

    public void Dispose()
    {
        _http.Dispose();
        _temp.Dispose();
    }

    /// <summary>Sends simulated web logs; returns (sends, duplicates, malformed) as the producer reports them.</summary>
    private async Task<(long Sends, long Duplicates, long Malformed)> ProduceAsync(int events, int seed, params string[] extra)
    {
        var result = await CliRunner.RunAsync(KafkaEnvironment, ["produce", "--dataset", "weblogs", "--events", events.ToString(CultureInfo.InvariantCulture),
            "--seed", seed.ToString(CultureInfo.InvariantCulture), "--duplicates", "0.05", "--malformed", "0.02", "--to", Cluster.Uri(_topic), "--json", .. extra]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var summary = JsonDocument.Parse(result.Stdout);
        var root = summary.RootElement;
        return (root.GetProperty("events").GetInt64(), root.GetProperty("duplicates").GetInt64(), root.GetProperty("malformed").GetInt64());
    }

    private string[] Stream(string lake, int port, string group, params string[] extra)
    {
        var layers = Array.IndexOf(extra, "--layers") is var i and >= 0 ? extra[i + 1] : "bronze";
        string[] groupArgs = layers.Contains("bronze", StringComparison.Ordinal) ? ["--from", Cluster.Uri(_topic), "--group", group] : [];
        return ["stream", "--lake", lake, "--dataset", "weblogs", "--port", port.ToString(CultureInfo.InvariantCulture), "--poll-ms", "100", "--compact-every", "3",
            .. layers.Contains("bronze", StringComparison.Ordinal) ? new[] { "--max-batch-ms", "200" } : [], .. groupArgs, .. extra];
    }

    private async Task<JsonElement[]> ProgressAsync(int port)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/progress?last=1000")));
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private async Task<Dictionary<string, double>> MetricsAsync(int port)
    {
        using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        // Every family has its HELP and TYPE before its first sample.
        foreach (var family in samples.Keys.Select(k => k.Split('{')[0]).Distinct())
        {
            Assert.Contains($"# HELP {family} ", text, StringComparison.Ordinal);
            Assert.Matches($"# TYPE {family} (counter|gauge)\n", text);
        }
        return samples;
    }

    /// <summary>The dataset's gold tables, each with its own consumed silver version: a stop may fall between their commits.</summary>
    private static readonly string[] GoldTables =
        ["page_performance_daily", "page_metrics_1m", "page_metrics_5m", "page_sessions", "page_metrics_1m_corrections", "page_metrics_5m_corrections"];

    /// <param name="Bronze">Bronze's latest version.</param>
    /// <param name="SilverConsumed">The bronze version silver consumed.</param>
    /// <param name="Silver">Silver's latest version.</param>
    /// <param name="GoldConsumed">The silver version page_performance_daily consumed.</param>
    /// <param name="GoldAllConsumed">The oldest silver version any of <see cref="GoldTables"/> consumed; null while one has none.</param>
    private sealed record Versions(long? Bronze, long? SilverConsumed, long? Silver, long? GoldConsumed, long? GoldAllConsumed);

    private async Task<Versions> VersionsAsync(string lake)
    {
        async Task<DeltaSnapshot?> Snap(string relative)
        {
            var table = DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, relative)), engine.Engine);
            return await table.ExistsAsync() ? await table.GetSnapshotAsync() : null;
        }
        var bronze = await Snap("bronze/weblogs");
        var silver = await Snap("silver/weblogs");
        var gold = new List<long?>();
        foreach (var table in GoldTables) gold.Add((await Snap("gold/" + table))?.TransactionVersion("lakehouse-gold/silver.weblogs"));
        return new Versions(bronze?.Version, silver?.TransactionVersion("lakehouse-silver/bronze.weblogs"), silver?.Version, gold[0],
            gold.Any(v => v is null) ? null : gold.Min());
    }

    /// <summary>Bronze holds <paramref name="events"/> rows, silver consumed bronze's latest version and every gold table silver's.</summary>
    private async Task<bool> CaughtUpAsync(string lake, long events)
    {
        if ((await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"))).Count != events) return false;
        var v = await VersionsAsync(lake);
        return v.Bronze is not null && v.SilverConsumed == v.Bronze && v.Silver is not null && v.GoldAllConsumed == v.Silver;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, params CliProcess[] processes)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(4) || processes.Any(p => p.HasExited))
                Assert.Fail($"Timed out waiting for {what} (or a stream ended). " + string.Join("\n---\n", processes.Select(p => p.Stderr)));
            await Task.Delay(250);
        }
    }

    private static async Task<List<string>> SqlAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    private static async Task<long> CountAsync(string lake, string query) => long.Parse((await SqlAsync(lake, query))[0], CultureInfo.InvariantCulture);

    private static double Sample(Dictionary<string, double> metrics, string name, string stage) =>
        metrics.Single(m => m.Key.StartsWith(name + "{", StringComparison.Ordinal) && m.Key.Contains($"stage=\"{stage}\"", StringComparison.Ordinal)).Value;

    /// <summary>Live files per partition value of a table's latest version, the largest.</summary>
    private async Task<int> MaxFilesPerPartitionAsync(string lake, string relative)
    {
        var table = DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, relative)), engine.Engine);
        var snapshot = await table.GetSnapshotAsync();
        return snapshot.Files.GroupBy(f => string.Join("/", f.PartitionValues.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value))).Max(g => g.Count());
    }

    [Fact]
    public async Task Stream_KafkaEventsThenSigTermMidStreamAndRestart_EveryLayerHoldsEachEventOnceAndProgressCountsMatch()
    {
        var partitions = Cluster.CreateTopic(_topic);
        var lake = _temp.Combine("lake");
        var group = "stream" + Guid.NewGuid().ToString("N")[..8];
        var first = await ProduceAsync(3000, 31);

        var (run, port) = await CliRunner.StartListeningAsync(p => Stream(lake, p, group), KafkaEnvironment);
        long bronzeAfterFirstRun;
        (long Sends, long Duplicates, long Malformed) second;
        using (run)
        {
            await WaitForAsync(() => CaughtUpAsync(lake, first.Sends), "the first 3,000 events in every layer", run);
            // /progress: the batches' bronze rows add up to what was produced, silver's outcomes to what it read.
            // Silver and gold run side by side, each emitting its own batches: wait until the last record shows both caught up.
            await WaitForAsync(async () => (await ProgressAsync(port)) is [.., var p] && p.GetProperty("totals").GetProperty("silverIn").GetInt64() == first.Sends &&
                p.GetProperty("sink").TryGetProperty("goldConsumedSilverVersion", out var gold) && p.GetProperty("sink").TryGetProperty("silverVersion", out var silver) &&
                gold.GetInt64() == silver.GetInt64(), "progress to show silver and gold caught up", run);
            var progress = await ProgressAsync(port);
            var last = progress[^1];
            var totals = last.GetProperty("totals");
            Assert.Equal(first.Sends, totals.GetProperty("bronze").GetInt64());
            Assert.Equal(first.Sends, progress.Sum(p => p.GetProperty("numInputRows").GetInt64()));
            Assert.Equal(first.Sends - first.Duplicates - first.Malformed, totals.GetProperty("silver").GetInt64());
            Assert.Equal(first.Malformed, totals.GetProperty("quarantined").GetInt64());
            Assert.Equal(first.Duplicates, totals.GetProperty("duplicates").GetInt64());
            Assert.Equal(progress.Select((_, i) => (long)i), progress.Select(p => p.GetProperty("batchId").GetInt64()));
            Assert.Equal("bronze+silver+gold", last.GetProperty("layers").GetString());
            Assert.True(last.TryGetProperty("watermark", out var watermark) && watermark.GetDateTimeOffset() > new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero));
            foreach (var phase in new[] { "receive", "bronzeCommit", "silver", "gold", "triggerExecution" })
                Assert.True(progress.Any(p => p.GetProperty("durationMs").GetProperty(phase).GetInt64() > 0), phase);
            // Source offsets: per partition, the end of the last batch that read it is the broker's end offset.
            var ends = Cluster.EndOffsets(_topic);
            var seen = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var p in progress)
                foreach (var source in p.GetProperty("sources").EnumerateArray())
                {
                    Assert.Equal(Cluster.Uri(_topic), source.GetProperty("description").GetString());
                    foreach (var end in source.GetProperty("endOffset").EnumerateObject()) seen[end.Name] = end.Value.GetInt64();
                }
            Assert.Equal(ends.Where(e => e.Value > 0).ToDictionary(e => e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value), seen);

            var metrics = await MetricsAsync(port);
            Assert.Equal(first.Sends, Sample(metrics, "lakehouse_stream_rows_total", "bronze"));
            Assert.Equal(first.Sends, Sample(metrics, "lakehouse_stream_rows_total", "silverIn"));
            Assert.Equal(first.Sends - first.Duplicates - first.Malformed, Sample(metrics, "lakehouse_stream_rows_total", "silver"));
            Assert.Equal(progress.Length, metrics.Single(m => m.Key.StartsWith("lakehouse_stream_batches_total{", StringComparison.Ordinal)).Value);

            // More events while it runs; SIGTERM once some of them are in bronze.
            var producing = ProduceAsync(3000, 32, "--rate", "1000", "--batch", "50");
            await WaitForAsync(async () => (await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"))).Count > first.Sends + 300, "the second events to reach bronze", run);
            await run.SignalAsync("TERM");
            var ended = await run.WaitAsync();
            Assert.True(ended.ExitCode == 143, ended.Stderr);
            Assert.Matches(@"stream \S+: \d+ batches; bronze [\d,]+", ended.Stdout);
            second = await producing;
            bronzeAfterFirstRun = (await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"))).Count;
        }

        // lakehouse status shows the stopped stream's last batch.
        var status = await CliRunner.RunAsync("status", "--lake", lake, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using (var doc = JsonDocument.Parse(status.Stdout))
        {
            var stream = Assert.Single(doc.RootElement.GetProperty("streams").EnumerateArray());
            Assert.True(stream.GetProperty("stopped").GetBoolean());
            Assert.Equal("weblogs", stream.GetProperty("dataset").GetString());
            Assert.Equal(bronzeAfterFirstRun, stream.GetProperty("totals").GetProperty("bronze").GetInt64());
        }

        var produced = first.Sends + second.Sends;
        (long Sends, long Duplicates, long Malformed) third;
        using (var restart = CliRunner.Start(Stream(lake, port, group), environment: KafkaEnvironment))
        {
            await WaitForAsync(() => CaughtUpAsync(lake, produced), "the restarted stream to catch up", restart);
            // Then a trickle in small sends: many micro-batches in every layer, so compaction and checkpoints have work.
            third = await ProduceAsync(2000, 33, "--rate", "400", "--batch", "20");
            produced += third.Sends;
            await WaitForAsync(() => CaughtUpAsync(lake, produced), "the trickle in every layer", restart);
            await WaitForAsync(async () => (await ProgressAsync(port)) is [.., var p] && p.GetProperty("sink").GetProperty("goldConsumedSilverVersion").GetInt64() == (await VersionsAsync(lake)).Silver,
                "progress to show gold caught up", restart);
            var metrics = await MetricsAsync(port);
            Assert.Equal(produced - bronzeAfterFirstRun, Sample(metrics, "lakehouse_stream_rows_total", "bronze"));
            Assert.Equal(Sample(metrics, "lakehouse_stream_rows_total", "silverIn"),
                Sample(metrics, "lakehouse_stream_rows_total", "silver") + Sample(metrics, "lakehouse_stream_rows_total", "quarantined") + Sample(metrics, "lakehouse_stream_rows_total", "duplicates"));
            await restart.SignalAsync("INT");
            Assert.Equal(130, (await restart.WaitAsync()).ExitCode);
        }

        // Exactly once in every layer: bronze = produced, each (partition, offset) once; bronze = silver + quarantine + duplicates.
        var rows = await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"));
        Assert.Equal(produced, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.Equal(Cluster.EndOffsets(_topic).Values.Sum(), rows.Count);
        var silverRows = await CountAsync(lake, "SELECT count(*) FROM silver.weblogs");
        Assert.Equal(silverRows, await CountAsync(lake, "SELECT count(DISTINCT event_id) FROM silver.weblogs"));
        Assert.Equal(produced - first.Duplicates - second.Duplicates - third.Duplicates - first.Malformed - second.Malformed - third.Malformed, silverRows);
        Assert.Equal(first.Malformed + second.Malformed + third.Malformed, await CountAsync(lake, "SELECT count(*) FROM silver.weblogs_quarantine"));
        Assert.Equal(silverRows, await CountAsync(lake, "SELECT sum(events) FROM gold.page_performance_daily"));
        Assert.Equal(silverRows, await CountAsync(lake, "SELECT sum(events) FROM gold.page_metrics_1m"));

        // Small files: compaction every 3 commits keeps every partition of every table this stream wrote to a handful of files.
        // Checkpoints: a table with 10 or more commits has one, so a snapshot replays at most the commits after it.
        var bronzeVersion = (await VersionsAsync(lake)).Bronze!.Value;
        Assert.True(bronzeVersion >= 10, $"bronze has only {bronzeVersion + 1} commits: too few micro-batches for the test to mean anything");
        foreach (var table in new[] { "bronze/weblogs", "silver/weblogs", "silver/weblogs_quarantine", "gold/page_performance_daily", "gold/page_metrics_1m" })
        {
            Assert.InRange(await MaxFilesPerPartitionAsync(lake, table), 1, 6);
            var snapshot = await DeltaTable.Open(LakeStorage.Open(Path.Combine(lake, table)), engine.Engine).GetSnapshotAsync();
            if (snapshot.Version >= 10) Assert.True(File.Exists(Path.Combine(lake, table, "_delta_log", "_last_checkpoint")), table + " has no checkpoint");
        }
        Assert.Equal(4, partitions);
    }

    /// <summary>
    /// The whole medallion SIGKILLed twice while events keep arriving (bronze micro-batches, silver and gold following,
    /// compaction every 3 commits), then run until it caught up: every layer holds each event once, every table passes
    /// <c>table check</c>, and gold equals a gold built in one run from a copy of the same silver.
    /// </summary>
    [Fact]
    public async Task Stream_SigKilledTwiceWhileEventsArrive_EveryLayerOnceAndGoldAsFromOneRun()
    {
        Cluster.CreateTopic(_topic);
        var lake = _temp.Combine("lake");
        var group = "kill" + Guid.NewGuid().ToString("N")[..8];
        var producing = ProduceAsync(4000, 51, "--rate", "800", "--batch", "40");
        var port = 0;
        foreach (var bronzeRowsBeforeKill in new[] { 600, 1800 })
        {
            var (run, listening) = await CliRunner.StartListeningAsync(p => Stream(lake, p, group), KafkaEnvironment);
            port = listening;
            using (run)
            {
                await WaitForAsync(async () => (await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"))).Count >= bronzeRowsBeforeKill &&
                    (await VersionsAsync(lake)).GoldConsumed is not null, $"{bronzeRowsBeforeKill} events in bronze and a gold commit", run);
                await run.SignalAsync("KILL");
                Assert.Equal(137, (await run.WaitAsync()).ExitCode);
            }
        }
        var produced = await producing;
        using (var last = CliRunner.Start(Stream(lake, port, group), environment: KafkaEnvironment))
        {
            await WaitForAsync(() => CaughtUpAsync(lake, produced.Sends), "the stream to catch up after the kills", last);
            await last.SignalAsync("INT");
            Assert.Equal(130, (await last.WaitAsync()).ExitCode);
        }

        var rows = await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"));
        Assert.Equal(produced.Sends, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        var silverRows = await CountAsync(lake, "SELECT count(*) FROM silver.weblogs");
        Assert.Equal(produced.Sends - produced.Duplicates - produced.Malformed, silverRows);
        Assert.Equal(silverRows, await CountAsync(lake, "SELECT count(DISTINCT event_id) FROM silver.weblogs"));
        Assert.Equal(produced.Malformed, await CountAsync(lake, "SELECT count(*) FROM silver.weblogs_quarantine"));
        foreach (var table in new[] { "bronze.weblogs", "silver.weblogs", "silver.weblogs_quarantine", "gold.page_performance_daily", "gold.page_metrics_1m", "gold.page_metrics_5m", "gold.page_sessions" })
        {
            var check = await CliRunner.RunAsync("table", "check", table, "--lake", lake);
            Assert.True(check.ExitCode == 0, table + ": " + check.Stdout + check.Stderr);
        }

        // Gold from one run over a copy of the same silver: the same rows in every table (the on-time results depend only on the rows' ingest times).
        var once = _temp.Combine("once");
        CopyDirectory(Path.Combine(lake, "silver"), Path.Combine(once, "silver"));
        var gold = await CliRunner.RunAsync("gold", "run", "--lake", once, "--dataset", "weblogs");
        Assert.True(gold.ExitCode == 0, gold.Stderr);
        foreach (var table in new[] { "page_performance_daily", "page_metrics_1m", "page_metrics_5m", "page_sessions", "page_metrics_1m_corrections", "page_metrics_5m_corrections" })
        {
            var query = $"SELECT * FROM gold.{table} ORDER BY ALL";
            Assert.Equal(await SqlAsync(once, query), await SqlAsync(lake, query));
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stream_OneProcessPerLayer_GivesTheSameTablesAsOneProcessForEverything()
    {
        Cluster.CreateTopic(_topic);
        var produced = await ProduceAsync(4000, 41);
        var together = _temp.Combine("together");
        var apart = _temp.Combine("apart");
        var groupAll = "all" + Guid.NewGuid().ToString("N")[..8];
        var (all, _) = await CliRunner.StartListeningAsync(p => Stream(together, p, groupAll), KafkaEnvironment);
        using var allStarted = all;
        var groupApart = "apart" + Guid.NewGuid().ToString("N")[..8];
        var (bronze, _) = await CliRunner.StartListeningAsync(p => Stream(apart, p, groupApart, "--layers", "bronze"), KafkaEnvironment);
        using var bronzeStarted = bronze;
        var (silver, silverPort) = await CliRunner.StartListeningAsync(p => Stream(apart, p, groupApart, "--layers", "silver"), KafkaEnvironment);
        using var silverStarted = silver;
        var (gold, _) = await CliRunner.StartListeningAsync(p => Stream(apart, p, groupApart, "--layers", "gold"), KafkaEnvironment);
        using var goldStarted = gold;

        await WaitForAsync(() => CaughtUpAsync(together, produced.Sends), "the one process to catch up", all);
        await WaitForAsync(() => CaughtUpAsync(apart, produced.Sends), "the three processes to catch up", bronze, silver, gold);

        // The silver worker's progress reads bronze versions, not the stream.
        var silverProgress = await ProgressAsync(silverPort);
        Assert.All(silverProgress, p => Assert.Equal("bronze.weblogs", Assert.Single(p.GetProperty("sources").EnumerateArray()).GetProperty("description").GetString()));
        Assert.Equal(produced.Sends, silverProgress.Sum(p => p.GetProperty("numInputRows").GetInt64()));
        Assert.All(silverProgress, p => Assert.Equal("silver", p.GetProperty("layers").GetString()));

        foreach (var p in new[] { all, bronze, silver, gold }) await p.SignalAsync("TERM");
        foreach (var p in new[] { all, bronze, silver, gold }) Assert.Equal(143, (await p.WaitAsync()).ExitCode);

        foreach (var query in new[]
        {
            // Sums of doubles in another row order differ in the last digits: rounded.
            "SELECT count(*), count(DISTINCT event_id), round(sum(tti_ms), 3) FROM silver.weblogs",
            "SELECT count(*) FROM silver.weblogs_quarantine",
            "SELECT * REPLACE (round(tti_avg_ms, 6) AS tti_avg_ms, round(ttar_avg_ms, 6) AS ttar_avg_ms, round(error_rate, 9) AS error_rate) FROM gold.page_performance_daily ORDER BY ALL",
            // late_events depends on how the stream was cut into bronze micro-batches (a row is late against the batches before it),
            // and each setup ran its own bronze consumer: compared as a total against bronze's own batches below.
            "SELECT * EXCLUDE (late_events) REPLACE (round(tti_avg_ms, 6) AS tti_avg_ms, round(error_rate, 9) AS error_rate) FROM gold.page_metrics_1m ORDER BY ALL",
            "SELECT * EXCLUDE (late_events) REPLACE (round(tti_avg_ms, 6) AS tti_avg_ms, round(error_rate, 9) AS error_rate) FROM gold.page_metrics_5m ORDER BY ALL",
        })
        {
            var expected = await SqlAsync(together, query);
            Assert.NotEmpty(expected);
            Assert.Equal(expected, await SqlAsync(apart, query));
        }
        Assert.Equal(produced.Sends - produced.Duplicates - produced.Malformed, await CountAsync(apart, "SELECT count(*) FROM silver.weblogs"));

        // Late events, per setup, recounted from its own silver rows: a row is late when its event time is more than the default
        // 10-second delay behind the newest event of the micro-batches (ingest times) that reached bronze before it.
        const string Late = """
            SELECT count(*) FROM silver.weblogs AS s JOIN (
              SELECT ingest_time, max(newest) OVER (ORDER BY ingest_time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
              FROM (SELECT ingest_time, max("timestamp") AS newest FROM silver.weblogs GROUP BY ingest_time)) AS b USING (ingest_time)
            WHERE s."timestamp" < b.before - INTERVAL 10 SECOND
            """;
        foreach (var lake in new[] { together, apart })
            Assert.Equal(await CountAsync(lake, Late), await CountAsync(lake, "SELECT coalesce(sum(late_events), 0) FROM gold.page_metrics_1m"));
    }
}
