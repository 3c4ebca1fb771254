using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lakehouse.Core;

namespace Lakehouse.Cli.Bench;

// The JSON report of `lakehouse bench`. Property names are written in snake_case; times are milliseconds (_ms) or seconds.
// A case with a target states it as text in `target` and whether this run met it in `met`.

internal sealed record BenchReport(
    string Size, string Timestamp, BenchMachine Machine, string Work, BenchCases Cases, long PeakWorkingSetBytes, double TotalSeconds)
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

internal sealed record BenchMachine(int Cores, string Os, string Runtime, string Duckdb);

/// <summary>The cases that ran (a case left out with <c>--case</c> is absent from the report).</summary>
internal sealed record BenchCases(
    SnapshotLoadResult? SnapshotLoad, ReadCsvResult? ReadCsv, ImportResult? Import, AppendLatencyResult? AppendLatency, FilesToBronzeResult? FilesToBronze,
    HttpIngestBenchResult? HttpIngest, BronzeToSilverResult? BronzeToSilver = null, SilverIncrementalResult? SilverIncremental = null,
    GoldDayResult? GoldDay = null, GoldIncrementalResult? GoldIncremental = null);

/// <summary>
/// NDJSON files landed in bronze (raw lines, no JSON parse), the median of three runs into fresh tables: wall seconds, process CPU seconds (and per million events, which a
/// shared machine disturbs less), commits; <c>read_json_*</c> is DuckDB's own read_json → Parquet of the same files.
/// <c>written_bytes</c> (and per event) is what the bronze table's data files take, at zstd level <c>compression_level</c>.
/// </summary>
internal sealed record FilesToBronzeResult(
    long Events, int InputFiles, long InputBytes, double BytesPerEvent, bool InputsReused, double Seconds, double EventsPerSecond,
    double CpuSeconds, double CpuSecondsPerMillionEvents, long Commits, double ReadJsonSeconds, double ReadJsonEventsPerSecond, double ReadJsonCpuSeconds,
    string Target, bool Met)
{
    public long WrittenBytes { get; init; }

    public double WrittenBytesPerEvent { get; init; }

    public int? CompressionLevel { get; init; }

    /// <summary>Every run's wall seconds, in order; <c>seconds</c> and <c>cpu_seconds</c> are the median run's.</summary>
    public IReadOnlyList<double> RunSeconds { get; init; } = [];
}

/// <summary>
/// Loading the latest snapshot of a long log. <c>table_reused</c>: built by an earlier run of the same size; <c>build_seconds</c>
/// only when built in this run, and then <c>cold_first_in_process</c> is false (the log reader ran while building).
/// </summary>
internal sealed record SnapshotLoadResult(
    int Commits, int RowsPerCommit, int CheckpointInterval, bool TableReused, double? BuildSeconds,
    long Version, long CheckpointVersion, int Files,
    double ColdMs, bool ColdFirstInProcess, int WarmRuns, double WarmMedianMs, double WarmP95Ms, double WarmMinMs,
    string Target, bool Met);

/// <summary>One way of reading: the median of the runs (all runs in <c>run_seconds</c>); <c>ratio</c> = baseline seconds / these seconds.</summary>
internal sealed record ReadTiming(double Seconds, double RowsPerSecond, double? Ratio, IReadOnlyList<double> RunSeconds);

/// <summary>
/// The table read as CSV three ways, each ratio against <c>duckdb_baseline</c> (DuckDB's COPY as it comes, rows in file order);
/// <c>cli_command</c> is the child process's command line as a shell would run it (the way this bench was started:
/// <c>dotnet lakehouse.dll</c>, or the installed tool), <c>cli_ready_to_run</c> whether its assembly is precompiled.
/// <c>duckdb_any_order</c> is DuckDB's COPY with <c>PRESERVE_ORDER false</c>, as <c>table read</c> writes a table of more than
/// <see cref="Commands.TableCommands.OrderedReadRows"/> rows; <c>cli_ratio_any_order</c> the child's ratio against it.
/// </summary>
internal sealed record ReadCsvResult(
    long Rows, int Files, long TableBytes, bool TableReused, int Runs,
    ReadTiming Cli, ReadTiming InProcess, ReadTiming DuckdbBaseline, string Target, bool Met)
{
    public ReadTiming? DuckdbAnyOrder { get; init; }

    public double? CliRatioAnyOrder { get; init; }

    public string? CliCommand { get; init; }

    public bool? CliReadyToRun { get; init; }
}

