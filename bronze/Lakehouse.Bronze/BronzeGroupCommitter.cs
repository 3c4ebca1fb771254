using System.Threading.Channels;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze;

/// <summary>How a <see cref="BronzeGroupCommitter"/> queues and groups submissions.</summary>
public sealed class GroupCommitOptions
{
    private int _maxQueuedSubmissions = 1024;
    private int _maxCommitEvents = 1_000_000;
    private long _maxCommitBytes = 256L << 20;
    private int _compactEveryCommits = 200;
    private int _maxConcurrentCommits = 2;

    /// <summary>Submissions that may wait for a commit (default 1024); one more is refused (the caller answers "busy").</summary>
    public int MaxQueuedSubmissions
    {
        get => _maxQueuedSubmissions;
        set => _maxQueuedSubmissions = value is >= 1 and <= 1_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Between 1 and 1,000,000.");
    }

    /// <summary>A commit takes waiting submissions until it holds this many events (default 1,000,000); a bigger submission is committed alone.</summary>
    public int MaxCommitEvents
    {
        get => _maxCommitEvents;
        set => _maxCommitEvents = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 1.");
    }

    /// <summary>A commit takes waiting submissions until their payloads reach this many bytes (default 256 MiB).</summary>
    public long MaxCommitBytes
    {
        get => _maxCommitBytes;
        set => _maxCommitBytes = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 1.");
    }

    /// <summary>
    /// Commits that may run at once (default 2): while one writes its Delta log entry, the next group is staged and written.
    /// 1 commits one group after the other.
    /// </summary>
    public int MaxConcurrentCommits
    {
        get => _maxConcurrentCommits;
        set => _maxConcurrentCommits = value is >= 1 and <= 16 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Between 1 and 16.");
    }

    /// <summary>Compact the table's small files in the background after this many commits (default 200; 0: never).</summary>
    public int CompactEveryCommits
    {
        get => _compactEveryCommits;
        set => _compactEveryCommits = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "0 or more.");
    }
}

/// <summary>
/// Events a caller (an HTTP request) hands over to be landed together, all or none.
/// </summary>
/// <param name="Id">Who submitted them (the HTTP request id, which is also the events' <c>source</c>).</param>
/// <param name="Events">The events.</param>
/// <param name="IdempotencyKey">
/// A key the client chose so that a retry does not land twice: committed as the txn
/// <see cref="BronzeGroupCommitter.IdempotencyAppIdPrefix"/><c>key</c>, with <paramref name="Fingerprint"/> as its version.
/// </param>
/// <param name="Fingerprint">The fingerprint of what was submitted (see <see cref="HttpBodyFraming.Fingerprint"/>), 0 or more.</param>
public sealed record BronzeSubmission(string Id, IReadOnlyList<BronzeEvent> Events, string? IdempotencyKey = null, long Fingerprint = 0)
{
    internal long Bytes { get; } = Events.Sum(e => (long)e.Payload.Length);
}

/// <summary>What became of a submission.</summary>
public enum BronzeSubmissionStatus
{
    /// <summary>Its events were committed in <see cref="BronzeSubmissionResult.Version"/>.</summary>
    Committed,

    /// <summary>
    /// Its idempotency key was committed before with the same fingerprint (a retry): nothing was landed now, and
    /// <see cref="BronzeSubmissionResult.Version"/> is a version that holds the events of the first submission.
    /// </summary>
    Duplicate,

    /// <summary>Its idempotency key was committed before with a different fingerprint: nothing was landed.</summary>
    KeyReused,
}

/// <summary>The outcome of a submission.</summary>
/// <param name="Status">Committed, duplicate or refused.</param>
/// <param name="Version">The bronze version that holds the events (for KeyReused: the version where the key was found).</param>
public sealed record BronzeSubmissionResult(BronzeSubmissionStatus Status, long Version);

/// <summary>What a <see cref="BronzeGroupCommitter"/> has done so far.</summary>
/// <param name="Commits">Bronze versions committed.</param>
/// <param name="Submissions">Submissions committed (not counting duplicates).</param>
/// <param name="Events">Events committed.</param>
/// <param name="Bytes">Payload bytes committed.</param>
/// <param name="Queued">Submissions waiting now.</param>
public sealed record GroupCommitStatistics(long Commits, long Submissions, long Events, long Bytes, int Queued);

