using Microsoft.Extensions.Logging;

namespace Lakehouse.Silver;

/// <summary>Silver's log events of quarantine replays and quality gates (ids 6800–6899).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6800, Level = LogLevel.Information, Message = "silver.{Dataset}: replay {RunId} looked at {Rows} quarantined rows: {Moved} moved to silver, {Duplicates} duplicates of events silver holds, {Still} still quarantined (dry run: {DryRun})")]
    public static partial void Replayed(ILogger logger, string dataset, string runId, long rows, long moved, long duplicates, long still, bool dryRun);

    [LoggerMessage(EventId = 6801, Level = LogLevel.Warning, Message = "silver.{Dataset}: {Rows} replayed rows pass but silver holds no row of their event (a concurrent rerun removed it?); they stay quarantined for the next replay")]
    public static partial void ReplayUnresolved(ILogger logger, string dataset, long rows);

    [LoggerMessage(EventId = 6802, Level = LogLevel.Information, Message = "silver.{Dataset}: replay {RunId}: another replay recorded the outcome of {Rows} of the rows it picked meanwhile; this replay neither rewrites nor counts them")]
    public static partial void ReplayTakenByAnotherReplay(ILogger logger, string dataset, string runId, long rows);

    // Information, not Warning: the refusal is the run's error, which the caller reports; the event is for log-based monitoring.
    [LoggerMessage(EventId = 6810, Level = LogLevel.Information, Message = "Run {RunId} of {Dataset} refused by quality gate {Gate}: {Reason}")]
    public static partial void GateRefused(ILogger logger, string dataset, string runId, string gate, string reason);

    [LoggerMessage(EventId = 6811, Level = LogLevel.Warning, Message = "silver.{Dataset}: run {RunId}: the webhook was not told of the quality gate's refusal: {Reason}")]
    public static partial void GateNotDelivered(ILogger logger, string dataset, string runId, string reason);
}
