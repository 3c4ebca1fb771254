using System.Collections.Concurrent;
using System.Diagnostics;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>How a stream is cut into bronze commits.</summary>
public sealed record StreamIngestOptions
{
    /// <summary>A commit is made when this many events are buffered.</summary>
    public int MaxBatchEvents { get; init; } = 100_000;

    /// <summary>A commit is made when the buffered payloads reach this many bytes.</summary>
    public long MaxBatchBytes { get; init; } = 64L << 20;

    /// <summary>A commit is made at the latest this long after its first event arrived (the latency bound).</summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Read up to the end positions found at start, then stop (--once: the source is started with <c>once</c> and hands out
    /// nothing past them); otherwise run until cancelled (--follow).
    /// </summary>
    public bool Once { get; init; }

    /// <summary>Compact the table's small files after this many commits (0: never).</summary>
    public int CompactEveryCommits { get; init; } = 200;
}

/// <summary>What a stream ingest did, for the summary and <c>--json</c>.</summary>
public sealed record StreamIngestProgress(long Events, long Bytes, long Commits, long DroppedOnConflict, IReadOnlyDictionary<string, long> Positions, TimeSpan Elapsed)
{
    /// <summary>Events per second over <see cref="Elapsed"/>.</summary>
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
}

/// <summary>One micro-batch committed to bronze (for streaming progress: per-batch durations and positions).</summary>
/// <param name="Version">The bronze version the batch was committed as.</param>
/// <param name="Events">Events committed.</param>
/// <param name="Bytes">Their payload bytes.</param>
/// <param name="Receive">From the batch's first event to the start of its commit (buffering).</param>
/// <param name="Commit">The Delta commit.</param>
/// <param name="StartPositions">Per partition of the batch, the position it started from (-1: none committed before).</param>
/// <param name="EndPositions">Per partition of the batch, the next position after it.</param>
public sealed record StreamBatchCommitted(long Version, long Events, long Bytes, TimeSpan Receive, TimeSpan Commit,
    IReadOnlyDictionary<string, long> StartPositions, IReadOnlyDictionary<string, long> EndPositions);

/// <summary>
/// Lands a stream in bronze exactly once, the way delta-io/kafka-delta-ingest does: events are buffered into micro-batches (by
/// count, bytes and time) and each batch is one Delta commit carrying, as <c>txn</c> actions, the next position of every
/// partition it holds (application id <c>&lt;kind&gt;/&lt;name&gt;/&lt;partition&gt;</c>). A (re)started worker seeks to those positions.
/// Each txn also states the position the batch started from, so a batch read from positions another worker has since
/// advanced fails to commit (Conflict), is dropped, and its partitions are re-read from the table's positions: whatever the
/// ownership races, no event is committed twice, and none is skipped.
/// </summary>
/// <remarks>
/// A source may ask for a partition's position (<c>positionOf</c>) from its own thread while a batch is being buffered (a
/// rebalance gave the partition back), so three rules keep a batch consistent with where its events were read from:
/// an event before the partition's committed position is skipped (bronze holds it); an event at or before the last one buffered
/// of its partition means the source moved back, so the partition's buffered events from there on are dropped (they come again);
/// and the txn's <see cref="DeltaAppTransaction.Previous"/> is the position the partition had when its first event of the batch
/// was buffered, so a batch whose partition another worker advanced meanwhile fails with Conflict rather than commit twice.
/// </remarks>
public sealed class StreamIngestor
{
    private readonly BronzeTable _table;
    private readonly IStreamSource _source;
    private readonly StreamIngestOptions _options;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, long> _committed = new(StringComparer.Ordinal);

    /// <summary>Per partition of the batch being buffered: the committed position when its first event was buffered (-1: none).</summary>
    private readonly Dictionary<string, long> _batchStart = new(StringComparer.Ordinal);

    /// <summary>Per partition of the batch being buffered: the offset of its last event.</summary>
    private readonly Dictionary<string, long> _batchLast = new(StringComparer.Ordinal);

    /// <summary>Per partition of an event hub (or Event Hubs Kafka topic): what bronze holds of it, Capture files included.</summary>
    private readonly ConcurrentDictionary<string, HubPositions> _hub = new(StringComparer.Ordinal);

    /// <summary>Events dropped since the last commit because bronze holds them from a Capture file.</summary>
    private long _heldByCapture;

    /// <summary>An ingestor of <paramref name="source"/> into <paramref name="table"/>.</summary>
    public StreamIngestor(BronzeTable table, IStreamSource source, StreamIngestOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(source);
        _table = table;
        _source = source;
        _options = options ?? new StreamIngestOptions();
        _log = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<StreamIngestor>();
    }

    /// <summary>The txn application id of a partition.</summary>
    public static string AppId(string kind, string name, string partition) => $"{kind}/{name}/{partition}";

    /// <summary>Called after each commit (and on idle ticks) with the totals so far.</summary>
    public event Action<StreamIngestProgress>? Progress;

    /// <summary>Called after each micro-batch committed (not for batches dropped on a conflict).</summary>
    public event Action<StreamBatchCommitted>? BatchCommitted;

