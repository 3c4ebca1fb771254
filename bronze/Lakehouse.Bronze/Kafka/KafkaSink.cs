using System.Text;
using Confluent.Kafka;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// Sends the simulator's events to a Kafka topic (or Event Hubs' Kafka endpoint): acks=all and an idempotent producer, so a
/// retried send neither duplicates nor reorders events within a partition. An event's key, when it has one, is sent as UTF-8 and
/// chooses the partition; events without a key are spread by librdkafka's default partitioner.
/// </summary>
internal sealed class KafkaSink : IEventSink
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(30);

    private readonly KafkaConnection _connection;
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly ILogger _log;
    private readonly TimeSpan _brokerTimeout;
    private Task? _reachable;
    private volatile Error? _fatal;
    private int _disposed;

    private KafkaSink(KafkaConnection connection, ILoggerFactory? loggerFactory, TimeSpan brokerTimeout)
    {
        _connection = connection;
        _brokerTimeout = brokerTimeout;
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KafkaSink>();
        KafkaLog.SinkConnecting(_log, connection);
        var clientLog = new KafkaClientLog(_log);
        _producer = new ProducerBuilder<byte[]?, byte[]>(connection.ProducerConfig())
            .SetKeySerializer(Serializers.ByteArray)
            .SetValueSerializer(Serializers.ByteArray)
            .SetLogHandler((_, m) => clientLog.Log(m))
            .SetErrorHandler((_, e) =>
            {
                clientLog.Error(e);
                if (e.IsFatal) _fatal = e;
            })
            .Build();
    }

    /// <summary>
    /// The sink of <paramref name="uri"/> (<c>kafka://host:port[,host:port]/topic</c>). The first send waits at most
    /// <paramref name="brokerTimeout"/> (default <see cref="KafkaConnection.BrokerTimeout"/>) for a broker to answer a metadata
    /// request and fails naming the brokers when none does; otherwise librdkafka would try to deliver for its 5 minutes.
    /// </summary>
    internal static KafkaSink Open(string uri, StreamSourceSettings settings, TimeSpan? brokerTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new KafkaSink(KafkaConnection.FromUri(uri, settings.Setting), settings.LoggerFactory, brokerTimeout ?? KafkaConnection.BrokerTimeout);
    }

    /// <summary>The topic events go to.</summary>
    internal string Topic => _connection.Topic;

    /// <inheritdoc />
    public async Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0) return;
        await (_reachable ??= Task.Run(CheckReachable, CancellationToken.None)).WaitAsync(cancellationToken).ConfigureAwait(false);
        var state = new Batch(events.Count);
        Action<DeliveryReport<byte[]?, byte[]>> delivered = state.Delivered;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var message = new Message<byte[]?, byte[]> { Key = e.Key is null ? null : Encoding.UTF8.GetBytes(e.Key), Value = e.Payload };
            while (true)
            {
                if (_fatal is { } fatal) throw Refused(fatal);
                try
                {
                    _producer.Produce(_connection.Topic, message, delivered);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]> p) when (p.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: wait for deliveries to make room.
                    await Task.Delay(2, cancellationToken).ConfigureAwait(false);
                }
                catch (ProduceException<byte[]?, byte[]> p)
                {
                    state.NotSent(events.Count - i);
                    await state.Done.ConfigureAwait(false);
                    throw Refused(p.Error);
                }
            }
        }
        await state.Done.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (state.FirstError is { } error) throw Refused(error);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        try
        {
            _producer.Flush(FlushTimeout);
        }
        finally
        {
            _producer.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Asks the brokers for the topic's metadata: a wrong host or port fails here, before anything is queued.</summary>
    private void CheckReachable()
    {
        using var admin = new DependentAdminClientBuilder(_producer.Handle).Build();
        try
        {
            admin.GetMetadata(_connection.Topic, _brokerTimeout);
        }
        catch (KafkaException e)
        {
            throw _connection.Unreachable(e, _brokerTimeout);
        }
    }

    private LakehouseException Refused(Error error) =>
        new(LakehouseErrorReason.Storage, $"Sending to Kafka topic '{_connection.Topic}' at {_connection.BootstrapServers} failed ({error.Code}): {error.Reason}",
            isTransient: !error.IsFatal);

    /// <summary>The deliveries of one <see cref="SendAsync"/> call, counted down on librdkafka's delivery thread.</summary>
    private sealed class Batch(int count)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending = count;

        internal Task Done => _done.Task;

        internal Error? FirstError { get; private set; }

        internal void Delivered(DeliveryReport<byte[]?, byte[]> report)
        {
            if (report.Error.IsError)
            {
                lock (_done) FirstError ??= report.Error;
            }
            if (Interlocked.Decrement(ref _pending) == 0) _done.TrySetResult();
        }

        internal void NotSent(int count)
        {
            if (Interlocked.Add(ref _pending, -count) == 0) _done.TrySetResult();
        }
    }
}
