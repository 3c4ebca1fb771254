using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Lakehouse.Core;

namespace Lakehouse.Cli.Bench;

/// <summary>
/// librdkafka's mock cluster, started by the bench itself the way the tests start it: a producer created with
/// <c>test.mock.num.brokers</c> runs that many Kafka brokers on 127.0.0.1 in this process and logs their address. The child
/// processes (<c>lakehouse produce</c>, <c>lakehouse stream</c>) talk the Kafka protocol to them. Topics are created on first use
/// with 4 partitions. The mock keeps about 5 MB of message sets per partition and deletes the oldest beyond that: a consumer that
/// falls that far behind loses events, which the bench's count check then reports.
/// </summary>
internal sealed partial class KafkaMockBrokers : IDisposable
{
    /// <summary>
    /// librdkafka properties for the stream's consumer group on the mock: its coordinator holds every join phase for about the session
    /// timeout (45 s by default).
    /// </summary>
    internal const string GroupProperties = "session.timeout.ms=4000;heartbeat.interval.ms=500";

    /// <summary>librdkafka properties for the producer: compressed batches, so the mock's 5 MB per partition hold more events.</summary>
    internal const string ProducerProperties = "compression.type=zstd;linger.ms=5";

    private readonly IProducer<Null, byte[]> _owner;

    private KafkaMockBrokers(IProducer<Null, byte[]> owner, string bootstrap)
    {
        _owner = owner;
        BootstrapServers = bootstrap;
    }

    /// <summary>The brokers' addresses, <c>127.0.0.1:port,…</c>.</summary>
    internal string BootstrapServers { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers.</summary>
    internal static KafkaMockBrokers Start(int brokers = 3)
    {
        string? bootstrap = null;
        using var found = new ManualResetEventSlim();
        var config = new ProducerConfig(new Dictionary<string, string>
        {
            ["bootstrap.servers"] = "127.0.0.1:1",
            ["test.mock.num.brokers"] = brokers.ToString(CultureInfo.InvariantCulture),
        });
        var owner = new ProducerBuilder<Null, byte[]>(config)
            .SetLogHandler((_, m) =>
            {
                var match = Bootstrap().Match(m.Message);
                if (!match.Success) return;
                bootstrap = match.Groups[1].Value;
                found.Set();
            })
            .Build();
        if (!found.Wait(TimeSpan.FromSeconds(30)))
        {
            owner.Dispose();
            throw new LakehouseException(LakehouseErrorReason.Engine, "librdkafka's mock cluster did not log its bootstrap address within 30 s.");
        }
        return new KafkaMockBrokers(owner, bootstrap!);
    }

    /// <summary>The <c>kafka://</c> URI of <paramref name="topic"/>.</summary>
    internal string Uri(string topic) => $"kafka://{BootstrapServers}/{topic}";

    /// <summary>Creates <paramref name="topic"/> (a metadata request with auto-creation) and returns its partition count.</summary>
    internal int CreateTopic(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var t = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single(x => x.Topic == topic);
            if (!t.Error.IsError && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0)) return t.Partitions.Count;
            Thread.Sleep(100);
        }
        throw new LakehouseException(LakehouseErrorReason.Engine, $"The mock cluster did not create topic '{topic}'.");
    }

    /// <summary>Each partition's low and high watermark (the first offset still held; the offset the next message gets).</summary>
    internal IReadOnlyDictionary<int, (long Low, long High)> Watermarks(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId).ToList();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "lakehouse-bench-watermarks" }).Build();
        return partitions.ToDictionary(p => p, p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            return (w.Low.Value, w.High.Value);
        });
    }

    /// <summary>Stops the brokers.</summary>
    public void Dispose() => _owner.Dispose();

    [GeneratedRegex(@"Mock cluster enabled: .* replaced with (\S+)")]
    private static partial Regex Bootstrap();
}
