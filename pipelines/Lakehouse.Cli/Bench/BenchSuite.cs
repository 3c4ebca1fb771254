using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Lakehouse.Cli.Commands;
using Lakehouse.Cli.Import;
using Lakehouse.Cli.Samples;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli.Bench;

/// <summary>The counts of a benchmark size.</summary>
internal sealed record BenchSize(string Name, int Commits, long ReadRows, long ImportRows, int Appends, long BronzeEvents, TimeSpan HttpSecondsPerLevel, long SilverRows, long GoldDayEvents)
{
    internal static BenchSize Parse(string name) => name switch
    {
        "full" => new("full", 10_000, 1_000_000, 1_000_000, 50, 1_000_000, TimeSpan.FromSeconds(20), 10_000_000, 10_000_000),
        "small" => new("small", 300, 100_000, 100_000, 20, 100_000, TimeSpan.FromSeconds(3), 200_000, 200_000),
        _ => throw CommandLine.Usage($"--size must be small or full, not '{name}'"),
    };
}

/// <summary>
/// The cases of <c>lakehouse bench</c>. Generated inputs (the snapshot table, the web-log table, the NDJSON files) live under the
/// work folder and are reused by later runs when a complete copy with the same description is there; the tables a run writes go
/// into a run folder that is deleted when the run ends.
/// </summary>
internal sealed partial class BenchSuite
{
    private const int Seed = 7;
    private const int RowsPerCommit = 10;

    /// <summary>Delta's default <c>delta.checkpointInterval</c>; the benchmark tables set no such property.</summary>
    private const int CheckpointInterval = 10;
    private const int ReadRuns = 3;
    private const int IngestRuns = 3;
    private const int WarmLoads = 20;
    private const int ConcurrentWriters = 4;
    private const int AppendsPerConcurrentWriter = 25;

    /// <summary>Changed whenever the generated inputs change, so older cached copies are rebuilt.</summary>
    private const string InputsVersion = "bench-inputs/1";

    private static readonly DateOnly SampleStart = new(2024, 5, 1);

    /// <summary><c>sh -c 'exec "$@" &gt;/dev/null' sh</c>: runs the words after it with standard output to /dev/null.</summary>
    private static readonly string[] ShellPrefix = ["-c", "exec \"$@\" >/dev/null", "sh"];

    private readonly DuckEngine _engine;
    private readonly BenchSize _size;
    private readonly string _work;
    private readonly string _run;
    private readonly Action<string> _progress;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The case names, in the order they run.</summary>
    internal static IReadOnlyList<string> CaseNames { get; } = ["snapshot_load", "read_csv", "import", "append_latency", "files_to_bronze", "http_ingest", "bronze_to_silver", "silver_incremental", "gold_day", "gold_incremental"];

