using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold;

/// <summary>The gold job's log events (ids 7000–7099, 7300–7349 for late-data corrections and 7350–7399 for groups; see LogEventIds.Gold).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "gold.{Table}: {Dates} event date(s) recomputed from silver.{Dataset} up to version {Version}: {Rows} rows")]
    public static partial void TableRecomputed(ILogger logger, string table, string dataset, int dates, long version, long rows);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "gold: nothing new in silver.{Dataset} (version {Version} already consumed by every gold table)")]
    public static partial void NothingNew(ILogger logger, string dataset, long version);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "gold: silver.{Dataset}'s commits after version {Version} are no longer in its log ({Reason}); recomputing every event date")]
    public static partial void ChangesUnavailable(ILogger logger, string dataset, long version, string reason);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "gold: the record of run {RunId} was not written: {Reason}")]
    public static partial void RunNotRecorded(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Debug, Message = "gold.{Dataset}: {Step} took {Milliseconds} ms")]
    public static partial void Step(ILogger logger, string dataset, string step, long milliseconds);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "gold.{Dataset}: {Late} event(s) arrived behind the watermark; the windows of their days were recomputed with them")]
    public static partial void LateEvents(ILogger logger, string dataset, long late);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Information, Message = "gold.{Table}: {Dates} event date(s) from silver.{Dataset} version {Version} were already written by a gold run at the same time; this run's commit was skipped")]
    public static partial void WrittenByAnotherRun(ILogger logger, string table, string dataset, int dates, long version);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Warning, Message = "gold.{Dataset}: {Rows} new event(s) are stamped more than {Tolerance} after they were ingested; they are counted in the windows of their times but do not move the watermark (gold run --future-tolerance)")]
    public static partial void AheadOfIngest(ILogger logger, string dataset, long rows, string tolerance);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "gold: {Failed} alert(s) could not be delivered to the webhook this run; they stay pending and are retried on the next run")]
    public static partial void AlertsPending(ILogger logger, int failed);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "gold: alerts could not be delivered this run ({Reason}); they stay pending and are retried on the next run")]
    public static partial void DeliveryFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7300, Level = LogLevel.Information, Message = "gold.{Table}: {Rows} correction(s) of windows that received late events, each next to the window's on-time result")]
    public static partial void Corrections(ILogger logger, string table, long rows);

    [LoggerMessage(EventId = 7351, Level = LogLevel.Debug, Message = "gold.{Dataset}: {Table}: the {Keys} key(s) the new rows reach recomputed from {Rows} silver rows, the others kept, in {Milliseconds} ms")]
    public static partial void KeyedStep(ILogger logger, string dataset, string table, long keys, long rows, long milliseconds);

    [LoggerMessage(EventId = 7354, Level = LogLevel.Debug, Message = "gold.{Dataset}: {Table}: the sessions counted on from the last run's with those the new rows bring, the rest from the whole days, in {Milliseconds} ms")]
    public static partial void SessionsCountedOn(ILogger logger, string dataset, string table, long milliseconds);

    [LoggerMessage(EventId = 7353, Level = LogLevel.Debug, Message = "gold.{Dataset}: the watermarks come from the micro-batches of {Files} silver file(s), {Read} of them read now (the others known from an earlier run)")]
    public static partial void WatermarkFiles(ILogger logger, string dataset, int files, int read);

    [LoggerMessage(EventId = 7352, Level = LogLevel.Debug, Message = "gold.{Dataset}: the windows and sessions of the days are recomputed whole: {Reason}")]
    public static partial void WholeDays(ILogger logger, string dataset, string reason);

    [LoggerMessage(EventId = 7350, Level = LogLevel.Debug, Message = "gold.{Dataset}: group {Group} of {Groups} ({Dates}): {Rows} silver rows, outputs spooled in {Milliseconds} ms")]
    public static partial void GroupComputed(ILogger logger, string dataset, int group, int groups, string dates, long rows, long milliseconds);
}
