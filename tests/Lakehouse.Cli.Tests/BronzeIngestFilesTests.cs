using System.Diagnostics;
using System.Text.Json;
using Lakehouse.CrashHarness;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse bronze ingest --from &lt;folder&gt;</c> as a user runs it: summaries, exit codes, crashes and --follow.</summary>
public sealed class BronzeIngestFilesTests : IDisposable
{
    private readonly TempDirectory _temp = new("ingest-files");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("landing");

    private void Write(string name, string content, bool settled = true)
    {
        var path = Path.Combine(Landing, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (settled) File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
    }

    private static string Lines(int file, int count) =>
        string.Concat(Enumerable.Range(1, count).Select(n => $"{{\"file\":{file},\"n\":{n},\"pad\":\"{new string('x', 40)}\"}}\n"));

    /// <summary>count(*) and count(DISTINCT (source, source_line)) of bronze.weblogs, through <c>lakehouse sql</c>.</summary>
    private async Task<(long Rows, long Distinct)> CountAsync()
    {
        var result = await CliRunner.RunAsync("sql", "--lake", Lake, "--format", "csv",
            "SELECT count(*) AS n, count(DISTINCT (source, source_line)) AS d FROM bronze.weblogs");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var values = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(',');
        return (long.Parse(values[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(values[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Ingest_FolderTwice_SummaryThenEverythingSkipped()
    {
        Write("a.ndjson", Lines(1, 3));
        Write("b/c.log", "one\ntwo\n");

        var first = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        var second = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--once", "--json");

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.StartsWith("bronze.weblogs: 2 files ingested (5 events, ", first.Stdout, StringComparison.Ordinal);
        Assert.Contains(" in 1 commits, 0 skipped as already ingested, ", first.Stdout, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.Stderr);
        using var json = JsonDocument.Parse(second.Stdout);
        var root = json.RootElement;
        Assert.Equal(("bronze.weblogs", 0L, 2L, 0L, 0L), (root.GetProperty("table").GetString(), root.GetProperty("filesIngested").GetInt64(),
            root.GetProperty("filesSkipped").GetInt64(), root.GetProperty("events").GetInt64(), root.GetProperty("commits").GetInt64()));
        Assert.Equal((5L, 5L), await CountAsync());
    }

    /// <summary>
    /// The landing folder reached through links (to the folder, to a parent, relative and chained): the files it holds are the same
    /// files, skipped. Before, each spelling through a link was a new location, its files landed again (access logs twice in silver).
    /// </summary>
    [Fact]
    public async Task Ingest_SameFolderThroughSymbolicLinks_FilesSkippedAsAlreadyIngested()
    {
        Write("logs/a.ndjson", Lines(1, 3));
        var first = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Path.Combine(Landing, "logs"));
        Assert.True(first.ExitCode == 0, first.Stderr);
        File.CreateSymbolicLink(_temp.Combine("to-logs"), Path.Combine(Landing, "logs"));
        File.CreateSymbolicLink(_temp.Combine("to-landing"), "landing");
        File.CreateSymbolicLink(_temp.Combine("chain"), "to-landing");

        foreach (var via in new[] { _temp.Combine("to-logs"), Path.Combine(_temp.Combine("to-landing"), "logs"), Path.Combine(_temp.Combine("chain"), "logs") + "/",
                     Path.Combine(_temp.Combine("chain"), "logs", "a.ndjson") })
        {
            var again = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", via, "--json");
            Assert.True(again.ExitCode == 0, again.Stderr);
            using var json = JsonDocument.Parse(again.Stdout);
            Assert.Equal((0L, 1L), (json.RootElement.GetProperty("filesIngested").GetInt64(), json.RootElement.GetProperty("filesSkipped").GetInt64()));
        }
        Assert.Equal((3L, 3L), await CountAsync());
        Assert.Equal(CliPaths.RealPath(Path.Combine(Landing, "logs", "a.ndjson")), CliPaths.RealPath(Path.Combine(_temp.Combine("chain"), "logs", "a.ndjson")));
        Assert.DoesNotContain("chain", CliPaths.RealPath(_temp.Combine("chain")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_UnknownExtension_OthersIngestedExitOneNamingTheFile()
    {
        Write("good.ndjson", Lines(1, 2));
        Write("mystery.dat", "?");

        var result = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        var forced = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Path.Combine(Landing, "mystery.dat"), "--format", "text");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("1 files ingested (2 events", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 landing file(s) were not ingested (the others were):", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(Landing, "mystery.dat") + ": its extension is not one of the landing formats", result.Stderr, StringComparison.Ordinal);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal((3L, 3L), await CountAsync());
    }

    /// <summary>
    /// A FIFO in the landing folder is left alone: before, the ingest opened it to compute its identity and blocked until a writer
    /// came, beyond SIGTERM (`timeout -s KILL` ends such a run with 137). Named on its own (or /dev/zero), it is refused as not a
    /// regular file rather than read forever.
    /// </summary>
    [Fact]
    public async Task Ingest_FifoInTheLandingFolder_RegularFilesIngestedFifoRefusedByName()
    {
        Write("good.ndjson", Lines(1, 2));
        var fifo = Path.Combine(Landing, "pipe.ndjson");
        var (made, output) = await LocalServers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(30));
        Assert.True(made == 0, output);
        var ingest = $"timeout -s KILL 120 $LAKEHOUSE bronze ingest --lake '{Lake}' --dataset weblogs --settle-ms 0";
        var folder = await CliRunner.ShellAsync($"{ingest} --from '{Landing}'");
        Assert.True(folder.ExitCode == 0, folder.Stderr);
        Assert.Contains("1 files ingested (2 events", folder.Stdout, StringComparison.Ordinal);
        Assert.Equal((2L, 2L), await CountAsync());
        var named = await CliRunner.ShellAsync($"{ingest} --from '{fifo}'");
        Assert.Equal((1, $"error: The landing file 'pipe.ndjson' in {Landing} is not a regular file (a FIFO, device or socket); only regular files are ingested.\n"),
            (named.ExitCode, named.Stderr));
        var zero = await CliRunner.ShellAsync($"{ingest} --from /dev/zero --format ndjson");
        Assert.Equal((1, "error: The landing file 'zero' in /dev is not a regular file (a FIFO, device or socket); only regular files are ingested.\n"), (zero.ExitCode, zero.Stderr));
    }

    [Fact]
    public async Task Ingest_StreamOnlyOptionWithFiles_UsageError()
    {
        Write("a.ndjson", Lines(1, 1));
        var result = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--group", "g");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--group, --max-batch-ms and --on-data-loss are for streams (kafka://, eventhubs://), not for files", result.Stderr, StringComparison.Ordinal);
        var dataLoss = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--on-data-loss", "skip");
        Assert.Equal(2, dataLoss.ExitCode);
        Assert.Contains("--on-data-loss are for streams", dataLoss.Stderr, StringComparison.Ordinal);
        var wrong = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", "kafka://127.0.0.1:1/t", "--on-data-loss", "ignore");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("--on-data-loss must be", wrong.Stderr, StringComparison.Ordinal);
        Assert.Contains("'ignore'", wrong.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Lake, "bronze", "weblogs")));
        var missing = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", _temp.Combine("nowhere"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// An access log that grows, then is truncated and written anew under its name, with a malformed line in each version. Access logs
    /// are identified by their bronze position, and the quarantine is keyed by it: before, the rewritten lines took the old version's
    /// positions and silver dropped them as duplicates (the request to /c and the second malformed line vanished, exit 0).
    /// </summary>
    [Fact]
    public async Task IngestThenSilver_AccessLogGrownThenRewritten_EveryRequestAndMalformedLineKept()
    {
        static string Request(string path, int second) => $"1.2.3.4 - - [10/Oct/2024:13:55:{second:00} +0000] \"GET {path} HTTP/1.1\" 200 1\n";
        async Task IngestAsync(string content)
        {
            Write("access.log", content);
            var ingested = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "accesslogs", "--from", Landing);
            Assert.True(ingested.ExitCode == 0, ingested.Stderr);
        }
        async Task SilverAsync()
        {
            var run = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "accesslogs");
            Assert.True(run.ExitCode == 0, run.Stderr);
        }

        await IngestAsync(Request("/a", 1) + "garbage one\n");
        await IngestAsync(Request("/a", 1) + "garbage one\n" + Request("/b", 2)); // grown: the first two lines again, at their positions
        await SilverAsync();
        await IngestAsync(Request("/c", 3) + "garbage two\n"); // rewritten: other lines at the same offsets
        await SilverAsync();

        var rows = await CliRunner.RunAsync("sql", "--lake", Lake, "--format", "csv",
            "SELECT 'silver', path, regexp_replace(bronze_position, '^.*access[.]log', '') FROM silver.accesslogs " +
            "UNION ALL SELECT 'quarantine', payload_text, regexp_replace(bronze_position, '^.*access[.]log', '') FROM silver.accesslogs_quarantine ORDER BY 1, 2");
        Assert.True(rows.ExitCode == 0, rows.Stderr);
        Assert.Equal(
            ["quarantine,garbage one,||65|2", "quarantine,garbage two,|v2|65|2", "silver,/a,||0|1", "silver,/b,||77|3", "silver,/c,|v2|0|1"],
            rows.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1));
    }

    /// <summary>
    /// An ingest of 30 files (a commit each) is killed with SIGKILL three times at different points (between commits, or while
    /// writing data files); a last run completes it. Bronze then holds every line exactly once.
    /// </summary>
    [Fact]
    public async Task Ingest_KilledRepeatedlyThenRerun_EveryLineExactlyOnce()
    {
        const int files = 30, perFile = 20_000;
        for (var f = 0; f < files; f++) Write($"part-{f:D3}.ndjson", Lines(f, perFile));
        var log = Path.Combine(Lake, "bronze", "weblogs", "_delta_log");
        string[] args = ["bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--max-batch-events", perFile.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var kills = 0;
        foreach (var commitsBeforeKill in new[] { 2, 5, 9 })
        {
            using var process = LakehouseChild.Start(args);
            var clock = Stopwatch.StartNew();
            while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                if (Directory.Exists(log) && Directory.GetFiles(log, "*.json").Length >= commitsBeforeKill)
                {
                    if (process.Kill()) kills++;
                    break;
                }
                await Task.Delay(2);
            }
            await process.WaitAsync();
        }
        Assert.True(kills >= 2, $"the ingest finished before it could be killed ({kills} kills)");

        var last = await CliRunner.RunAsync(args);

        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.Equal(((long)files * perFile, (long)files * perFile), await CountAsync());
        var again = await CliRunner.RunAsync([.. args, "--json"]);
        using var json = JsonDocument.Parse(again.Stdout);
        Assert.Equal((0L, files), (json.RootElement.GetProperty("events").GetInt64(), json.RootElement.GetProperty("filesSkipped").GetInt32()));
    }

    [Fact]
    public async Task Ingest_Follow_TakesFilesLandedLaterUntilInterrupted()
    {
        Write("first.ndjson", Lines(1, 10));
        var log = Path.Combine(Lake, "bronze", "weblogs", "_delta_log");
        using var process = CliRunner.Start(["bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--follow", "--poll-ms", "100", "--settle-ms", "200"]);

        Assert.True(await process.WaitUntilAsync(() => Directory.Exists(log) && Directory.GetFiles(log, "*.json").Length >= 1), process.Stderr);
        Write("later/second.jsonl", Lines(2, 5), settled: false); // just written: taken once 200 ms have passed without a change
        Assert.True(await process.WaitUntilAsync(() => Directory.GetFiles(log, "*.json").Length >= 2), process.Stderr);
        await process.SignalAsync("INT");
        var result = await process.WaitAsync();

        Assert.Equal(130, result.ExitCode);
        Assert.Equal((15L, 15L), await CountAsync());
    }
}
