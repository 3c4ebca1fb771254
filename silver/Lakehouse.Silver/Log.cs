using Microsoft.Extensions.Logging;

namespace Lakehouse.Silver;

/// <summary>Silver's log events (ids 6000–6999, see LogEventIds.Silver).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "silver.{Dataset}: bronze versions {From}–{To} ({Files} files) → {Inserted} rows, {Quarantined} quarantined, {Duplicates} duplicates removed")]
    public static partial void Chunk(ILogger logger, string dataset, long from, long to, int files, long inserted, long quarantined, long duplicates);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "bronze.{Dataset} version {Version} ({Operation}) removed {Files} files with their rows; silver keeps what it took from them (rebuild the affected dates with --from/--to to drop them)")]
    public static partial void BronzeRemoved(ILogger logger, string dataset, long version, string operation, int files);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "silver.{Dataset}: the definition gained column(s) {Columns}, added to silver (null in the rows already there; rerun their dates with --from/--to to fill them from bronze)")]
    public static partial void ColumnsAdded(ILogger logger, string dataset, string columns);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "silver.{Dataset}: nothing new in bronze (version {Version} already consumed)")]
    public static partial void NothingNew(ILogger logger, string dataset, long version);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "silver.{Dataset}: quality metrics of run {RunId} were not recorded: {Reason}")]
    public static partial void MetricsNotRecorded(ILogger logger, string dataset, string runId, string reason);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "silver.{Dataset}: {Step} took {Milliseconds} ms ({CpuMilliseconds} ms CPU)")]
    public static partial void Step(ILogger logger, string dataset, string step, long milliseconds, long cpuMilliseconds);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "silver.{Dataset}: bronze up to version {Version} was committed by another run meanwhile; this run counts none of it")]
    public static partial void ChunkTakenByAnotherRun(ILogger logger, string dataset, long version);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Information, Message = "silver.{Dataset}: silver already held bronze up to version {Version}; its quarantine, behind it, took back {Rows} rows")]
    public static partial void ChunkAlreadyInSilver(ILogger logger, string dataset, long version, long rows);
}