    /// <summary>
    /// Runs until cancelled, or with <see cref="StreamIngestOptions.Once"/> until caught up. Cancellation drops the batch being
    /// buffered (it was not committed, so a restart reads it again) and ends with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<StreamIngestProgress> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        long events = 0, bytes = 0, commits = 0, dropped = 0, sinceCompact = 0;
        StreamIngestProgress Snapshot() => new(events, bytes, commits, dropped, new Dictionary<string, long>(_committed, StringComparer.Ordinal), clock.Elapsed);

        await _source.StartAsync(PositionOfAsync, _options.Once, cancellationToken).ConfigureAwait(false);
        var batch = new List<BronzeEvent>();
        long batchBytes = 0;
        var batchAge = new Stopwatch();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var wait = batch.Count == 0 ? _options.MaxBatchWait : _options.MaxBatchWait - batchAge.Elapsed;
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
            var received = await _source.ReceiveAsync(_options.MaxBatchEvents - batch.Count, wait, cancellationToken).ConfigureAwait(false);
            if (received.Count > 0 && batch.Count == 0) batchAge.Restart();
            foreach (var e in received) batchBytes += Buffer(batch, e);
            var full = batch.Count >= _options.MaxBatchEvents || batchBytes >= _options.MaxBatchBytes;
            var due = batch.Count > 0 && batchAge.Elapsed >= _options.MaxBatchWait;
            // Caught up (--once): every owned partition has handed out its events up to the end found at start. Not "and nothing
            // more arrived": a stream that producers keep writing to would never end a --once run.
            var caughtUp = _options.Once && _source.CaughtUp;
            if (full || due || (caughtUp && batch.Count > 0))
            {
                var receiveTime = batchAge.Elapsed;
                var (committed, rows, size) = await CommitAsync(batch, receiveTime, cancellationToken).ConfigureAwait(false);
                if (committed)
                {
                    events += rows;
                    bytes += size;
                    commits++;
                    sinceCompact++;
                }
                else
                {
                    dropped += batch.Count;
                }
                batch.Clear();
                _batchStart.Clear();
                _batchLast.Clear();
                batchBytes = 0;
                Progress?.Invoke(Snapshot());
                if (caughtUp && committed && _source.CaughtUp) return Snapshot();
                if (_options.CompactEveryCommits > 0 && sinceCompact >= _options.CompactEveryCommits)
                {
                    sinceCompact = 0;
                    await CompactAsync(cancellationToken).ConfigureAwait(false);
                }
                continue;
            }
            if (received.Count == 0) Progress?.Invoke(Snapshot());
            if (caughtUp && batch.Count == 0) return Snapshot();
        }
    }

    /// <summary>Adds <paramref name="e"/> to the batch under the rules in the remarks; returns by how many bytes the batch grew.</summary>
    private long Buffer(List<BronzeEvent> batch, BronzeEvent e)
    {
        if (e.Source is not { Partition: { } partition, Offset: { } offset })
        {
            batch.Add(e);
            return e.Payload.Length;
        }
        if (_committed.TryGetValue(partition, out var committed) && offset < committed)
        {
            Log.SkippedCommitted(_log, _source.Name, partition, committed, 1);
            return 0;
        }
        if (_hub.TryGetValue(partition, out var hub) && hub.Captured.Count > 0 && hub.CaptureHolds(offset))
        {
            _heldByCapture++;
            return 0;
        }
        long removedBytes = 0;
        if (_batchLast.TryGetValue(partition, out var last) && offset <= last)
        {
            var dropped = batch.RemoveAll(x =>
            {
                var stale = x.Source.Partition == partition && x.Source.Offset >= offset;
                if (stale) removedBytes += x.Payload.Length;
                return stale;
            });
            Log.DroppedRepositioned(_log, _source.Name, partition, offset, dropped);
            if (!batch.Any(x => x.Source.Partition == partition)) _batchStart.Remove(partition);
        }
        _batchStart.TryAdd(partition, _committed.TryGetValue(partition, out var from) ? from : -1);
        _batchLast[partition] = offset;
        batch.Add(e);
        return e.Payload.Length - removedBytes;
    }

    /// <summary>True for sources whose positions are Event Hubs sequence numbers (AMQP, or the Kafka endpoint's offsets), which Capture files share.</summary>
    private bool Reconciles => _source.Kind is SourceKinds.EventHubs or SourceKinds.Kafka;

    /// <summary>
    /// Where <paramref name="partition"/> starts: the position bronze holds for this source, moved past what Capture files landed
    /// from there on (see <see cref="HubPositions.Start"/>); null for the beginning.
    /// </summary>
    private async Task<long?> PositionOfAsync(string partition, CancellationToken cancellationToken)
    {
        var appId = AppId(_source.Kind, _source.Name, partition);
        if (!Reconciles)
        {
            var positions = await _table.PositionsAsync(appId, cancellationToken).ConfigureAwait(false);
            if (positions.TryGetValue(appId, out var next))
            {
                _committed[partition] = next;
                return next;
            }
            _committed.TryRemove(partition, out _);
            return null;
        }
        var snapshot = await _table.Table.ExistsAsync(cancellationToken).ConfigureAwait(false)
            ? await _table.Table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
            : null;
        var hub = HubPositions.Of(snapshot, _source.Name, partition, appId);
        _hub[partition] = hub;
        if (hub.Live is { } live) _committed[partition] = live;
        else _committed.TryRemove(partition, out _);
        var start = hub.Start();
        if (start != hub.Live && start is { } s) Log.StartAfterCapture(_log, _source.Name, partition, s, hub.Live ?? -1);
        return start;
    }

    private async Task<(bool Committed, long Rows, long Bytes)> CommitAsync(List<BronzeEvent> batch, TimeSpan receive, CancellationToken cancellationToken)
    {
        var owned = _source.OwnedPartitions;
        var kept = batch.Where(e => e.Source.Partition is { } p && owned.Contains(p)).ToList();
        if (kept.Count < batch.Count) Log.DroppedRevoked(_log, _source.Name, batch.Count - kept.Count);
        if (kept.Count == 0) return (false, 0, 0);
        var next = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in kept)
        {
            var offset = e.Source.Offset ?? throw new InvalidOperationException($"An event of {_source.Name} partition {e.Source.Partition} has no offset.");
            next[e.Source.Partition!] = offset + 1;
        }
        var positions = next.Select(p => new DeltaAppTransaction(AppId(_source.Kind, _source.Name, p.Key), p.Value)
        {
            Previous = _batchStart.TryGetValue(p.Key, out var previous) ? previous : -1,
        }).ToList();
        var guards = new Dictionary<string, long>(StringComparer.Ordinal);
        if (Reconciles)
        {
            // The hub partition's guard: a Capture landing planned against the state before this commit then fails with Conflict
            // and plans again (and this commit fails if one landed since this batch was planned). Kafka commits carry it too: a
            // topic on Event Hubs' Kafka endpoint is the hub, and a Capture landing cannot know whether one is being read.
            foreach (var p in next.Keys)
            {
                var guard = _hub.TryGetValue(p, out var h) ? h.Guard : -1;
                guards[p] = guard + 1;
                positions.Add(new DeltaAppTransaction(HubPositions.GuardId(_source.Name, p), guard + 1) { Previous = guard });
            }
            if (_heldByCapture > 0) Log.SkippedHeldByCapture(_log, _source.Name, _heldByCapture);
            _heldByCapture = 0;
        }
        try
        {
            var commitClock = Stopwatch.StartNew();
            var result = await _table.CommitAsync(kept, positions, cancellationToken: cancellationToken).ConfigureAwait(false);
            var commitTime = commitClock.Elapsed;
            foreach (var p in next) _committed[p.Key] = p.Value;
            foreach (var g in guards)
            {
                var known = _hub.TryGetValue(g.Key, out var h) ? h : new HubPositions(null, -1, []);
                _hub[g.Key] = known with { Guard = g.Value, Live = next[g.Key] };
            }
            if (!result.Committed)
            {
                // Another worker (or an earlier run of ours) committed these positions already: resume from the table.
                await ReseekAsync(next.Keys, cancellationToken).ConfigureAwait(false);
                return (false, 0, 0);
            }
            var bytes = kept.Sum(e => (long)e.Payload.Length);
            BatchCommitted?.Invoke(new StreamBatchCommitted(result.Version, kept.Count, bytes, receive, commitTime,
                next.ToDictionary(p => p.Key, p => _batchStart.TryGetValue(p.Key, out var start) ? start : -1, StringComparer.Ordinal),
                new Dictionary<string, long>(next, StringComparer.Ordinal)));
            await AcknowledgeQuietlyAsync(next, cancellationToken).ConfigureAwait(false);
            return (true, kept.Count, bytes);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
        {
            Log.BatchConflict(_log, _source.Name, kept.Count, e.Message);
            await ReseekAsync(next.Keys, cancellationToken).ConfigureAwait(false);
            return (false, 0, 0);
        }
    }

    private async Task ReseekAsync(IEnumerable<string> partitions, CancellationToken cancellationToken)
    {
        foreach (var partition in partitions.ToList())
        {
            if (!_source.OwnedPartitions.Contains(partition)) continue;
            var position = await PositionOfAsync(partition, cancellationToken).ConfigureAwait(false);
            await _source.SeekAsync(partition, position, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AcknowledgeQuietlyAsync(Dictionary<string, long> positions, CancellationToken cancellationToken)
    {
        try
        {
            await _source.AcknowledgeAsync(positions, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.AcknowledgeFailed(_log, _source.Name, e);
        }
    }

    private async Task CompactAsync(CancellationToken cancellationToken)
    {
        try
        {
            var writer = DeltaWriter.Create(_table.Table, new DeltaWriteOptions { PartitionColumns = [BronzeTable.PartitionColumn] });
            var result = await writer.OptimizeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.Committed)
            {
                long removed = result.Metric("numRemovedFiles"), added = result.Metric("numAddedFiles");
                Log.Compacted(_log, _table.Table.Location, result.Version, removed, added);
            }
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
        {
            Log.CompactionSkipped(_log, _table.Table.Location, e.Message);
        }
    }
}
