using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Confluent.Kafka;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// A Kafka topic read by one member of a consumer group (Kafka itself or Event Hubs' Kafka endpoint). The group's rebalances
/// decide which partitions this member owns (cooperative-sticky assignment by default); where each assigned partition starts is
/// bronze's position (<c>positionOf</c>), never the group's committed offset: the client never commits or resets by itself.
/// </summary>
/// <remarks>
/// One thread owns the librdkafka consumer: it polls, runs the rebalance callbacks (which ask bronze for positions), carries out
/// seeks and the informational offset commits, and reads ahead into a bounded channel. Each buffered message carries the
/// partition's assignment epoch; a revocation, a new assignment or a seek starts a new epoch, and <see cref="ReceiveAsync"/> drops
/// what was read under an older one, so nothing read before a partition changed hands is handed out after.
/// A message's value is the payload, byte for byte (a null value is an empty payload); its key is kept as text: UTF-8 when the
/// bytes are valid UTF-8, otherwise base64; its timestamp is <see cref="BronzeEvent.EnqueuedTime"/>. Headers are not kept.
/// </remarks>
internal sealed class KafkaSource : IStreamSource
{
    /// <summary>
    /// Messages read ahead of the ingestor: enough to read a whole default batch (100,000) while one commits. Past it the
    /// partitions are paused (the consumer keeps polling, so the group does not take it for dead) until half is read.
    /// </summary>
    private const int ReadAhead = 131_072;

    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan BrokerTimeout = KafkaConnection.BrokerTimeout;
    private static readonly TimeSpan WatermarkRefresh = TimeSpan.FromMilliseconds(500);

