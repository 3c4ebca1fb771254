using System.Globalization;
using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze.EventHubs;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Bronze.Tests.Kafka;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;
using Lakehouse.Testing.Kafka;

namespace Lakehouse.Bronze.Tests;

/// <summary>
/// What every <see cref="IStreamSource"/> promises about --once (<c>StartAsync(…, once: true, …)</c>): the end positions are taken
/// at start, nothing past them is handed out however fast producers write, <see cref="IStreamSource.CaughtUp"/> turns true once
/// everything up to them is, and the next run takes exactly the rest. Run against Kafka (librdkafka's mock cluster, kcat as
/// the producer) and Event Hubs (the AMQP stand-in, the SDK's producer).
/// </summary>
public abstract class StreamSourceContractTests(EngineFixture engine) : IDisposable
{
    private readonly TempDirectory _lake = new("stream-contract");

    /// <summary>The lake the bronze table and any coordination state live in.</summary>
    protected string Lake => _lake.Path;

    private string TableFolder => _lake.Combine("bronze", "weblogs");

    /// <summary>The txn application ids' prefix of the stream (<c>kind/name/</c>).</summary>
    protected abstract string AppIdPrefix { get; }

    /// <summary>Sends events number <paramref name="from"/> to <paramref name="from"/>+<paramref name="count"/>-1 (spread over the partitions).</summary>
    protected abstract Task ProduceAsync(int from, int count);

    /// <summary>A new source of the stream.</summary>
    protected abstract IStreamSource Open();

    /// <summary>Per partition, the next position after the last event the broker holds (partitions with events only).</summary>
    protected abstract IReadOnlyDictionary<string, long> Ends();

