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
    /// Starts reading. Whenever this worker comes to own a partition, the source asks <paramref name="positionOf"/> where to
    /// start (the next offset or sequence number stored in bronze; null: from the beginning of what the broker retains).
    /// </summary>
    Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="maxEvents"/> events, fewer when <paramref name="maxWait"/> passes first (possibly none). Events of
    /// one partition come in position order, each with its <see cref="SourcePosition.Partition"/> and <see cref="SourcePosition.Offset"/>.
    /// </summary>
    Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken);

    /// <summary>The partitions this worker owns now; buffered events of any other partition are dropped, not committed.</summary>
    IReadOnlySet<string> OwnedPartitions { get; }

    /// <summary>True once every owned partition has been read up to the end it had when <see cref="StartAsync"/> ran (for --once).</summary>
    bool CaughtUp { get; }

    /// <summary>Events between what was read and the broker's end over the owned partitions, when known (progress display).</summary>
    long? Lag { get; }

    /// <summary>Moves an owned partition back to <paramref name="position"/> (null: the beginning) after a batch was dropped.</summary>
    Task SeekAsync(string partition, long? position, CancellationToken cancellationToken);

    /// <summary>Tells the broker what bronze committed (informational only: Kafka's group offsets, for lag tools).</summary>
    Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken);
}
