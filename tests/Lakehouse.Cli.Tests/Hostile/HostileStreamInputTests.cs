using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Cli.Tests.Kafka;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Cli.Tests.Hostile;

/// <summary>
/// Hostile messages from Kafka (librdkafka's mock cluster) through <c>lakehouse bronze ingest --from kafka://… --once</c>, then
/// <c>silver run</c>: a 1.5 MB message, empty and null values, binary keys, deep nesting, invalid UTF-8, control characters —
/// each lands raw in bronze and reaches silver or the quarantine, with its rule, exactly once.
/// </summary>
public sealed class HostileKafkaInputTests(KafkaClusterFixture kafka) : IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("hostile-kafka");
    private readonly string _topic = "hostile" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Ingest_HostileMessagesWithBinaryKeys_BronzeHoldsThemRawAndSilverOrQuarantineEachOnce()
    {
        var cluster = kafka.Cluster;
        cluster.CreateTopic(_topic);
        var payloads = HostileInput.Payloads(1_500_000).ToList();
        payloads.Add(new HostilePayload("empty value", [], "malformed_json"));
        payloads.Add(new HostilePayload("null value", [], "malformed_json"));
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, MessageMaxBytes = 4_000_000 }).Build())
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                byte[]? key = i % 3 == 0 ? [0xFF, 0x00, 0xC3, 0x28, (byte)i] : i % 3 == 1 ? null : HostileInput.Utf8("k'\"]\n" + i);
                var value = payloads[i].Name == "null value" ? null : payloads[i].Payload;
                await producer.ProduceAsync(new TopicPartition(_topic, 0), new Message<byte[]?, byte[]?> { Key = key, Value = value });
            }
        }
        var lake = _temp.Combine("lake");

        var ingest = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_KAFKA_PROPERTIES"] = KafkaMockCluster.FastGroupProperties },
            "bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", cluster.Uri(_topic), "--group", "g" + _topic, "--once");
        Assert.True(ingest.ExitCode == 0, ingest.Stderr);
        var silver = await HostileInput.SilverRunAsync(lake);

        HostileInput.AssertEachOnce(payloads, await HostileInput.FatesAsync(lake, "source_partition, source_offset"), silver);
        var keys = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv",
            "SELECT count(*) FILTER (WHERE source_key IS NULL), count(*) FILTER (WHERE source_key LIKE 'k''\"]%'), count(DISTINCT source_key) FROM bronze.weblogs");
        Assert.True(keys.ExitCode == 0, keys.Stderr);
        Assert.EndsWith("\n4,4,9\n", keys.Stdout, StringComparison.Ordinal); // 4 without a key; 4 text keys; 5 binary ones (base64)
    }
}

/// <summary>
/// Hostile events from Event Hubs (the AMQP stand-in, fed by the real EventHubProducerClient) through
/// <c>lakehouse bronze ingest --from eventhubs://… --once</c>, then <c>silver run</c>: the largest event the hub takes, empty
/// bodies, odd partition keys — each lands raw in bronze and reaches silver or the quarantine exactly once.
/// </summary>
public sealed class HostileEventHubsInputTests : IDisposable
{
    private const string Hub = "weblogs";
    private readonly TempDirectory _temp = new("hostile-eventhubs");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start(Hub, partitionCount: 2);

    public void Dispose()
    {
        _hub.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Ingest_HostileEvents_BronzeHoldsThemRawAndSilverOrQuarantineEachOnce()
    {
        // Event Hubs takes events up to 1 MB: the largest one is data like any other (under silver's 1 MiB limit).
        var payloads = HostileInput.Payloads(1_000_000).Select(p => p.Fate == "too_large" ? p with { Name = "1 MB, the hub's largest", Fate = "silver" } : p).ToList();
        payloads.Add(new HostilePayload("empty body", [], "malformed_json"));
        await using (var producer = new EventHubProducerClient(_hub.ConnectionString))
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                var options = new SendEventOptions { PartitionId = "1" };
                await producer.SendAsync([new EventData(payloads[i].Payload)], options);
            }
        }
        var lake = _temp.Combine("lake");

        var ingest = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_EVENTHUBS_CONNECTION_STRING"] = _hub.ConnectionString },
            "bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", $"eventhubs://{_hub.Namespace}/{Hub}", "--once");
        Assert.True(ingest.ExitCode == 0, ingest.Stderr);
        var silver = await HostileInput.SilverRunAsync(lake);

        HostileInput.AssertEachOnce(payloads, await HostileInput.FatesAsync(lake, "source_partition, source_offset"), silver);
    }
}