    public virtual void Dispose()
    {
        _lake.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static byte[] Payload(int i) => Encoding.UTF8.GetBytes($$"""{"event_id":"e{{i:D6}}","page_url":"/p/{{i % 97}}","tti_ms":{{i % 1000}}}""");

    private async Task<StreamIngestProgress> IngestOnceAsync(Func<IStreamSource, IStreamSource>? wrap = null)
    {
        await using var source = Open();
        var table = BronzeTable.Open(LakeStorage.Open(TableFolder), engine.Engine);
        var ingestor = new StreamIngestor(table, wrap is null ? source : wrap(source), new StreamIngestOptions { Once = true, MaxBatchEvents = 200, MaxBatchWait = TimeSpan.FromMilliseconds(200) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await ingestor.RunAsync(timeout.Token);
    }

    [Fact]
    public async Task RunOnce_EventsSentRightAfterStart_LeftForTheNextRunWhichTakesExactlyThem()
    {
        await ProduceAsync(0, 600);
        var endsAtStart = Ends();

        var first = await IngestOnceAsync(source => new AfterStart(source, () => ProduceAsync(600, 150)));

        Assert.Equal(600, first.Events);
        Assert.Equal(750, Ends().Values.Sum());
        var positions = await BronzeRows.PositionsAsync(engine.Engine, TableFolder, AppIdPrefix);
        Assert.Equal(endsAtStart.Select(e => (AppIdPrefix + e.Key, e.Value)).Order(), positions.Select(p => (p.Key, p.Value)).Order());
        Assert.Equal(Enumerable.Range(0, 600).Select(i => Convert.ToHexString(Payload(i))).Order(StringComparer.Ordinal),
            (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Select(r => Convert.ToHexString(r.Payload)).Order(StringComparer.Ordinal));

        var second = await IngestOnceAsync();

        Assert.Equal(150, second.Events);
        var rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder);
        Assert.Equal(Enumerable.Range(0, 750).Select(i => Convert.ToHexString(Payload(i))).Order(StringComparer.Ordinal),
            rows.Select(r => Convert.ToHexString(r.Payload)).Order(StringComparer.Ordinal));
        // Each partition's positions from its first on, without a gap or a repeat, up to where the table says it stands.
        positions = await BronzeRows.PositionsAsync(engine.Engine, TableFolder, AppIdPrefix);
        foreach (var (partition, end) in Ends())
        {
            var offsets = rows.Where(r => r.Partition == partition).Select(r => r.Offset!.Value).Order().ToList();
            Assert.Equal(Enumerable.Range((int)(end - offsets.Count), offsets.Count).Select(i => (long)i), offsets);
            Assert.Equal(end, positions[AppIdPrefix + partition]);
        }
    }

    [Fact]
    public async Task StartOnce_ReceiveUntilCaughtUp_EveryEventThereAtStartAndNoneSentLater()
    {
        await ProduceAsync(0, 300);
        await using var source = Open();
        await source.StartAsync((_, _) => Task.FromResult<long?>(null), once: true, CancellationToken.None);
        Assert.False(source.CaughtUp);
        await ProduceAsync(300, 100);

        var received = new List<BronzeEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!source.CaughtUp) received.AddRange(await source.ReceiveAsync(1000, TimeSpan.FromMilliseconds(100), timeout.Token));
        for (var i = 0; i < 5; i++) received.AddRange(await source.ReceiveAsync(1000, TimeSpan.FromMilliseconds(100), timeout.Token));

        Assert.Equal(Enumerable.Range(0, 300).Select(i => Convert.ToHexString(Payload(i))).Order(StringComparer.Ordinal),
            received.Select(e => Convert.ToHexString(e.Payload)).Order(StringComparer.Ordinal));
        Assert.True(source.CaughtUp);
    }

    /// <summary>The real source, with an action run right after it has started (taken its end positions), before the first read.</summary>
    internal sealed class AfterStart(IStreamSource inner, Func<Task> action) : IStreamSource
    {
        public string Kind => inner.Kind;
        public string Name => inner.Name;
        public IReadOnlySet<string> OwnedPartitions => inner.OwnedPartitions;
        public bool CaughtUp => inner.CaughtUp;
        public long? Lag => inner.Lag;

        public async Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, bool once, CancellationToken cancellationToken)
        {
            await inner.StartAsync(positionOf, once, cancellationToken);
            await action();
        }

        public Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken) => inner.ReceiveAsync(maxEvents, maxWait, cancellationToken);
        public Task SeekAsync(string partition, long? position, CancellationToken cancellationToken) => inner.SeekAsync(partition, position, cancellationToken);
        public Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken) => inner.AcknowledgeAsync(positions, cancellationToken);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>The --once contract on Kafka: librdkafka's mock cluster, kcat producing.</summary>
public sealed class KafkaSourceContractTests(EngineFixture engine, KafkaClusterFixture kafka)
    : StreamSourceContractTests(engine), IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>
{
    private readonly string _topic = CreateTopic(kafka.Cluster);

    private static string CreateTopic(KafkaMockCluster cluster)
    {
        var topic = "c" + Guid.NewGuid().ToString("N")[..10];
        cluster.CreateTopic(topic);
        return topic;
    }

    protected override string AppIdPrefix => $"kafka/{_topic}/";

    protected override Task ProduceAsync(int from, int count) =>
        Kcat.ProduceLinesAsync(kafka.Cluster.BootstrapServers, _topic, Enumerable.Range(from, count).Select(i => Encoding.UTF8.GetString(Payload(i))));

    protected override IStreamSource Open() => BronzeSources.OpenStream(kafka.Cluster.Uri(_topic), new StreamSourceSettings
    {
        ConsumerGroup = "g" + _topic,
        Setting = name => name == "LAKEHOUSE_KAFKA_PROPERTIES" ? KafkaMockCluster.FastGroupProperties : null,
    });

    protected override IReadOnlyDictionary<string, long> Ends() =>
        kafka.Cluster.EndOffsets(_topic).Where(e => e.Value > 0).ToDictionary(e => e.Key.ToString(CultureInfo.InvariantCulture), e => e.Value);
}

/// <summary>The --once contract on Event Hubs over AMQP: the stand-in, the SDK's producer, ownership leases in the lake.</summary>
public sealed class EventHubsSourceContractTests(EngineFixture engine) : StreamSourceContractTests(engine), IClassFixture<EngineFixture>
{
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("weblogs", partitionCount: 4);

    public override void Dispose()
    {
        _hub.Dispose();
        base.Dispose();
    }

    protected override string AppIdPrefix => "eventhubs/weblogs/";

    protected override async Task ProduceAsync(int from, int count)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        var sent = from;
        while (sent < from + count)
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = _hub.PartitionIds[sent / 50 % _hub.PartitionIds.Count] });
            var start = sent;
            while (sent < from + count && sent - start < 50 && batch.TryAdd(new EventData(Payload(sent)))) sent++;
            await producer.SendAsync(batch);
        }
    }

    protected override IStreamSource Open() => BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/{_hub.HubName}", new StreamSourceSettings
    {
        Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
        Lake = LakeStorage.Open(Lake),
        Dataset = "weblogs",
    });

    protected override IReadOnlyDictionary<string, long> Ends() =>
        _hub.PartitionIds.Where(p => _hub.Events(p).Count > 0).ToDictionary(p => p, p => (long)_hub.Events(p).Count);
}