/// <summary>
/// NDJSON files imported into a fresh table, the median of three runs; <c>cpu_seconds</c> is the process's CPU time over the median
/// run, <c>bytes_per_row</c> what the data files take. <c>read_json_*</c> is DuckDB's own read_json → Parquet of the same files
/// (sampled types, no scan), timed right after each run; <c>read_json_ratio</c> = its seconds / the import's.
/// </summary>
internal sealed record ImportResult(
    long Rows, int InputFiles, long InputBytes, bool InputsReused, double Seconds, double RowsPerSecond, long Files, long Bytes, long Version,
    string Target, bool Met)
{
    public double CpuSeconds { get; init; }

    public double BytesPerRow { get; init; }

    /// <summary>Every run's wall seconds, in order; <c>seconds</c> and <c>cpu_seconds</c> are the median run's.</summary>
    public IReadOnlyList<double> RunSeconds { get; init; } = [];

    public double ReadJsonSeconds { get; init; }

    public IReadOnlyList<double> ReadJsonRunSeconds { get; init; } = [];

    public double ReadJsonRatio { get; init; }
}

/// <summary>Appends by one writer to a table in a run folder (deleted afterwards); <c>final_version</c> counts the creating commit too.</summary>
internal sealed record AppendSeries(
    string Location, int Appends, int RowsPerAppend, double MedianMs, double P95Ms, double MaxMs, long FinalVersion);

/// <summary>Several writers appending to one table at once; <c>retried_commits</c> lost the race for a version at least once.</summary>
internal sealed record ConcurrentSeries(
    string Location, int Writers, int AppendsPerWriter, int Commits, long FinalVersion, double Seconds, double CommitsPerSecond,
    double MedianMs, double P95Ms, double MaxMs, int RetriedCommits, int MaxAttempts);

internal sealed record AppendLatencyResult(AppendSeries Local, AppendSeries? Azure, ConcurrentSeries? AzureConcurrent, string Target, bool Met);

/// <summary>bronze.weblogs → silver.weblogs in one incremental run: events in and where they went, wall and CPU seconds.</summary>
internal sealed record BronzeToSilverResult(
    long Events, long SilverRows, long Quarantined, long Duplicates, bool InputsReused, double Seconds, double EventsPerSecond, double CpuSeconds,
    double CpuSecondsPerMillionEvents, string Target, bool Met);

/// <summary>An incremental silver run adding 1,000 events to a silver table of <c>silver_rows</c> rows (median of three runs).</summary>
internal sealed record SilverIncrementalResult(long SilverRows, int Events, bool InputsReused, double Seconds, IReadOnlyList<double> RunSeconds, string Target, bool Met);

/// <summary>One gold table's share of a gold run.</summary>
internal sealed record GoldTableSeconds(string Table, long Rows, double Seconds);

/// <summary>
/// The first gold run over one day of web-log events: wall seconds, and per gold table, with the day's events arriving in batches
/// unrelated to event time (the worst case: <c>late_events</c> is nearly all of them); <c>stream_order</c> the same in stream order.
/// </summary>
internal sealed record GoldDayResult(long Events, bool InputsReused, double Seconds, IReadOnlyList<GoldTableSeconds> Tables, string Target, bool Met)
{
    public long LateEvents { get; init; }

    public GoldStreamOrder? StreamOrder { get; init; }
}

/// <summary>
/// The gold run after 1,000 events land in a day of <c>DayEvents</c>: median of three runs on fresh copies, the new events spread
/// over the day and late (the worst case); <c>stream_order</c> with the day in stream order and the new events its newest seconds.
/// </summary>
internal sealed record GoldIncrementalResult(long DayEvents, int Events, bool InputsReused, double Seconds, IReadOnlyList<double> RunSeconds,
    IReadOnlyList<GoldTableSeconds> Tables, string Target, bool Met)
{
    public GoldStreamOrder? StreamOrder { get; init; }
}

