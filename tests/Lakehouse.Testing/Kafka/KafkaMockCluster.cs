using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Lakehouse.Testing.Kafka;

/// <summary>
/// librdkafka's mock cluster: a producer created with <c>test.mock.num.brokers</c> runs that many Kafka brokers on 127.0.0.1 in
/// this process and logs their address ("Mock cluster enabled: … replaced with &lt;bootstrap&gt;"). Any client, in this process or
/// another (kcat, the <c>lakehouse</c> CLI), talks the Kafka protocol to them. The cluster lives as long as this object.
/// Topics are created on first use with 4 partitions (the mock's default; it has no CreateTopics). The mock keeps only about
/// 5 MB of message sets per partition and deletes the oldest beyond that, as retention would: a test that fills a topic before
/// reading it stays under that (or compresses), or the first offsets are gone.
/// </summary>
public sealed partial class KafkaMockCluster : IDisposable
{
    /// <summary>
    /// librdkafka properties (LAKEHOUSE_KAFKA_PROPERTIES) for group members in tests: the mock's coordinator holds every join
    /// phase for about the session timeout (45 s by default), and below ~3 s a member is expired before its first assignment.
    /// </summary>
    public const string FastGroupProperties = "session.timeout.ms=4000;heartbeat.interval.ms=500";

    private readonly IProducer<Null, byte[]> _owner;

    /// <summary>The rd_kafka_t handle and mock cluster of <see cref="StartControllable"/> (zero for <see cref="Start"/>).</summary>
    private readonly IntPtr _nativeHandle;
    private readonly IntPtr _nativeCluster;

    private KafkaMockCluster(IProducer<Null, byte[]> owner, string bootstrap, IntPtr nativeHandle = default, IntPtr nativeCluster = default)
    {
        _owner = owner;
        BootstrapServers = bootstrap;
        _nativeHandle = nativeHandle;
        _nativeCluster = nativeCluster;
    }