    /// <summary>A suite of <paramref name="size"/> with its inputs under <paramref name="work"/>, progress lines to <paramref name="progress"/>,
    /// and the silver and gold jobs' steps with their times to <paramref name="loggerFactory"/> (shown with --verbose).</summary>
    internal BenchSuite(DuckEngine engine, BenchSize size, string work, Action<string> progress, ILoggerFactory? loggerFactory = null)
    {
        _engine = engine;
        _loggerFactory = loggerFactory;
        _size = size;
        _work = work;
        _progress = progress;
        _run = NewRunFolder(work);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with the run folder <paramref name="run"/> (from <see cref="NewRunFolder"/>) created, and deletes it
    /// when it ends; run folders of bench processes that were killed are deleted first.
    /// </summary>
    internal static async Task<T> InRunFolderAsync<T>(string run, Func<Task<T>> work)
    {
        RemoveAbandonedRuns(run);
        Directory.CreateDirectory(run);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(run, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"bench: could not delete the run folder {run}: {e.Message}");
            }
        }
    }

    /// <summary>A new run folder's path under the work folder: <c>runs/&lt;process id&gt;-&lt;random&gt;</c>.</summary>
    internal static string NewRunFolder(string work) => Path.Combine(work, "runs", $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");

    /// <summary>
    /// Runs the cases named in <paramref name="cases"/> (all when null); with <paramref name="azure"/>, the append cases also run in a
    /// fresh folder under it.
    /// </summary>
    internal async Task<BenchReport> RunAsync(ILakeStorage? azure, CancellationToken cancellationToken, IReadOnlySet<string>? cases = null)
    {
        bool Runs(string name) => cases is null || cases.Contains(name);
        var started = DateTimeOffset.UtcNow;
        return await InRunFolderAsync(_run, async () =>
        {
            var snapshot = Runs("snapshot_load") ? await SnapshotLoadAsync(cancellationToken).ConfigureAwait(false) : null;
            var read = Runs("read_csv") ? await ReadCsvAsync(cancellationToken).ConfigureAwait(false) : null;
            var import = Runs("import") ? await ImportAsync(cancellationToken).ConfigureAwait(false) : null;
            var append = Runs("append_latency") ? await AppendLatencyAsync(azure, cancellationToken).ConfigureAwait(false) : null;
            var bronze = Runs("files_to_bronze") ? await FilesToBronzeAsync(cancellationToken).ConfigureAwait(false) : null;
            var http = Runs("http_ingest")
                ? await HttpIngestBench.RunAsync(_engine, _run, [1, 4, 16, 64], _size.HttpSecondsPerLevel, Progress, cancellationToken).ConfigureAwait(false)
                : null;
            var silver = Runs("bronze_to_silver") ? await BronzeToSilverAsync(cancellationToken).ConfigureAwait(false) : null;
            var incremental = Runs("silver_incremental") ? await SilverIncrementalAsync(cancellationToken).ConfigureAwait(false) : null;
            var goldDay = Runs("gold_day") ? await GoldDayAsync(cancellationToken).ConfigureAwait(false) : null;
            var goldIncremental = Runs("gold_incremental") ? await GoldIncrementalAsync(cancellationToken).ConfigureAwait(false) : null;
            using var process = Process.GetCurrentProcess();
            return new BenchReport(
                _size.Name,
                started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                new BenchMachine(Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, DuckEngine.LibraryVersion),
                _work,
                new BenchCases(snapshot, read, import, append, bronze, http, silver, incremental, goldDay, goldIncremental),
                process.PeakWorkingSet64,
                Round(_clock.Elapsed.TotalSeconds, 1));
        }).ConfigureAwait(false);
    }

    // ---- snapshot_load ------------------------------------------------------------------------------------------------------

    /// <summary>
    /// A table of <see cref="BenchSize.Commits"/> appends of 10 rows by <see cref="DeltaWriter.AppendAsync"/> (a checkpoint every 10
    /// commits, the default interval); the first load in the process (cold), then fresh <see cref="DeltaTable"/> objects (warm).
    /// </summary>
    private async Task<SnapshotLoadResult> SnapshotLoadAsync(CancellationToken cancellationToken)
    {
        var commits = _size.Commits;
        var build = Stopwatch.StartNew();
        var (path, reused) = await InputAsync($"snapshot-{commits}",
            $"{commits} appends of {RowsPerCommit} web-log rows (seed {Seed}) by DeltaWriter.AppendAsync, default checkpoint interval",
            async folder =>
            {
                var writer = DeltaWriter.Create(DeltaTable.Open(LakeStorage.Open(folder), _engine));
                for (var v = 0; v < commits; v++)
                {
                    await writer.AppendAsync(Rows(commits, v), cancellationToken: cancellationToken).ConfigureAwait(false);
                    if ((v + 1) % 1000 == 0) Progress($"snapshot_load: {v + 1} of {commits} commits written");
                }
            }, cancellationToken).ConfigureAwait(false);
        var buildSeconds = build.Elapsed.TotalSeconds;

        var (snapshot, cold) = await LoadSnapshotAsync(path, cancellationToken).ConfigureAwait(false);
        var warm = new List<double>();
        for (var i = 0; i < WarmLoads; i++) warm.Add((await LoadSnapshotAsync(path, cancellationToken).ConfigureAwait(false)).Milliseconds);
        var median = Median(warm);
        Progress($"snapshot_load: version {snapshot.Version}, {snapshot.Files.Count} files; cold {cold:0.0} ms, warm median {median:0.0} ms");
        return new SnapshotLoadResult(commits, RowsPerCommit, CheckpointInterval, reused, reused ? null : Round(buildSeconds, 1),
            snapshot.Version, snapshot.CheckpointVersion, snapshot.Files.Count,
            Round(cold, 2), reused, WarmLoads, Round(median, 2), Round(P95(warm), 2), Round(warm.Min(), 2),
            "warm_median_ms < 100", median < 100);
    }

    private async Task<(DeltaSnapshot Snapshot, double Milliseconds)> LoadSnapshotAsync(string path, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var snapshot = await DeltaTable.Open(LakeStorage.Open(path), _engine).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return (snapshot, clock.Elapsed.TotalMilliseconds);
    }

    // ---- read_csv -----------------------------------------------------------------------------------------------------------

    /// <summary>
    /// The web-log table read as CSV: by <c>lakehouse table read</c> in a child process (standard output /dev/null, which DuckDB
    /// writes directly), by the same code in this process (<c>table read --out /dev/null</c>), and by DuckDB reading the live
    /// parquet files directly into /dev/null (the baseline, rows in file order; and again in any order, as <c>table read</c>
    /// writes a table this large). Each is run <see cref="ReadRuns"/> times, interleaved.
    /// </summary>
    private async Task<ReadCsvResult> ReadCsvAsync(CancellationToken cancellationToken)
    {
        var rows = _size.ReadRows;
        var (path, reused) = await InputAsync($"weblogs-{rows}", $"{rows} web-log rows (seed {Seed}) in one DeltaWriter.AppendAsync",
            async folder => await DeltaWriter.Create(DeltaTable.Open(LakeStorage.Open(folder), _engine))
                .AppendAsync(WebLogSample.Sql(rows, Seed, SampleStart), cancellationToken: cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var snapshot = await DeltaTable.Open(LakeStorage.Open(path), _engine).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var files = snapshot.Files.Select(f => Path.Combine(path, Uri.UnescapeDataString(f.Path))).ToList();
        var tableRows = await TableStatistics.CountRowsAsync(_engine, DeltaTable.Open(LakeStorage.Open(path), _engine), snapshot, cancellationToken).ConfigureAwait(false);
        if (tableRows != rows)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"The benchmark table '{path}' holds {tableRows} rows, not {rows}; delete it to rebuild.");

        string[] cliArgs = ["table", "read", path, "--format", "csv"];
        var baseline = new List<double>();
        var anyOrder = new List<double>();
        var inProcess = new List<double>();
        var cli = new List<double>();
        double DuckDbCopy(string options) => Time(() =>
        {
            using var lease = _engine.Lease();
            // USE_TMP_FILE false: DuckDB would otherwise write a temporary file beside an existing target and rename it over it.
            lease.Connection.Execute($"COPY (SELECT * FROM read_parquet({SqlText.LiteralList(files)})) TO '/dev/null' (FORMAT csv, HEADER true, USE_TMP_FILE false{options})");
        });
        for (var run = 1; run <= ReadRuns; run++)
        {
            baseline.Add(DuckDbCopy(""));
            anyOrder.Add(DuckDbCopy(", PRESERVE_ORDER false"));
            inProcess.Add(await TimeAsync(async () =>
            {
                var table = DeltaTable.Open(LakeStorage.Open(path), _engine);
                var current = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await TableCommands.CopyRowsAsync(_engine, table, current, "csv", null, "/dev/null", cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false));
            cli.Add(await TimeAsync(() => RunCliToDevNullAsync(cliArgs, cancellationToken)).ConfigureAwait(false));
            Progress($"read_csv: run {run} of {ReadRuns}: baseline {baseline[^1]:0.00} s (any order {anyOrder[^1]:0.00} s), in-process {inProcess[^1]:0.00} s, cli {cli[^1]:0.00} s");
        }
        var baseSeconds = Median(baseline);
        ReadTiming Timing(List<double> seconds, bool ratio) => new(Round(Median(seconds), 3), Round(rows / Median(seconds), 0),
            ratio ? Round(baseSeconds / Median(seconds), 3) : null, [.. seconds.Select(s => Round(s, 3))]);
        var result = new ReadCsvResult(rows, files.Count, snapshot.Files.Sum(f => f.Size), reused, ReadRuns,
            Timing(cli, true), Timing(inProcess, true), Timing(baseline, false), "cli.ratio >= 0.8 and in_process.ratio >= 0.9", false);
        return result with
        {
            Met = result.Cli.Ratio >= 0.8 && result.InProcess.Ratio >= 0.9,
            DuckdbAnyOrder = Timing(anyOrder, false),
            CliRatioAnyOrder = Round(Median(anyOrder) / Median(cli), 3),
            CliCommand = string.Join(' ', CliChild.Command().Concat(cliArgs).Select(CommandLine.ShellWord)) + " >/dev/null",
            CliReadyToRun = IsReadyToRun(typeof(BenchSuite).Assembly.Location),
        };
    }

    /// <summary>Whether an assembly holds ReadyToRun (precompiled) code.</summary>
    private static bool IsReadyToRun(string assembly)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    /// <summary>Runs this very CLI (<see cref="CliCommand"/>) with standard output to /dev/null, as a user timing it in a shell would.</summary>
    private static async Task RunCliToDevNullAsync(IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in ShellPrefix.Concat(CliChild.Command()).Concat(args)) start.ArgumentList.Add(a);
        start.Environment.Remove("LAKEHOUSE_LAKE");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start /bin/sh.");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse {string.Join(' ', args)} failed with exit code {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
    }

    // ---- import -------------------------------------------------------------------------------------------------------------

    /// <summary>NDJSON web-log files imported as <c>lakehouse table import files --to table</c> does it, into a fresh unpartitioned table.</summary>
    private async Task<ImportResult> ImportAsync(CancellationToken cancellationToken)
    {
        var rows = _size.ImportRows;
        var (folder, reused) = await InputAsync($"ndjson-{rows}", $"{rows} web-log events (seed {Seed}) as 4 NDJSON files by WebLogSample.WriteNdjson",
            target =>
            {
                using var lease = _engine.Lease();
                WebLogSample.WriteNdjson(lease.Connection, target, rows, Seed, SampleStart, perFile: (rows + 3) / 4);
                return Task.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
        var files = Directory.GetFiles(folder, "*.ndjson").Order(StringComparer.Ordinal).ToList();

        // Each run imports into a fresh table, then times DuckDB's own read_json → Parquet of the same files right after it: types
        // from DuckDB's sample, no scan of the whole input, which is what the import ran before it refused to guess types (issue 7).
        // Run next to each other, the two see the same machine, so their ratio holds on a shared one whose speed drifts.
        using var process = Process.GetCurrentProcess();
        var runs = new List<(double Seconds, double CpuSeconds, DeltaCommitResult Result, double Baseline)>();
        for (var run = 1; run <= IngestRuns; run++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var writer = DeltaWriter.Create(DeltaTable.Open(LakeStorage.Open(Path.Combine(_run, $"import-{run}")), _engine), new DeltaWriteOptions { PartitionColumns = [] });
            // As the command does it: the scan of every file and the whole-input types, then the write.
            DeltaCommitResult result;
            using (var source = ImportSource.Open(_engine, files, new ImportOptions(), null, writer.Table.Location, cancellationToken))
                result = await writer.AppendAsync(source.Sql!, null, cancellationToken).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            process.Refresh();
            var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
            if (result.Metric("numOutputRows") != rows)
                throw new LakehouseException(LakehouseErrorReason.Engine, $"import wrote {result.Metric("numOutputRows")} rows, not {rows}.");
            var baseline = Time(() =>
            {
                using var lease = _engine.Lease();
                lease.Connection.Execute($"COPY (SELECT * FROM read_json({SqlText.LiteralList(files)}, format = 'newline_delimited')) TO {SqlText.Literal(Path.Combine(_run, $"import-read_json-{run}.parquet"))} (FORMAT parquet, COMPRESSION zstd)", cancellationToken);
            });
            Progress($"import: run {run} of {IngestRuns}: {rows} rows in {seconds:0.00} s ({rows / seconds:N0}/s), {cpuSeconds:0.00} CPU s; DuckDB read_json → parquet {baseline:0.00} s");
            runs.Add((seconds, cpuSeconds, result, baseline));
        }
        var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
        var baselineMedian = Median([.. runs.Select(r => r.Baseline)]);
        var rate = rows / median.Seconds;
        return new ImportResult(rows, files.Count, files.Sum(f => new FileInfo(f).Length), reused,
            Round(median.Seconds, 3), Round(rate, 0), median.Result.Metric("numFiles"), median.Result.Metric("numOutputBytes"), median.Result.Version,
            "rows_per_second >= 1000000", rate >= 1_000_000)
        {
            CpuSeconds = Round(median.CpuSeconds, 3),
            BytesPerRow = Round((double)median.Result.Metric("numOutputBytes") / rows, 2),
            RunSeconds = [.. runs.Select(r => Round(r.Seconds, 3))],
            ReadJsonSeconds = Round(baselineMedian, 3),
            ReadJsonRunSeconds = [.. runs.Select(r => Round(r.Baseline, 3))],
            ReadJsonRatio = Round(baselineMedian / median.Seconds, 2),
        };
    }

    // ---- files_to_bronze ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// NDJSON files of ~200-byte web-log lines landed in a fresh bronze table by <c>lakehouse bronze ingest --from &lt;folder&gt;</c>'s
    /// ingestor (lines kept raw, never parsed); beside it DuckDB's own read_json → Parquet of the same files, the baseline a JSON
    /// parse costs. Wall and process CPU seconds are both reported: on a shared machine the CPU time tells more.
    /// </summary>
    private async Task<FilesToBronzeResult> FilesToBronzeAsync(CancellationToken cancellationToken)
    {
        var events = _size.BronzeEvents;
        const int inputFiles = 4;
        var (folder, reused) = await InputAsync($"landing-weblogs-{events}", $"{events} ~200-byte web-log lines (seed {Seed}) as {inputFiles} NDJSON files",
            target =>
            {
                Directory.CreateDirectory(target);
                using var lease = _engine.Lease();
                var perFile = (events + inputFiles - 1) / inputFiles;
                for (long first = 0, part = 0; first < events; first += perFile, part++)
                {
                    var path = Path.Combine(target, string.Create(CultureInfo.InvariantCulture, $"weblogs-{part:D3}.ndjson"));
                    var sample = WebLogSample.Sql(events, Seed, SampleStart, first: first, count: Math.Min(perFile, events - first));
                    lease.Connection.Execute($"COPY (SELECT event_id, \"timestamp\", page_url, tti_ms, ttar_ms, status, session_id, country FROM ({sample})) TO {SqlText.Literal(path)} (FORMAT json)", cancellationToken);
                    File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
                }
                return Task.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
        var files = Directory.GetFiles(folder, "*.ndjson").Order(StringComparer.Ordinal).ToList();
        var inputBytes = files.Sum(f => new FileInfo(f).Length);

        // Each run lands the files in a fresh table; the median run is the result (the first also pays for reading the inputs
        // from disk when the page cache no longer holds them, and for the process's first compilation of the path).
        using var process = Process.GetCurrentProcess();
        var runs = new List<(double Seconds, double CpuSeconds, long Commits, Lakehouse.Bronze.BronzeTable Table)>();
        for (var run = 1; run <= IngestRuns; run++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var runTable = Lakehouse.Bronze.BronzeTable.Open(LakeStorage.Open(Path.Combine(_run, $"bronze-{run}")), _engine);
            var ingestor = new Lakehouse.Bronze.Landing.LandingIngestor(runTable, LakeStorage.Open(folder), new Lakehouse.Bronze.Landing.LandingIngestOptions { SettleTime = TimeSpan.Zero });
            var result = await ingestor.RunAsync(cancellationToken).ConfigureAwait(false);
            var runSeconds = clock.Elapsed.TotalSeconds;
            process.Refresh();
            var runCpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
            if (result.Events != events || result.FilesIngested != files.Count)
                throw new LakehouseException(LakehouseErrorReason.Engine, $"files_to_bronze landed {result.Events} events of {result.FilesIngested} files, not {events} of {files.Count}.");
            Progress($"files_to_bronze: run {run} of {IngestRuns}: {events} events in {runSeconds:0.00} s ({events / runSeconds:N0}/s), {runCpuSeconds:0.00} CPU s, {result.Commits} commits");
            runs.Add((runSeconds, runCpuSeconds, result.Commits, runTable));
        }
        var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
        var (seconds, cpuSeconds, table) = (median.Seconds, median.CpuSeconds, median.Table);

        process.Refresh();
        var baselineCpu = process.TotalProcessorTime;
        var baseline = Time(() =>
        {
            using var lease = _engine.Lease();
            lease.Connection.Execute($"COPY (SELECT * FROM read_json({SqlText.LiteralList(files)}, format = 'newline_delimited')) TO {SqlText.Literal(Path.Combine(_run, "read_json.parquet"))} (FORMAT parquet, COMPRESSION zstd)", cancellationToken);
        });
        process.Refresh();
        var baselineCpuSeconds = (process.TotalProcessorTime - baselineCpu).TotalSeconds;
        Progress($"files_to_bronze: DuckDB read_json → parquet baseline {baseline:0.00} s ({events / baseline:N0}/s), {baselineCpuSeconds:0.00} CPU s");
        var rate = events / seconds;
        var written = (await table.Table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Files.Sum(f => f.Size);
        return new FilesToBronzeResult(events, files.Count, inputBytes, Round((double)inputBytes / events, 1), reused, Round(seconds, 3), Round(rate, 0), Round(cpuSeconds, 3),
            Round(cpuSeconds * 1_000_000 / events, 3), median.Commits, Round(baseline, 3), Round(events / baseline, 0), Round(baselineCpuSeconds, 3), "events_per_second >= 1000000", rate >= 1_000_000)
        {
            WrittenBytes = written,
            WrittenBytesPerEvent = Round((double)written / events, 2),
            CompressionLevel = Lakehouse.Bronze.BronzeTable.DefaultCompressionLevel,
            RunSeconds = [.. runs.Select(r => Round(r.Seconds, 3))],
        };
    }

    // ---- append_latency -----------------------------------------------------------------------------------------------------

    private async Task<AppendLatencyResult> AppendLatencyAsync(ILakeStorage? azure, CancellationToken cancellationToken)
    {
        var local = await AppendSeriesAsync(LakeStorage.Open(Path.Combine(_run, "append")), cancellationToken).ConfigureAwait(false);
        AppendSeries? remote = null;
        ConcurrentSeries? concurrent = null;
        if (azure is not null)
        {
            var root = azure.Scope(Path.GetFileName(_run));
            try
            {
                remote = await AppendSeriesAsync(root.Scope("append"), cancellationToken).ConfigureAwait(false);
                concurrent = await ConcurrentAppendsAsync(root.Scope("concurrent"), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await DeleteAllAsync(root).ConfigureAwait(false);
            }
        }
        return new AppendLatencyResult(local, remote, concurrent, "local.median_ms < 20", local.MedianMs < 20);
    }

    /// <summary>One writer: a first append creates the table (not timed), then <see cref="BenchSize.Appends"/> appends of 10 rows each.</summary>
    private async Task<AppendSeries> AppendSeriesAsync(ILakeStorage storage, CancellationToken cancellationToken)
    {
        var appends = _size.Appends;
        var writer = DeltaWriter.Create(DeltaTable.Open(storage, _engine));
        var version = (await writer.AppendAsync(Rows(appends + 1, 0), cancellationToken: cancellationToken).ConfigureAwait(false)).Version;
        var times = new List<double>();
        for (var i = 1; i <= appends; i++)
        {
            var clock = Stopwatch.StartNew();
            version = (await writer.AppendAsync(Rows(appends + 1, i), cancellationToken: cancellationToken).ConfigureAwait(false)).Version;
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        Progress($"append_latency: {appends} appends to {storage.Location}: median {Median(times):0.0} ms, p95 {P95(times):0.0} ms");
        return new AppendSeries(storage.Location, appends, RowsPerCommit, Round(Median(times), 2), Round(P95(times), 2), Round(times.Max(), 2), version);
    }

    /// <summary>Writers with their own <see cref="DeltaTable"/> objects appending to one table at once, each append committed exactly once.</summary>
    private async Task<ConcurrentSeries> ConcurrentAppendsAsync(ILakeStorage storage, CancellationToken cancellationToken)
    {
        const int total = ConcurrentWriters * AppendsPerConcurrentWriter;
        await DeltaWriter.Create(DeltaTable.Open(storage, _engine)).AppendAsync(Rows(total + 1, 0), cancellationToken: cancellationToken).ConfigureAwait(false);
        var commits = new ConcurrentBag<(double Milliseconds, int Attempts, bool Committed)>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, ConcurrentWriters).Select(w => Task.Run(async () =>
        {
            var writer = DeltaWriter.Create(DeltaTable.Open(storage, _engine));
            for (var i = 0; i < AppendsPerConcurrentWriter; i++)
            {
                var one = Stopwatch.StartNew();
                var result = await writer.AppendAsync(Rows(total + 1, 1 + (w * AppendsPerConcurrentWriter) + i), cancellationToken: cancellationToken).ConfigureAwait(false);
                commits.Add((one.Elapsed.TotalMilliseconds, result.Attempts, result.Committed));
            }
        }, cancellationToken))).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var final = await DeltaTable.Open(storage, _engine).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var times = commits.Select(c => c.Milliseconds).ToList();
        var committed = commits.Count(c => c.Committed);
        Progress($"append_latency: {ConcurrentWriters} writers x {AppendsPerConcurrentWriter} appends to {storage.Location}: {committed} commits in {seconds:0.0} s, version {final.Version}");
        return new ConcurrentSeries(storage.Location, ConcurrentWriters, AppendsPerConcurrentWriter, committed, final.Version, Round(seconds, 2), Round(committed / seconds, 1),
            Round(Median(times), 2), Round(P95(times), 2), Round(times.Max(), 2), commits.Count(c => c.Attempts > 1), commits.Max(c => c.Attempts));
    }

    /// <summary>Deletes the run's folder in Azure storage (also after a failure or Ctrl-C, so it is not cancellable); a failure is reported, not thrown.</summary>
    private async Task DeleteAllAsync(ILakeStorage storage)
    {
        try
        {
            var paths = new List<string>();
            await foreach (var f in storage.ListAsync("").ConfigureAwait(false)) paths.Add(f.Path);
            await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (p, ct) => await storage.DeleteAsync(p, ct).ConfigureAwait(false)).ConfigureAwait(false);
            Progress($"append_latency: deleted {paths.Count} files under {storage.Location}");
        }
        catch (LakehouseException e)
        {
            Progress($"could not delete the run folder {storage.Location}: {e.Message}");
        }
    }

    // ---- plumbing -----------------------------------------------------------------------------------------------------------

    /// <summary>Rows <c>10·n .. 10·n+9</c> of a web-log sample of <c>10·slices</c> rows: the source of one small append.</summary>
    private static string Rows(long slices, long n) =>
        WebLogSample.Sql(slices * RowsPerCommit, Seed, SampleStart, first: n * RowsPerCommit, count: RowsPerCommit);

    /// <summary>
    /// A generated input folder under the work folder: reused when a marker file beside it says it was completed with the same
    /// description, else (re)built by <paramref name="build"/>. Returns the folder and whether it was reused.
    /// </summary>
    private async Task<(string Path, bool Reused)> InputAsync(string name, string description, Func<string, Task> build, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_work, name);
        var marker = path + ".complete";
        description = InputsVersion + ": " + description;
        if (Directory.Exists(path) && File.Exists(marker) && await File.ReadAllTextAsync(marker, cancellationToken).ConfigureAwait(false) == description)
        {
            Progress($"{name}: reusing {path}");
            return (path, true);
        }
        File.Delete(marker);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        Progress($"{name}: building {description}");
        await build(path).ConfigureAwait(false);
        await File.WriteAllTextAsync(marker, description, cancellationToken).ConfigureAwait(false);
        return (path, false);
    }

    /// <summary>Deletes run folders beside <paramref name="run"/> left by bench processes that are gone (killed before they could clean up).</summary>
    private static void RemoveAbandonedRuns(string run)
    {
        var runs = Path.GetDirectoryName(run)!;
        if (!Directory.Exists(runs)) return;
        foreach (var folder in Directory.GetDirectories(runs))
        {
            if (!int.TryParse(Path.GetFileName(folder).Split('-')[0], CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                using var owner = Process.GetProcessById(pid);
                continue; // Still running (or the id was reused): leave it.
            }
            catch (ArgumentException)
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private void Progress(string text) =>
        _progress(string.Create(CultureInfo.InvariantCulture, $"bench [{_clock.Elapsed.TotalSeconds,6:0.0} s] {text}"));

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action().ConfigureAwait(false);
        return clock.Elapsed.TotalSeconds;
    }

    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>The 95th percentile by nearest rank.</summary>
    private static double P95(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Max(0, (int)Math.Ceiling(0.95 * sorted.Count) - 1)];
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
