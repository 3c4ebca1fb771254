using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace Lakehouse.Testing.EventHubs;

/// <summary>
/// An Event Hubs stand-in: a real AMQP 1.0 peer (Microsoft.Azure.Amqp 2.7.3's <see cref="AmqpConnectionListener"/>) on a free
/// 127.0.0.1 port, speaking the part of the Event Hubs protocol that Azure.Messaging.EventHubs 5.12.2 uses, so the real
/// producer, consumer and <c>PartitionReceiver</c> are the clients in tests (Microsoft's emulator is a container and cannot run
/// here). One hub, several partitions, in memory, no TLS: clients connect with <see cref="ConnectionString"/>
/// (<c>UseDevelopmentEmulator=true</c> turns TLS off and keeps the port).
/// </summary>
/// <remarks>
/// What it serves: SASL <c>MSSBCBS</c>; CBS <c>put-token</c> on <c>$cbs</c>; <c>$management</c> READ of
/// <c>com.microsoft:eventhub</c> and <c>com.microsoft:partition</c> (404 for other hubs or partitions); senders to the hub
/// (routed by partition key, round-robin without one) or to <c>hub/Partitions/N</c>, single events and batched envelopes
/// (message format 0x80013700), each envelope landing whole in one partition, settled Accepted; receivers on
/// <c>hub/ConsumerGroups/G/Partitions/N</c> with the <c>apache.org:selector-filter:string</c> filter on
/// <c>x-opt-offset</c>, <c>x-opt-sequence-number</c> or <c>x-opt-enqueued-time</c> (<c>&gt;</c>, <c>&gt;=</c>, <c>@latest</c>),
/// sending within the receiver's credit with the service's annotations. What it does not: owner-level (epoch) receivers are
/// not exclusive, idempotent publishing and geo-replication capabilities are ignored, runtime metrics are not sent, no
/// retention (every event is kept), and tokens are accepted without checking their signature.
/// </remarks>
public sealed class EventHubsStandIn : IDisposable
{
    /// <summary>The SAS key name the stand-in's connection strings carry (any is accepted).</summary>
    public const string KeyName = "standin";

    /// <summary>A SAS key for the connection strings: base64 of "stand-in key", not a secret of anything.</summary>
    public const string Key = "c3RhbmQtaW4ga2V5";

    private readonly AmqpConnectionListener _listener;
    private readonly StandInRuntime _runtime;

    private EventHubsStandIn(StandInHub hub, StandInRuntime runtime, AmqpConnectionListener listener, int port)
    {
        Hub = hub;
        _runtime = runtime;
        _listener = listener;
        Port = port;
    }

    internal StandInHub Hub { get; }

    /// <summary>The port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The event hub's name.</summary>
    public string HubName => Hub.Name;

    /// <summary>The partition ids, "0" to "N-1".</summary>
    public IReadOnlyList<string> PartitionIds => [.. Hub.Partitions.Select(p => p.Id)];

    /// <summary>The namespace host as a client names it (the <c>eventhubs://</c> URI's host).</summary>
    public string Namespace => "127.0.0.1:" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A connection string for the hub (with EntityPath).</summary>
    public string ConnectionString => NamespaceConnectionString + ";EntityPath=" + HubName;

    /// <summary>A namespace connection string (no EntityPath), with <c>UseDevelopmentEmulator=true</c>.</summary>
    public string NamespaceConnectionString => $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName={KeyName};SharedAccessKey={Key};UseDevelopmentEmulator=true";

    /// <summary>How many AMQP connections are open now.</summary>
    public int OpenConnections => _runtime.OpenConnections;

    /// <summary>How many receivers are attached to each partition now (any consumer group).</summary>
    public IReadOnlyDictionary<string, int> ReceiversByPartition => _runtime.ReceiversByPartition(Hub);

    /// <summary>How many receivers have ever attached to each partition.</summary>
    public IReadOnlyDictionary<string, int> ReceiverAttachesByPartition => _runtime.AttachesByPartition(Hub);

    /// <summary>The events stored in <paramref name="partitionId"/>, in sequence order.</summary>
    public IReadOnlyList<StandInEvent> Events(string partitionId) =>
        (Hub.Partition(partitionId) ?? throw new ArgumentException($"No partition '{partitionId}'.", nameof(partitionId))).Snapshot();

    /// <summary>
    /// Retention deletes the events of <paramref name="partitionId"/> before sequence number <paramref name="before"/>: a receiver asking
    /// for one of them starts at the first event left, as on the service.
    /// </summary>
    public void Expire(string partitionId, int before) =>
        (Hub.Partition(partitionId) ?? throw new ArgumentException($"No partition '{partitionId}'.", nameof(partitionId))).Expire(before);

    /// <summary>How many partition-properties reads (a client learning where a partition ends) the stand-in has answered.</summary>
    public int PartitionReads => Hub.PartitionReads;

    /// <summary>How many events all partitions hold.</summary>
    public long TotalEvents => Hub.Partitions.Sum(p => (long)p.Count);

    /// <summary>
    /// Starts a stand-in for one hub with <paramref name="partitionCount"/> partitions. <paramref name="consumerGroups"/> lists
    /// the consumer groups receivers may use (null: any name, as if each existed).
    /// </summary>
    public static EventHubsStandIn Start(string hubName = "hub", int partitionCount = 4, IReadOnlyCollection<string>? consumerGroups = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hubName);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        var hub = new StandInHub(hubName, partitionCount, consumerGroups);
        var runtime = new StandInRuntime(hub);
        var settings = new AmqpSettings { RuntimeProvider = runtime };
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS")); // the only mechanism the SDK offers; the token follows on $cbs
        settings.TransportProviders.Add(sasl);
        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);
        var connectionSettings = new AmqpConnectionSettings { ContainerId = "lakehouse-eventhubs-standin", MaxFrameSize = 256 * 1024 };

        // A port found free by binding :0 may be taken before the listener binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = LocalServers.FreePort();
            var listener = new AmqpConnectionListener([$"amqp://127.0.0.1:{port}"], settings, connectionSettings);
            try
            {
                listener.Open();
                return new EventHubsStandIn(hub, runtime, listener, port);
            }
            catch (SocketException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Fault: detaches every partition receiver link (<c>amqp:link:detach-forced</c>); returns how many there were.</summary>
    public int DetachReceivers() => _runtime.DetachReceivers();

    /// <summary>
    /// Fault: drops, without a close frame, the socket of every AMQP connection that has a partition receiver (consumers;
    /// producers' connections stay); returns how many there were.
    /// </summary>
    public int AbortReceiverConnections() => _runtime.AbortReceiverConnections();

    /// <summary>Closes the listener and every connection.</summary>
    public void Dispose()
    {
        _listener.Close();
        _runtime.AbortAll();
    }
}

/// <summary>Counters kept per partition id.</summary>
internal sealed class PartitionCounters
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Add(string partition, int delta) => _counts.AddOrUpdate(partition, delta, (_, v) => v + delta);

    public IReadOnlyDictionary<string, int> Snapshot(StandInHub hub) =>
        hub.Partitions.ToDictionary(p => p.Id, p => _counts.TryGetValue(p.Id, out var n) ? n : 0, StringComparer.Ordinal);
}