    /// <summary>The brokers' addresses, <c>127.0.0.1:port,…</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers.</summary>
    public static KafkaMockCluster Start(int brokers = 3)
    {
        string? bootstrap = null;
        using var found = new ManualResetEventSlim();
        var config = new ProducerConfig(new Dictionary<string, string>
        {
            ["bootstrap.servers"] = "127.0.0.1:1",
            ["test.mock.num.brokers"] = brokers.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
            throw new InvalidOperationException("librdkafka's mock cluster did not log its bootstrap address within 30 s.");
        }
        return new KafkaMockCluster(owner, bootstrap!);
    }

    /// <summary>
    /// Starts a cluster of <paramref name="brokers"/> brokers (ids 1..N) through librdkafka's mock C API, so that
    /// <see cref="SetBrokerDown"/>, <see cref="SetBrokerUp"/>, <see cref="SetPartitionLeader"/> and <see cref="SetGroupCoordinator"/> can inject faults.
    /// </summary>
    public static KafkaMockCluster StartControllable(int brokers = 3)
    {
        var error = new byte[512];
        var conf = MockClusterNative.ConfNew();
        var handle = MockClusterNative.KafkaNew(MockClusterNative.ProducerType, conf, error, (UIntPtr)error.Length);
        if (handle == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + MockClusterNative.Text(error));
        var cluster = MockClusterNative.ClusterNew(handle, brokers);
        if (cluster == IntPtr.Zero)
        {
            MockClusterNative.KafkaDestroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }
        var bootstrap = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(MockClusterNative.ClusterBootstraps(cluster))!;
        var owner = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        return new KafkaMockCluster(owner, bootstrap, handle, cluster);
    }

    /// <summary>Broker <paramref name="brokerId"/> drops its connections and refuses new ones; it stays the leader of its partitions.</summary>
    public void SetBrokerDown(int brokerId) => MockClusterNative.Check(MockClusterNative.BrokerSetDown(Native(), brokerId), $"setting broker {brokerId} down");

    /// <summary>Broker <paramref name="brokerId"/> accepts connections again.</summary>
    public void SetBrokerUp(int brokerId) => MockClusterNative.Check(MockClusterNative.BrokerSetUp(Native(), brokerId), $"setting broker {brokerId} up");

    /// <summary>Moves the leadership of a partition to <paramref name="brokerId"/>.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        MockClusterNative.Check(MockClusterNative.PartitionSetLeader(Native(), topic, partition, brokerId), $"moving the leader of {topic}/{partition} to broker {brokerId}");

    /// <summary>Makes <paramref name="brokerId"/> the coordinator of consumer group <paramref name="group"/>.</summary>
    public void SetGroupCoordinator(string group, int brokerId) =>
        MockClusterNative.Check(MockClusterNative.CoordinatorSet(Native(), "group", group, brokerId), $"making broker {brokerId} the coordinator of group {group}");

    /// <summary>Each partition's leader (broker id) as the cluster's metadata says now.</summary>
    public IReadOnlyDictionary<int, int> Leaders(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.ToDictionary(p => p.PartitionId, p => p.Leader);
    }

    private IntPtr Native() => _nativeCluster != IntPtr.Zero ? _nativeCluster
        : throw new InvalidOperationException("Faults need a cluster from KafkaMockCluster.StartControllable.");

    /// <summary>The <c>kafka://</c> URI of <paramref name="topic"/> on this cluster.</summary>
    public string Uri(string topic) => $"kafka://{BootstrapServers}/{topic}";

    /// <summary>Creates <paramref name="topic"/> (a metadata request with auto-creation) and returns its partition count.</summary>
    public int CreateTopic(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            var t = metadata.Topics.Single(x => x.Topic == topic);
            if (!t.Error.IsError && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0)) return t.Partitions.Count;
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"The mock cluster did not create topic '{topic}'.");
    }

    /// <summary>Each partition's high watermark (the offset the next message will get).</summary>
    public IReadOnlyDictionary<int, long> EndOffsets(string topic) => Watermarks(topic, w => w.High.Value);

    /// <summary>Each partition's low watermark (its first offset still held: above 0 once the mock deleted old message sets).</summary>
    public IReadOnlyDictionary<int, long> StartOffsets(string topic) => Watermarks(topic, w => w.Low.Value);

    private Dictionary<int, long> Watermarks(string topic, Func<WatermarkOffsets, long> pick)
    {
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId).ToList();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "lakehouse-test-watermarks" }).Build();
        return partitions.ToDictionary(p => p, p => pick(consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10))));
    }

    /// <summary>
    /// Commits <paramref name="offsets"/> as <paramref name="group"/>'s offsets of <paramref name="topic"/>, as a member of the group
    /// that owns every partition (the group must have no other live member).
    /// </summary>
    public void CommitGroupOffsets(string group, string topic, IReadOnlyDictionary<int, long> offsets)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = group, EnableAutoCommit = false, SessionTimeoutMs = 4000, HeartbeatIntervalMs = 500 }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (consumer.Assignment.Count < offsets.Count)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"Joining group '{group}' did not assign the {offsets.Count} partitions of '{topic}' within 60 s.");
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
        consumer.Commit(offsets.Select(o => new TopicPartitionOffset(topic, o.Key, o.Value)));
        consumer.Close();
    }

    /// <summary><paramref name="group"/>'s committed offsets of <paramref name="topic"/> (partitions without one are left out).</summary>
    public IReadOnlyDictionary<int, long> GroupOffsets(string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .Where(o => o.Offset.Value >= 0).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>Stops the brokers.</summary>
    public void Dispose()
    {
        _owner.Dispose();
        if (_nativeCluster != IntPtr.Zero) MockClusterNative.ClusterDestroy(_nativeCluster);
        if (_nativeHandle != IntPtr.Zero) MockClusterNative.KafkaDestroy(_nativeHandle);
    }

    [GeneratedRegex(@"Mock cluster enabled: .* replaced with (\S+)")]
    private static partial Regex Bootstrap();
}