/// <summary>A gold case run on the day as a stream delivers it: seconds (the median of <c>RunSeconds</c> when there are several), late events, per table.</summary>
internal sealed record GoldStreamOrder(double Seconds, IReadOnlyList<double>? RunSeconds, long LateEvents, IReadOnlyList<GoldTableSeconds> Tables);

/// <summary>
/// The report of <c>lakehouse bench --suite medallion</c>: <c>batch</c> (files → bronze → silver → gold against DuckDB's raw conversion),
/// <c>scale</c> (the same at the scale size, for memory; absent when not run), <c>incremental</c> (the refresh after 1,000 new events),
/// <c>stream</c> (one entry per rate through Kafka and <c>lakehouse stream</c>; absent with --skip-stream).
/// </summary>
internal sealed record MedallionReport(
    string Suite, string Timestamp, BenchMachine Machine, string Work, MedallionBatch Batch, MedallionScale? Scale, MedallionIncremental Incremental,
    IReadOnlyList<MedallionStream>? Stream, double TotalSeconds);

/// <summary>One layer's command as a child process: wall seconds and peak RSS.</summary>
internal sealed record MedallionStep(string Layer, double Seconds, long PeakRssBytes);

/// <summary>Where the events went; <see cref="Check"/> refuses counts that do not reconcile.</summary>
internal sealed record MedallionCounts(long Produced, long Bronze, long SilverIn, long Silver, long Quarantined, long Duplicates, long SilverTableRows, long GoldEvents)
{
    internal void Check()
    {
        var problems = new List<string>();
        if (Bronze != Produced) problems.Add($"bronze landed {Bronze} events of {Produced} produced");
        if (SilverIn != Bronze) problems.Add($"silver read {SilverIn} of bronze's {Bronze}");
        if (Silver + Quarantined + Duplicates != SilverIn) problems.Add($"silver {Silver} + quarantined {Quarantined} + duplicates {Duplicates} != {SilverIn} read");
        if (SilverTableRows != Silver) problems.Add($"silver's table holds {SilverTableRows} rows, the run wrote {Silver}");
        if (GoldEvents != Silver) problems.Add($"gold.page_performance_daily counts {GoldEvents} events, silver holds {Silver}");
        if (problems.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, "The medallion run's counts do not reconcile: " + string.Join("; ", problems) + ".");
    }
}

/// <summary>
/// The batch run: <c>events_per_s</c> = events ÷ the three layers' wall seconds; <c>baseline_*</c> is DuckDB's read_json → Parquet plus
/// the GROUP BY of the same files; <c>ratio</c> = events_per_s ÷ baseline_events_per_s; <c>peak_rss_bytes</c> the largest layer's.
/// </summary>
internal sealed record MedallionBatch(
    long Events, int InputFiles, long InputBytes, bool InputsReused, double Seconds, double EventsPerS, long PeakRssBytes,
    IReadOnlyList<MedallionStep> Steps, MedallionCounts Counts, string Target, bool Met)
{
    public double BaselineSeconds { get; init; }

    public double BaselineCopySeconds { get; init; }

    public double BaselineGroupBySeconds { get; init; }

    public double BaselineEventsPerS { get; init; }

    public double Ratio { get; init; }
}

/// <summary>The batch run at the scale size: its peak RSS is the memory target.</summary>
internal sealed record MedallionScale(
    long Events, double Seconds, double EventsPerS, [property: JsonPropertyName("peak_rss_bytes_10m")] long PeakRssBytes,
    IReadOnlyList<MedallionStep> Steps, string Target, bool Met);

/// <summary>The refresh of bronze, silver and gold after <c>events</c> new events: the median of <c>rounds</c> (all in <c>run_ms</c>), and its layers.</summary>
internal sealed record MedallionIncremental(
    int Events, int Rounds, double RefreshMs, IReadOnlyList<double> RunMs, double BronzeMs, double SilverMs, double GoldMs, string Target, bool Met);

