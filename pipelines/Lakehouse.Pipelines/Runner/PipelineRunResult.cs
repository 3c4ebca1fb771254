using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Runner;

/// <summary>The outcome of a pipeline run.</summary>
/// <param name="RunId">The run's id (the state store's key; <c>lakehouse pipeline runs --run</c> shows it).</param>
/// <param name="Pipeline">The pipeline's name.</param>
/// <param name="Status">Succeeded, Failed or Cancelled, by ADF's rule on the leaf activities.</param>
/// <param name="StartedAt">When the run first started (UTC).</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="Error">Why it failed: the failing activity's error; null when it succeeded.</param>
/// <param name="FailedActivity">The first activity that failed (by end time), null when none did.</param>
/// <param name="Activities">Every activity run, nested ones named by path (<c>ForEachDate/2/RerunDate</c>), in start order.</param>
/// <param name="Resumed">True when this call resumed a run that had not finished.</param>
/// <param name="LogDirectory">The folder holding the Custom activities' logs.</param>
public sealed record PipelineRunResult(
    string RunId,
    string Pipeline,
    RunStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    string? Error,
    string? FailedActivity,
    IReadOnlyList<ActivityRunRecord> Activities,
    bool Resumed,
    string LogDirectory);
