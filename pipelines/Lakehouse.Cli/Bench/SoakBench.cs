using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Cli.Streaming;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Bench;

/// <summary>The settings of one <c>lakehouse bench --suite soak</c> run.</summary>
/// <param name="Minutes">How long the producer sends.</param>
/// <param name="Rate">Events per second it sends.</param>
/// <param name="SampleSeconds">Seconds between two samples (default 60).</param>
/// <param name="Partitions">Partitions of the topic (null: <see cref="StreamRig.DefaultPartitions"/> of the rate).</param>
internal sealed record SoakSettings(double Minutes, int Rate, int SampleSeconds = 60, int? Partitions = null);

/// <summary>
/// The soak: simulated web-log events at a steady rate through Kafka (librdkafka's mock cluster, started here) into
/// <c>lakehouse stream</c> (a child process) for many minutes, sampled every <see cref="SoakSettings.SampleSeconds"/>: the stream
/// process's RSS; per table its live data files per partition, its Delta log (commit files, commits since the last checkpoint) and
/// the time a fresh reader takes to load its latest snapshot; produce → visible latency of the events sent since the sample before
/// (p50/p99 to silver and gold, from the lake: <see cref="StreamLatency"/>); the lag (events on the broker the stream has not read,
/// versions silver and gold are behind). At the end every series is judged: bounded when its maximum over the second half of the
/// run is at most 1.5 times (plus a small allowance) its maximum over the first half and it did not rise at every sample of the
/// second half. The counts must reconcile or the run fails.
/// </summary>
internal sealed class SoakBench(DuckEngine engine, string run, Action<string> progress)
{
    /// <summary>Events sent in the last seconds before a sample are measured at the next one (most are not visible yet).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    /// <summary>How often the mock's retention is checked against bronze's positions while the producer sends.</summary>
    private static readonly TimeSpan RetentionCheckEvery = TimeSpan.FromSeconds(5);

