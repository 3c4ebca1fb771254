using System.Security.Cryptography;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Testing.Kafka;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>The mock-cluster starter the bench and the tests share: topics of a chosen size, and the mock's per-partition cap.</summary>
public sealed class KafkaMockClusterTests(KafkaClusterFixture kafka) : IClassFixture<KafkaClusterFixture>
{
    private readonly string _topic = "m" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public void CreateTopic_TwelvePartitions_EveryPartitionLedAndEmpty()
    {
        Assert.Equal(12, kafka.Cluster.CreateTopic(_topic, 12));

        var marks = kafka.Cluster.Watermarks(_topic);
        Assert.Equal(Enumerable.Range(0, 12), marks.Keys.Order());
        Assert.All(marks.Values, w => Assert.Equal((0L, 0L), w));
        Assert.All(kafka.Cluster.Leaders(_topic).Values, leader => Assert.InRange(leader, 1, 3));
    }

    [Fact]
    public void CreateTopic_AlreadyAutoCreated_ReturnsItsPartitionCount()
    {
        Assert.Equal(KafkaMockCluster.DefaultPartitions, kafka.Cluster.CreateTopic(_topic));
        Assert.Equal(KafkaMockCluster.DefaultPartitions, kafka.Cluster.CreateTopic(_topic, 9));
    }

    [Fact]
    public async Task Produce_MoreThanThePartitionCap_TheMockDeletesTheOldestAndTheLogStartOffsetMoves()
    {
        kafka.Cluster.CreateTopic(_topic, 1);
        var body = RandomNumberGenerator.GetBytes(100_000); // incompressible: 80 messages are 8 MB, above the mock's 5 MB
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = kafka.Cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 80; i++) await producer.ProduceAsync(_topic, new Message<Null, byte[]> { Value = body });
        }

        var (low, high) = kafka.Cluster.Watermarks(_topic)[0];
        Assert.Equal(80, high);
        // 5 MB of 100,000-byte message sets (plus their framing) is 52 of them.
        Assert.InRange(high - low, 50, 53);
        Assert.Equal(low, kafka.Cluster.StartOffsets(_topic)[0]);
    }
}