/// <summary>
/// One rate of the streaming part: <c>events</c> sent at <c>rate</c> events/s (the producer reached <c>send_events_per_s</c>) through
/// Kafka (the mock cluster) into <c>lakehouse stream</c>. Latencies are produce → visible in bronze, silver and gold (the commit that
/// first covers the event); <c>sustained_events_per_s</c> = events ÷ (first send → the gold commit that made the last event visible);
/// <c>drain_ms</c> = last send → the stream reporting every layer caught up; <c>peak_rss_bytes</c> the stream process's;
/// <c>producer_stopped</c>: the producer could not send every event in the seconds (plus 5) and was stopped, <c>events</c> is what it sent.
/// </summary>
internal sealed record MedallionStream(
    int Rate, int Seconds, long Events, long SentDuplicates, long SentMalformed, double SendEventsPerS,
    double BronzeP50Ms, double BronzeP99Ms, double SilverP50Ms, double SilverP99Ms, double GoldP50Ms, double GoldP99Ms,
    double SustainedEventsPerS, double DrainMs, long PeakRssBytes, int MaxBatchMs, MedallionCounts Counts, string Target, bool Met, int Partitions,
    bool ProducerStopped);

/// <summary>
/// The report of <c>lakehouse bench --suite soak</c>: the run's settings and totals, whole-run latencies, every sample, and per series
/// whether it stayed bounded (<c>bounded</c>: the second half's maximum at most 1.5 × the first half's plus a small allowance, and not rising at every sample of the second half).
/// A run that failed after its first sample still reports: <c>failure</c> says why, and what it could not measure is absent.
/// </summary>
internal sealed record SoakReport(
    string Suite, string Timestamp, BenchMachine Machine, int Rate, double Minutes, int SampleSeconds, long Events, double? SendEventsPerS, double? DrainMs,
    long PeakRssBytes, MedallionCounts? Counts, double? SilverP50Ms, double? SilverP99Ms, double? GoldP50Ms, double? GoldP99Ms, double MaxSnapshotLoadMs,
    string Target, bool Met, bool AllBounded, IReadOnlyList<SoakTrend> Trends, IReadOnlyList<SoakSample> Samples, double TotalSeconds, int Partitions,
    bool ProducerStopped)
{
    /// <summary>Why the run failed (the counts did not reconcile, the stream did not catch up, the mock's retention lost events), or null.</summary>
    public string? Failure { get; init; }
}

/// <summary>
/// One sample of the soak: <c>minute</c> since the producer started; the stream's RSS; events on the broker and in bronze; the lag
/// (events unread, versions silver and gold are behind); <c>broker_deleted_events</c> the mock's retention deleted so far and
/// <c>deleted_before_consumed</c> of them bronze had not committed (lost: the run stops); latency of the events sent since the previous
/// sample (<c>window_events</c>, of which <c>not_visible_in_silver</c> were not yet); every table.
/// </summary>
internal sealed record SoakSample(
    double Minute, long RssBytes, long BrokerEvents, long BronzeEvents, long? LagEvents, long? SilverLagVersions, long? GoldLagVersions, long BrokerDeletedEvents,
    long DeletedBeforeConsumed,
    long WindowEvents, long NotVisibleInSilver, double? SilverP50Ms, double? SilverP99Ms, double? GoldP50Ms, double? GoldP99Ms, IReadOnlyList<SoakTable> Tables);

/// <summary>One table at a sample: live data files (in all and per partition), commit files in _delta_log, checkpoint files, commits since the last checkpoint, and a fresh reader's snapshot load time.</summary>
internal sealed record SoakTable(
    string Table, long Version, int Files, int Partitions, int MaxFilesPerPartition, IReadOnlyDictionary<string, int> FilesPerPartition, int CommitFiles,
    int CheckpointFiles, long CommitsSinceCheckpoint, double SnapshotLoadMs);

/// <summary>One series of the soak: first, last and largest value, the largest of each half, and whether it stayed bounded.</summary>
internal sealed record SoakTrend(string Metric, double First, double Last, double Max, double FirstHalfMax, double SecondHalfMax, bool Bounded);
