namespace Lakehouse.Pipelines.State;

/// <summary>
/// Where pipeline runs keep their state: run history, activity runs with their checkpoints, and the ledger of landed files
/// the local trigger has seen. Every update of an existing record is optimistic: it carries the <c>ETag</c> it read, and a
/// writer whose ETag is stale gets a <see cref="PipelineStateConflictException"/>, never a silent overwrite. Two
/// implementations keep the same contract: SQLite for a local lake and Cosmos DB in Azure.
/// </summary>
public interface IPipelineStateStore : IAsyncDisposable
{
    /// <summary>Creates the store's tables or containers when missing. Safe to call more than once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Records a new pipeline run. Throws <see cref="PipelineStateConflictException"/> when the run id exists.</summary>
    /// <returns>The run as stored, with its <c>ETag</c>.</returns>
    Task<PipelineRunRecord> CreateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default);

    /// <summary>Reads a run, or <see langword="null"/> when no run has that id.</summary>
    Task<PipelineRunRecord?> TryGetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a run whose stored ETag equals <paramref name="run"/>'s. Throws <see cref="PipelineStateConflictException"/>
    /// when the ETag is stale and <see cref="PipelineStateNotFoundException"/> when the run does not exist.
    /// </summary>
    /// <returns>The run as stored, with its new <c>ETag</c>.</returns>
    Task<PipelineRunRecord> UpdateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default);

    /// <summary>The most recent runs, newest start first, optionally of one pipeline only.</summary>
    Task<IReadOnlyList<PipelineRunRecord>> ListRunsAsync(string? pipeline = null, int limit = 50, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores an activity run (its checkpoint). With no <c>ETag</c> it is created and an existing one is a conflict; with
    /// an ETag it replaces the stored one only if that ETag is current (else <see cref="PipelineStateConflictException"/>).
    /// </summary>
    /// <returns>The activity run as stored, with its new <c>ETag</c>.</returns>
    Task<ActivityRunRecord> SaveActivityAsync(ActivityRunRecord activity, CancellationToken cancellationToken = default);

    /// <summary>Reads the checkpoint of one activity of a run, or <see langword="null"/> when there is none.</summary>
    Task<ActivityRunRecord?> TryGetActivityAsync(string runId, string activityName, CancellationToken cancellationToken = default);

    /// <summary>The activity runs of a run, in start order.</summary>
    Task<IReadOnlyList<ActivityRunRecord>> ListActivitiesAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims a landed file for a run if nobody has claimed the same file (path, size, modification time, ETag) before.
    /// Of any number of concurrent claimers exactly one gets <see cref="LandedFileClaim.Claimed"/>; the others get the
    /// first claim back.
    /// </summary>
    Task<LandedFileClaim> ClaimFileAsync(LandedFile file, string runId, CancellationToken cancellationToken = default);

    /// <summary>The claim of the same file (path, size, modification time, ETag), or null when nobody has claimed it.</summary>
    Task<LandedFileClaim?> TryGetClaimAsync(LandedFile file, CancellationToken cancellationToken = default);
}

/// <summary>Reads that must find their record.</summary>
public static class PipelineStateStoreExtensions
{
    /// <summary>Reads a run; throws <see cref="PipelineStateNotFoundException"/> when it does not exist.</summary>
    public static async Task<PipelineRunRecord> GetRunAsync(this IPipelineStateStore store, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await store.TryGetRunAsync(runId, cancellationToken).ConfigureAwait(false)
            ?? throw new PipelineStateNotFoundException($"Pipeline run '{StateKeys.Display(runId)}' does not exist in the state store.");
    }
}
