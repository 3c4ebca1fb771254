using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Azure.Core;
using Azure.Identity;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Bronze.EventHubs;

/// <summary>How the Event Hubs source reads; the defaults suit a real namespace.</summary>
internal sealed record EventHubsSourceOptions
{
    /// <summary>The environment variable that sets <see cref="LeaseDuration"/> in whole seconds.</summary>
    public const string LeaseSecondsVariable = "LAKEHOUSE_EVENTHUBS_LEASE_SECONDS";

    private readonly int _receiveBatchSize = 1000;
    private readonly int _prefetchCount = 2000;
    private readonly TimeSpan _leaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>Events asked of a partition receiver at once (1–10,000; default 1,000).</summary>
    public int ReceiveBatchSize
    {
        get => _receiveBatchSize;
        init => _receiveBatchSize = value is >= 1 and <= 10_000 ? value : throw new ArgumentOutOfRangeException(nameof(ReceiveBatchSize), value, "1 to 10,000 events.");
    }

    /// <summary>Events each partition receiver prefetches (0–100,000; default 2,000).</summary>
    public int PrefetchCount
    {
        get => _prefetchCount;
        init => _prefetchCount = value is >= 0 and <= 100_000 ? value : throw new ArgumentOutOfRangeException(nameof(PrefetchCount), value, "0 to 100,000 events.");
    }

    /// <summary>How long an ownership lease lasts unrenewed (a dead worker's partitions move after this long; default 30 s).</summary>
    public TimeSpan LeaseDuration
    {
        get => _leaseDuration;
        init => _leaseDuration = value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromHours(1) ? value : throw new ArgumentOutOfRangeException(nameof(LeaseDuration), value, "1 second to 1 hour.");
    }

    /// <summary>The credential used when no connection string is set (null: DefaultAzureCredential).</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>The options of <paramref name="settings"/>: the lease duration from <see cref="LeaseSecondsVariable"/>.</summary>
    public static EventHubsSourceOptions From(StreamSourceSettings settings)
    {
        var text = settings.Setting(LeaseSecondsVariable);
        if (string.IsNullOrWhiteSpace(text)) return new EventHubsSourceOptions();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 3600)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{LeaseSecondsVariable} must be a whole number of seconds from 1 to 3600, not '{text}'.");
        return new EventHubsSourceOptions { LeaseDuration = TimeSpan.FromSeconds(seconds) };
    }
}

