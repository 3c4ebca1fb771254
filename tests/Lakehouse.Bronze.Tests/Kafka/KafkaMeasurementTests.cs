using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;
using Xunit.Abstractions;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// Kafka → bronze numbers on librdkafka's mock cluster, printed (not asserted: speed is measured, not a unit test's verdict).
/// What is asserted is that every event measured landed exactly once. Sizes come from the environment so the same test gives
/// the report's numbers: LAKEHOUSE_KAFKA_BENCH_EVENTS (sustained run, default 300000; the mock deletes the oldest message sets past ~5 MB per partition, so keep it there), LAKEHOUSE_KAFKA_BENCH_SECONDS (per
/// offered rate, default 3), LAKEHOUSE_KAFKA_BENCH_RATES (default 10000,100000) and LAKEHOUSE_KAFKA_BENCH_BATCH_MS (the
/// ingestor's --max-batch-ms, default 1000); LAKEHOUSE_KAFKA_BENCH_PROPERTIES adds librdkafka properties to the consumer. Run with
/// <c>dotnet test tests/Lakehouse.Bronze.Tests -c Release --filter KafkaMeasurement --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class KafkaMeasurementTests(EngineFixture engine, KafkaClusterFixture kafka, ITestOutputHelper output)
    : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("kafka-bench");

    private KafkaMockCluster Cluster => kafka.Cluster;

    public void Dispose() => _lake.Dispose();

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>A web-log event of about 200 bytes.</summary>
    private static byte[] WebLog(long i) => Encoding.UTF8.GetBytes(
        $$"""{"event_id":"ev-{{i:D9}}","timestamp":"2026-11-30T10:{{i / 60 % 60:D2}}:{{i % 60:D2}}Z","page_url":"/products/{{i % 2000}}?utm_source=news","tti_ms":{{i * 37 % 4000}},"ttar_ms":{{i * 11 % 900}},"status":{{(i % 50 == 0 ? 503 : 200)}},"session_id":"s{{i % 977}}","country":"DE"}""");

    private IProducer<Null, byte[]> Producer() => new ProducerBuilder<Null, byte[]>(new ProducerConfig
    {
        BootstrapServers = Cluster.BootstrapServers,
        Acks = Acks.All,
        EnableIdempotence = true,
        LingerMs = 5,
        QueueBufferingMaxMessages = 1_000_000,
        // The mock keeps only ~5 MB of message sets per partition (older ones are deleted like retention would): compressed
        // sets let a pre-filled topic hold the whole run.
        CompressionType = CompressionType.Lz4,
    }).Build();

    private (KafkaSource Source, StreamIngestor Ingestor, BronzeTable Table) Open(string topic, string folder, bool once, int batchMs)
    {
        var source = (KafkaSource)BronzeSources.OpenStream(Cluster.Uri(topic), new StreamSourceSettings
        {
            ConsumerGroup = "bench-" + topic,
            Setting = name => name == KafkaConnection.PropertiesVariable
                ? KafkaMockCluster.FastGroupProperties + ";" + Environment.GetEnvironmentVariable("LAKEHOUSE_KAFKA_BENCH_PROPERTIES")
                : null,
            LoggerFactory = new TestOutputLoggerFactory(output, Microsoft.Extensions.Logging.LogLevel.Debug),
        });
        var table = BronzeTable.Open(LakeStorage.Open(_lake.Combine(folder)), engine.Engine);
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions { Once = once, MaxBatchWait = TimeSpan.FromMilliseconds(batchMs) }, new TestOutputLoggerFactory(output));
        return (source, ingestor, table);
    }

    [Fact]
    public async Task KafkaMeasurement_SustainedIngest_EventsPerSecond()
    {
        var events = Setting("LAKEHOUSE_KAFKA_BENCH_EVENTS", 300_000);
        var topic = "sustained" + Guid.NewGuid().ToString("N")[..6];
        var partitions = Cluster.CreateTopic(topic);
        var fill = Stopwatch.StartNew();
        using (var producer = Producer())
        {
            for (long i = 0; i < events; i++)
            {
                while (true)
                {
                    try
                    {
                        // Round-robin, not the sticky partitioner: a partition that got far more than its share could pass
                        // the mock's ~5 MB per partition and lose its first offsets before the ingest reads them.
                        producer.Produce(new TopicPartition(topic, new Partition((int)(i % partitions))), new Message<Null, byte[]> { Value = WebLog(i) });
                        break;
                    }
                    catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(5));
                    }
                }
            }
            producer.Flush(TimeSpan.FromMinutes(2));
        }
        var filled = fill.Elapsed;
        Assert.All(Cluster.StartOffsets(topic), p => Assert.True(p.Value == 0, $"The mock deleted the first {p.Value} offsets of partition {p.Key}: the run is too big for it."));

        var (source, ingestor, _) = Open(topic, "sustained", once: true, batchMs: 1000);
        TimeSpan? firstCommit = null;
        long eventsAtFirstCommit = 0;
        var clock = Stopwatch.StartNew();
        ingestor.Progress += p =>
        {
            if (firstCommit is null && p.Commits > 0)
            {
                firstCommit = clock.Elapsed;
                eventsAtFirstCommit = p.Events;
            }
        };
        StreamIngestProgress result;
        await using (source) result = await ingestor.RunAsync();
        var total = clock.Elapsed;

        Assert.Equal(events, result.Events);
        var rows = await BronzeRows.ReadAsync(engine.Engine, _lake.Combine("sustained"));
        Assert.Equal(events, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        var steady = (result.Events - eventsAtFirstCommit) / (total - firstCommit!.Value).TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sustained: {events:N0} events of ~{rows.Average(r => r.Payload.Length):F0} B in 4 partitions; filled by a Confluent producer in {filled.TotalSeconds:F1} s; " +
            $"ingest --once {total.TotalSeconds:F2} s = {events / total.TotalSeconds:N0} events/s including the group join; " +
            $"{steady:N0} events/s from the first commit to the last; {result.Commits} commits"));
    }

    [Fact]
    public async Task KafkaMeasurement_ProduceToCommittedLatency_AtOfferedRates()
    {
        var seconds = Setting("LAKEHOUSE_KAFKA_BENCH_SECONDS", 3);
        var batchMs = Setting("LAKEHOUSE_KAFKA_BENCH_BATCH_MS", 1000);
        var rates = (Environment.GetEnvironmentVariable("LAKEHOUSE_KAFKA_BENCH_RATES") ?? "10000,100000")
            .Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
        // A short run first, so code paths are compiled and DuckDB is warm before anything is measured.
        await MeasureLatencyAsync(2_000, 2, batchMs, print: false);
        foreach (var rate in rates) await MeasureLatencyAsync(rate, seconds, batchMs, print: true);
    }

    /// <summary>
    /// Offers <paramref name="rate"/> events/s for <paramref name="seconds"/> to a fresh topic that a --follow ingest reads, and
    /// prints p50/p99 of (commit time of the bronze version holding an event − the time the producer sent it).
    /// </summary>
    private async Task MeasureLatencyAsync(int rate, int seconds, int batchMs, bool print)
    {
        var topic = $"latency{rate}x" + Guid.NewGuid().ToString("N")[..6];
        Cluster.CreateTopic(topic);
        var (source, ingestor, _) = Open(topic, topic, once: false, batchMs);
        // Commit times by position: after each commit, every offset below a partition's position is committed.
        var commits = new List<(DateTimeOffset Time, IReadOnlyDictionary<string, long> Positions)>();
        ingestor.Progress += p =>
        {
            var now = DateTimeOffset.UtcNow;
            lock (commits)
            {
                if (commits.Count == 0 || !commits[^1].Positions.OrderBy(x => x.Key).SequenceEqual(p.Positions.OrderBy(x => x.Key)))
                    commits.Add((now, p.Positions));
            }
        };
        using var stop = new CancellationTokenSource();
        var running = ingestor.RunAsync(stop.Token);
        var deadline = Stopwatch.StartNew();
        while (source.OwnedPartitions.Count < 4 && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(20);
        Assert.Equal(4, source.OwnedPartitions.Count);

        // The producer offers `rate` events/s; each message's timestamp is its send time (librdkafka stamps it at produce()).
        var offered = (long)rate * seconds;
        long sent = 0;
        var sending = Stopwatch.StartNew();
        await Task.Run(() =>
        {
            using var producer = Producer();
            while (sent < offered)
            {
                var due = Math.Min(offered, (long)(sending.Elapsed.TotalSeconds * rate));
                for (; sent < due; sent++)
                {
                    try
                    {
                        producer.Produce(topic, new Message<Null, byte[]> { Value = WebLog(sent) });
                    }
                    catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(1));
                        sent--;
                    }
                }
                Thread.Sleep(1);
            }
            producer.Flush(TimeSpan.FromMinutes(2));
        });
        var sendSeconds = sending.Elapsed.TotalSeconds;
        while (true)
        {
            lock (commits)
            {
                if (commits.Count > 0 && commits[^1].Positions.Values.Sum() >= offered) break;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(5), "the ingest did not catch up");
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await source.DisposeAsync();

        var rows = await BronzeRows.ReadAsync(engine.Engine, _lake.Combine(topic));
        Assert.Equal(offered, rows.Count);
        Assert.Equal(offered, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        if (!print) return;
        var latencies = rows.Select(r =>
        {
            var commit = commits.First(c => c.Positions.TryGetValue(r.Partition!, out var next) && next > r.Offset);
            return (commit.Time - r.EnqueuedTime!.Value).TotalMilliseconds;
        }).Order().ToList();
        double Percentile(double p) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(p * latencies.Count) - 1)];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"offered {rate:N0}/s for {seconds} s (sent at {offered / sendSeconds:N0}/s), --max-batch-ms {batchMs}: {offered:N0} events in {commits.Count} commits; " +
            $"produce→committed p50 {Percentile(0.50):F0} ms, p99 {Percentile(0.99):F0} ms, max {latencies[^1]:F0} ms"));
    }
}
