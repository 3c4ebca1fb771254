using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse bench --size small</c> is the smoke run of the benchmark suite. It checks the report's values (cases, counts,
/// versions, that timings were taken), never its speed: targets are for the full run on a quiet machine.
/// </summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-bench");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Bench_SmallTwice_ReportsEveryCaseWithTheSizesCountsAndReusesTheInputs()
    {
        var work = _temp.Combine("work");
        var output = _temp.Combine("report.json");
        var first = await CliRunner.RunAsync("bench", "--size", "small", "--work", work, "--out", output);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(first.Stdout, await File.ReadAllTextAsync(output));
        Assert.Contains("snapshot_load: version 299", first.Stderr, StringComparison.Ordinal);

        using (var doc = JsonDocument.Parse(first.Stdout))
        {
            var report = doc.RootElement;
            Assert.Equal("small", report.GetProperty("size").GetString());
            Assert.Equal(Environment.ProcessorCount, report.GetProperty("machine").GetProperty("cores").GetInt32());
            Assert.StartsWith("v1.", report.GetProperty("machine").GetProperty("duckdb").GetString(), StringComparison.Ordinal);
            Assert.True(DateTimeOffset.TryParse(report.GetProperty("timestamp").GetString(), out _));
            Assert.True(report.GetProperty("peak_working_set_bytes").GetInt64() > 0);
            var cases = report.GetProperty("cases");
            Assert.Equal(["append_latency", "bronze_to_silver", "files_to_bronze", "gold_day", "gold_incremental", "http_ingest", "import", "read_csv", "silver_incremental", "snapshot_load"], cases.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));

            var snapshot = cases.GetProperty("snapshot_load");
            Assert.Equal((300, 299L, 290L, 300), (snapshot.GetProperty("commits").GetInt32(), snapshot.GetProperty("version").GetInt64(),
                snapshot.GetProperty("checkpoint_version").GetInt64(), snapshot.GetProperty("files").GetInt32()));
            Assert.False(snapshot.GetProperty("table_reused").GetBoolean());
            Assert.True(snapshot.GetProperty("build_seconds").GetDouble() > 0);
            Positive(snapshot, "cold_ms", "warm_median_ms", "warm_p95_ms");
            Assert.Equal(20, snapshot.GetProperty("warm_runs").GetInt32());
            HasTarget(snapshot);

            var read = cases.GetProperty("read_csv");
            Assert.Equal(100_000, read.GetProperty("rows").GetInt64());
            foreach (var way in new[] { "cli", "in_process", "duckdb_baseline", "duckdb_any_order" })
            {
                Positive(read.GetProperty(way), "seconds", "rows_per_second");
                Assert.Equal(3, read.GetProperty(way).GetProperty("run_seconds").GetArrayLength());
            }
            Positive(read.GetProperty("cli"), "ratio");
            Positive(read.GetProperty("in_process"), "ratio");
            Positive(read, "cli_ratio_any_order");
            HasTarget(read);

            var import = cases.GetProperty("import");
            Assert.Equal((100_000L, 4, 0L), (import.GetProperty("rows").GetInt64(), import.GetProperty("input_files").GetInt32(), import.GetProperty("version").GetInt64()));
            Positive(import, "seconds", "rows_per_second", "files", "bytes", "input_bytes", "read_json_seconds", "read_json_ratio");
            Assert.Equal(3, import.GetProperty("run_seconds").GetArrayLength());
            Assert.Equal(3, import.GetProperty("read_json_run_seconds").GetArrayLength());
            Assert.Contains(import.GetProperty("seconds").GetDouble(), import.GetProperty("run_seconds").EnumerateArray().Select(r => r.GetDouble()));
            HasTarget(import);

            var append = cases.GetProperty("append_latency");
            var local = append.GetProperty("local");
            Assert.Equal((20, 10, 20L), (local.GetProperty("appends").GetInt32(), local.GetProperty("rows_per_append").GetInt32(), local.GetProperty("final_version").GetInt64()));
            Positive(local, "median_ms", "p95_ms");
            Assert.True(local.GetProperty("p95_ms").GetDouble() >= local.GetProperty("median_ms").GetDouble());
            Assert.False(append.TryGetProperty("azure", out _));
            HasTarget(append);

            FilesToBronze(cases.GetProperty("files_to_bronze"));
            HttpIngest(cases.GetProperty("http_ingest"));

            // bronze → silver: 100,000 events + 2 % re-sent + 0.5 % truncated, and where each went.
            var silver = cases.GetProperty("bronze_to_silver");
            Assert.Equal((102_500L, 100_000L, 500L, 2_000L), (silver.GetProperty("events").GetInt64(), silver.GetProperty("silver_rows").GetInt64(),
                silver.GetProperty("quarantined").GetInt64(), silver.GetProperty("duplicates").GetInt64()));
            Positive(silver, "seconds", "events_per_second", "cpu_seconds");
            HasTarget(silver);
            var incremental = cases.GetProperty("silver_incremental");
            Assert.Equal((200_000L, 1000), (incremental.GetProperty("silver_rows").GetInt64(), incremental.GetProperty("events").GetInt32()));
            Assert.Equal(3, incremental.GetProperty("run_seconds").GetArrayLength());
            Positive(incremental, "seconds");
            HasTarget(incremental);

            // Gold: one day of 200,000 events, then 1,000 more in that day; every web-log gold table is timed.
            var goldDay = cases.GetProperty("gold_day");
            Assert.Equal(200_000L, goldDay.GetProperty("events").GetInt64());
            Positive(goldDay, "seconds");
            Assert.Contains(goldDay.GetProperty("tables").EnumerateArray(), t => t.GetProperty("table").GetString() == "page_performance_daily" && t.GetProperty("rows").GetInt64() > 0);
            HasTarget(goldDay);
            var goldIncremental = cases.GetProperty("gold_incremental");
            Assert.Equal((200_000L, 1000), (goldIncremental.GetProperty("day_events").GetInt64(), goldIncremental.GetProperty("events").GetInt32()));
            Assert.Equal(3, goldIncremental.GetProperty("run_seconds").GetArrayLength());
            HasTarget(goldIncremental);

            // The same two in stream order: batches follow event time, one event in a hundred late; the day in the target's figure
            // arrived shuffled, so nearly every event was late. The stream's new events are its newest seconds: none late.
            Assert.True(goldDay.GetProperty("late_events").GetInt64() > 190_000, goldDay.ToString());
            var streamDay = goldDay.GetProperty("stream_order");
            Positive(streamDay, "seconds");
            Assert.InRange(streamDay.GetProperty("late_events").GetInt64(), 1_000, 3_000);
            Assert.Contains(streamDay.GetProperty("tables").EnumerateArray(), t => t.GetProperty("table").GetString() == "page_metrics_5m" && t.GetProperty("rows").GetInt64() > 0);
            var streamIncremental = goldIncremental.GetProperty("stream_order");
            Assert.Equal(3, streamIncremental.GetProperty("run_seconds").GetArrayLength());
            Assert.Equal(0, streamIncremental.GetProperty("late_events").GetInt64());
        }

        // The run's own tables are gone; the generated inputs stay for the next run, which reuses them.
        Assert.Empty(Directory.GetDirectories(Path.Combine(work, "runs")));
        Assert.Equal(["gold-lake-200000", "gold-lake-stream-200000", "gold-silver-200000", "gold-silver-stream-200000", "landing-weblogs-100000", "ndjson-100000", "silver-bronze-100000", "silver-lake-200000", "snapshot-300", "weblogs-100000"], Directory.GetDirectories(work).Select(Path.GetFileName).Where(n => n != "runs").Order(StringComparer.Ordinal));
        // The second run takes only the cases whose reuse it checks: the others' inputs are reused the same way, and running them
        // again doubled the test's time (it was the suite's slowest).
        var second = await CliRunner.RunAsync("bench", "--size", "small", "--work", work, "--case", "snapshot_load,read_csv,import");
        Assert.True(second.ExitCode == 0, second.Stderr);
        using var again = JsonDocument.Parse(second.Stdout);
        var cases2 = again.RootElement.GetProperty("cases");
        Assert.Equal(["import", "read_csv", "snapshot_load"], cases2.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.True(cases2.GetProperty("snapshot_load").GetProperty("table_reused").GetBoolean());
        Assert.True(cases2.GetProperty("snapshot_load").GetProperty("cold_first_in_process").GetBoolean());
        Assert.False(cases2.GetProperty("snapshot_load").TryGetProperty("build_seconds", out _));
        Assert.True(cases2.GetProperty("read_csv").GetProperty("table_reused").GetBoolean());
        Assert.True(cases2.GetProperty("import").GetProperty("inputs_reused").GetBoolean());
        Assert.Equal(299, cases2.GetProperty("snapshot_load").GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Bench_OneCase_OnlyThatCaseRunsAndReports()
    {
        var work = _temp.Combine("work");
        var result = await CliRunner.RunAsync("bench", "--size", "small", "--case", "files_to_bronze", "--work", work);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        var cases = doc.RootElement.GetProperty("cases");
        Assert.Equal(["files_to_bronze"], cases.EnumerateObject().Select(c => c.Name));
        FilesToBronze(cases.GetProperty("files_to_bronze"));
        Assert.Equal(["landing-weblogs-100000"], Directory.GetDirectories(work).Select(Path.GetFileName).Where(n => n != "runs"));
        var unknown = await CliRunner.RunAsync("bench", "--size", "small", "--case", "files_to_bronze,nope", "--work", work);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--case takes ", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_HttpIngestCase_OnlyItRunsWithEveryLoadLevel()
    {
        var work = _temp.Combine("work");
        var result = await CliRunner.RunAsync("bench", "--size", "small", "--case", "http_ingest", "--work", work);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        var cases = doc.RootElement.GetProperty("cases");
        Assert.Equal(["http_ingest"], cases.EnumerateObject().Select(c => c.Name));
        HttpIngest(cases.GetProperty("http_ingest"));
        Assert.Contains("http_ingest: 64 clients: ", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(Path.Combine(work, "runs")));
    }

    [Fact]
    public async Task Bench_BadOptions_UsageErrors()
    {
        var suite = await CliRunner.RunAsync("bench", "--size", "small", "--suite", "http", "--work", _temp.Combine("w"));
        Assert.Equal(2, suite.ExitCode);
        Assert.StartsWith("error: --suite must be cases, medallion or soak, not 'http'", suite.Stderr, StringComparison.Ordinal);
        var size = await CliRunner.RunAsync("bench", "--size", "medium", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --size must be small or full, not 'medium'\n"), (size.ExitCode, size.Stderr));
        var azure = await CliRunner.RunAsync("bench", "--size", "small", "--azure", "/not/a/uri", "--work", _temp.Combine("w"));
        Assert.Equal(2, azure.ExitCode);
        Assert.Contains("--azure must be an abfss://", azure.Stderr, StringComparison.Ordinal);
        var rates = await CliRunner.RunAsync("bench", "--suite", "medallion", "--stream-rates", "10000,fast", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --stream-rates takes events per second from 1 to 10000000, comma-separated (e.g. 10000,100000), not '10000,fast'\n"), (rates.ExitCode, rates.Stderr));
        var skip = await CliRunner.RunAsync("bench", "--size", "small", "--skip-stream", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --stream-seconds, --stream-rates and --skip-stream are for --suite medallion\n"), (skip.ExitCode, skip.Stderr));
        var both = await CliRunner.RunAsync("bench", "--suite", "medallion", "--skip-stream", "--stream-rates", "2000", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --stream-rates and --skip-stream cannot go together\n"), (both.ExitCode, both.Stderr));
        var minutes = await CliRunner.RunAsync("bench", "--suite", "medallion", "--minutes", "5", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --minutes, --rate and --sample-seconds are for --suite soak\n"), (minutes.ExitCode, minutes.Stderr));
        var soakEvents = await CliRunner.RunAsync("bench", "--suite", "soak", "--events", "5000", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --events and --scale-events are for --suite medallion; the soak takes --minutes, --rate and --sample-seconds\n"), (soakEvents.ExitCode, soakEvents.Stderr));
        var partitions = await CliRunner.RunAsync("bench", "--size", "small", "--partitions", "8", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --partitions is for the streaming part of --suite medallion and for --suite soak\n"), (partitions.ExitCode, partitions.Stderr));
        var noStream = await CliRunner.RunAsync("bench", "--suite", "medallion", "--skip-stream", "--partitions", "8", "--work", _temp.Combine("w"));
        Assert.Equal((2, "error: --partitions is for the streaming part of --suite medallion and for --suite soak\n"), (noStream.ExitCode, noStream.Stderr));
        var zero = await CliRunner.RunAsync("bench", "--suite", "soak", "--partitions", "0", "--work", _temp.Combine("w"));
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("--partitions", zero.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("w")));
    }

    [Fact]
    public async Task Bench_SoakOneMinute_SamplesEveryTableAndReconciles()
    {
        var work = _temp.Combine("soak");
        var run = await CliRunner.RunAsync("bench", "--suite", "soak", "--minutes", "1", "--rate", "1000", "--sample-seconds", "20", "--partitions", "6", "--work", work);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var doc = JsonDocument.Parse(run.Stdout);
        var report = doc.RootElement;
        Assert.Equal(("soak", 1000, 60_000L), (report.GetProperty("suite").GetString(), report.GetProperty("rate").GetInt32(), report.GetProperty("events").GetInt64()));
        Assert.Equal(6, report.GetProperty("partitions").GetInt32());
        Assert.Contains("(60,000 events, 6 partitions)", run.Stderr, StringComparison.Ordinal);
        StreamCounts(report.GetProperty("counts"), 60_000);
        Positive(report, "send_events_per_s", "peak_rss_bytes", "silver_p50_ms", "silver_p99_ms", "gold_p50_ms", "gold_p99_ms", "max_snapshot_load_ms");
        Assert.True(report.GetProperty("silver_p99_ms").GetDouble() >= report.GetProperty("silver_p50_ms").GetDouble());
        HasTarget(report);
        var samples = report.GetProperty("samples").EnumerateArray().ToList();
        // Samples at 20 and 40 s while the producer sends (the one at 60 s races its end), and the last one once every layer caught up.
        Assert.InRange(samples.Count, 3, 4);
        var last = samples[^1];
        Assert.Equal((60_000L, 60_000L), (last.GetProperty("broker_events").GetInt64(), last.GetProperty("bronze_events").GetInt64()));
        Assert.Equal((0L, 0L, 0L), (last.GetProperty("lag_events").GetInt64(), last.GetProperty("silver_lag_versions").GetInt64(), last.GetProperty("gold_lag_versions").GetInt64()));
        Assert.Equal(60_000L, samples.Sum(s => s.GetProperty("window_events").GetInt64()));
        Assert.Equal(0L, last.GetProperty("not_visible_in_silver").GetInt64());
        // 60,000 small events in 6 partitions stay far below the mock's cap: nothing deleted, nothing lost.
        Assert.All(samples, s => Assert.Equal((0L, 0L), (s.GetProperty("broker_deleted_events").GetInt64(), s.GetProperty("deleted_before_consumed").GetInt64())));
        foreach (var sample in samples)
        {
            Positive(sample, "minute", "rss_bytes");
            var tables = sample.GetProperty("tables").EnumerateArray().ToList();
            Assert.Contains(tables, t => t.GetProperty("table").GetString() == "bronze.weblogs");
            foreach (var table in tables)
            {
                Assert.Equal(table.GetProperty("files").GetInt32(), table.GetProperty("files_per_partition").EnumerateObject().Sum(p => p.Value.GetInt32()));
                Assert.Equal(table.GetProperty("partitions").GetInt32(), table.GetProperty("files_per_partition").EnumerateObject().Count());
                Assert.True(table.GetProperty("commit_files").GetInt32() >= 1 && table.GetProperty("commits_since_checkpoint").GetInt64() >= 0, table.ToString());
            }
        }
        Assert.Equal(["bronze.weblogs", "silver.weblogs", "silver.weblogs_quarantine", "silver._quality", "gold.page_performance_daily", "gold.page_metrics_1m",
            "gold.page_metrics_5m", "gold.page_sessions", "gold.alerts", "gold._runs"], last.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("table").GetString()));
        var trends = report.GetProperty("trends").EnumerateArray().ToList();
        Assert.Contains(trends, t => t.GetProperty("metric").GetString() == "rss_bytes");
        Assert.Contains(trends, t => t.GetProperty("metric").GetString() == "bronze.weblogs.snapshot_load_ms");
        Assert.Equal(trends.All(t => t.GetProperty("bounded").GetBoolean()), report.GetProperty("all_bounded").GetBoolean());
        Assert.Empty(Directory.GetDirectories(Path.Combine(work, "runs")));
    }

    /// <summary>A stream's counts: every event produced is in bronze once and went to silver, quarantine or the duplicates.</summary>
    private static void StreamCounts(JsonElement counts, long events)
    {
        Assert.Equal((events, events, events), (counts.GetProperty("produced").GetInt64(), counts.GetProperty("bronze").GetInt64(), counts.GetProperty("silver_in").GetInt64()));
        var (silver, quarantined, duplicates) = (counts.GetProperty("silver").GetInt64(), counts.GetProperty("quarantined").GetInt64(), counts.GetProperty("duplicates").GetInt64());
        Assert.Equal(events, silver + quarantined + duplicates);
        Assert.True(quarantined > 0 && duplicates > 0, counts.ToString());
        Assert.Equal((silver, silver), (counts.GetProperty("silver_table_rows").GetInt64(), counts.GetProperty("gold_events").GetInt64()));
    }

    [Fact]
    public async Task Bench_MedallionSmoke_CountsReconcileWithWhatTheSimulatorSaysItSent()
    {
        var work = _temp.Combine("medallion");
        var run = await CliRunner.RunAsync("bench", "--suite", "medallion", "--events", "200000", "--stream-seconds", "5", "--stream-rates", "2000", "--work", work);
        Assert.True(run.ExitCode == 0, run.Stderr);
        // The simulator's own account of the same sends, from a separate run of it.
        var produced = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", "200000", "--seed", "7", "--duplicates", "0.01", "--malformed", "0.005",
            "--file-events", "250000", "--to", _temp.Combine("landing"), "--json");
        Assert.True(produced.ExitCode == 0, produced.Stderr);
        using var sent = JsonDocument.Parse(produced.Stdout);
        var duplicates = sent.RootElement.GetProperty("duplicates").GetInt64();
        var malformed = sent.RootElement.GetProperty("malformed").GetInt64();
        Assert.True(duplicates > 1000 && malformed > 500, produced.Stdout);

        using var doc = JsonDocument.Parse(run.Stdout);
        var report = doc.RootElement;
        Assert.Equal("medallion", report.GetProperty("suite").GetString());
        var batch = report.GetProperty("batch");
        Assert.Equal((200_000L, 1), (batch.GetProperty("events").GetInt64(), batch.GetProperty("input_files").GetInt32()));
        var counts = batch.GetProperty("counts");
        Assert.Equal((200_000L, 200_000L, 200_000L), (counts.GetProperty("produced").GetInt64(), counts.GetProperty("bronze").GetInt64(), counts.GetProperty("silver_in").GetInt64()));
        Assert.Equal((duplicates, malformed), (counts.GetProperty("duplicates").GetInt64(), counts.GetProperty("quarantined").GetInt64()));
        var silver = counts.GetProperty("silver").GetInt64();
        Assert.Equal(200_000 - duplicates - malformed, silver);
        Assert.Equal((silver, silver), (counts.GetProperty("silver_table_rows").GetInt64(), counts.GetProperty("gold_events").GetInt64()));
        Assert.Equal(["bronze", "silver", "gold"], batch.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("layer").GetString()));
        foreach (var step in batch.GetProperty("steps").EnumerateArray()) Positive(step, "seconds", "peak_rss_bytes");
        Positive(batch, "seconds", "events_per_s", "peak_rss_bytes", "baseline_seconds", "baseline_events_per_s", "ratio");
        Assert.Equal(batch.GetProperty("steps").EnumerateArray().Max(s => s.GetProperty("peak_rss_bytes").GetInt64()), batch.GetProperty("peak_rss_bytes").GetInt64());
        // The report rounds each figure on its own: the ratio of the two rounded rates is within a thousandth of the reported one
        // (rounding both to two places could land on either side of a half).
        Assert.InRange(batch.GetProperty("events_per_s").GetDouble() / batch.GetProperty("baseline_events_per_s").GetDouble() - batch.GetProperty("ratio").GetDouble(),
            -0.001, 0.001);
        HasTarget(batch);

        var incremental = report.GetProperty("incremental");
        Assert.Equal((1000, 3, 3), (incremental.GetProperty("events").GetInt32(), incremental.GetProperty("rounds").GetInt32(), incremental.GetProperty("run_ms").GetArrayLength()));
        Positive(incremental, "refresh_ms", "bronze_ms", "silver_ms", "gold_ms");
        HasTarget(incremental);
        Assert.False(report.TryGetProperty("scale", out _)); // --events without --scale-events: no memory run

        // The stream: 10,000 events through Kafka and lakehouse stream; the simulator's duplicates and malformed events are what
        // silver dropped and quarantined.
        var stream = Assert.Single(report.GetProperty("stream").EnumerateArray());
        Assert.Equal((2000, 5, 10_000L), (stream.GetProperty("rate").GetInt32(), stream.GetProperty("seconds").GetInt32(), stream.GetProperty("events").GetInt64()));
        Assert.Equal(4, stream.GetProperty("partitions").GetInt32()); // the default at 2,000 events/s: the mock's 4
        var streamCounts = stream.GetProperty("counts");
        StreamCounts(streamCounts, 10_000);
        Assert.Equal((stream.GetProperty("sent_duplicates").GetInt64(), stream.GetProperty("sent_malformed").GetInt64()),
            (streamCounts.GetProperty("duplicates").GetInt64(), streamCounts.GetProperty("quarantined").GetInt64()));
        Positive(stream, "send_events_per_s", "bronze_p50_ms", "bronze_p99_ms", "silver_p50_ms", "silver_p99_ms", "gold_p50_ms", "gold_p99_ms", "sustained_events_per_s", "peak_rss_bytes");
        foreach (var (p50, p99) in new[] { ("bronze_p50_ms", "bronze_p99_ms"), ("silver_p50_ms", "silver_p99_ms"), ("gold_p50_ms", "gold_p99_ms") })
            Assert.True(stream.GetProperty(p99).GetDouble() >= stream.GetProperty(p50).GetDouble(), stream.ToString());
        // Visible in bronze before silver, in silver before gold (each event's times, so the medians too).
        Assert.True(stream.GetProperty("bronze_p50_ms").GetDouble() <= stream.GetProperty("silver_p50_ms").GetDouble() &&
            stream.GetProperty("silver_p50_ms").GetDouble() <= stream.GetProperty("gold_p50_ms").GetDouble(), stream.ToString());
        Assert.Equal("silver_p99_ms <= 500", stream.GetProperty("target").GetString());
        Assert.Empty(Directory.GetDirectories(Path.Combine(work, "runs")));

        var mixed = await CliRunner.RunAsync("bench", "--suite", "medallion", "--case", "gold_day", "--work", work);
        Assert.Equal((2, "error: --case, --size and --azure are for --suite cases; the medallion suite takes --events and --scale-events\n"), (mixed.ExitCode, mixed.Stderr));
    }

    private static void FilesToBronze(JsonElement bronze)
    {
        Assert.Equal((100_000L, 4), (bronze.GetProperty("events").GetInt64(), bronze.GetProperty("input_files").GetInt32()));
        Positive(bronze, "seconds", "events_per_second", "cpu_seconds", "cpu_seconds_per_million_events", "commits", "input_bytes", "bytes_per_event",
            "read_json_seconds", "read_json_events_per_second", "read_json_cpu_seconds");
        Assert.InRange(bronze.GetProperty("bytes_per_event").GetDouble(), 150, 250);
        // Three runs into fresh tables; the result is the median one.
        var runs = bronze.GetProperty("run_seconds").EnumerateArray().Select(r => r.GetDouble()).ToList();
        Assert.Equal(3, runs.Count);
        Assert.Equal(runs.Order().ElementAt(1), bronze.GetProperty("seconds").GetDouble());
        HasTarget(bronze);
    }

    private static void HttpIngest(JsonElement http)
    {
        Assert.Equal((1000, 16), (http.GetProperty("events_per_request").GetInt32(), http.GetProperty("distinct_bodies").GetInt32()));
        Positive(http, "body_bytes", "total_seconds");
        var runs = http.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal([1, 4, 16, 64], runs.Select(r => r.GetProperty("clients").GetInt32()));
        foreach (var run in runs)
        {
            Positive(run, "requests", "events", "seconds", "events_per_second", "p50_ms", "p99_ms", "commits", "bronze_rows");
            Assert.Equal(run.GetProperty("requests").GetInt32() * 1000L, run.GetProperty("events").GetInt64());
            Assert.True(run.GetProperty("p99_ms").GetDouble() >= run.GetProperty("p50_ms").GetDouble());
            // Every event answered 202 is in bronze, plus the untimed first request that created the table.
            Assert.Equal(run.GetProperty("events").GetInt64() + 1000, run.GetProperty("bronze_rows").GetInt64());
        }
    }

    private static void Positive(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            var value = element.GetProperty(name);
            Assert.True(value.ValueKind == JsonValueKind.Number && value.GetDouble() > 0, $"{name} is {value}");
        }
    }

    private static void HasTarget(JsonElement element)
    {
        Assert.False(string.IsNullOrEmpty(element.GetProperty("target").GetString()));
        Assert.True(element.GetProperty("met").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }
}
