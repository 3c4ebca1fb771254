using Lakehouse.Bronze.EventHubs;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>What a stream source needs besides its URI: the consumer group and how to log.</summary>
public sealed record StreamSourceSettings
{
    /// <summary>The consumer group when none is given (Event Hubs reads it as <c>$Default</c>).</summary>
    public const string DefaultConsumerGroup = "lakehouse-bronze";

    /// <summary>The consumer group (Kafka group id; Event Hubs consumer group and ownership group). Default "lakehouse-bronze".</summary>
    public string ConsumerGroup { get; init; } = DefaultConsumerGroup;

    /// <summary>Configuration such as connection strings and credentials (environment variables by default).</summary>
    public Func<string, string?> Setting { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The logger factory of the run.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The lake's root, where a source may keep coordination state under <c>_lakehouse/</c> (Event Hubs partition ownership
    /// leases); null: no coordination, this worker reads every partition.
    /// </summary>
    public ILakeStorage? Lake { get; init; }

    /// <summary>The dataset being ingested (its bronze table), so coordination state of different tables stays apart.</summary>
    public string? Dataset { get; init; }

    /// <summary>
    /// What a Kafka source does when the broker no longer holds the offset bronze is to read next (retention deleted events before
    /// they were ingested, or the topic was recreated): <see cref="DataLossPolicy.Fail"/> (the default, as Spark's
    /// <c>failOnDataLoss</c>) stops with an error that says how many events are gone; <see cref="DataLossPolicy.Skip"/> logs the loss
    /// (warning 5103) and reads on from the earliest offset left.
    /// </summary>
    public DataLossPolicy OnDataLoss { get; init; } = DataLossPolicy.Fail;
}

/// <summary>What a stream source does when events it was to read next are gone from the broker.</summary>
public enum DataLossPolicy
{
    /// <summary>Stop with an error naming the partition, the position and how many events are gone.</summary>
    Fail,

    /// <summary>Log the loss and read on from the earliest event left.</summary>
    Skip,
}

/// <summary>Opens the source a <c>--from</c> value names.</summary>
public static class BronzeSources
{
    /// <summary>True when <paramref name="from"/> names a stream (kafka://, eventhubs://) rather than files.</summary>
    public static bool IsStream(string from)
    {
        ArgumentNullException.ThrowIfNull(from);
        return from.StartsWith("kafka://", StringComparison.OrdinalIgnoreCase) || from.StartsWith("eventhubs://", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Checks the address of a stream (<see cref="IsStream"/>) as written, without connecting or reading any setting: fails with
    /// InvalidInput naming what is wrong (no topic, a bad port, more than one hub…), as <see cref="OpenStream"/> would.
    /// </summary>
    public static void CheckStreamAddress(string from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (from.StartsWith("kafka://", StringComparison.OrdinalIgnoreCase)) KafkaConnection.ParseUri(from, KafkaConnection.KafkaPort);
        else if (from.StartsWith("eventhubs://", StringComparison.OrdinalIgnoreCase)) EventHubsEndpoint.Parse(from);
        else throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{from}' is not a stream: kafka://host:port/topic or eventhubs://namespace/hub.");
    }

    /// <summary>The stream source of <paramref name="from"/> (kafka://host:port/topic or eventhubs://…).</summary>
    public static IStreamSource OpenStream(string from, StreamSourceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(settings);
        var scheme = from[..from.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant();
        return scheme switch
        {
            "eventhubs" => EventHubsSource.Open(from, settings),
            "kafka" => KafkaSource.Open(from, settings),
            _ => throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{scheme}://' sources are not available yet."),
        };
    }
}