/// <summary>
/// Lands the submissions of many concurrent callers in one bronze table through one writer: waiting submissions are grouped
/// into one Delta commit (a group commit), and each caller's task completes when the commit holding its events is done, so a
/// caller that answers after awaiting it answers only for durably committed events. The queue is bounded
/// (<see cref="GroupCommitOptions.MaxQueuedSubmissions"/>): past it <see cref="TryEnqueue"/> refuses instead of buffering without end.
/// Idempotency keys are Delta <c>txn</c> actions committed with the events (they must not be in the table yet): a key the
/// table holds already is answered as a duplicate (same fingerprint) or a reuse (another one), within a group as across
/// processes and restarts.
/// </summary>
public sealed class BronzeGroupCommitter : IAsyncDisposable
{
    /// <summary>The txn application id of an idempotency key is this prefix followed by the key.</summary>
    public const string IdempotencyAppIdPrefix = "http/idempotency-key/";

    /// <summary>
    /// The txn application id that records the bronze version where an idempotency key was first committed (this prefix and
    /// the key; its version is that commit's), so a retry is answered with the first answer's version.
    /// </summary>
    public const string IdempotencyVersionAppIdPrefix = "http/idempotency-version/";

    /// <summary>
    /// The bronze table property that forgets idempotency keys (both txns of each) once they are this old
    /// (<see cref="DefaultIdempotencyKeyRetention"/> for tables created since 2026-12-04): without it every key stays in every
    /// snapshot for good.
    /// </summary>
    public static string IdempotencyKeyRetentionProperty { get; } = DeltaWriteOptions.TxnRetentionProperty("http/idempotency-");

    /// <summary>How long a new bronze table remembers an idempotency key: a retry later than this lands its events again.</summary>
    public const string DefaultIdempotencyKeyRetention = "interval 7 days";

    /// <summary>How often a group is planned again after a conflict (another writer committed one of its keys meanwhile).</summary>
    private const int MaxPlans = 8;

    private readonly BronzeTable _table;
    private readonly GroupCommitOptions _options;
    private readonly ILogger _log;
    private readonly Channel<Pending> _queue;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stopCompaction = new();
    private readonly Lock _compactionGate = new();
    private Task _compaction = Task.CompletedTask;
    private long _commits, _submissions, _events, _bytes;
    private int _sinceCompaction;
    private int _stopped;

    /// <summary>Whether the table's key retention was looked at (once per committer, after its first keyed commit), and that look.</summary>
    private int _retentionChecked;
    private Task? _retentionCheck;

    /// <summary>A committer into <paramref name="table"/>; its writer loop runs until <see cref="StopAsync"/>.</summary>
    public BronzeGroupCommitter(BronzeTable table, GroupCommitOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _options = options ?? new GroupCommitOptions();
        _log = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<BronzeGroupCommitter>();
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(_options.MaxQueuedSubmissions)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = RunAsync();
    }

    /// <summary>The table written.</summary>
    public BronzeTable Table => _table;

    /// <summary>Totals so far.</summary>
    public GroupCommitStatistics Statistics => new(Interlocked.Read(ref _commits), Interlocked.Read(ref _submissions), Interlocked.Read(ref _events),
        Interlocked.Read(ref _bytes), _queue.Reader.Count);

    /// <summary>True while the queue holds as many submissions as it may: a caller can refuse before it reads a request.</summary>
    public bool IsFull => _queue.Reader.Count >= _options.MaxQueuedSubmissions;

