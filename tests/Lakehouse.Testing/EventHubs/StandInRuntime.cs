using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Transport;

namespace Lakehouse.Testing.EventHubs;

/// <summary>
/// The stand-in's AMQP runtime: creates connections, sessions and links, and on each link's attach decides what the link is
/// (a publisher, a partition receiver, a $cbs or $management request or reply link) from its address.
/// </summary>
internal sealed class StandInRuntime(StandInHub hub) : IRuntimeProvider
{
    /// <summary>The max-message-size the stand-in's attaches carry (the SDK sizes its batches by it; 0 breaks them).</summary>
    public const ulong MaxMessageSize = 1024 * 1024;

    private readonly ConcurrentDictionary<AmqpConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<(AmqpConnection, string), SendingAmqpLink> _replyLinks = new();
    private readonly PartitionCounters _receivers = new();
    private readonly PartitionCounters _attaches = new();
    private readonly ConcurrentDictionary<SendingAmqpLink, string> _receiverLinks = new();

    public int OpenConnections => _connections.Count;

    public IReadOnlyDictionary<string, int> ReceiversByPartition(StandInHub of) => _receivers.Snapshot(of);

    public IReadOnlyDictionary<string, int> AttachesByPartition(StandInHub of) => _attaches.Snapshot(of);

    public void AbortAll()
    {
        foreach (var c in _connections.Keys) c.SafeClose();
    }

    /// <summary>Detaches every partition receiver link with <c>amqp:link:detach-forced</c>, as the service does when it moves a partition.</summary>
    public int DetachReceivers()
    {
        var links = _receiverLinks.Keys.ToList();
        foreach (var link in links) link.SafeClose(new AmqpException(AmqpErrorCode.DetachForced, "The stand-in detached the link (fault injected by the test)."));
        return links.Count;
    }

    /// <summary>Drops the socket of every connection that has a partition receiver, without a close frame, as a network failure would.</summary>
    public int AbortReceiverConnections()
    {
        var connections = _receiverLinks.Keys.Select(l => l.Session.Connection).Distinct().ToList();
        foreach (var c in connections) c.Abort();
        return connections.Count;
    }