    private readonly KafkaConnection _connection;
    private readonly string _group;
    private bool _once;
    private readonly ILogger _log;
    private readonly KafkaClientLog _clientLog;
    private readonly Channel<Item> _items = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleWriter = true }); // not SingleReader: that kind has no Count
    private readonly ConcurrentQueue<Command> _commands = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Guards <see cref="_owned"/>, <see cref="_epochs"/> and <see cref="_next"/> between the consumer thread and the reader.</summary>
    private readonly Lock _gate = new();
    private readonly Dictionary<int, int> _epochs = [];

    /// <summary>Partitions assigned without a bronze position, until their first message or end is read (consumer thread only).</summary>
    private readonly HashSet<int> _fromBeginning = [];
    private readonly Dictionary<int, long> _next = [];
    private readonly ConcurrentDictionary<int, long> _high = new();
    private readonly ConcurrentDictionary<int, string> _partitionNames = new();
    private IReadOnlySet<string> _owned = new HashSet<string>(StringComparer.Ordinal);
    private IReadOnlyDictionary<int, long> _ends = new Dictionary<int, long>();
    private volatile bool _assigned;
    private volatile Exception? _failure;
    private Func<string, CancellationToken, Task<long?>>? _positionOf;
    private CancellationToken _running;
    private Thread? _thread;

    /// <summary>Set by the assignment callback, read by the polling loop: both on the consumer thread.</summary>
    private bool _assignmentChanged;
    private int _disposed;
    private readonly DataLossPolicy _onDataLoss;

    private KafkaSource(KafkaConnection connection, string group, DataLossPolicy onDataLoss, ILoggerFactory? loggerFactory)
    {
        _connection = connection;
        _group = group;
        _onDataLoss = onDataLoss;
        _log = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KafkaSource>();
        _clientLog = new KafkaClientLog(_log);
    }

    /// <summary>The source of <paramref name="uri"/> (<c>kafka://host:port[,host:port]/topic</c>) in the settings' consumer group.</summary>
    internal static KafkaSource Open(string uri, StreamSourceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (string.IsNullOrWhiteSpace(settings.ConsumerGroup)) throw new LakehouseException(LakehouseErrorReason.InvalidInput, "The consumer group may not be empty.");
        return new KafkaSource(KafkaConnection.FromUri(uri, settings.Setting), settings.ConsumerGroup, settings.OnDataLoss, settings.LoggerFactory);
    }

    /// <inheritdoc />
    public string Kind => SourceKinds.Kafka;

    /// <inheritdoc />
    public string Name => _connection.Topic;

    /// <inheritdoc />
    public IReadOnlySet<string> OwnedPartitions
    {
        get
        {
            lock (_gate) return _owned;
        }
    }

    /// <summary>The partitions of the topic and their end offsets (high watermarks) when <see cref="StartAsync"/> ran.</summary>
    internal IReadOnlyDictionary<int, long> EndOffsetsAtStart => _ends;

    /// <inheritdoc />
    public bool CaughtUp
    {
        get
        {
            if (!_assigned) return false;
            lock (_gate)
            {
                foreach (var name in _owned)
                {
                    var partition = int.Parse(name, CultureInfo.InvariantCulture);
                    var end = _ends.TryGetValue(partition, out var e) ? e : 0;
                    if (end <= 0) continue;
                    if (!_next.TryGetValue(partition, out var next) || next < end) return false;
                }
                return true;
            }
        }
    }

    /// <inheritdoc />
    public long? Lag
    {
        get
        {
            long lag = 0;
            var known = false;
            lock (_gate)
            {
                foreach (var name in _owned)
                {
                    var partition = int.Parse(name, CultureInfo.InvariantCulture);
                    if (!_high.TryGetValue(partition, out var high)) continue;
                    known = true;
                    lag += Math.Max(0, high - (_next.TryGetValue(partition, out var next) ? next : 0));
                }
            }
            return known ? lag : null;
        }
    }

    /// <inheritdoc />
    public async Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, bool once, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(positionOf);
        if (_thread is not null) throw new InvalidOperationException("The source was started already.");
        _positionOf = positionOf;
        _once = once;
        var running = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
        _running = running.Token;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // librdkafka's consumer is driven by blocking polls and runs its rebalance callbacks inside them: it gets its own thread.
        _thread = new Thread(() =>
        {
            try
            {
                Run(started);
            }
            finally
            {
                running.Dispose();
                _stopped.TrySetResult();
            }
        })
        { IsBackground = true, Name = $"kafka {_connection.Topic}" };
        _thread.Start();
        await started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEvents);
        if (_thread is null) throw new InvalidOperationException("StartAsync first.");
        var events = new List<BronzeEvent>(Math.Min(maxEvents, 4096));
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(maxWait < TimeSpan.Zero ? TimeSpan.Zero : maxWait);
        while (true)
        {
            Drain(events, maxEvents);
            if (events.Count > 0) return events;
            try
            {
                if (!await _items.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    throw _failure ?? new LakehouseException(LakehouseErrorReason.Storage, $"Reading Kafka topic '{Name}' stopped.");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Drain(events, maxEvents);
                return events;
            }
        }
    }

    /// <summary>Moves what the channel holds into <paramref name="events"/>, dropping what a revocation, reassignment or seek made stale.</summary>
    private void Drain(List<BronzeEvent> events, int maxEvents)
    {
        lock (_gate)
        {
            while (events.Count < maxEvents && _items.Reader.TryRead(out var item))
            {
                if (!_epochs.TryGetValue(item.Partition, out var epoch) || epoch != item.Epoch) continue;
                if (item.Event is { } e)
                {
                    // --once: nothing past the end offsets found at start.
                    if (_once && e.Source.Offset >= (_ends.TryGetValue(item.Partition, out var end) ? end : 0)) continue;
                    _next[item.Partition] = e.Source.Offset!.Value + 1;
                    events.Add(e);
                }
                else if (!_next.TryGetValue(item.Partition, out var next) || next < item.EndOffset)
                {
                    // The end of the partition: offsets up to here are read even where no message has them (transaction markers).
                    _next[item.Partition] = item.EndOffset;
                }
            }
        }
    }

    /// <inheritdoc />
    public Task SeekAsync(string partition, long? position, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(partition);
        if (!int.TryParse(partition, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            throw new ArgumentException($"'{partition}' is not a Kafka partition.", nameof(partition));
        var seek = new Seek(id, position);
        _commands.Enqueue(seek);
        return seek.Done.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(positions);
        // Informational: the consumer thread sends it with its next poll; the ingestor does not wait for the broker.
        _commands.Enqueue(new Commit(positions.Select(p => (int.Parse(p.Key, CultureInfo.InvariantCulture), p.Value)).ToList()));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_thread is not null)
        {
            try
            {
                await _stopped.Task.WaitAsync(BrokerTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Leaving the group hangs on an unreachable broker; the group drops this member after its session timeout.
                KafkaLog.ClientError(_log, "Local_TimedOut", $"leaving consumer group '{_group}' took longer than {BrokerTimeout.TotalSeconds:0} s");
                return;
            }
        }
        _stop.Dispose();
    }

    private void Run(TaskCompletionSource started)
    {
        IConsumer<byte[]?, byte[]?>? consumer = null;
        try
        {
            KafkaLog.Connecting(_log, _connection, _group);
            consumer = new ConsumerBuilder<byte[]?, byte[]?>(_connection.ConsumerConfig(_group))
                .SetKeyDeserializer(Deserializers.ByteArray)
                .SetValueDeserializer(Deserializers.ByteArray)
                .SetLogHandler((_, m) => _clientLog.Log(m))
                .SetErrorHandler((_, e) => OnError(e))
                .SetPartitionsAssignedHandler(OnAssigned)
                .SetPartitionsRevokedHandler((_, revoked) => OnRevoked(revoked.Select(p => p.TopicPartition), "revoked"))
                .SetPartitionsLostHandler((_, lost) => OnRevoked(lost.Select(p => p.TopicPartition), "lost"))
                .Build();
            _ends = EndOffsets(consumer);
            consumer.Subscribe(_connection.Topic);
            started.TrySetResult();
            Poll(consumer);
        }
        catch (Exception e) when (_running.IsCancellationRequested && e is OperationCanceledException)
        {
            started.TrySetCanceled(_running);
        }
        catch (Exception e)
        {
            var failure = _failure as LakehouseException ?? Failure(e);
            _failure = failure;
            started.TrySetException(failure);
        }
        finally
        {
            _items.Writer.TryComplete(_failure);
            // The last informational commit still goes out; seeks no longer matter.
            while (_commands.TryDequeue(out var command))
            {
                if (command is Commit commit && consumer is not null && _failure is null) DoCommit(consumer, commit);
                else command.Cancel();
            }
            if (consumer is not null) CloseQuietly(consumer);
        }
    }

    private void Poll(IConsumer<byte[]?, byte[]?> consumer)
    {
        var refreshed = Environment.TickCount64;
        var paused = false;
        while (!_running.IsCancellationRequested)
        {
            if (_failure is { } failure) throw failure;
            RunCommands(consumer);
            // The ingestor is behind: stop fetching, but keep polling (rebalances, commands, max.poll.interval.ms).
            if (!paused && _items.Reader.Count >= ReadAhead)
            {
                consumer.Pause(consumer.Assignment);
                paused = true;
                KafkaLog.Paused(_log, Name, _items.Reader.Count);
            }
            else if (paused && _items.Reader.Count <= ReadAhead / 2)
            {
                consumer.Resume(consumer.Assignment);
                paused = false;
                KafkaLog.Resumed(_log, Name, _items.Reader.Count);
            }
            else if (_assignmentChanged)
            {
                // Partitions assigned since: in the same state as the others, whatever librdkafka kept from an earlier assignment.
                if (paused) consumer.Pause(consumer.Assignment);
                else consumer.Resume(consumer.Assignment);
            }
            _assignmentChanged = false;
            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = consumer.Consume(PollTimeout);
            }
            catch (ConsumeException e) when (e.Error.Code == ErrorCode.Local_AutoOffsetReset && e.ConsumerRecord?.TopicPartitionOffset is { } at)
            {
                PositionGone(consumer, at);
                continue;
            }
            if (Environment.TickCount64 - refreshed >= WatermarkRefresh.TotalMilliseconds)
            {
                refreshed = Environment.TickCount64;
                RefreshHighWatermarks(consumer);
            }
            if (result is null) continue;
            var partition = result.Partition.Value;
            // A first start reads from the earliest offset the broker still holds: when that is not 0, older events are gone (retention
            // or compaction deleted them before bronze ever read the partition), and nothing else would say so.
            if (_fromBeginning.Remove(partition) && result.Offset.Value > 0)
                KafkaLog.FirstStartPastZero(_log, Name, PartitionName(partition), result.Offset.Value);
            // Epochs change only on this thread (rebalance callbacks and seeks run here), so reading one needs no lock.
            var epoch = _epochs.TryGetValue(partition, out var current) ? current : -1;
            Item item;
            if (result.IsPartitionEOF)
            {
                item = new Item(partition, epoch, null, result.Offset.Value);
            }
            else
            {
                var message = result.Message;
                var time = message.Timestamp.Type == TimestampType.NotAvailable ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(message.Timestamp.UnixTimestampMs);
                var source = new SourcePosition(SourceKinds.Kafka, _connection.Topic, PartitionName(partition), result.Offset.Value, null);
                item = new Item(partition, epoch, new BronzeEvent(message.Value ?? [], source, time, KafkaConnection.KeyText(message.Key)), 0);
            }
            _items.Writer.TryWrite(item);
        }
    }

    private List<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        var start = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions)
        {
            var name = PartitionName(tp.Partition.Value);
            // The callback runs on the consumer thread inside Consume: waiting here holds up only this member's polling.
            var position = _positionOf!(name, _running).GetAwaiter().GetResult();
            lock (_gate)
            {
                _epochs[tp.Partition.Value] = _epochs.TryGetValue(tp.Partition.Value, out var epoch) ? epoch + 1 : 1;
                if (position is { } p) _next[tp.Partition.Value] = p;
                else _next.Remove(tp.Partition.Value);
                _owned = new HashSet<string>(_owned.Append(name), StringComparer.Ordinal);
            }
            start.Add(new TopicPartitionOffset(tp, position is { } at ? new Offset(at) : Offset.Beginning));
            if (position is null) _fromBeginning.Add(tp.Partition.Value);
            else _fromBeginning.Remove(tp.Partition.Value);
            if (position is { } next) KafkaLog.Assigned(_log, Name, name, next);
            else KafkaLog.AssignedFromBeginning(_log, Name, name);
        }
        lock (_gate) _assigned = true;
        _assignmentChanged = true;
        return start;
    }

    private void OnRevoked(IEnumerable<TopicPartition> partitions, string how)
    {
        var names = new List<string>();
        lock (_gate)
        {
            foreach (var tp in partitions)
            {
                var id = tp.Partition.Value;
                _epochs[id] = _epochs.TryGetValue(id, out var epoch) ? epoch + 1 : 1;
                _next.Remove(id);
                names.Add(PartitionName(id));
            }
            _owned = new HashSet<string>(_owned.Except(names, StringComparer.Ordinal), StringComparer.Ordinal);
            // Not caught up on what it owns until the group has assigned again: a member that lost everything in a
            // rebalance owns nothing for a moment, which must not end --once early.
            _assigned = false;
        }
        if (names.Count > 0) KafkaLog.Revoked(_log, Name, names, how);
    }

    private void RunCommands(IConsumer<byte[]?, byte[]?> consumer)
    {
        while (_commands.TryDequeue(out var command))
        {
            switch (command)
            {
                case Seek seek:
                    DoSeek(consumer, seek);
                    break;
                case Commit commit:
                    DoCommit(consumer, commit);
                    break;
            }
        }
    }

    private void DoSeek(IConsumer<byte[]?, byte[]?> consumer, Seek seek)
    {
        var name = PartitionName(seek.Partition);
        lock (_gate)
        {
            if (!_owned.Contains(name))
            {
                seek.Done.TrySetResult();
                return;
            }
            _epochs[seek.Partition] = _epochs.TryGetValue(seek.Partition, out var epoch) ? epoch + 1 : 1;
            if (seek.Position is { } p) _next[seek.Partition] = p;
            else _next.Remove(seek.Partition);
        }
        var target = new TopicPartitionOffset(_connection.Topic, new Partition(seek.Partition), seek.Position is { } at ? new Offset(at) : Offset.Beginning);
        try
        {
            consumer.Seek(target);
        }
        catch (KafkaException) when (consumer.Assignment.Any(a => a.Partition.Value == seek.Partition))
        {
            // A partition whose fetcher has not started yet refuses a seek ("Erroneous state"): assign it again at the position.
            var tp = new TopicPartition(_connection.Topic, new Partition(seek.Partition));
            consumer.IncrementalUnassign([tp]);
            consumer.IncrementalAssign([target]);
        }
        KafkaLog.Sought(_log, Name, name, seek.Position);
        seek.Done.TrySetResult();
    }

    private void DoCommit(IConsumer<byte[]?, byte[]?> consumer, Commit commit)
    {
        IReadOnlySet<string> owned;
        lock (_gate) owned = _owned;
        var offsets = commit.Positions.Where(p => owned.Contains(PartitionName(p.Partition)))
            .Select(p => new TopicPartitionOffset(_connection.Topic, new Partition(p.Partition), new Offset(p.Next))).ToList();
        if (offsets.Count == 0) return;
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            KafkaLog.GroupCommitFailed(_log, Name, e.Error.Reason);
        }
    }

    /// <summary>The topic's partitions and their high watermarks now (the ends --once reads up to).</summary>
    private Dictionary<int, long> EndOffsets(IConsumer<byte[]?, byte[]?> consumer)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(_connection.Topic, BrokerTimeout);
        }
        catch (KafkaException e)
        {
            throw Unreachable(e);
        }
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _connection.Topic);
        if (topic is null || topic.Error.Code == ErrorCode.UnknownTopicOrPart || topic.Error.IsError && topic.Partitions.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                $"Kafka topic '{_connection.Topic}' does not exist at {_connection.BootstrapServers}" + (topic is { Error.IsError: true } ? $" ({topic.Error.Reason})." : "."));
        }
        var ends = new Dictionary<int, long>();
        foreach (var p in topic.Partitions)
        {
            _running.ThrowIfCancellationRequested();
            try
            {
                var w = consumer.QueryWatermarkOffsets(new TopicPartition(_connection.Topic, new Partition(p.PartitionId)), BrokerTimeout);
                ends[p.PartitionId] = w.High.Value;
                _high[p.PartitionId] = w.High.Value;
            }
            catch (KafkaException e)
            {
                throw Unreachable(e);
            }
        }
        KafkaLog.EndOffsets(_log, Name, ends);
        return ends;
    }

    private void RefreshHighWatermarks(IConsumer<byte[]?, byte[]?> consumer)
    {
        foreach (var tp in consumer.Assignment)
        {
            var w = consumer.GetWatermarkOffsets(tp);
            if (w.High != Offset.Unset) _high[tp.Partition.Value] = w.High.Value;
        }
    }

    /// <summary>
    /// The broker no longer holds the offset a partition was to be read from (retention deleted it, before or while it was read; or
    /// the topic was recreated): the client does not reset by itself (auto.offset.reset=error), so it never skips silently. With
    /// <see cref="DataLossPolicy.Fail"/> the run stops with an error that names the loss; with <see cref="DataLossPolicy.Skip"/> the
    /// loss is logged with its size (event 5103) and reading goes on from the earliest offset the broker still holds: the partition
    /// is assigned again at that offset (incrementally, as the cooperative protocol the source uses allows).
    /// </summary>
    private void PositionGone(IConsumer<byte[]?, byte[]?> consumer, TopicPartitionOffset at)
    {
        try
        {
            var marks = consumer.QueryWatermarkOffsets(at.TopicPartition, BrokerTimeout);
            var low = marks.Low.Value;
            var partition = PartitionName(at.Partition.Value);
            var expired = at.Offset.Value < low;
            if (_onDataLoss == DataLossPolicy.Fail)
            {
                var what = expired
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"the broker deleted offsets {at.Offset.Value} to {low - 1} ({low - at.Offset.Value:N0} events) before bronze ingested them: retention is shorter than the ingest's lag")
                    : string.Create(CultureInfo.InvariantCulture, $"bronze's position {at.Offset.Value} is past the end ({marks.High.Value}): the topic was recreated or truncated");
                throw new LakehouseException(LakehouseErrorReason.NotFound, string.Create(CultureInfo.InvariantCulture,
                    $"Kafka topic '{Name}' partition {partition}: {what}. Nothing past bronze's position was committed. To accept the loss and read on from offset {low}, run again with --on-data-loss skip."),
                    isTransient: false);
            }
            if (expired) KafkaLog.PositionExpired(_log, Name, partition, at.Offset.Value, low, low - at.Offset.Value);
            else KafkaLog.ClientError(_log, "OffsetOutOfRange", string.Create(CultureInfo.InvariantCulture,
                $"offset {at.Offset.Value} of partition {at.Partition.Value} is past the end ({marks.High.Value}); the topic was recreated or truncated, reading from {low}"));
            // The partition stopped fetching on the error, so it is assigned again at the new offset (a seek is refused in that state).
            consumer.IncrementalUnassign([at.TopicPartition]);
            consumer.IncrementalAssign([new TopicPartitionOffset(at.TopicPartition, new Offset(low))]);
            _assignmentChanged = true;
        }
        catch (KafkaException e)
        {
            throw Unreachable(e);
        }
    }

    private void OnError(Error error)
    {
        _clientLog.Error(error);
        // Fatal errors, and answers that retrying will not change, end the run with the broker's reason.
        if (error.IsFatal || error.Code is ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed or ErrorCode.TopicAuthorizationFailed
            or ErrorCode.GroupAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed)
        {
            _failure ??= new LakehouseException(LakehouseErrorReason.Storage,
                $"Kafka at {_connection.BootstrapServers} refused this client ({error.Code}): {error.Reason}", isTransient: false);
        }
    }

    private LakehouseException Failure(Exception e) => e switch
    {
        LakehouseException lakehouse => lakehouse,
        ConsumeException c => new LakehouseException(LakehouseErrorReason.Storage, $"Reading Kafka topic '{Name}' failed ({c.Error.Code}): {c.Error.Reason}", c),
        KafkaException k => new LakehouseException(LakehouseErrorReason.Storage, $"Kafka at {_connection.BootstrapServers} failed ({k.Error.Code}): {k.Error.Reason}", k),
        _ => new LakehouseException(LakehouseErrorReason.Storage, $"Reading Kafka topic '{Name}' failed: {e.Message}", e),
    };

    private LakehouseException Unreachable(KafkaException e) => _connection.Unreachable(e, BrokerTimeout);

    private void CloseQuietly(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            // Leaves the group at once, so the other members take the partitions over without waiting for a session timeout.
            consumer.Close();
        }
        catch (KafkaException e)
        {
            KafkaLog.ClientError(_log, e.Error.Code.ToString(), e.Error.Reason);
        }
        finally
        {
            consumer.Dispose();
        }
    }

    private string PartitionName(int partition) => _partitionNames.GetOrAdd(partition, p => p.ToString(CultureInfo.InvariantCulture));

    /// <summary>A message (or, with no event, the end of a partition at <see cref="EndOffset"/>) read under an assignment epoch.</summary>
    private readonly record struct Item(int Partition, int Epoch, BronzeEvent? Event, long EndOffset);

    private abstract class Command
    {
        internal virtual void Cancel() { }
    }

    private sealed class Seek(int partition, long? position) : Command
    {
        internal int Partition { get; } = partition;
        internal long? Position { get; } = position;
        internal TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal override void Cancel() => Done.TrySetCanceled();
    }

    private sealed class Commit(List<(int Partition, long Next)> positions) : Command
    {
        internal List<(int Partition, long Next)> Positions { get; } = positions;
    }
}
