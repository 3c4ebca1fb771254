using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Lakehouse.Testing.EventHubs;

/// <summary>The request/response operations: CBS put-token on $cbs, READ on $management.</summary>
internal static class StandInRequests
{
    /// <summary>CBS put-token: any non-empty token of the SAS or JWT kind is accepted (202), for the audience it names.</summary>
    public static AmqpMessage PutToken(AmqpMessage request)
    {
        var operation = Property(request, "operation");
        if (operation != "put-token") return Status(400, $"The operation '{operation}' is not supported on $cbs.");
        var type = Property(request, "type");
        if (type is not ("servicebus.windows.net:sastoken" or "jwt")) return Status(400, $"The token type '{type}' is not supported.");
        if (string.IsNullOrEmpty(Property(request, "name"))) return Status(400, "The token has no audience (name).");
        var token = request.ValueBody?.Value as string;
        return string.IsNullOrEmpty(token) ? Status(401, "The token is empty.") : Status(202, "Accepted");
    }

    /// <summary>$management READ of the hub's or a partition's runtime information, with the exact value types the SDK unboxes.</summary>
    public static AmqpMessage Read(StandInHub hub, AmqpMessage request)
    {
        var operation = Property(request, "operation");
        if (operation != "READ") return Status(400, $"The management operation '{operation}' is not supported.");
        if (string.IsNullOrEmpty(Property(request, "security_token"))) return Status(401, "The request has no security_token.");
        var name = Property(request, "name");
        if (!string.Equals(name, hub.Name, StringComparison.OrdinalIgnoreCase))
            return Status(404, $"The messaging entity '{name}' could not be found.");
        var type = Property(request, "type");
        var map = new AmqpMap();
        if (type == "com.microsoft:eventhub")
        {
            map.Add(new MapKey("name"), hub.Name);
            map.Add(new MapKey("created_at"), hub.CreatedAt);
            map.Add(new MapKey("partition_count"), hub.Partitions.Count);
            map.Add(new MapKey("partition_ids"), hub.Partitions.Select(p => p.Id).ToArray());
        }
        else if (type == "com.microsoft:partition")
        {
            var id = Property(request, "partition");
            var partition = hub.Partition(id ?? "");
            if (partition is null) return Status(404, $"The messaging entity '{hub.Name}/Partitions/{id}' could not be found.");
            StandInEvent? last;
            lock (partition.SyncRoot) last = partition.Count == 0 ? null : partition[partition.Count - 1];
            map.Add(new MapKey("name"), hub.Name);
            map.Add(new MapKey("partition"), partition.Id);
            map.Add(new MapKey("begin_sequence_number"), 0L);
            map.Add(new MapKey("last_enqueued_sequence_number"), last?.SequenceNumber ?? -1L);
            map.Add(new MapKey("last_enqueued_offset"), (last?.Offset ?? -1L).ToString(System.Globalization.CultureInfo.InvariantCulture));
            map.Add(new MapKey("last_enqueued_time_utc"), last?.EnqueuedTime ?? DateTime.MinValue);
            map.Add(new MapKey("is_partition_empty"), last is null);
            hub.CountPartitionRead();
        }
        else
        {
            return Status(400, $"The entity type '{type}' is not supported.");
        }
        var response = AmqpMessage.Create(new AmqpValue { Value = map });
        SetStatus(response, 200, "OK");
        return response;
    }

    private static string? Property(AmqpMessage message, string name) =>
        (message.Sections & SectionFlag.ApplicationProperties) != 0 && message.ApplicationProperties.Map.TryGetValue<object>(name, out var value)
            ? value?.ToString()
            : null;

    private static AmqpMessage Status(int code, string description)
    {
        var response = AmqpMessage.Create();
        SetStatus(response, code, description);
        return response;
    }

    private static void SetStatus(AmqpMessage response, int code, string description)
    {
        response.ApplicationProperties.Map["status-code"] = code;
        response.ApplicationProperties.Map["status-description"] = description;
    }
}
