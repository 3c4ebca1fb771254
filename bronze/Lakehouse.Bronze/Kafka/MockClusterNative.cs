using System.Runtime.InteropServices;
using System.Text;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// librdkafka's mock-cluster C API (<c>rdkafka_mock.h</c>), which Confluent.Kafka does not wrap: called through P/Invoke on the
/// <c>librdkafka.so</c> that librdkafka.redist ships (the same build Confluent.Kafka loads). The cluster is created with
/// <c>rd_kafka_mock_cluster_new</c> on a handle of its own, so its owner can create topics with a chosen partition count, take
/// brokers down and up and move partition leaders while clients (in this process or another) talk the Kafka protocol to it.
/// Used by <see cref="KafkaMockCluster"/> only (the bench and the tests).
/// </summary>
internal static partial class MockClusterNative
{
    private const string Library = "librdkafka";

    static MockClusterNative() => NativeLibrary.SetDllImportResolver(typeof(MockClusterNative).Assembly, Resolve);

    /// <summary>
    /// librdkafka.redist's linux-x64 <c>librdkafka.so</c> needs libsasl2, which a bare machine lacks; the package also ships
    /// <c>centos8-librdkafka.so</c> (and musl's <c>alpine-librdkafka.so</c>), which Confluent.Kafka falls back to. Same order here.
    /// </summary>
    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library) return IntPtr.Zero;
        if (NativeLibrary.TryLoad(name, assembly, searchPath, out var handle)) return handle;
        // A build keeps the natives under runtimes/<rid>/native; a RID-specific publish puts them next to the assembly.
        var folders = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64", "native"),
            AppContext.BaseDirectory,
        };
        foreach (var folder in folders)
        {
            foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" })
            {
                if (NativeLibrary.TryLoad(Path.Combine(folder, file), out handle)) return handle;
            }
        }
        return IntPtr.Zero;
    }

    /// <summary>rd_kafka_type_t RD_KAFKA_PRODUCER.</summary>
    internal const int ProducerType = 0;

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_new")]
    internal static partial IntPtr ConfNew();

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_new")]
    internal static partial IntPtr KafkaNew(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_destroy")]
    internal static partial void KafkaDestroy(IntPtr rk);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    internal static partial IntPtr ClusterNew(IntPtr rk, int brokers);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    internal static partial void ClusterDestroy(IntPtr cluster);

    /// <summary>Creates a topic with <paramref name="partitions"/> partitions (the mock's auto-creation makes 4).</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int TopicCreate(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    internal static partial IntPtr ClusterBootstraps(IntPtr cluster);

    /// <summary>Disconnects the broker and refuses new connections (its partitions keep it as leader: no leader change).</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    internal static partial int BrokerSetDown(IntPtr cluster, int brokerId);

    /// <summary>Lets the broker accept connections again.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    internal static partial int BrokerSetUp(IntPtr cluster, int brokerId);

    /// <summary>Makes <paramref name="brokerId"/> the partition's leader (-1: none); clients learn it from NOT_LEADER answers.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PartitionSetLeader(IntPtr cluster, string topic, int partition, int brokerId);

    /// <summary>Makes <paramref name="brokerId"/> the coordinator of a group (<paramref name="keyType"/> "group") or transaction.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_coordinator_set", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int CoordinatorSet(IntPtr cluster, string keyType, string key, int brokerId);

    /// <summary>Text of an error buffer filled by librdkafka.</summary>
    internal static string Text(byte[] buffer)
    {
        var end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    /// <summary>Throws when a mock call answered an error code other than 0.</summary>
    internal static void Check(int code, string what)
    {
        if (code != 0) throw new Lakehouse.Core.LakehouseException(Lakehouse.Core.LakehouseErrorReason.Engine, $"librdkafka's mock cluster: {what} failed with error code {code}.");
    }
}