/// <summary>
/// An event hub read over AMQP with Azure.Messaging.EventHubs: each partition this worker owns is read by a
/// <see cref="PartitionReceiver"/> from the sequence number bronze holds for it (inclusive; none: the earliest event retained).
/// Bronze rows carry the event body's bytes, the partition key, the enqueued time, the partition and the sequence number.
/// Workers with the same consumer group split the partitions through lease files in the lake (<see cref="PartitionOwnership"/>).
/// </summary>
internal sealed class EventHubsSource : IStreamSource
{
    private readonly EventHubsEndpoint _endpoint;
    private readonly StreamSourceSettings _settings;
    private readonly EventHubsSourceOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<Chunk> _chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(64) { SingleReader = true });
    private readonly Dictionary<string, Reader> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _generations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _next = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _endAtStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _beginning = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lastEnqueued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _owned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _committedElsewhere = new(StringComparer.Ordinal);
    private long _elsewhereCheckedAt;
    private EventHubConnection? _connection;
    private EventHubConsumerClient? _management;
    private PartitionOwnership? _ownership;
    private Func<string, CancellationToken, Task<long?>>? _positionOf;
    private IReadOnlyList<string> _partitionIds = [];
    private volatile IReadOnlySet<string>? _desired;
    private volatile Exception? _fault;
    private Task? _background;
    private Chunk? _carry;
    private bool _once;

    internal EventHubsSource(EventHubsEndpoint endpoint, StreamSourceSettings settings, EventHubsSourceOptions options)
    {
        _endpoint = endpoint;
        _settings = settings;
        _options = options;
        _log = (settings.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EventHubsSource>();
        ConsumerGroup = settings.ConsumerGroup == StreamSourceSettings.DefaultConsumerGroup ? EventHubConsumerClient.DefaultConsumerGroupName : settings.ConsumerGroup;
    }

    /// <summary>Opens the source of an <c>eventhubs://namespace/hub</c> address (it connects in <see cref="StartAsync"/>).</summary>
    public static EventHubsSource Open(string from, StreamSourceSettings settings) =>
        new(EventHubsEndpoint.Parse(from), settings, EventHubsSourceOptions.From(settings));

    /// <summary>The Event Hubs consumer group: <c>--group</c>, or <c>$Default</c> when the group is the CLI's default.</summary>
    public string ConsumerGroup { get; }

    public string Kind => SourceKinds.EventHubs;

    public string Name => _endpoint.Hub;

    public IReadOnlySet<string> OwnedPartitions => new HashSet<string>(_owned, StringComparer.Ordinal);

    /// <summary>
    /// True once every partition of the hub is past the end it had at start: the owned ones as read by this worker, the others
    /// as committed in bronze by whoever owns them (so a --once worker whose partitions were held by a dead worker waits for
    /// their leases to expire and reads them itself, rather than ending with them unread).
    /// </summary>
    public bool CaughtUp => _endAtStart.All(e => e.Value < 0
        || (_owned.Contains(e.Key) ? _next.TryGetValue(e.Key, out var next) && next > e.Value : _committedElsewhere.TryGetValue(e.Key, out var committed) && committed > e.Value));

    public long? Lag => _owned.Count == 0 ? 0 : _owned.Sum(p =>
        _lastEnqueued.TryGetValue(p, out var last) && _next.TryGetValue(p, out var next) ? Math.Max(0, last + 1 - next) : 0);

    public async Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, bool once, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(positionOf);
        _positionOf = positionOf;
        _once = once;
        var connectionOptions = new EventHubConnectionOptions();
        var (connection, authentication) = _endpoint.Connect(_settings.Setting, connectionOptions, _options.Credential);
        _connection = connection;
        _management = new EventHubConsumerClient(ConsumerGroup, _connection, new EventHubConsumerClientOptions { RetryOptions = Retry() });
        await ServiceCallAsync(async () =>
        {
            _partitionIds = await _management.GetPartitionIdsAsync(cancellationToken).ConfigureAwait(false);
            foreach (var p in _partitionIds)
            {
                var properties = await _management.GetPartitionPropertiesAsync(p, cancellationToken).ConfigureAwait(false);
                var last = properties.IsEmpty ? -1 : properties.LastEnqueuedSequenceNumber;
                _endAtStart[p] = last;
                _lastEnqueued[p] = last;
                _beginning[p] = properties.IsEmpty ? last + 1 : properties.BeginningSequenceNumber;
            }
        }).ConfigureAwait(false);

        if (_settings.Lake is { } lake)
        {
            var folder = lake.Scope(OwnershipFolder());
            var owner = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
            _ownership = new PartitionOwnership(folder, owner, _partitionIds, _options.LeaseDuration, _log);
            _desired = await _ownership.BalanceAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            EventHubsLog.NoOwnership(_log, Name);
            _desired = new HashSet<string>(_partitionIds, StringComparer.Ordinal);
        }
        var partitions = string.Join(",", _partitionIds);
        EventHubsLog.Started(_log, Name, _endpoint.NamespaceAndPort, ConsumerGroup, _ownership?.OwnerId ?? "the only worker", authentication, partitions);
        await ApplyOwnershipAsync(cancellationToken).ConfigureAwait(false);
        _background = Task.Run(() => BackgroundAsync(_stop.Token), CancellationToken.None);
    }

    public async Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        ThrowIfFaulted();
        await ApplyOwnershipAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<BronzeEvent>();
        if (maxEvents <= 0) return result;
        if (_carry is { } carry)
        {
            _carry = null;
            Take(carry, result, maxEvents);
        }
        while (result.Count < maxEvents && _chunks.Reader.TryRead(out var chunk)) Take(chunk, result, maxEvents);
        if (result.Count == 0 && maxWait > TimeSpan.Zero)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(maxWait);
            try
            {
                while (result.Count == 0 && await _chunks.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                {
                    while (result.Count < maxEvents && _chunks.Reader.TryRead(out var chunk)) Take(chunk, result, maxEvents);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // maxWait passed.
            }
        }
        if (result.Count == 0) ThrowIfFaulted();
        return result;
    }

    public async Task SeekAsync(string partition, long? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partition);
        if (!_owned.Contains(partition)) return;
        await StopReaderAsync(partition, "re-reading from the table's position").ConfigureAwait(false);
        StartReader(partition, position);
    }

    /// <summary>Nothing to do: Event Hubs keeps no consumer offsets for AMQP readers; bronze's commits are the checkpoints.</summary>
    public Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_background is not null) await _background.ConfigureAwait(false);
        foreach (var p in _readers.Keys.ToList()) await StopReaderAsync(p, "stopping").ConfigureAwait(false);
        if (_ownership is not null)
        {
            try
            {
                using var release = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _ownership.ReleaseAsync(release.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LakehouseException or OperationCanceledException)
            {
                EventHubsLog.OwnershipFailed(_log, e); // the leases expire by themselves
            }
        }
        if (_management is not null) await _management.DisposeAsync().ConfigureAwait(false);
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>The lease folder: per bronze table, namespace, hub and consumer group.</summary>
    private string OwnershipFolder()
    {
        static string Safe(string s)
        {
            var b = new StringBuilder(s.Length);
            foreach (var c in s) b.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '$' ? c : '_');
            return b.ToString();
        }
        var table = _settings.Dataset is { Length: > 0 } d ? "bronze." + Safe(d) : "bronze";
        return $"_lakehouse/ownership/{table}/eventhubs/{Safe(_endpoint.NamespaceAndPort)}/{Safe(Name)}/{Safe(ConsumerGroup)}";
    }

    private static EventHubsRetryOptions Retry() => new() { MaximumRetries = 3, MaximumDelay = TimeSpan.FromSeconds(10), TryTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// A partition receiver does not retry inside the SDK: the SDK would reattach a detached link or reopen a dropped connection
    /// silently (its EventSource is all that would tell). <see cref="PumpAsync"/> retries instead, from the sequence number after
    /// the last event it handed on, with back-off, and logs each failure (event 5205), so the log says what happened.
    /// </summary>
    private static EventHubsRetryOptions ReceiverRetry() => new() { MaximumRetries = 0, TryTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>Starts or stops partition readers to match what the ownership round decided (on the ingestor's own calls).</summary>
    private async Task ApplyOwnershipAsync(CancellationToken cancellationToken)
    {
        if (_desired is not { } desired) return;
        if (_owned.Count < _partitionIds.Count && System.Diagnostics.Stopwatch.GetElapsedTime(_elsewhereCheckedAt) > TimeSpan.FromSeconds(1))
        {
            // Where bronze stands for the partitions other workers own (for CaughtUp).
            foreach (var p in _partitionIds.Where(p => !_owned.Contains(p) && _endAtStart.GetValueOrDefault(p, -1) >= 0 && _committedElsewhere.GetValueOrDefault(p, -1) <= _endAtStart[p]))
                _committedElsewhere[p] = await _positionOf!(p, cancellationToken).ConfigureAwait(false) ?? -1;
            _elsewhereCheckedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        foreach (var p in _owned.Where(p => !desired.Contains(p)).ToList())
        {
            _owned.Remove(p);
            await StopReaderAsync(p, "another worker owns it now").ConfigureAwait(false);
        }
        foreach (var p in desired.Where(p => !_owned.Contains(p)).Order(StringComparer.Ordinal).ToList())
        {
            var position = await _positionOf!(p, cancellationToken).ConfigureAwait(false);
            _owned.Add(p);
            StartReader(p, position);
        }
    }

    private void StartReader(string partition, long? position)
    {
        var generation = _generations[partition] = (_generations.TryGetValue(partition, out var g) ? g : 0) + 1;
        _next[partition] = position ?? _beginning.GetValueOrDefault(partition);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var task = Task.Run(() => PumpAsync(partition, generation, position, stop.Token), CancellationToken.None);
        _readers[partition] = new Reader(stop, task);
        EventHubsLog.PartitionStarted(_log, partition, position is { } n ? "sequence number " + n.ToString(CultureInfo.InvariantCulture) : "the earliest event");
    }

    private async Task StopReaderAsync(string partition, string reason)
    {
        _generations[partition] = _generations.GetValueOrDefault(partition) + 1; // buffered chunks of the old reader are dropped
        if (_carry?.Partition == partition) _carry = null;
        if (!_readers.Remove(partition, out var reader)) return;
        await reader.Stop.CancelAsync().ConfigureAwait(false);
        await reader.Task.ConfigureAwait(false);
        reader.Stop.Dispose();
        EventHubsLog.PartitionStopped(_log, partition, reason);
    }

    /// <summary>
    /// Events <paramref name="expected"/> to <paramref name="received"/> − 1 of <paramref name="partition"/> never arrived (the hub gave the
    /// first event it still holds): true when the loss is accepted (<see cref="DataLossPolicy.Skip"/>, logged as warning 5209).
    /// </summary>
    private bool Lost(string partition, long expected, long received)
    {
        if (_settings.OnDataLoss != DataLossPolicy.Skip) return false;
        EventHubsLog.EventsLost(_log, Name, partition, expected, received, received - expected);
        return true;
    }

    /// <summary>Reads one partition into the channel until stopped; transient failures reopen the receiver where it left off.</summary>
    private async Task PumpAsync(string partition, int generation, long? position, CancellationToken cancellationToken)
    {
        var next = position;
        var delay = TimeSpan.FromMilliseconds(500);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var start = next is { } n ? EventPosition.FromSequenceNumber(n, isInclusive: true) : EventPosition.Earliest;
                await using var receiver = new PartitionReceiver(ConsumerGroup, partition, start, _connection!,
                    new PartitionReceiverOptions { PrefetchCount = _options.PrefetchCount, RetryOptions = ReceiverRetry() });
                while (true)
                {
                    var batch = await receiver.ReceiveBatchAsync(_options.ReceiveBatchSize, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                    var events = new List<BronzeEvent>(_options.ReceiveBatchSize);
                    foreach (var e in batch)
                    {
                        if (next is { } expected && e.SequenceNumber > expected && !Lost(partition, expected, e.SequenceNumber))
                        {
                            _fault = new LakehouseException(LakehouseErrorReason.NotFound, string.Create(CultureInfo.InvariantCulture,
                                $"Event hub '{Name}' partition {partition}: sequence numbers {expected} to {e.SequenceNumber - 1} ({e.SequenceNumber - expected:N0} events) are gone from the hub before bronze ingested them: retention is shorter than the ingest's lag. Nothing past bronze's position was committed. To accept the loss and read on from sequence number {e.SequenceNumber}, run again with --on-data-loss skip."),
                                isTransient: false);
                            return;
                        }
                        events.Add(new BronzeEvent(e.EventBody.ToArray(), new SourcePosition(SourceKinds.EventHubs, Name, partition, e.SequenceNumber, null), e.EnqueuedTime, e.PartitionKey));
                        next = e.SequenceNumber + 1;
                    }
                    if (events.Count == 0) continue;
                    await _chunks.Writer.WriteAsync(new Chunk(partition, generation, events, 0), cancellationToken).ConfigureAwait(false);
                    delay = TimeSpan.FromMilliseconds(500);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsFatal(e))
            {
                _fault = e;
                return;
            }
            // A connection dropped under a pending receive ends it with OperationCanceledException from the AMQP library (not
            // this reader's token): transient like the rest. It used to escape and end this partition's reader silently.
            catch (Exception e) when (e is EventHubsException or TimeoutException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                or InvalidOperationException or OperationCanceledException)
            {
                EventHubsLog.ReceiveFailed(_log, partition, next, e);
                try
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            catch (Exception e)
            {
                // Anything else ends the run with its message (ReceiveAsync throws it) rather than leave the partition unread.
                _fault = e;
                return;
            }
        }
    }

    private void Take(Chunk chunk, List<BronzeEvent> into, int maxEvents)
    {
        if (!_owned.Contains(chunk.Partition) || _generations.GetValueOrDefault(chunk.Partition) != chunk.Generation) return;
        var available = chunk.Events.Count - chunk.Start;
        if (_once)
        {
            // --once: nothing past the end the partition had at start (-1: it was empty); a chunk's events are in sequence order.
            var end = _endAtStart.GetValueOrDefault(chunk.Partition, -1);
            var within = 0;
            while (within < available && chunk.Events[chunk.Start + within].Source.Offset <= end) within++;
            available = within;
        }
        var n = Math.Min(maxEvents - into.Count, available);
        for (var i = 0; i < n; i++) into.Add(chunk.Events[chunk.Start + i]);
        if (n > 0) _next[chunk.Partition] = chunk.Events[chunk.Start + n - 1].Source.Offset!.Value + 1;
        if (n < available) _carry = chunk with { Start = chunk.Start + n };
    }

    /// <summary>Renews ownership and refreshes each partition's last enqueued sequence number (for the lag) until stopped.</summary>
    private async Task BackgroundAsync(CancellationToken cancellationToken)
    {
        var interval = _ownership is { } o ? (o.RenewInterval < TimeSpan.FromSeconds(5) ? o.RenewInterval : TimeSpan.FromSeconds(5)) : TimeSpan.FromSeconds(5);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                if (_ownership is not null) _desired = await _ownership.BalanceAsync(cancellationToken).ConfigureAwait(false);
                foreach (var p in _desired ?? new HashSet<string>())
                {
                    var properties = await _management!.GetPartitionPropertiesAsync(p, cancellationToken).ConfigureAwait(false);
                    _lastEnqueued[p] = properties.IsEmpty ? -1 : properties.LastEnqueuedSequenceNumber;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is LakehouseException or EventHubsException or TimeoutException or IOException or UnauthorizedAccessException)
            {
                EventHubsLog.OwnershipFailed(_log, e);
            }
        }
    }

    private static bool IsFatal(Exception e) =>
        e is UnauthorizedAccessException or AuthenticationFailedException or ArgumentException
        || (e is EventHubsException eh && eh.Reason == EventHubsException.FailureReason.ResourceNotFound);

    private void ThrowIfFaulted()
    {
        if (_fault is { } e) throw Translate(e);
    }

    private async Task ServiceCallAsync(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is EventHubsException or UnauthorizedAccessException or AuthenticationFailedException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            throw Translate(e);
        }
    }

    private LakehouseException Translate(Exception e)
    {
        var where = $"event hub '{Name}' on {_endpoint.NamespaceAndPort} (consumer group {ConsumerGroup})";
        return e switch
        {
            LakehouseException lakehouse => lakehouse,
            AuthenticationFailedException => new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Could not authenticate to {where}: no Azure credential was found. Set {EventHubsEndpoint.ConnectionStringVariable}, or sign in (environment variables, workload or managed identity, Azure CLI). {FirstLine(e.Message)}", e),
            UnauthorizedAccessException => new LakehouseException(LakehouseErrorReason.InvalidInput, $"Access to {where} was refused: {FirstLine(e.Message)}", e),
            EventHubsException { Reason: EventHubsException.FailureReason.ResourceNotFound } => new LakehouseException(LakehouseErrorReason.NotFound,
                $"Not found: {where}. {FirstLine(e.Message)}", e),
            _ => new LakehouseException(LakehouseErrorReason.Storage, $"Reading {where} failed: {FirstLine(e.Message)}", e, isTransient: true),
        };
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    private sealed record Reader(CancellationTokenSource Stop, Task Task);

    private sealed record Chunk(string Partition, int Generation, List<BronzeEvent> Events, int Start);
}
