namespace Lakehouse.Delta.Write;

/// <summary>How <see cref="DeltaWriter.MergeAsync"/> treats source rows whose key is already in the table.</summary>
public enum DeltaMergeMode
{
    /// <summary>Rows whose key is in the table are ignored; only new keys are inserted (nothing is rewritten).</summary>
    InsertIfAbsent,

    /// <summary>Rows whose key is in the table replace the existing row (the files holding them are rewritten); new keys are inserted.</summary>
    Upsert,
}

/// <summary>
/// An idempotent writer's progress marker, committed as a Delta <c>txn</c> action in the same commit as the data.
/// A write whose markers the table already holds at this version or later is skipped (exactly-once).
/// </summary>
/// <param name="AppId">The writer's identity, e.g. "bronze/weblogs/partition-3" or "silver/weblogs".</param>
/// <param name="Version">The progress this commit records (an offset, an upstream table version); must grow.</param>
public sealed record DeltaAppTransaction(string AppId, long Version)
{
    /// <summary>
    /// The version this marker must hold in the table when the commit is made (-1: the table must not hold it yet); null
    /// skips the check. A stream writer sets it to where its batch starts, so a batch planned from stale positions (another
    /// worker advanced the same partition meanwhile) fails with <see cref="Core.LakehouseErrorReason.Conflict"/> instead of
    /// committing its overlap twice. A marker already at <see cref="Version"/> or later still means "already applied".
    /// </summary>
    public long? Previous { get; init; }

    /// <summary>
    /// A guard: a counter that orders writers rather than records progress (<see cref="Version"/> is <see cref="Previous"/> + 1).
    /// It never makes a commit "already applied" (the commit's other markers decide that); unless they do, the table must hold
    /// <see cref="Previous"/>, and a concurrent commit that advances the same guard conflicts. A commit whose only markers are guards
    /// is therefore refused, never skipped, once another writer has moved the guard since it was read.
    /// </summary>
    public bool IsGuard { get; init; }

    /// <summary>
    /// A record of where the commit landed: the marker is written with the version of the commit that holds it (a commit
    /// retried at a later version because another writer took the first records that one), and <see cref="Version"/> is not
    /// used (0). Like a guard it never makes a commit "already applied"; a reader finds in it the version that first held
    /// the commit's other markers (an idempotency key's first answer).
    /// </summary>
    public bool RecordsCommitVersion { get; init; }
}

/// <summary>The outcome of a write or maintenance operation.</summary>
/// <param name="Version">The version committed, or the table's version when nothing was committed.</param>
/// <param name="Committed">False when there was nothing to commit (no rows, nothing to compact, or the transaction was already applied).</param>
/// <param name="Operation">The commitInfo operation, e.g. WRITE, MERGE, DELETE, OPTIMIZE, RESTORE.</param>
/// <param name="Metrics">The commit's operation metrics (numFiles, numOutputRows, numRemovedFiles, ...).</param>
/// <param name="Attempts">How many versions the commit tried (1 when nobody else committed in between).</param>
public sealed record DeltaCommitResult(long Version, bool Committed, string Operation, IReadOnlyDictionary<string, long> Metrics, int Attempts)
{
    /// <summary>A metric by name, 0 when absent.</summary>
    public long Metric(string name) => Metrics.TryGetValue(name, out var v) ? v : 0;
}

/// <summary>The outcome of VACUUM.</summary>
/// <param name="Files">Table-relative paths deleted (or, on a dry run, that would be deleted).</param>
/// <param name="Bytes">Their total size.</param>
/// <param name="DryRun">True when nothing was deleted.</param>
/// <param name="Retention">The retention applied.</param>
public sealed record DeltaVacuumResult(IReadOnlyList<string> Files, long Bytes, bool DryRun, TimeSpan Retention);
