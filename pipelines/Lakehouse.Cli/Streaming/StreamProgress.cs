using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lakehouse.Cli.Streaming;

/// <summary>
/// One micro-batch of a <c>lakehouse stream</c> process, shaped like Spark's <c>StreamingQueryProgress</c>: what came in, how fast,
/// how long each phase took, where the source stands, and the gold watermark. In a process running silver or gold, a batch is
/// one silver/gold step (with the bronze commits made since the previous batch); in a bronze-only process, one bronze commit.
/// </summary>
internal sealed record StreamProgress
{
    /// <summary>The process's run id (stable for its life).</summary>
    public required string RunId { get; init; }

    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }

    /// <summary>The layers this process runs, <c>bronze+silver+gold</c>.</summary>
    public required string Layers { get; init; }

    /// <summary>0, 1, 2, … within this process.</summary>
    public long BatchId { get; init; }

    /// <summary>When the batch ended (UTC).</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>
    /// Rows this batch took in: bronze events committed (when bronze runs here), else bronze rows silver read, else the new silver
    /// rows gold consumed (not the rows of the dates it recomputed: those are the <c>goldRead</c> total).
    /// </summary>
    public long NumInputRows { get; init; }

    /// <summary><see cref="NumInputRows"/> over the time since the previous batch ended.</summary>
    public double InputRowsPerSecond { get; init; }

    /// <summary><see cref="NumInputRows"/> over the time the batch's phases took.</summary>
    public double ProcessedRowsPerSecond { get; init; }

    /// <summary>Milliseconds per phase: receive, bronzeCommit, silver, gold, compaction, triggerExecution (their sum).</summary>
    public required IReadOnlyDictionary<string, long> DurationMs { get; init; }

    /// <summary>The gold watermark after the batch (newest event time minus the delay), when gold runs here.</summary>
    public DateTimeOffset? Watermark { get; init; }

    /// <summary>Where the batch read from.</summary>
    public required IReadOnlyList<StreamSourceProgress> Sources { get; init; }

    /// <summary>Table versions after the batch.</summary>
    public required StreamSinkProgress Sink { get; init; }

    /// <summary>Rows since the process started, per outcome (bronze, silverIn, silver, quarantined, duplicates, goldIn, goldRead, alerts, lateEvents).</summary>
    public required IReadOnlyDictionary<string, long> Totals { get; init; }

    /// <summary>True in the record written when the process stopped.</summary>
    public bool Stopped { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One source of a batch: a stream's partitions (offsets) or an upstream table (versions).</summary>
/// <param name="Description">kafka://…, eventhubs://…, http, or bronze.&lt;dataset&gt; / silver.&lt;dataset&gt;.</param>
/// <param name="StartOffset">Per partition, the position the batch started from (a table: its version under "version").</param>
/// <param name="EndOffset">Per partition, the position after the batch.</param>
/// <param name="NumInputRows">Rows read from it.</param>
/// <param name="Lag">Events (a stream) or versions (a table) behind the source's end after the batch, when known.</param>
internal sealed record StreamSourceProgress(string Description, IReadOnlyDictionary<string, long> StartOffset, IReadOnlyDictionary<string, long> EndOffset, long NumInputRows, long? Lag);

/// <summary>The versions the batch left: bronze's, silver's (and the bronze version it consumed), the silver version gold consumed.</summary>
internal sealed record StreamSinkProgress(long? BronzeVersion, long? SilverVersion, long? SilverConsumedBronzeVersion, long? GoldConsumedSilverVersion);
