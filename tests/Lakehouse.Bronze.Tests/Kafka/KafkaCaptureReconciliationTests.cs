using System.Text;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Bronze.Landing;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// An event hub read through its Kafka endpoint (played by librdkafka's mock cluster: the topic is the hub, the Kafka offset
/// the sequence number, as on Event Hubs) and landed from Capture files of the same events: each event once, in either order.
/// </summary>
public sealed class KafkaCaptureReconciliationTests(EngineFixture engine, KafkaClusterFixture kafka) : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("kafka-capture");
    private readonly string _topic = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<StandInEvent> _produced = [];

    private KafkaMockCluster Cluster => kafka.Cluster;

    public void Dispose() => _lake.Dispose();

    private BronzeTable Table() => BronzeTable.Open(LakeStorage.Open(_lake.Combine("bronze", "weblogs")), engine.Engine);

    /// <summary>Produces <paramref name="count"/> events to partition 0 and keeps them as Capture would record them (offset = sequence number).</summary>
    private async Task ProduceAsync(int count)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers }).Build();
        for (var i = 0; i < count; i++)
        {
            var body = Encoding.UTF8.GetBytes($"{{\"event_id\":\"k{_produced.Count}\"}}");
            var time = new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc).AddSeconds(_produced.Count);
            var result = await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[]?, byte[]?> { Value = body, Timestamp = new Timestamp(time) });
            Assert.Equal(_produced.Count, result.Offset.Value);
            _produced.Add(new StandInEvent(result.Offset.Value, result.Offset.Value * 100, time, null, body, [], null, null));
        }
    }

    private async Task<StreamIngestProgress> LiveOnceAsync()
    {
        await using var source = BronzeSources.OpenStream(Cluster.Uri(_topic), new StreamSourceSettings
        {
            ConsumerGroup = "g" + _topic,
            Setting = name => name == "LAKEHOUSE_KAFKA_PROPERTIES" ? KafkaMockCluster.FastGroupProperties : null,
        });
        var ingestor = new StreamIngestor(Table(), source, new StreamIngestOptions { Once = true, MaxBatchWait = TimeSpan.FromMilliseconds(200) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await ingestor.RunAsync(timeout.Token);
    }

    private async Task<LandingIngestProgress> LandAsync(int first, int last)
    {
        var landing = _lake.Combine("capture-" + first);
        CaptureFiles.Write(CaptureFiles.PathOf(landing, "myns", _topic, "0", new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc)), _produced.Skip(first).Take(last - first + 1));
        return await new LandingIngestor(Table(), LakeStorage.Open(landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero }).RunAsync();
    }

    private async Task AssertOncePerEventAsync()
    {
        var rows = await Landing.BronzeRows.QueryAsync(Table(), engine.Engine, "SELECT source_offset, payload FROM bronze WHERE source_partition = '0' ORDER BY 1");
        Assert.Equal(Enumerable.Range(0, _produced.Count).Select(i => (long)i), rows.Select(r => (long)r[0]!));
        Assert.Equal(_produced.Select(e => e.Body), rows.Select(r => (byte[])r[1]!));
    }

    [Fact]
    public async Task Land_CaptureAfterKafkaEndpointStream_OnlyWhatTheStreamMissedThenTheStreamResumesAfterIt()
    {
        Cluster.CreateTopic(_topic);
        await ProduceAsync(20);
        Assert.Equal(20, (await LiveOnceAsync()).Events);
        await ProduceAsync(10);

        var landed = await LandAsync(0, 29);
        var resumed = await LiveOnceAsync();

        Assert.Equal((10L, 20L), (landed.Events, landed.EventsAlreadyHeld));
        Assert.Equal(0, resumed.Events);
        await AssertOncePerEventAsync();
    }

    [Fact]
    public async Task Live_KafkaEndpointAfterCaptureBackfill_StartsAfterTheBackfill()
    {
        Cluster.CreateTopic(_topic);
        await ProduceAsync(25);
        Assert.Equal(15, (await LandAsync(0, 14)).Events);

        var live = await LiveOnceAsync();

        Assert.Equal(10, live.Events);
        await AssertOncePerEventAsync();
        Assert.Equal(new Dictionary<string, long> { [$"kafka/{_topic}/0"] = 25 }, await Table().PositionsAsync($"kafka/{_topic}/"));
    }
}
