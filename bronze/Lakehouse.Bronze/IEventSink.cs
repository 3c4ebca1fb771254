using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;

namespace Lakehouse.Bronze;

/// <summary>One event to send: its bytes and an optional key (Kafka key, Event Hubs partition key).</summary>
public sealed record OutgoingEvent(byte[] Payload, string? Key = null);

/// <summary>Where the simulator (<c>lakehouse produce --to</c>) sends events: a folder, an HTTP endpoint, Kafka or Event Hubs.</summary>
public interface IEventSink : IAsyncDisposable
{
    /// <summary>Sends <paramref name="events"/>; returns when the destination has accepted them (acknowledged, written, answered).</summary>
    Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken);
}

/// <summary>Opens the sink a <c>--to</c> value names.</summary>
public static class EventSinks
{
    /// <summary>The sink of <paramref name="to"/>: a folder, http(s)://…, kafka://host:port/topic or eventhubs://….</summary>
    public static IEventSink Open(string to, StreamSourceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(settings);
        var scheme = to.Contains("://", StringComparison.Ordinal) ? to[..to.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant() : "";
        return scheme switch
        {
            "kafka" => KafkaSink.Open(to, settings),
            _ => throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Sending to '{(scheme.Length == 0 ? "a folder" : scheme + "://")}' is not available yet."),
        };
    }
}
