using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Bronze.EventHubs;

/// <summary>
/// Sends the simulator's events to an event hub (<c>lakehouse produce --to eventhubs://namespace/hub</c>) with
/// <see cref="EventHubProducerClient"/>, in batches as large as the hub allows. Events with the same key go in one batch with
/// that partition key (so they land in one partition, in order); events without a key are spread by the service.
/// </summary>
internal sealed class EventHubsSink : IEventSink
{
    private readonly EventHubConnection _connection;
    private readonly EventHubProducerClient _producer;
    private readonly string _hub;
    private readonly ILogger _log;

    private EventHubsSink(EventHubConnection connection, string hub, ILogger log)
    {
        _connection = connection;
        _producer = new EventHubProducerClient(connection, new EventHubProducerClientOptions
        {
            RetryOptions = new EventHubsRetryOptions { MaximumRetries = 5, MaximumDelay = TimeSpan.FromSeconds(10) },
        });
        _hub = hub;
        _log = log;
    }

    /// <summary>The sink of an <c>eventhubs://namespace/hub</c> address: a connection string from the environment, or DefaultAzureCredential.</summary>
    public static EventHubsSink Open(string to, StreamSourceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var endpoint = EventHubsEndpoint.Parse(to);
        var (connection, _) = endpoint.Connect(settings.Setting, new EventHubConnectionOptions());
        return new EventHubsSink(connection, endpoint.Hub, (settings.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EventHubsSink>());
    }

    public async Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var batches = 0;
        try
        {
            foreach (var group in events.GroupBy(e => e.Key, StringComparer.Ordinal))
            {
                var options = new CreateBatchOptions { PartitionKey = group.Key };
                var batch = await _producer.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
                try
                {
                    foreach (var e in group)
                    {
                        if (batch.TryAdd(new EventData(e.Payload))) continue;
                        if (batch.Count == 0)
                            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                                $"An event of {e.Payload.Length:N0} bytes does not fit in a batch of event hub '{_hub}' (at most {batch.MaximumSizeInBytes:N0} bytes).");
                        await _producer.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                        batches++;
                        batch.Dispose();
                        batch = await _producer.CreateBatchAsync(options, cancellationToken).ConfigureAwait(false);
                        if (!batch.TryAdd(new EventData(e.Payload)))
                            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                                $"An event of {e.Payload.Length:N0} bytes does not fit in a batch of event hub '{_hub}' (at most {batch.MaximumSizeInBytes:N0} bytes).");
                    }
                    if (batch.Count > 0)
                    {
                        await _producer.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                        batches++;
                    }
                }
                finally
                {
                    batch.Dispose();
                }
            }
        }
        catch (EventHubsException e)
        {
            throw new LakehouseException(e.Reason == EventHubsException.FailureReason.ResourceNotFound ? LakehouseErrorReason.NotFound : LakehouseErrorReason.Storage,
                $"Sending to event hub '{_hub}' failed: {e.Message}", e, isTransient: e.IsTransient);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Sending to event hub '{_hub}' was refused: {e.Message}", e);
        }
        catch (Azure.Identity.AuthenticationFailedException e)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Could not authenticate to event hub '{_hub}': set {EventHubsEndpoint.ConnectionStringVariable} or sign in to Azure.", e);
        }
        EventHubsLog.Sent(_log, _hub, events.Count, batches);
    }

    public async ValueTask DisposeAsync()
    {
        await _producer.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