    /// <summary>
    /// Queues <paramref name="submission"/>; false when the queue is full or the committer is stopping (nothing is queued then).
    /// <paramref name="result"/> completes once the submission is committed (or found to be a duplicate), and fails with the
    /// commit's exception when the commit failed: its events were not landed.
    /// </summary>
    public bool TryEnqueue(BronzeSubmission submission, out Task<BronzeSubmissionResult> result)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (submission.Events.Count == 0 && submission.IdempotencyKey is null)
            throw new ArgumentException("A submission holds at least one event, or an idempotency key to record.", nameof(submission));
        ArgumentOutOfRangeException.ThrowIfNegative(submission.Fingerprint, nameof(submission));
        var pending = new Pending(submission);
        if (_queue.Writer.TryWrite(pending))
        {
            result = pending.Done.Task;
            return true;
        }
        result = Task.FromCanceled<BronzeSubmissionResult>(new CancellationToken(canceled: true));
        return false;
    }

    /// <summary>
    /// Refuses new submissions, commits every queued one (their callers get their answers), stops a running compaction and
    /// returns when the writer is idle. Commits are never cancelled half-way: a submission that was queued is committed.
    /// </summary>
    public async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _stopped, 1) == 0) await _stopCompaction.CancelAsync().ConfigureAwait(false);
        await _compaction.ConfigureAwait(false);
        if (_retentionCheck is { } check) await check.ConfigureAwait(false);
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopCompaction.Dispose();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        var reader = _queue.Reader;
        using var slots = new SemaphoreSlim(_options.MaxConcurrentCommits);
        var running = new List<Task>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // A group is taken when a commit slot is free: while all are busy, waiting submissions pile up into a bigger group.
            await slots.WaitAsync().ConfigureAwait(false);
            var group = new List<Pending>();
            long events = 0, bytes = 0;
            while (reader.TryPeek(out var next))
            {
                if (group.Count > 0 && (events + next.Submission.Events.Count > _options.MaxCommitEvents || bytes + next.Submission.Bytes > _options.MaxCommitBytes)) break;
                reader.TryRead(out _);
                group.Add(next);
                events += next.Submission.Events.Count;
                bytes += next.Submission.Bytes;
            }
            running.RemoveAll(t => t.IsCompleted);
            running.Add(CommitOrFailAsync(group, events, slots));
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task CommitOrFailAsync(List<Pending> group, long events, SemaphoreSlim slots)
    {
        try
        {
            if (group.Count > 0) await CommitGroupAsync(group).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.GroupCommitFailed(_log, _table.Table.Location, group.Count, events, e);
            foreach (var p in group) p.Done.TrySetException(e);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task CommitGroupAsync(List<Pending> group)
    {
        // A key appears once per commit: the first submission with it goes now, later ones with it (concurrent retries) are
        // answered from the table once it is committed.
        var waiting = new List<Pending>();
        var later = new List<Pending>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in group)
        {
            if (p.Submission.IdempotencyKey is { } key && !keys.Add(key)) later.Add(p);
            else waiting.Add(p);
        }
        for (var plan = 1; waiting.Count > 0; plan++)
        {
            var positions = waiting.Where(p => p.Submission.IdempotencyKey is not null)
                .SelectMany(p => new[]
                {
                    new DeltaAppTransaction(IdempotencyAppIdPrefix + p.Submission.IdempotencyKey, p.Submission.Fingerprint) { Previous = -1 },
                    new DeltaAppTransaction(IdempotencyVersionAppIdPrefix + p.Submission.IdempotencyKey, 0) { RecordsCommitVersion = true },
                })
                .ToList();
            var events = waiting.SelectMany(p => p.Submission.Events).ToList();
            try
            {
                var result = await _table.CommitAsync(events, positions).ConfigureAwait(false);
                if (result.Committed)
                {
                    Interlocked.Increment(ref _commits);
                    Interlocked.Add(ref _submissions, waiting.Count);
                    Interlocked.Add(ref _events, events.Count);
                    Interlocked.Add(ref _bytes, waiting.Sum(p => p.Submission.Bytes));
                    Log.GroupCommitted(_log, _table.Table.Location, result.Version, waiting.Count, events.Count);
                    foreach (var p in waiting) p.Done.TrySetResult(new BronzeSubmissionResult(BronzeSubmissionStatus.Committed, result.Version));
                    waiting.Clear();
                    if (positions.Count > 0 && Interlocked.Exchange(ref _retentionChecked, 1) == 0) _retentionCheck = Task.Run(CheckKeyRetentionAsync);
                    StartCompactionWhenDue();
                    break;
                }
                // Every key of the group is in the table already (another writer landed them): plan again without them.
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict && plan < MaxPlans)
            {
                Log.GroupConflict(_log, _table.Table.Location, waiting.Count, e.Message);
            }
            await RemoveKnownKeysAsync(waiting).ConfigureAwait(false);
            if (plan >= MaxPlans && waiting.Count > 0)
                throw new LakehouseException(LakehouseErrorReason.Conflict, $"Bronze table '{_table.Table.Location}' kept changing under this commit ({plan} attempts); nothing of it was committed.");
        }
        if (later.Count == 0) return;
        await RemoveKnownKeysAsync(later).ConfigureAwait(false);
        if (later.Count > 0) await CommitGroupAsync(later).ConfigureAwait(false);
    }

    /// <summary>
    /// Warns when the table keeps its idempotency keys for good (a table created before they expired), with the command that sets
    /// the retention: in the background, once, so no answer waits for the snapshot it reads. A failure to read it is only logged.
    /// </summary>
    private async Task CheckKeyRetentionAsync()
    {
        try
        {
            var snapshot = await _table.Table.GetSnapshotAsync().ConfigureAwait(false);
            if (snapshot.Property(IdempotencyKeyRetentionProperty) is null)
                Log.KeysNeverExpire(_log, _table.Table.Location, snapshot.Transactions.Keys.Count(k => k.StartsWith(IdempotencyAppIdPrefix, StringComparison.Ordinal)), IdempotencyKeyRetentionProperty);
        }
        catch (Exception e)
        {
            // Only a warning was at stake: whatever went wrong must not fail the committer (StopAsync awaits this).
            Log.RetentionCheckFailed(_log, _table.Table.Location, e);
        }
    }

    /// <summary>Takes out of <paramref name="waiting"/> the submissions whose key the table holds, answering them.</summary>
    private async Task RemoveKnownKeysAsync(List<Pending> waiting)
    {
        if (!waiting.Any(p => p.Submission.IdempotencyKey is not null)) return;
        if (!await _table.Table.ExistsAsync().ConfigureAwait(false)) return;
        var snapshot = await _table.Table.GetSnapshotAsync().ConfigureAwait(false);
        var found = new List<Pending>();
        foreach (var p in waiting)
        {
            if (p.Submission.IdempotencyKey is not { } key || snapshot.TransactionVersion(IdempotencyAppIdPrefix + key) is not { } held) continue;
            var status = held == p.Submission.Fingerprint ? BronzeSubmissionStatus.Duplicate : BronzeSubmissionStatus.KeyReused;
            var first = snapshot.TransactionVersion(IdempotencyVersionAppIdPrefix + key) ?? await FirstVersionHoldingAsync(IdempotencyAppIdPrefix + key, snapshot).ConfigureAwait(false);
            Log.KeyFound(_log, _table.Table.Location, p.Submission.Id, status);
            p.Done.TrySetResult(new BronzeSubmissionResult(status, first));
            found.Add(p);
        }
        waiting.RemoveAll(found.Contains);
    }

    /// <summary>
    /// The first version of the table that holds <paramref name="appId"/>, for a key committed before its version was recorded with
    /// it (<see cref="IdempotencyVersionAppIdPrefix"/>): a binary search over the snapshots; <paramref name="latest"/>'s version when the
    /// log of the older versions is gone (cleaned up after a checkpoint).
    /// </summary>
    private async Task<long> FirstVersionHoldingAsync(string appId, DeltaSnapshot latest)
    {
        long low = 0, high = latest.Version;
        try
        {
            while (low < high)
            {
                var middle = low + ((high - low) / 2);
                var snapshot = await _table.Table.GetSnapshotAsync(middle).ConfigureAwait(false);
                if (snapshot.TransactionVersion(appId) is not null) high = middle;
                else low = middle + 1;
            }
            return low;
        }
        catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.NotFound or LakehouseErrorReason.CorruptLog)
        {
            return latest.Version;
        }
    }

    private void StartCompactionWhenDue()
    {
        if (_options.CompactEveryCommits == 0) return;
        lock (_compactionGate)
        {
            if (++_sinceCompaction < _options.CompactEveryCommits || !_compaction.IsCompleted || _stopped != 0) return;
            _sinceCompaction = 0;
            _compaction = CompactAsync(_stopCompaction.Token);
        }
    }

    private async Task CompactAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var writer = DeltaWriter.Create(_table.Table, new DeltaWriteOptions { PartitionColumns = [BronzeTable.PartitionColumn] });
            var result = await writer.OptimizeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!result.Committed) return;
            long removed = result.Metric("numRemovedFiles"), added = result.Metric("numAddedFiles");
            Log.GroupCompacted(_log, _table.Table.Location, result.Version, removed, added);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the compaction committed nothing and removed what it staged.
        }
        catch (Exception e)
        {
            Log.GroupCompactionFailed(_log, _table.Table.Location, e);
        }
    }

    private sealed class Pending(BronzeSubmission submission)
    {
        internal BronzeSubmission Submission { get; } = submission;

        internal TaskCompletionSource<BronzeSubmissionResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
