using System.Globalization;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Lakehouse.Testing.EventHubs;

/// <summary>Events in and out of AMQP messages, with the annotations the Event Hubs service reads and stamps.</summary>
internal static class StandInMessages
{
    public const string PartitionKeyName = "x-opt-partition-key";
    public const string SequenceNumberName = "x-opt-sequence-number";
    public const string OffsetName = "x-opt-offset";
    public const string EnqueuedTimeName = "x-opt-enqueued-time";

    /// <summary>The partition key annotation of a message, or null.</summary>
    public static string? PartitionKey(AmqpMessage message) =>
        (message.Sections & SectionFlag.MessageAnnotations) != 0 && message.MessageAnnotations.Map.TryGetValue<string>(new AmqpSymbol(PartitionKeyName), out var key)
            ? key
            : null;

    /// <summary>One event of a batched envelope: its data section holds a whole encoded AMQP message.</summary>
    public static IncomingEvent Decode(ArraySegment<byte> encoded, string? envelopeKey)
    {
        using var stream = new BufferListStream([encoded]);
        using var message = AmqpMessage.CreateAmqpStreamMessage(stream, true);
        return ToIncoming(message, envelopeKey);
    }

    public static IncomingEvent ToIncoming(AmqpMessage message, string? envelopeKey)
    {
        byte[] body;
        if ((message.BodyType & SectionFlag.Data) != 0 || (message.Sections & SectionFlag.Data) != 0)
        {
            using var buffer = new MemoryStream();
            foreach (var data in message.DataBody)
            {
                var segment = (ArraySegment<byte>)data.Value;
                buffer.Write(segment.Array!, segment.Offset, segment.Count);
            }
            body = buffer.ToArray();
        }
        else
        {
            body = [];
        }
        var properties = new List<KeyValuePair<string, object>>();
        if ((message.Sections & SectionFlag.ApplicationProperties) != 0)
        {
            foreach (var p in message.ApplicationProperties.Map)
                properties.Add(new KeyValuePair<string, object>(p.Key.Key.ToString() ?? "", p.Value));
        }
        object? messageId = null;
        string? contentType = null;
        if ((message.Sections & SectionFlag.Properties) != 0)
        {
            messageId = message.Properties.MessageId?.ToString();
            contentType = message.Properties.ContentType.Value;
        }
        return new IncomingEvent(PartitionKey(message) ?? envelopeKey, body, properties, messageId, contentType);
    }

    /// <summary>An event as the service delivers it to a receiver.</summary>
    public static AmqpMessage ToMessage(StandInEvent e)
    {
        var message = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>(e.Body) });
        var annotations = message.MessageAnnotations.Map;
        annotations[new AmqpSymbol(SequenceNumberName)] = e.SequenceNumber;
        annotations[new AmqpSymbol(OffsetName)] = e.Offset.ToString(CultureInfo.InvariantCulture); // a string: the SDK casts it so
        annotations[new AmqpSymbol(EnqueuedTimeName)] = e.EnqueuedTime;
        if (e.PartitionKey is not null) annotations[new AmqpSymbol(PartitionKeyName)] = e.PartitionKey;
        foreach (var p in e.ApplicationProperties) message.ApplicationProperties.Map[p.Key] = p.Value;
        if (e.MessageId is string id) message.Properties.MessageId = id;
        if (e.ContentType is not null) message.Properties.ContentType = new AmqpSymbol(e.ContentType);
        return message;
    }
}
