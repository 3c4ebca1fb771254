namespace Lakehouse.Testing.EventHubs;

/// <summary>One event as the stand-in stores it: what the producer sent and what the service stamps on it.</summary>
/// <param name="SequenceNumber">0, 1, 2… within the partition.</param>
/// <param name="Offset">The byte position of the event in the partition's log (as the service's offsets are), not the sequence number.</param>
/// <param name="EnqueuedTime">When the stand-in stored it (UTC, millisecond precision).</param>
/// <param name="PartitionKey">The partition key the producer gave, or null.</param>
/// <param name="Body">The event body's bytes.</param>
/// <param name="ApplicationProperties">The producer's application properties, as decoded AMQP values.</param>
/// <param name="MessageId">The message id the producer set, or null.</param>
/// <param name="ContentType">The content type the producer set, or null.</param>
public sealed record StandInEvent(long SequenceNumber, long Offset, DateTime EnqueuedTime, string? PartitionKey, byte[] Body,
    IReadOnlyList<KeyValuePair<string, object>> ApplicationProperties, object? MessageId, string? ContentType);

/// <summary>What a producer hands the stand-in for one event, before the partition stamps it.</summary>
internal sealed record IncomingEvent(string? PartitionKey, byte[] Body, IReadOnlyList<KeyValuePair<string, object>> ApplicationProperties, object? MessageId, string? ContentType);

/// <summary>One partition's in-memory log: events in sequence order, and wake-ups for the receivers waiting on it.</summary>
internal sealed class StandInPartition(string id)
{
    private readonly List<StandInEvent> _events = [];
    private readonly List<Action> _listeners = [];
    private long _nextOffset;
    private DateTime _lastTime;
    private int _firstRetained;

    public string Id { get; } = id;

    public object SyncRoot => _events;

    public int Count
    {
        get
        {
            lock (_events) return _events.Count;
        }
    }

    /// <summary>Stores <paramref name="batch"/> as consecutive events (one envelope lands whole, as on the service).</summary>
    public void Append(IReadOnlyList<IncomingEvent> batch)
    {
        Action[] wake;
        lock (_events)
        {
            var now = DateTime.UtcNow;
            now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
            if (now < _lastTime) now = _lastTime;
            _lastTime = now;
            foreach (var e in batch)
            {
                _events.Add(new StandInEvent(_events.Count, _nextOffset, now, e.PartitionKey, e.Body, e.ApplicationProperties, e.MessageId, e.ContentType));
                _nextOffset += Math.Max(1, e.Body.Length) + 64;
            }
            wake = [.. _listeners];
        }
        foreach (var w in wake) w();
    }

    /// <summary>The event at <paramref name="index"/> (= its sequence number).</summary>
    public StandInEvent this[int index]
    {
        get
        {
            lock (_events) return _events[index];
        }
    }

    /// <summary>Copies up to <paramref name="max"/> events from <paramref name="start"/> into <paramref name="into"/>.</summary>
    public int CopyFrom(int start, int max, List<StandInEvent> into)
    {
        lock (_events)
        {
            var n = Math.Max(0, Math.Min(max, _events.Count - start));
            for (var i = 0; i < n; i++) into.Add(_events[start + i]);
            return n;
        }
    }

    /// <summary>The sequence number of the first event retention has left (0 until <see cref="Expire"/>).</summary>
    public int FirstRetained
    {
        get
        {
            lock (_events) return _firstRetained;
        }
    }

    /// <summary>Retention: receivers that start before <paramref name="before"/> start there (the events stay stored, unseen).</summary>
    public void Expire(int before)
    {
        lock (_events) _firstRetained = Math.Clamp(before, _firstRetained, _events.Count);
    }

    public StandInEvent[] Snapshot()
    {
        lock (_events) return [.. _events];
    }

    /// <summary>The index of the first event matching <paramref name="predicate"/> (events are ordered by it), or Count.</summary>
    public int FirstIndexWhere(Func<StandInEvent, bool> predicate)
    {
        lock (_events)
        {
            int lo = 0, hi = _events.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (predicate(_events[mid])) hi = mid;
                else lo = mid + 1;
            }
            return lo;
        }
    }

    public void Subscribe(Action listener)
    {
        lock (_events) _listeners.Add(listener);
    }

    public void Unsubscribe(Action listener)
    {
        lock (_events) _listeners.Remove(listener);
    }
}

/// <summary>The hub: its name, creation time, partitions and consumer groups.</summary>
internal sealed class StandInHub
{
    private int _roundRobin = -1;
    private int _partitionReads;

    public StandInHub(string name, int partitionCount, IReadOnlyCollection<string>? consumerGroups)
    {
        Name = name;
        CreatedAt = DateTime.UtcNow;
        Partitions = [.. Enumerable.Range(0, partitionCount).Select(i => new StandInPartition(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))];
        ConsumerGroups = consumerGroups is null ? null : new HashSet<string>(consumerGroups, StringComparer.OrdinalIgnoreCase);
    }

    public string Name { get; }

    public DateTime CreatedAt { get; }

    public IReadOnlyList<StandInPartition> Partitions { get; }

    /// <summary>The consumer groups receivers may name; null: any name.</summary>
    public HashSet<string>? ConsumerGroups { get; }

    public StandInPartition? Partition(string id) => Partitions.FirstOrDefault(p => p.Id == id);

    /// <summary>How many partition-properties READs have been answered.</summary>
    public int PartitionReads => Volatile.Read(ref _partitionReads);

    public void CountPartitionRead() => Interlocked.Increment(ref _partitionReads);

    /// <summary>
    /// The partition for an event sent to the hub itself: by a hash of its partition key (not the service's hash: tests must
    /// not assume where a key lands, only that one key always lands in one partition), round-robin without a key.
    /// </summary>
    public StandInPartition Route(string? partitionKey)
    {
        if (partitionKey is null) return Partitions[(int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)Partitions.Count)];
        uint hash = 2166136261;
        foreach (var c in partitionKey) hash = (hash ^ c) * 16777619;
        return Partitions[(int)(hash % (uint)Partitions.Count)];
    }
}
