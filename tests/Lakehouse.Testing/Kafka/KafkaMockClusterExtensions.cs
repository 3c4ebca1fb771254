using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;

namespace Lakehouse.Testing.Kafka;

/// <summary>What the tests ask of librdkafka's mock cluster beyond what the bench needs: offsets and consumer-group positions.</summary>
public static class KafkaMockClusterExtensions
{
    /// <summary>Each partition's high watermark (the offset the next message will get).</summary>
    public static IReadOnlyDictionary<int, long> EndOffsets(this KafkaMockCluster cluster, string topic) =>
        cluster.Watermarks(topic).ToDictionary(w => w.Key, w => w.Value.High);

    /// <summary>Each partition's low watermark (its first offset still held: above 0 once the mock deleted old message sets).</summary>
    public static IReadOnlyDictionary<int, long> StartOffsets(this KafkaMockCluster cluster, string topic) =>
        cluster.Watermarks(topic).ToDictionary(w => w.Key, w => w.Value.Low);

    /// <summary>
    /// Commits <paramref name="offsets"/> as <paramref name="group"/>'s offsets of <paramref name="topic"/>, as a member of the group
    /// that owns every partition (the group must have no other live member).
    /// </summary>
    public static void CommitGroupOffsets(this KafkaMockCluster cluster, string group, string topic, IReadOnlyDictionary<int, long> offsets)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            SessionTimeoutMs = 4000,
            HeartbeatIntervalMs = 500,
        }).Build();
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
    public static IReadOnlyDictionary<int, long> GroupOffsets(this KafkaMockCluster cluster, string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .Where(o => o.Offset.Value >= 0).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }
}
