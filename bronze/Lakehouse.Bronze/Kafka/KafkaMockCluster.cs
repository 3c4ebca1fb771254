using System.Globalization;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Lakehouse.Core;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// librdkafka's mock cluster, for <c>lakehouse bench</c> and the tests: Kafka brokers on 127.0.0.1 run by librdkafka inside this
/// process (<c>rd_kafka_mock_cluster_new</c>), reached by any Kafka client in this process or another (kcat, <c>lakehouse produce</c>,
/// <c>lakehouse stream</c>). The cluster lives as long as this object.
/// </summary>
/// <remarks>
/// The mock keeps at most <see cref="PartitionCapBytes"/> of message sets (and 100,000 of them) per partition and deletes the
/// oldest beyond that, as retention would: a consumer further behind than that loses events (the partition's log start offset
/// passes its position). More partitions hold more; compression (zstd) makes each event smaller. Topics a client auto-creates
/// get <see cref="DefaultPartitions"/> partitions; <see cref="CreateTopic"/> takes any count.
/// </remarks>
public sealed class KafkaMockCluster : IDisposable
{
    /// <summary>Partitions of a topic the mock creates on first use.</summary>
    public const int DefaultPartitions = 4;

    /// <summary>Bytes of message sets the mock keeps per partition (librdkafka's rdkafka_mock.c) before it deletes the oldest.</summary>
    public const long PartitionCapBytes = 5L << 20;

    /// <summary>
    /// librdkafka properties (LAKEHOUSE_KAFKA_PROPERTIES) for members of a consumer group on the mock: its coordinator holds every
    /// join phase for about the session timeout (45 s by default), and below ~3 s a member is expired before its first assignment.
    /// </summary>
    public const string FastGroupProperties = "session.timeout.ms=4000;heartbeat.interval.ms=500";

    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly int _brokers;
    private readonly IProducer<Null, byte[]> _client;
    private bool _disposed;

    private KafkaMockCluster(IntPtr handle, IntPtr cluster, int brokers, string bootstrap)
    {
        _handle = handle;
        _cluster = cluster;
        _brokers = brokers;
        BootstrapServers = bootstrap;
        _client = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
    }

    /// <summary>The brokers' addresses, <c>127.0.0.1:port,…</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers (ids 1..N).</summary>
    public static KafkaMockCluster Start(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(brokers);
        var error = new byte[512];
        var conf = MockClusterNative.ConfNew();
        // The handle only hosts the cluster: without this its "no bootstrap.servers" notice would reach standard error.
        MockClusterNative.ConfSet(conf, "log_level", "4", error, (UIntPtr)error.Length);
        var handle = MockClusterNative.KafkaNew(MockClusterNative.ProducerType, conf, error, (UIntPtr)error.Length);
        if (handle == IntPtr.Zero) throw new LakehouseException(LakehouseErrorReason.Engine, "librdkafka's mock cluster: rd_kafka_new failed: " + MockClusterNative.Text(error));
        var cluster = MockClusterNative.ClusterNew(handle, brokers);
        if (cluster == IntPtr.Zero)
        {
            MockClusterNative.KafkaDestroy(handle);
            throw new LakehouseException(LakehouseErrorReason.Engine, "librdkafka's mock cluster: rd_kafka_mock_cluster_new failed.");
        }
        var bootstrap = Marshal.PtrToStringUTF8(MockClusterNative.ClusterBootstraps(cluster))!;
        return new KafkaMockCluster(handle, cluster, brokers, bootstrap);
    }

    /// <summary>The <c>kafka://</c> URI of <paramref name="topic"/> on this cluster.</summary>
    public string Uri(string topic) => $"kafka://{BootstrapServers}/{topic}";

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions, waits until each has a leader and returns the count.</summary>
    public int CreateTopic(string topic, int partitions = DefaultPartitions)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        var code = MockClusterNative.TopicCreate(_cluster, topic, partitions, Math.Min(3, _brokers));
        // 36: TOPIC_ALREADY_EXISTS (a client auto-created it first); its partition count is what the metadata says.
        if (code is not 0 and not 36) MockClusterNative.Check(code, $"creating topic {topic}");
        using var admin = new DependentAdminClientBuilder(_client.Handle).Build();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var t = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single(x => x.Topic == topic);
            if (!t.Error.IsError && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0)) return t.Partitions.Count;
            Thread.Sleep(100);
        }
        throw new LakehouseException(LakehouseErrorReason.Engine, $"The mock cluster did not create topic '{topic}'.");
    }

    /// <summary>
    /// Each partition's low watermark (its log start offset: the first offset still held, above 0 once the mock deleted old
    /// message sets) and high watermark (the offset the next message gets).
    /// </summary>
    public IReadOnlyDictionary<int, (long Low, long High)> Watermarks(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_client.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId).ToList();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "lakehouse-mock-watermarks" }).Build();
        return partitions.ToDictionary(p => p, p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            return (w.Low.Value, w.High.Value);
        });
    }

    /// <summary>Each partition's leader (broker id) as the cluster's metadata says now.</summary>
    public IReadOnlyDictionary<int, int> Leaders(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_client.Handle).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.ToDictionary(p => p.PartitionId, p => p.Leader);
    }

    /// <summary>Broker <paramref name="brokerId"/> drops its connections and refuses new ones; it stays the leader of its partitions.</summary>
    public void SetBrokerDown(int brokerId) => MockClusterNative.Check(MockClusterNative.BrokerSetDown(_cluster, brokerId), $"setting broker {brokerId} down");

    /// <summary>Broker <paramref name="brokerId"/> accepts connections again.</summary>
    public void SetBrokerUp(int brokerId) => MockClusterNative.Check(MockClusterNative.BrokerSetUp(_cluster, brokerId), $"setting broker {brokerId} up");

    /// <summary>Moves the leadership of a partition to <paramref name="brokerId"/>.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        MockClusterNative.Check(MockClusterNative.PartitionSetLeader(_cluster, topic, partition, brokerId),
            string.Create(CultureInfo.InvariantCulture, $"moving the leader of {topic}/{partition} to broker {brokerId}"));

    /// <summary>Makes <paramref name="brokerId"/> the coordinator of consumer group <paramref name="group"/>.</summary>
    public void SetGroupCoordinator(string group, int brokerId) =>
        MockClusterNative.Check(MockClusterNative.CoordinatorSet(_cluster, "group", group, brokerId), $"making broker {brokerId} the coordinator of group {group}");

    /// <summary>Stops the brokers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _client.Dispose();
        MockClusterNative.ClusterDestroy(_cluster);
        MockClusterNative.KafkaDestroy(_handle);
    }
}
