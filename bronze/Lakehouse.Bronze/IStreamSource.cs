namespace Lakehouse.Bronze;

/// <summary>
/// A partitioned event stream read by one worker of a group (Kafka, Event Hubs over AMQP). The source decides which partitions
/// this worker owns (Kafka's group rebalance, or Event Hubs ownership among workers); <see cref="StreamIngestor"/> decides where
/// each partition starts, from the positions committed in bronze, never from the broker's own committed offsets.
/// </summary>
public interface IStreamSource : IAsyncDisposable
{
    /// <summary>The source kind (<see cref="SourceKinds.Kafka"/> or <see cref="SourceKinds.EventHubs"/>).</summary>
    string Kind { get; }

    /// <summary>The topic or event hub; with the partition it names the bronze <c>txn</c> application id.</summary>
    string Name { get; }

    /// <summary>
    /// Starts reading, and takes the end position of every partition (what <see cref="CaughtUp"/> compares with). Whenever this
    /// worker comes to own a partition, the source asks <paramref name="positionOf"/> where to start (the next offset or sequence
    /// number stored in bronze; null: from the beginning of what the broker retains).
    /// </summary>
    /// <param name="positionOf">Where a partition starts.</param>
    /// <param name="once">
    /// --once: hand out no event past the end positions taken now, so a stream that producers keep writing to still ends the run
    /// (see <see cref="CaughtUp"/>) and what arrives later is left for the next one. False (--follow): everything, until disposed.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, bool once, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="maxEvents"/> events, fewer when <paramref name="maxWait"/> passes first (possibly none). Events of
    /// one partition come in position order, each with its <see cref="SourcePosition.Partition"/> and <see cref="SourcePosition.Offset"/>.
    /// </summary>
    Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>The partitions this worker owns now; buffered events of any other partition are dropped, not committed.</summary>
    IReadOnlySet<string> OwnedPartitions { get; }

    /// <summary>
    /// True once every partition this worker answers for has been handed out up to the end it had when <see cref="StartAsync"/>
    /// ran: with --once, the ingestor commits what it holds and stops. Which partitions a worker answers for is the source's
    /// rule (Kafka: those it owns, the group moving a dead member's partitions to the others; Event Hubs: every partition of the
    /// hub, those owned by other workers once bronze holds them up to their end).
    /// </summary>
    bool CaughtUp { get; }

    /// <summary>Events between what was read and the broker's end over the owned partitions, when known (progress display).</summary>
    long? Lag { get; }

    /// <summary>Moves an owned partition back to <paramref name="position"/> (null: the beginning) after a batch was dropped.</summary>
    Task SeekAsync(string partition, long? position, CancellationToken cancellationToken);

    /// <summary>Tells the broker what bronze committed (informational only: Kafka's group offsets, for lag tools).</summary>
    Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken);
}
