using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

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
/// NDJSON files landed in bronze (raw lines, no JSON parse): wall seconds, process CPU seconds (and per million events, which a
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
/// The table read as CSV three ways; <c>cli_command</c> is the child process's command line as a shell would run it (the way this
/// bench was started: <c>dotnet lakehouse.dll</c>, or the installed tool), <c>cli_ready_to_run</c> whether its assembly is precompiled.
/// </summary>
internal sealed record ReadCsvResult(
    long Rows, int Files, long TableBytes, bool TableReused, int Runs,
    ReadTiming Cli, ReadTiming InProcess, ReadTiming DuckdbBaseline, string Target, bool Met)
{
    public string? CliCommand { get; init; }

    public bool? CliReadyToRun { get; init; }
}

/// <summary>NDJSON files imported into a fresh table; <c>cpu_seconds</c> is the process's CPU time over the import, <c>bytes_per_row</c> what the data files take.</summary>
internal sealed record ImportResult(
    long Rows, int InputFiles, long InputBytes, bool InputsReused, double Seconds, double RowsPerSecond, long Files, long Bytes, long Version)
{
    public double CpuSeconds { get; init; }

    public double BytesPerRow { get; init; }
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

/// <summary>The first gold run over one day of web-log events: wall seconds, and per gold table.</summary>
internal sealed record GoldDayResult(long Events, bool InputsReused, double Seconds, IReadOnlyList<GoldTableSeconds> Tables, string Target, bool Met);

/// <summary>The gold run after 1,000 events land in a day of <c>DayEvents</c>: median of three runs on fresh copies.</summary>
internal sealed record GoldIncrementalResult(long DayEvents, int Events, bool InputsReused, double Seconds, IReadOnlyList<double> RunSeconds,
    IReadOnlyList<GoldTableSeconds> Tables, string Target, bool Met);