    internal async Task<SoakReport> RunAsync(SoakSettings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var total = Stopwatch.StartNew();
        using var kafka = KafkaMockCluster.Start();
        var events = (long)Math.Round(settings.Rate * settings.Minutes * 60);
        using var rig = await StreamRig.StartAsync(kafka, engine, Path.Combine(run, "soak-lake"), "soak-" + Guid.NewGuid().ToString("N")[..8],
            settings.Partitions ?? StreamRig.DefaultPartitions(settings.Rate), MedallionStreamBench.MaxBatchMs, progress, cancellationToken).ConfigureAwait(false);
        progress(string.Create(CultureInfo.InvariantCulture,
            $"soak: {settings.Rate:N0} events/s for {settings.Minutes:0.##} min ({events:N0} events, {rig.Partitions} partitions), a sample every {settings.SampleSeconds} s"));
        var samples = new List<SoakSample>();
        var cache = new StreamCommitCache();
        var clock = Stopwatch.StartNew();
        var windowStart = DateTimeOffset.UtcNow;
        StreamProduced? sent = null;
        var stopped = false;
        TimeSpan? drain = null;
        MedallionCounts? counts = null;
        StreamLatencies? latency = null;
        string? failure = null;
        long peak = 0;
        try
        {
            using (var producer = rig.StartProducer(events, settings.Rate, seed: 11))
            {
                var next = TimeSpan.FromSeconds(settings.SampleSeconds);
                var checkedAt = TimeSpan.Zero;
                while (!producer.HasExited)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                    if (clock.Elapsed - checkedAt >= RetentionCheckEvery && samples.Count > 0)
                    {
                        // Between samples too: a run that lost events to the mock's retention stops at once, its samples kept.
                        await rig.ThrowIfDeletedBeforeConsumedAsync(cancellationToken).ConfigureAwait(false);
                        checkedAt = clock.Elapsed;
                    }
                    if (clock.Elapsed > TimeSpan.FromMinutes(settings.Minutes) + StreamRig.ProducerGrace && !producer.HasExited)
                    {
                        // The soak lasts its minutes: a producer that could not keep the rate stops, and the run measures what it sent.
                        await rig.StopProducerAsync(producer, cancellationToken).ConfigureAwait(false);
                        stopped = true;
                        break;
                    }
                    if (clock.Elapsed < next) continue;
                    next += TimeSpan.FromSeconds(settings.SampleSeconds);
                    var until = DateTimeOffset.UtcNow - Settle;
                    samples.Add(await SampleAsync(rig, clock.Elapsed, windowStart, until, cache, cancellationToken).ConfigureAwait(false));
                    windowStart = until;
                    if (rig.Stream.HasExited) break;
                    if (samples[^1].DeletedBeforeConsumed > 0) await rig.ThrowIfDeletedBeforeConsumedAsync(cancellationToken).ConfigureAwait(false);
                }
                sent = await StreamRig.ProducedAsync(producer, TimeSpan.FromMinutes(settings.Minutes * 10 + 2), cancellationToken, stopped).ConfigureAwait(false);
            }
            var (onBroker, _) = rig.Broker();
            if (stopped) sent = sent with { Events = onBroker };
            if (onBroker != sent.Events) throw new LakehouseException(LakehouseErrorReason.Engine, $"The producer sent {sent.Events} events, the broker holds {onBroker}.");
            drain = await rig.WaitCaughtUpAsync(sent.Events, TimeSpan.FromMinutes(Math.Max(2, settings.Minutes * 2)), cancellationToken).ConfigureAwait(false);
            samples.Add(await SampleAsync(rig, clock.Elapsed, windowStart, null, cache, cancellationToken).ConfigureAwait(false));
            peak = await rig.StopAsync(cancellationToken).ConfigureAwait(false);
            counts = await rig.CountsAsync(sent.Events, cancellationToken).ConfigureAwait(false);
            latency = await StreamLatency.MeasureAsync(rig.Storage, engine, StreamRig.Dataset, StreamRig.GoldTable, null, null, cache, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (samples.Count > 0)
        {
            // The samples so far are the soak's findings: the report keeps them and says why the run failed.
            failure = e.Message;
            peak = Math.Max(peak, rig.Stream.PeakRssBytes);
            progress("soak: failed: " + failure);
        }
        var trends = Trends(samples);
        var slowest = samples.SelectMany(s => s.Tables).Select(t => t.SnapshotLoadMs).DefaultIfEmpty().Max();
        var report = new SoakReport("soak", started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            new BenchMachine(Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, DuckEngine.LibraryVersion),
            settings.Rate, settings.Minutes, settings.SampleSeconds, sent?.Events ?? samples[^1].BrokerEvents, sent is null ? null : Round(sent.EventsPerSecond, 0),
            drain is { } d ? Round(d.TotalMilliseconds, 0) : null, peak, counts,
            Nullable(latency?.SilverP50Ms ?? double.NaN), Nullable(latency?.SilverP99Ms ?? double.NaN), Nullable(latency?.GoldP50Ms ?? double.NaN), Nullable(latency?.GoldP99Ms ?? double.NaN),
            Round(slowest, 1), "snapshot_load_ms < 100 for every table at every sample", slowest < 100, trends.All(t => t.Bounded), trends, samples,
            Round(total.Elapsed.TotalSeconds, 1), rig.Partitions, stopped)
        {
            Failure = failure,
        };
        progress(string.Create(CultureInfo.InvariantCulture,
            $"soak: {report.Events:N0} events sent at {report.SendEventsPerS:N0}/s, caught up {drain?.TotalSeconds:0.0} s after the last send; silver p50 {report.SilverP50Ms:N0} p99 {report.SilverP99Ms:N0} ms, gold p99 {report.GoldP99Ms:N0} ms; ") + string.Create(CultureInfo.InvariantCulture,
            $"peak RSS {peak / 1048576.0:N0} MiB; slowest snapshot load {slowest:0.0} ms; unbounded: {string.Join(", ", trends.Where(t => !t.Bounded).Select(t => t.Metric).DefaultIfEmpty("none"))}"));
        return report;
    }

    private async Task<SoakSample> SampleAsync(StreamRig rig, TimeSpan elapsed, DateTimeOffset from, DateTimeOffset? until, StreamCommitCache cache, CancellationToken cancellationToken)
    {
        var rss = rig.Stream.RssBytes();
        var metrics = await rig.MetricsAsync(cancellationToken).ConfigureAwait(false);
        var (onBroker, deleted) = rig.Broker();
        var unread = (await rig.DeletedBeforeConsumedAsync(cancellationToken).ConfigureAwait(false)).Sum(l => l.Events);
        var bronzeVersion = metrics?.Value("lakehouse_stream_table_version", "table=\"bronze.");
        var silverVersion = metrics?.Value("lakehouse_stream_table_version", "table=\"silver.");
        var silverLag = bronzeVersion - metrics?.Value("lakehouse_stream_consumed_version", "layer=\"silver\"");
        var goldLag = silverVersion - metrics?.Value("lakehouse_stream_consumed_version", "layer=\"gold\"");
        var tables = new List<SoakTable>();
        foreach (var name in StreamRig.Tables)
        {
            var scope = rig.Storage.Scope(name);
            var table = DeltaTable.Open(scope, engine);
            if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) continue;
            var load = Stopwatch.StartNew();
            var snapshot = await DeltaTable.Open(scope, engine).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var ms = load.Elapsed.TotalMilliseconds;
            var perPartition = snapshot.Files.GroupBy(f => string.Join("/", f.PartitionValues.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")), StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key.Length == 0 ? "(unpartitioned)" : g.Key, g => g.Count(), StringComparer.Ordinal);
            int commits = 0, checkpoints = 0;
            await foreach (var file in scope.ListAsync("_delta_log/", cancellationToken).ConfigureAwait(false))
            {
                var fileName = Path.GetFileName(file.Path);
                if (fileName.Length == 25 && fileName.EndsWith(".json", StringComparison.Ordinal)) commits++;
                else if (fileName.Contains(".checkpoint", StringComparison.Ordinal)) checkpoints++;
            }
            tables.Add(new SoakTable(name.Replace('/', '.'), snapshot.Version, snapshot.Files.Count, perPartition.Count, perPartition.Values.DefaultIfEmpty().Max(), perPartition,
                commits, checkpoints, snapshot.CheckpointVersion >= 0 ? snapshot.Version - snapshot.CheckpointVersion : snapshot.Version + 1, Round(ms, 1)));
        }
        var latency = await StreamLatency.MeasureAsync(rig.Storage, engine, StreamRig.Dataset, StreamRig.GoldTable, from, until, cache, cancellationToken).ConfigureAwait(false);
        var sample = new SoakSample(Round(elapsed.TotalMinutes, 2), rss, onBroker, (long)(metrics?.Value("lakehouse_stream_rows_total", "stage=\"bronze\"") ?? 0),
            (long?)metrics?.Value("lakehouse_stream_source_lag_events"), (long?)silverLag, (long?)goldLag, deleted, unread, latency.Events, latency.Events - latency.SilverEvents,
            Nullable(latency.SilverP50Ms), Nullable(latency.SilverP99Ms), latency.GoldP50Ms is { } g50 ? Nullable(g50) : null, latency.GoldP99Ms is { } g99 ? Nullable(g99) : null, tables);
        var bronze = tables.FirstOrDefault(t => t.Table == "bronze." + StreamRig.Dataset);
        rig.Progress(string.Create(CultureInfo.InvariantCulture,
            $"soak [{sample.Minute,6:0.00} min] RSS {rss / 1048576.0:N0} MiB; {sample.BrokerEvents:N0} sent, {sample.BronzeEvents:N0} in bronze, lag {sample.LagEvents} events, ") + string.Create(CultureInfo.InvariantCulture,
            $"{deleted:N0} deleted by the mock's retention ({unread:N0} before bronze committed them); ") + string.Create(CultureInfo.InvariantCulture,
            $"silver p50 {sample.SilverP50Ms} p99 {sample.SilverP99Ms} ms, gold p99 {sample.GoldP99Ms} ms ({sample.WindowEvents:N0} events, {sample.NotVisibleInSilver:N0} not yet in silver); ") + string.Create(CultureInfo.InvariantCulture,
            $"max files/partition {tables.Max(t => t.MaxFilesPerPartition)}, log files {tables.Sum(t => t.CommitFiles)}, slowest snapshot {tables.Max(t => t.SnapshotLoadMs):0.0} ms") + string.Create(CultureInfo.InvariantCulture,
            $"{(bronze is null ? "" : $"; bronze v{bronze.Version}, {bronze.CommitsSinceCheckpoint} commits since checkpoint")}"));
        return sample;
    }

    /// <summary>Every series of the samples, judged bounded or not (see the class).</summary>
    private static List<SoakTrend> Trends(List<SoakSample> samples)
    {
        var series = new List<(string Metric, double Allowance, List<double?> Values)>
        {
            ("rss_bytes", 64 << 20, [.. samples.Select(s => (double?)s.RssBytes)]),
            ("lag_events", 10_000, [.. samples.Select(s => (double?)s.LagEvents)]),
            ("silver_p99_ms", 200, [.. samples.Select(s => s.SilverP99Ms)]),
            ("gold_p99_ms", 200, [.. samples.Select(s => s.GoldP99Ms)]),
        };
        foreach (var table in samples.SelectMany(s => s.Tables).Select(t => t.Table).Distinct(StringComparer.Ordinal))
        {
            List<double?> Of(Func<SoakTable, double> pick) => [.. samples.Select(s => s.Tables.FirstOrDefault(t => t.Table == table) is { } t ? pick(t) : (double?)null)];
            series.Add((table + ".max_files_per_partition", 10, Of(t => t.MaxFilesPerPartition)));
            series.Add((table + ".commit_files", 10, Of(t => t.CommitFiles)));
            series.Add((table + ".commits_since_checkpoint", 10, Of(t => t.CommitsSinceCheckpoint)));
            series.Add((table + ".snapshot_load_ms", 20, Of(t => t.SnapshotLoadMs)));
        }
        var trends = new List<SoakTrend>();
        foreach (var (metric, allowance, values) in series)
        {
            var known = values.Where(v => v is not null).Select(v => v!.Value).ToList();
            if (known.Count == 0) continue;
            var half = Math.Max(1, known.Count / 2);
            var firstHalf = known.Take(half).Max();
            var secondHalf = known.Skip(half).DefaultIfEmpty(firstHalf).Max();
            // Rising at every sample of the second half (at least 3 of them) is growth too, however slow.
            var tail = known.Skip(half).ToList();
            var rising = tail.Count >= 3 && tail.Zip(tail.Skip(1)).All(p => p.Second > p.First);
            trends.Add(new SoakTrend(metric, Round(known[0], 1), Round(known[^1], 1), Round(known.Max(), 1), Round(firstHalf, 1), Round(secondHalf, 1),
                secondHalf <= (firstHalf * 1.5) + allowance && !rising));
        }
        return trends;
    }

    private static double? Nullable(double value) => double.IsNaN(value) ? null : Round(value, 0);

    private static double Round(double value, int digits) => double.IsNaN(value) ? value : Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
