namespace Lakehouse.Bronze;

/// <summary>
/// One event as bronze keeps it: the payload's bytes exactly as received (valid JSON, UTF-8 or not), and where it came from.
/// </summary>
/// <param name="Payload">Every byte of the event; a text line without its line break.</param>
/// <param name="Source">Where it came from: a topic, an event hub, a file's lake path, or an HTTP request.</param>
/// <param name="EnqueuedTime">When the broker accepted it (streams), null for files and HTTP.</param>
/// <param name="Key">The Kafka key or Event Hubs partition key as text, null when absent.</param>
public sealed record BronzeEvent(byte[] Payload, SourcePosition Source, DateTimeOffset? EnqueuedTime = null, string? Key = null);

/// <summary>Where an event is in its source: enough to find it there again and to deduplicate by position.</summary>
/// <param name="Kind">The source kind (see <see cref="SourceKinds"/>).</param>
/// <param name="Name">Topic, event hub, file path (lake-relative or URI) or HTTP request id.</param>
/// <param name="Partition">Kafka or Event Hubs partition; null for files and HTTP.</param>
/// <param name="Offset">Kafka offset, Event Hubs sequence number, or byte offset of the line in its file.</param>
/// <param name="Line">1-based line of a file or element of an HTTP body; null for streams.</param>
public sealed record SourcePosition(string Kind, string Name, string? Partition, long? Offset, long? Line);

/// <summary>The values of <see cref="SourcePosition.Kind"/> (column <c>source_kind</c>).</summary>
public static class SourceKinds
{
    /// <summary>A landing-zone file (NDJSON, JSON array, CSV, text log, their .gz forms).</summary>
    public const string File = "file";

    /// <summary>An Event Hubs Capture Avro file: the position is the captured event's partition and sequence number.</summary>
    public const string Capture = "capture";

    /// <summary>A Kafka topic (Kafka itself or Event Hubs' Kafka endpoint).</summary>
    public const string Kafka = "kafka";

    /// <summary>An event hub read over AMQP.</summary>
    public const string EventHubs = "eventhubs";

    /// <summary>A POST to <c>/ingest/{dataset}</c>.</summary>
    public const string Http = "http";
}
