namespace Lakehouse.Pipelines.State;

/// <summary>The status of a pipeline run or an activity run (ADF's names).</summary>
public enum RunStatus
{
    /// <summary>Created, not started.</summary>
    Queued,

    /// <summary>Running.</summary>
    InProgress,

    /// <summary>Finished without error.</summary>
    Succeeded,

    /// <summary>Finished with an error.</summary>
    Failed,

    /// <summary>Stopped on request.</summary>
    Cancelled,

    /// <summary>Not run because a dependency condition was not met.</summary>
    Skipped,
}

/// <summary>One pipeline run.</summary>
/// <param name="RunId">The run's id (unique in the store).</param>
/// <param name="Pipeline">The pipeline's name.</param>
/// <param name="ParametersJson">The run's parameters as a JSON object.</param>
/// <param name="Status">Where the run is.</param>
/// <param name="StartedAt">When the run started (UTC).</param>
/// <param name="EndedAt">When it ended, if it has.</param>
/// <param name="Error">The error message of a failed run.</param>
/// <param name="ETag">The stored version this record was read at; <see langword="null"/> for a record not yet stored.</param>
public sealed record PipelineRunRecord(
    string RunId,
    string Pipeline,
    string ParametersJson,
    RunStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt = null,
    string? Error = null,
    string? ETag = null);

/// <summary>One activity of a pipeline run, and its checkpoint.</summary>
/// <param name="RunId">The pipeline run's id.</param>
/// <param name="ActivityName">The activity's name (unique within the run).</param>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="Status">Where the activity is.</param>
/// <param name="OutputJson">The activity's output (the checkpoint a resumed run reads), JSON; <see langword="null"/> if none.</param>
/// <param name="StartedAt">When this attempt started (UTC).</param>
/// <param name="EndedAt">When it ended, if it has.</param>
/// <param name="Error">The error message of a failed attempt.</param>
/// <param name="ETag">The stored version this record was read at; <see langword="null"/> for a record not yet stored.</param>
public sealed record ActivityRunRecord(
    string RunId,
    string ActivityName,
    int Attempt,
    RunStatus Status,
    string? OutputJson,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt = null,
    string? Error = null,
    string? ETag = null)
{
    /// <summary>How long the attempt took, once it has ended.</summary>
    public TimeSpan? Duration => EndedAt - StartedAt;
}

/// <summary>A file that landed where a trigger watches. The same path with another size, time or ETag is another file.</summary>
/// <param name="Path">The file's path (as the trigger names it).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="ModifiedAt">Its last modification time (UTC).</param>
/// <param name="SourceETag">The storage ETag where there is one (blob storage), else empty.</param>
public sealed record LandedFile(string Path, long Size, DateTimeOffset ModifiedAt, string SourceETag = "");

/// <summary>The answer to a claim.</summary>
/// <param name="Claimed">True when this caller's claim is the first one: it starts the run.</param>
/// <param name="RunId">The run id of the first claim (the caller's when <paramref name="Claimed"/>).</param>
/// <param name="ClaimedAt">When the first claim was made.</param>
public sealed record LandedFileClaim(bool Claimed, string RunId, DateTimeOffset ClaimedAt);

/// <summary>A stale write: the record changed since it was read (or exists already on create).</summary>
public sealed class PipelineStateConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PipelineStateConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public PipelineStateConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineStateConflictException()
    {
    }
}

/// <summary>A record that must exist does not.</summary>
public sealed class PipelineStateNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PipelineStateNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public PipelineStateNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineStateNotFoundException()
    {
    }
}