    public AmqpConnection CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings)
    {
        var connection = new AmqpConnection(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);
        _connections[connection] = 0;
        connection.Closed += (_, _) => _connections.TryRemove(connection, out _);
        return connection;
    }

    public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) => new(connection, settings, this);

    public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        settings.MaxMessageSize = MaxMessageSize;
        if (settings.IsReceiver())
        {
            // The client sends: give it credit, renewed as messages are accepted.
            settings.TotalLinkCredit = 500;
            settings.AutoSendFlow = true;
            return new ReceivingAmqpLink(session, settings);
        }
        return new SendingAmqpLink(session, settings);
    }

    public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        var done = new TaskCompletionSource(state);
        try
        {
            if (link is ReceivingAmqpLink receiving) AttachIncoming(receiving);
            else AttachOutgoing((SendingAmqpLink)link);
            done.SetResult();
        }
        catch (AmqpException e)
        {
            done.SetException(e);
        }
        callback?.Invoke(done.Task);
        return done.Task;
    }

    public void EndOpenLink(IAsyncResult result) => ((Task)result).GetAwaiter().GetResult();

    /// <summary>A link the client sends on: $cbs and $management requests, or events for the hub or one partition.</summary>
    private void AttachIncoming(ReceivingAmqpLink link)
    {
        var address = Path(((Target)link.Settings.Target).Address?.ToString());
        if (address.Equals("$cbs", StringComparison.OrdinalIgnoreCase))
        {
            link.RegisterMessageListener(m => Reply(link, m, StandInRequests.PutToken));
            return;
        }
        if (address.Equals("$management", StringComparison.OrdinalIgnoreCase))
        {
            link.RegisterMessageListener(m => Reply(link, m, r => StandInRequests.Read(hub, r)));
            return;
        }
        var parts = address.Split('/');
        if (!parts[0].Equals(hub.Name, StringComparison.OrdinalIgnoreCase))
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found. The stand-in serves '{hub.Name}'.");
        StandInPartition? partition = null;
        if (parts.Length == 3 && parts[1].Equals("Partitions", StringComparison.OrdinalIgnoreCase))
            partition = hub.Partition(parts[2]) ?? throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: the hub has no partition '{parts[2]}'.");
        else if (parts.Length != 1)
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found.");
        link.RegisterMessageListener(m => Publish(link, partition, m));
    }

    /// <summary>A link the client receives on: the reply link of $cbs or $management, or a partition receiver.</summary>
    private void AttachOutgoing(SendingAmqpLink link)
    {
        var address = Path(((Source)link.Settings.Source).Address?.ToString());
        if (address.Equals("$cbs", StringComparison.OrdinalIgnoreCase) || address.Equals("$management", StringComparison.OrdinalIgnoreCase))
        {
            var replyTo = ((Target)link.Settings.Target).Address?.ToString() ?? "";
            var key = (link.Session.Connection, replyTo);
            _replyLinks[key] = link;
            link.Closed += (_, _) => _replyLinks.TryRemove(new KeyValuePair<(AmqpConnection, string), SendingAmqpLink>(key, link));
            return;
        }
        var parts = address.Split('/');
        if (parts.Length != 5 || !parts[0].Equals(hub.Name, StringComparison.OrdinalIgnoreCase)
            || !parts[1].Equals("ConsumerGroups", StringComparison.OrdinalIgnoreCase) || !parts[3].Equals("Partitions", StringComparison.OrdinalIgnoreCase))
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found.");
        if (hub.ConsumerGroups is { } groups && !groups.Contains(parts[2]))
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: the hub has no consumer group '{parts[2]}'.");
        var partition = hub.Partition(parts[4]) ?? throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: the hub has no partition '{parts[4]}'.");
        // As on the service, a position retention has deleted starts at the first event left.
        var start = Math.Max(partition.FirstRetained, StandInFilter.StartIndex(partition, ((Source)link.Settings.Source).FilterSet));
        _receivers.Add(partition.Id, 1);
        _attaches.Add(partition.Id, 1);
        var pump = new PartitionPump(link, partition, start);
        _receiverLinks[link] = partition.Id;
        link.Closed += (_, _) =>
        {
            _receiverLinks.TryRemove(link, out _);
            _receivers.Add(partition.Id, -1);
            pump.Stop();
        };
        pump.Start();
    }

    private void Publish(ReceivingAmqpLink link, StandInPartition? partition, AmqpMessage message)
    {
        try
        {
            var envelopeKey = StandInMessages.PartitionKey(message);
            List<IncomingEvent> events;
            if (message.MessageFormat == AmqpConstants.AmqpBatchedMessageFormat)
                events = [.. message.DataBody.Select(d => StandInMessages.Decode((ArraySegment<byte>)d.Value, envelopeKey))];
            else
                events = [StandInMessages.ToIncoming(message, envelopeKey)];
            (partition ?? hub.Route(envelopeKey ?? events.FirstOrDefault()?.PartitionKey)).Append(events);
            link.AcceptMessage(message, batchable: false);
        }
        catch (Exception e) when (e is AmqpException or InvalidCastException or FormatException or InvalidOperationException)
        {
            link.RejectMessage(message, new AmqpException(AmqpErrorCode.DecodeError, "The stand-in could not read the event: " + e.Message));
        }
        finally
        {
            message.Dispose();
        }
    }

    private void Reply(ReceivingAmqpLink link, AmqpMessage request, Func<AmqpMessage, AmqpMessage> handle)
    {
        try
        {
            var replyTo = request.Properties.ReplyTo?.ToString() ?? "";
            var response = handle(request);
            response.Properties.CorrelationId = request.Properties.MessageId;
            if (_replyLinks.TryGetValue((link.Session.Connection, replyTo), out var replyLink))
                replyLink.SendMessageNoWait(response, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
            link.AcceptMessage(request, batchable: false);
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>An address as a path without the scheme, host or leading '/': "hub/Partitions/0", "$cbs".</summary>
    private static string Path(string? address)
    {
        if (string.IsNullOrEmpty(address)) return "";
        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb") address = uri.AbsolutePath;
        return address.Trim('/');
    }
}
