using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Cli.Streaming;
using Lakehouse.Delta;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;
using Xunit.Abstractions;

namespace Lakehouse.Cli.Tests.Kafka;

/// <summary>
/// <c>lakehouse stream</c> under a steady load, measured (printed, not asserted: speed is measured, not a unit test's verdict): produce
/// → visible latency in bronze, silver and gold (p50/p99), files per partition, log length and snapshot load time of every table
/// after the run. Asserted: every produced event is in bronze once and reconciles through silver. Sizes from the environment:
/// LAKEHOUSE_STREAM_BENCH_SECONDS (default 8), LAKEHOUSE_STREAM_BENCH_RATE (events/s, default 2000),
/// LAKEHOUSE_STREAM_BENCH_BATCH_MS (--max-batch-ms, default 500). Run with
/// <c>dotnet test tests/Lakehouse.Cli.Tests -c Release --filter StreamMeasurement --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class StreamMeasurementTests(EngineFixture engine, KafkaClusterFixture kafka, ITestOutputHelper output)
    : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private static readonly Dictionary<string, string> KafkaEnvironment = new() { ["LAKEHOUSE_KAFKA_PROPERTIES"] = KafkaMockCluster.FastGroupProperties };
    private readonly TempDirectory _temp = new("cli-stream-bench");

    public void Dispose() => _temp.Dispose();

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    [Fact]
    public async Task StreamMeasurement_SteadyRate_LatencyFilesAndSnapshotTimes()
    {
        var seconds = Setting("LAKEHOUSE_STREAM_BENCH_SECONDS", 8);
        var rate = Setting("LAKEHOUSE_STREAM_BENCH_RATE", 2000);
        var batchMs = Setting("LAKEHOUSE_STREAM_BENCH_BATCH_MS", 500);
        var topic = "bench" + Guid.NewGuid().ToString("N")[..8];
        var cluster = kafka.Cluster;
        cluster.CreateTopic(topic);
        var lake = _temp.Combine("lake");
        var events = (long)seconds * rate;
        var (stream, port) = await CliRunner.StartListeningAsync(p => ["stream", "--lake", lake, "--dataset", "weblogs", "--from", cluster.Uri(topic), "--port",
            p.ToString(CultureInfo.InvariantCulture), "--max-batch-ms", batchMs.ToString(CultureInfo.InvariantCulture)], KafkaEnvironment);
        using var started = stream;
        await Task.Delay(TimeSpan.FromSeconds(3)); // the consumer joins its group first: latency is measured from a running stream
        var clock = Stopwatch.StartNew();
        // Event times near now (--start now) as a live stream has them, a day's span at most.
        var produce = await CliRunner.RunAsync(KafkaEnvironment, ["produce", "--dataset", "weblogs", "--events", events.ToString(CultureInfo.InvariantCulture), "--rate",
            rate.ToString(CultureInfo.InvariantCulture), "--batch", "100", "--duplicates", "0.01", "--malformed", "0.001", "--start", "now", "--days", "0.01", "--to", cluster.Uri(topic), "--json"]);
        Assert.True(produce.ExitCode == 0, produce.Stderr);
        var produced = clock.Elapsed;
        using var summary = JsonDocument.Parse(produce.Stdout);
        var sends = summary.RootElement.GetProperty("events").GetInt64();

        // Caught up: bronze holds every event, silver consumed bronze's latest version, gold silver's.
        var storage = LakeStorage.Open(lake);
        var caughtUp = Stopwatch.StartNew();
        while (true)
        {
            var bronze = await Snapshot(storage, "bronze/weblogs");
            var silver = await Snapshot(storage, "silver/weblogs");
            var gold = await Snapshot(storage, "gold/page_performance_daily");
            if (bronze is not null && silver is not null && gold is not null && (await BronzeRows.PositionsAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"), "kafka/")).Values.Sum() >= sends &&
                silver.TransactionVersion("lakehouse-silver/bronze.weblogs") == bronze.Version && gold.TransactionVersion("lakehouse-gold/silver.weblogs") == silver.Version)
                break;
            Assert.True(caughtUp.Elapsed < TimeSpan.FromMinutes(10) && !stream.HasExited, "the stream did not catch up within 10 minutes: " + stream.Stderr);
            await Task.Delay(200);
        }
        var drained = clock.Elapsed;
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        var progress = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/progress?last=1"));
        await stream.SignalAsync("TERM");
        var ended = await stream.WaitAsync();
        Assert.True(ended.ExitCode == 143, ended.Stderr);

        var rows = await BronzeRows.ReadAsync(engine.Engine, Path.Combine(lake, "bronze", "weblogs"));
        Assert.Equal(sends, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());

        var latency = await StreamLatency.MeasureAsync(storage, engine.Engine, "weblogs", "page_performance_daily");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"offered {rate:N0} events/s for {seconds} s ({sends:N0} events, produce took {produced.TotalSeconds:0.0} s, every layer caught up {(drained - produced).TotalSeconds:0.0} s after the last send); --max-batch-ms {batchMs}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"produce → visible (ms, {latency.Events:N0} events): bronze p50 {latency.BronzeP50Ms:N0} p99 {latency.BronzeP99Ms:N0}; silver p50 {latency.SilverP50Ms:N0} p99 {latency.SilverP99Ms:N0}; gold p50 {latency.GoldP50Ms:N0} p99 {latency.GoldP99Ms:N0}"));
        foreach (var table in new[] { "bronze/weblogs", "silver/weblogs", "silver/weblogs_quarantine", "silver/_quality", "gold/page_performance_daily", "gold/page_metrics_1m", "gold/page_metrics_5m", "gold/page_sessions", "gold/alerts", "gold/_runs" })
        {
            if (await Snapshot(storage, table) is not { } snapshot) continue;
            var load = Stopwatch.StartNew();
            await DeltaTable.Open(storage.Scope(table), engine.Engine).GetSnapshotAsync();
            var ms = load.Elapsed.TotalMilliseconds;
            var perPartition = snapshot.Files.GroupBy(f => string.Join("/", f.PartitionValues.Select(p => p.Value))).Select(g => g.Count()).ToList();
            var logFiles = Directory.GetFiles(Path.Combine(lake, table, "_delta_log"), "*.json").Length;
            var checkpoint = File.Exists(Path.Combine(lake, table, "_delta_log", "_last_checkpoint")) ? File.ReadAllText(Path.Combine(lake, table, "_delta_log", "_last_checkpoint")).Trim() : "none";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{table}: version {snapshot.Version}, {snapshot.Files.Count} live files in {perPartition.Count} partitions (max {perPartition.DefaultIfEmpty().Max()} per partition), {logFiles} commit files in _delta_log, last checkpoint {checkpoint}, snapshot load {ms:0.0} ms"));
        }
        output.WriteLine("last progress: " + progress);
        output.WriteLine(string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("lakehouse_stream_rows_total", StringComparison.Ordinal))));
    }

    private async Task<DeltaSnapshot?> Snapshot(ILakeStorage lake, string table)
    {
        var t = DeltaTable.Open(lake.Scope(table), engine.Engine);
        return await t.ExistsAsync() ? await t.GetSnapshotAsync() : null;
    }
}
