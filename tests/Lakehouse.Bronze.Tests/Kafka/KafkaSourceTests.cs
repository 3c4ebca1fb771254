using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>One librdkafka mock cluster (3 brokers) for a test class; each test uses topics and groups of its own.</summary>
public sealed class KafkaClusterFixture : IDisposable
{
    public KafkaMockCluster Cluster { get; } = KafkaMockCluster.Start();

    public void Dispose() => Cluster.Dispose();
}

/// <summary>The Kafka source against librdkafka's mock cluster, with kcat (and a Confluent producer where kcat cannot say it) as producers.</summary>
public sealed class KafkaSourceTests(EngineFixture engine, KafkaClusterFixture kafka) : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("kafka-source");
    private readonly string _topic = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "g" + Guid.NewGuid().ToString("N")[..10];

    private KafkaMockCluster Cluster => kafka.Cluster;

    private string TableFolder => _lake.Combine("bronze", "weblogs");

    public void Dispose() => _lake.Dispose();

    private static string Line(int i) => $$"""{"event_id":"e{{i:D6}}","page_url":"/p/{{i % 97}}?utm_source=x","tti_ms":{{i % 1000}},"status":200}""";

    private KafkaSource OpenSource(ILoggerFactory? log = null, DataLossPolicy onDataLoss = DataLossPolicy.Fail) =>
        (KafkaSource)BronzeSources.OpenStream(Cluster.Uri(_topic), new StreamSourceSettings { ConsumerGroup = _group, Setting = Settings, LoggerFactory = log, OnDataLoss = onDataLoss });

    private static string? Settings(string name) => name == "LAKEHOUSE_KAFKA_PROPERTIES" ? KafkaMockCluster.FastGroupProperties : null;

    private async Task<StreamIngestProgress> IngestOnceAsync(ILoggerFactory? log = null, DataLossPolicy onDataLoss = DataLossPolicy.Fail)
    {
        await using var source = OpenSource(log, onDataLoss);
        var table = BronzeTable.Open(LakeStorage.Open(TableFolder), engine.Engine);
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions { Once = true, MaxBatchWait = TimeSpan.FromMilliseconds(200) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await ingestor.RunAsync(timeout.Token);
    }

    private IReadOnlyDictionary<string, long> ExpectedPositions() =>
        Cluster.EndOffsets(_topic).Where(e => e.Value > 0).ToDictionary(e => e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value);

    private async Task AssertExactlyOnceAsync(IReadOnlyList<string> produced)
    {
        var rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder);
        Assert.Equal(produced.Count, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.Equal(produced.Order(StringComparer.Ordinal), rows.Select(r => Encoding.UTF8.GetString(r.Payload)).Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.Equal((SourceKinds.Kafka, _topic), (r.Kind, r.Source)));
        var ends = ExpectedPositions();
        var positions = await BronzeRows.PositionsAsync(engine.Engine, TableFolder, $"kafka/{_topic}/");
        Assert.Equal(ends.ToDictionary(e => $"kafka/{_topic}/{e.Key}", e => e.Value).OrderBy(e => e.Key), positions.OrderBy(e => e.Key));
        // Each partition's offsets are 0..end-1 without a gap: the positions and the rows tell the same story.
        foreach (var (partition, end) in ends)
            Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), rows.Where(r => r.Partition == partition).Select(r => r.Offset!.Value).Order());
    }

    [Fact]
    public async Task RunAsync_ValuesThatAreNotUtf8OrJson_LandByteExactWithKeyAndTimestamp()
    {
        Cluster.CreateTopic(_topic);
        byte[] binary = [0xff, 0xfe, 0x00, 0x0a, 0x0d, 0xc3, 0x28, 0x7b, 0x22, 0x00, 0x80];
        var file = _lake.Combine("binary.bin");
        await File.WriteAllBytesAsync(file, binary);
        await Kcat.ProduceFileAsync(Cluster.BootstrapServers, _topic, file, partition: 2, key: "sensor-7");
        var stamp = new DateTimeOffset(2026, 11, 30, 12, 34, 56, 789, TimeSpan.Zero);
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(new TopicPartition(_topic, 1), new Message<byte[]?, byte[]?>
            {
                Key = [0xc3, 0x28, 0x01],
                Value = [],
                Timestamp = new Timestamp(stamp),
            });
            await producer.ProduceAsync(new TopicPartition(_topic, 1), new Message<byte[]?, byte[]?> { Key = null, Value = null, Timestamp = new Timestamp(stamp) });
        }

        var result = await IngestOnceAsync();

        Assert.Equal(3, result.Events);
        var rows = (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).OrderBy(r => r.Partition).ThenBy(r => r.Offset).ToList();
        Assert.Equal(("1", 0L, "wygB", stamp), (rows[0].Partition, rows[0].Offset!.Value, rows[0].Key, rows[0].EnqueuedTime!.Value));
        Assert.Empty(rows[0].Payload);
        Assert.Equal(("1", 1L, (string?)null), (rows[1].Partition, rows[1].Offset!.Value, rows[1].Key));
        Assert.Empty(rows[1].Payload);
        Assert.Equal(("2", 0L, "sensor-7"), (rows[2].Partition, rows[2].Offset!.Value, rows[2].Key));
        Assert.Equal(binary, rows[2].Payload);
        Assert.InRange(rows[2].EnqueuedTime!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task RunAsync_FirstStartAfterRetentionDeletedTheOldest_WarnsNamingThePartitionAndTheFirstOffsetRead()
    {
        Cluster.CreateTopic(_topic, 2);
        // Partition 0: 80 incompressible 100 KB messages, of which the mock keeps about 5 MB (as retention would). Partition 1: 3 small ones.
        var big = System.Security.Cryptography.RandomNumberGenerator.GetBytes(100_000);
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 80; i++) await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<Null, byte[]> { Value = big });
            for (var i = 0; i < 3; i++) await producer.ProduceAsync(new TopicPartition(_topic, 1), new Message<Null, byte[]> { Value = [(byte)'a'] });
        }
        var (low, high) = Cluster.Watermarks(_topic)[0];
        Assert.InRange(low, 1, 79);

        using var log = new CapturingLoggerFactory();
        Assert.Equal(high - low + 3, (await IngestOnceAsync(log)).Events);
        using var again = new CapturingLoggerFactory();
        await IngestOnceAsync(again); // bronze holds positions now: nothing to warn about

        var warning = Assert.Single(log.Events, x => x.Id.Id == 5113);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(("0", low), ((string)warning.Values["Partition"]!, (long)warning.Values["First"]!));
        Assert.Equal($"Partition 0 of '{_topic}': bronze holds no position for it and the first offset read is {low}, not 0: the broker no longer holds the events " +
            "before it (retention or compaction deleted them before bronze first read the partition), so bronze will not have them", warning.Message);
        Assert.DoesNotContain(again.Events, x => x.Id.Id == 5113);
        Assert.Equal(low, (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Where(r => r.Partition == "0").Min(r => r.Offset!.Value));
    }

    [Fact]
    public async Task RunAsync_PositionDeletedByRetention_FailsNamingTheLossAndSkipReadsOnFromTheEarliestOffsetLeft()
    {
        Cluster.CreateTopic(_topic, 1);
        var first = Enumerable.Range(0, 10).Select(Line).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, first);
        Assert.Equal(10, (await IngestOnceAsync()).Events);

        // 80 incompressible 100 KB messages: the mock keeps about 5 MB per partition, so it deletes offsets from 10 on before
        // bronze reads them. The client does not reset quietly.
        var big = System.Security.Cryptography.RandomNumberGenerator.GetBytes(100_000);
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 80; i++) await producer.ProduceAsync(_topic, new Message<Null, byte[]> { Value = big });
        }
        var (low, high) = Cluster.Watermarks(_topic)[0];
        Assert.InRange(low, 11, 89);
        Assert.Equal(90, high);

        // By default the ingest stops and says what is gone; bronze is left as it was.
        var e = await Assert.ThrowsAsync<LakehouseException>(() => IngestOnceAsync());
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Equal($"Kafka topic '{_topic}' partition 0: the broker deleted offsets 10 to {low - 1} ({low - 10} events) before bronze ingested them: retention is shorter than " +
            $"the ingest's lag. Nothing past bronze's position was committed. To accept the loss and read on from offset {low}, run again with --on-data-loss skip.", e.Message);
        Assert.Equal(10, (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Count);

        // --on-data-loss skip: the loss is logged and reading goes on from what is left.
        using var log = new CapturingLoggerFactory();
        Assert.Equal(high - low, (await IngestOnceAsync(log, DataLossPolicy.Skip)).Events);
        var loss = Assert.Single(log.Events, x => x.Id.Id == 5103);
        Assert.Equal(LogLevel.Warning, loss.Level);
        Assert.Equal(10L, loss.Values["Position"]);
        Assert.Equal(low, loss.Values["Earliest"]);
        Assert.Equal(low - 10, loss.Values["Lost"]);
        var rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i).Concat(Enumerable.Range((int)low, (int)(high - low)).Select(i => (long)i)), rows.Select(r => r.Offset!.Value).Order());
    }

    [Fact]
    public async Task RunAsync_GroupOffsetsBehindOrAhead_BronzePositionWins()
    {
        Cluster.CreateTopic(_topic);
        var batch1 = Enumerable.Range(0, 400).Select(Line).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, batch1);
        Assert.Equal(400, (await IngestOnceAsync()).Events);
        // The ingest told the group where bronze stands (informational).
        var ends = Cluster.EndOffsets(_topic);
        Assert.Equal(ends.Where(e => e.Value > 0).OrderBy(e => e.Key), Cluster.GroupOffsets(_group, _topic, ends.Count).OrderBy(e => e.Key));

        // Someone rewinds the group to 0: a client trusting it would land batch 1 again.
        Cluster.CommitGroupOffsets(_group, _topic, ends.ToDictionary(e => e.Key, _ => 0L));
        var batch2 = Enumerable.Range(400, 100).Select(Line).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, batch2);
        Assert.Equal(100, (await IngestOnceAsync()).Events);
        await AssertExactlyOnceAsync([.. batch1, .. batch2]);

        // Someone moves the group past the end: a client trusting it would skip batch 3.
        Cluster.CommitGroupOffsets(_group, _topic, Cluster.EndOffsets(_topic).ToDictionary(e => e.Key, e => e.Value + 1000));
        var batch3 = Enumerable.Range(500, 100).Select(Line).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, batch3);
        Assert.Equal(100, (await IngestOnceAsync()).Events);
        await AssertExactlyOnceAsync([.. batch1, .. batch2, .. batch3]);
    }

    [Fact]
    public async Task OwnedPartitions_TwoMembersOfOneGroup_SplitThemAndOneTakesAllWhenTheOtherLeaves()
    {
        var partitions = Cluster.CreateTopic(_topic);
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, Enumerable.Range(0, 40).Select(Line));
        var a = OpenSource();
        await using var b = OpenSource();
        static Task<long?> FromStart(string partition, CancellationToken cancellationToken) => Task.FromResult<long?>(null);
        await a.StartAsync(FromStart, once: false, CancellationToken.None);
        await b.StartAsync(FromStart, once: false, CancellationToken.None);
        var all = Enumerable.Range(0, partitions).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToHashSet();

        Assert.True(await PollUntilAsync(async () =>
        {
            await a.ReceiveAsync(100, TimeSpan.FromMilliseconds(50), CancellationToken.None);
            await b.ReceiveAsync(100, TimeSpan.FromMilliseconds(50), CancellationToken.None);
            return a.OwnedPartitions.Count > 0 && b.OwnedPartitions.Count > 0 && a.OwnedPartitions.Count + b.OwnedPartitions.Count == partitions;
        }), $"a owns [{string.Join(",", a.OwnedPartitions)}], b owns [{string.Join(",", b.OwnedPartitions)}]");
        Assert.Empty(a.OwnedPartitions.Intersect(b.OwnedPartitions));
        Assert.True(all.SetEquals(a.OwnedPartitions.Union(b.OwnedPartitions)));

        await a.DisposeAsync();
        Assert.True(await PollUntilAsync(async () =>
        {
            await b.ReceiveAsync(100, TimeSpan.FromMilliseconds(50), CancellationToken.None);
            return all.SetEquals(b.OwnedPartitions);
        }), $"b owns [{string.Join(",", b.OwnedPartitions)}] after a left");
    }

    [Fact]
    public async Task SeekAsync_BackToAnEarlierOffset_ReadsFromThereAgainAndDropsWhatWasReadAhead()
    {
        Cluster.CreateTopic(_topic);
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, Enumerable.Range(0, 300).Select(Line));
        await using var source = OpenSource();
        await source.StartAsync((_, _) => Task.FromResult<long?>(null), once: false, CancellationToken.None);
        var read = new List<BronzeEvent>();
        Assert.True(await PollUntilAsync(async () =>
        {
            read.AddRange(await source.ReceiveAsync(1000, TimeSpan.FromMilliseconds(100), CancellationToken.None));
            return read.Count == 300;
        }));
        var partition = read.GroupBy(e => e.Source.Partition!).OrderByDescending(g => g.Count()).First();
        Assert.True(partition.Count() >= 10);

        await source.SeekAsync(partition.Key, 5, CancellationToken.None);
        var again = new List<BronzeEvent>();
        Assert.True(await PollUntilAsync(async () =>
        {
            again.AddRange(await source.ReceiveAsync(1000, TimeSpan.FromMilliseconds(100), CancellationToken.None));
            return again.Count >= partition.Count() - 5;
        }));
        Assert.All(again, e => Assert.Equal(partition.Key, e.Source.Partition));
        Assert.Equal(Enumerable.Range(5, partition.Count() - 5).Select(i => (long)i), again.Select(e => e.Source.Offset!.Value));
        Assert.Equal(partition.Skip(5).Select(e => e.Payload), again.Select(e => e.Payload));
        Assert.Equal(0, source.Lag);
    }

    [Fact]
    public async Task StartAsync_TopicThatDoesNotExist_NotFoundNamingIt()
    {
        await using var source = OpenSource();

        var error = await Assert.ThrowsAsync<LakehouseException>(() => source.StartAsync((_, _) => Task.FromResult<long?>(null), once: false, CancellationToken.None));

        Assert.Equal(LakehouseErrorReason.NotFound, error.Reason);
        Assert.Contains($"Kafka topic '{_topic}' does not exist at {Cluster.BootstrapServers}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_KafkaSink_ConsumerReadsTheSameBytesAndKeys()
    {
        Cluster.CreateTopic(_topic);
        var events = Enumerable.Range(0, 500).Select(i => new OutgoingEvent(Encoding.UTF8.GetBytes(Line(i)), i % 5 == 0 ? "session-" + (i % 7) : null)).ToList();
        events.Add(new OutgoingEvent([0xff, 0x00, 0xfe]));
        await using (var sink = EventSinks.Open(Cluster.Uri(_topic), new StreamSourceSettings { Setting = _ => null }))
        {
            Assert.IsType<KafkaSink>(sink);
            await sink.SendAsync(events[..250], CancellationToken.None);
            await sink.SendAsync(events[250..], CancellationToken.None);
        }

        // Sent means acknowledged by all in-sync replicas: every event is on the broker now.
        Assert.Equal(501, Cluster.EndOffsets(_topic).Values.Sum());
        var result = await IngestOnceAsync();
        Assert.Equal(501, result.Events);
        var rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder);
        Assert.Equal(events.Select(e => Convert.ToHexString(e.Payload) + "|" + e.Key).Order(StringComparer.Ordinal),
            rows.Select(r => Convert.ToHexString(r.Payload) + "|" + r.Key).Order(StringComparer.Ordinal));
        // One key, one partition.
        Assert.All(rows.Where(r => r.Key is not null).GroupBy(r => r.Key), g => Assert.Single(g.Select(r => r.Partition).Distinct()));
    }

    private static async Task<bool> PollUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
        }
        return false;
    }
}
