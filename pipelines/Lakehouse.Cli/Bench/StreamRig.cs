using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Silver;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Bench;

/// <summary>What the simulator said it sent (<c>lakehouse produce --json</c>).</summary>
internal sealed record StreamProduced(long Events, long Duplicates, long Malformed, double Seconds, double EventsPerSecond);

/// <summary>
/// One stream under measurement: a fresh lake, a topic on the bench's mock cluster, <c>lakehouse stream</c> (all three layers) as
/// a child process reading it, and <c>lakehouse produce</c> as another child sending simulated web-log events at a fixed rate.
/// The stream is ready when its Kafka consumer owns the topic's partitions (its /metrics shows the source lag); it has caught up
/// when its /metrics say bronze holds every event the broker has, silver consumed bronze's latest version and gold silver's; the
/// counts are then read from the tables themselves (<see cref="CountsAsync"/>).
/// </summary>
internal sealed class StreamRig : IDisposable
{
    internal const string Dataset = "weblogs";

    /// <summary>librdkafka properties for the producer: compressed batches, so the mock's 5 MB per partition hold more events.</summary>
    internal const string ProducerProperties = "compression.type=zstd;linger.ms=5";

    /// <summary>
    /// Simulated web-log events one partition of the mock holds before it deletes the oldest (its 5 MB cap over zstd batches of
    /// <c>lakehouse produce</c>, measured: <see cref="DefaultPartitions"/>).
    /// </summary>
    internal const int EventsPerPartition = 50_000;

    /// <summary>Seconds of the rate the topic's partitions hold by default: a stream that falls this far behind loses events.</summary>
    internal const int HeldSeconds = 60;

    /// <summary>How long past its seconds a producer that cannot keep the rate may go on before it is stopped.</summary>
    internal static readonly TimeSpan ProducerGrace = TimeSpan.FromSeconds(5);

    /// <summary>How often, at most, the catch-up wait checks the mock's retention against bronze's positions.</summary>
    private static readonly TimeSpan RetentionCheckEvery = TimeSpan.FromSeconds(2);
    internal const string GoldTable = PagePerformanceDaily.TableName;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly KafkaMockCluster _kafka;
    private readonly DuckEngine _engine;
    private readonly Action<string> _progress;

    /// <summary>Per partition, offsets the mock deleted before bronze committed them, not yet settled.</summary>
    private readonly Dictionary<int, RetentionLoss> _suspects = [];

    private StreamRig(KafkaMockCluster kafka, DuckEngine engine, string lake, string topic, int port, CliChildProcess stream, Action<string> progress)
    {
        _kafka = kafka;
        _engine = engine;
        Lake = lake;
        Topic = topic;
        Port = port;
        Stream = stream;
        _progress = progress;
        Storage = LakeStorage.Open(lake);
    }

    internal string Lake { get; }

    internal ILakeStorage Storage { get; }

    internal string Topic { get; }

    /// <summary>The topic's partition count.</summary>
    internal int Partitions { get; private set; }

    internal int Port { get; }

    internal CliChildProcess Stream { get; }

    /// <summary>The tables the stream writes, lake-relative, in layer order.</summary>
    internal static readonly string[] Tables =
    [
        SilverTables.Bronze(Dataset), SilverTables.Silver(Dataset), SilverTables.Quarantine(Dataset), SilverTables.Quality,
        .. DatasetCatalog.BuiltIn.Get(Dataset).GoldOutputs.Select(GoldTables.Gold), GoldTables.Runs,
    ];

    /// <summary>
    /// Partitions of the topic for <paramref name="rate"/> events/s when --partitions is not given: enough for the mock to hold
    /// <see cref="HeldSeconds"/> s of the rate (<see cref="EventsPerPartition"/> each), at least the mock's 4 and at most 128
    /// (10,000 events/s: 12; 20,000: 24; 100,000: 120).
    /// </summary>
    internal static int DefaultPartitions(int rate) =>
        (int)Math.Clamp(Math.Ceiling((double)rate * HeldSeconds / EventsPerPartition), KafkaMockCluster.DefaultPartitions, 128);

    /// <summary>Creates the topic with <paramref name="partitions"/> partitions, starts <c>lakehouse stream</c> on <paramref name="lake"/> and waits until its consumer owns them.</summary>
    internal static async Task<StreamRig> StartAsync(KafkaMockCluster kafka, DuckEngine engine, string lake, string topic, int partitions, int maxBatchMs, Action<string> progress,
        CancellationToken cancellationToken)
    {
        if (Directory.Exists(lake)) Directory.Delete(lake, recursive: true);
        partitions = kafka.CreateTopic(topic, partitions);
        var port = FreePort();
        var stream = CliChild.Start(["stream", "--lake", lake, "--dataset", Dataset, "--from", kafka.Uri(topic), "--port", Invariant(port),
            "--max-batch-ms", Invariant(maxBatchMs)], new Dictionary<string, string> { ["LAKEHOUSE_KAFKA_PROPERTIES"] = KafkaMockCluster.FastGroupProperties });
        var rig = new StreamRig(kafka, engine, lake, topic, port, stream, progress) { Partitions = partitions };
        try
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (stream.HasExited)
                {
                    var (code, _, stderr) = await stream.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                    throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse stream ended with exit code {code} before it was ready: {stderr.Trim()}");
                }
                if (clock.Elapsed > TimeSpan.FromSeconds(90))
                    throw new LakehouseException(LakehouseErrorReason.Engine, "lakehouse stream's consumer did not own the topic's partitions within 90 s.");
                if ((await rig.MetricsAsync(cancellationToken).ConfigureAwait(false))?.Value("lakehouse_stream_source_lag_events") is not null) break;
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
            progress(string.Create(CultureInfo.InvariantCulture, $"stream: lakehouse stream (pid {stream.Id}) reads {partitions} partitions of {topic}, ready after {clock.Elapsed.TotalSeconds:0.0} s"));
            return rig;
        }
        catch
        {
            rig.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts <c>lakehouse produce</c>: <paramref name="events"/> web-log sends (1 % duplicates, 0.1 % malformed) at
    /// <paramref name="rate"/> events/s, event times from now on at the pace of the clock.
    /// </summary>
    internal CliChildProcess StartProducer(long events, int rate, int seed)
    {
        var seconds = Math.Max(1.0, events / (double)rate);
        return CliChild.Start(["produce", "--dataset", Dataset, "--events", Invariant(events), "--rate", Invariant(rate), "--batch", Invariant(Math.Max(100, rate / 20)),
            "--seed", Invariant(seed), "--duplicates", "0.01", "--malformed", "0.001", "--start", "now", "--days", (seconds / 86400).ToString("0.#########", CultureInfo.InvariantCulture),
            "--to", _kafka.Uri(Topic), "--json"], new Dictionary<string, string> { ["LAKEHOUSE_KAFKA_PROPERTIES"] = ProducerProperties });
    }

    /// <summary>Waits for the producer's end and reads its summary (a producer <paramref name="stopped"/> by <see cref="StopProducerAsync"/> ends 143 and still prints it).</summary>
    internal static async Task<StreamProduced> ProducedAsync(CliChildProcess producer, TimeSpan timeout, CancellationToken cancellationToken, bool stopped = false)
    {
        var (code, stdout, stderr) = await producer.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (code != 0 && !(stopped && code is 130 or 143))
            throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse produce failed with exit code {code}: {stderr.Trim()}");
        using var summary = JsonDocument.Parse(stdout);
        var r = summary.RootElement;
        return new StreamProduced(r.GetProperty("events").GetInt64(), r.GetProperty("duplicates").GetInt64(), r.GetProperty("malformed").GetInt64(),
            r.GetProperty("seconds").GetDouble(), r.GetProperty("eventsPerSecond").GetDouble());
    }

    /// <summary>
    /// Stops a producer that is still sending when its time is up (it could not keep the rate on this machine): the run then
    /// measures what was sent; <c>producer_stopped</c> in the report and <c>send_events_per_s</c> say so.
    /// </summary>
    internal async Task StopProducerAsync(CliChildProcess producer, CancellationToken cancellationToken)
    {
        await producer.StopAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        _progress("stream: the producer had not sent every event in its time; stopped it (the run measures what it sent)");
    }

    /// <summary>Events on the broker (the sum of the partitions' high watermarks), and how many of the first ones the mock's retention deleted (the sum of the log start offsets).</summary>
    internal (long Events, long Deleted) Broker()
    {
        var marks = _kafka.Watermarks(Topic);
        return (marks.Values.Sum(w => w.High), marks.Values.Sum(w => w.Low));
    }

    /// <summary>The stream's /metrics, parsed; null when it does not answer.</summary>
    internal async Task<PrometheusSample?> MetricsAsync(CancellationToken cancellationToken)
    {
        try
        {
            return PrometheusSample.Parse(await Http.GetStringAsync(new Uri($"http://127.0.0.1:{Port}/metrics"), cancellationToken).ConfigureAwait(false));
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Waits until bronze holds the broker's <paramref name="events"/> and silver and gold consumed their upstream's latest version.</summary>
    internal async Task<TimeSpan> WaitCaughtUpAsync(long events, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var checkedAt = TimeSpan.Zero;
        while (true)
        {
            if (Stream.HasExited)
            {
                var (code, _, stderr) = await Stream.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse stream ended with exit code {code} while catching up: {stderr.Trim()}");
            }
            var metrics = await MetricsAsync(cancellationToken).ConfigureAwait(false);
            if (metrics is not null && metrics.CaughtUp(events)) return clock.Elapsed;
            if (clock.Elapsed - checkedAt >= RetentionCheckEvery)
            {
                await ThrowIfDeletedBeforeConsumedAsync(cancellationToken).ConfigureAwait(false);
                checkedAt = clock.Elapsed;
            }
            if (clock.Elapsed > timeout)
            {
                var (onBroker, deleted) = Broker();
                throw new LakehouseException(LakehouseErrorReason.Engine, string.Create(CultureInfo.InvariantCulture,
                    $"The stream did not catch up within {timeout.TotalSeconds:0} s of the last send ({onBroker:N0} events on the broker, the first {deleted:N0} deleted by the mock's retention)."));
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Events the mock's retention deleted before bronze committed them: per partition, the log start offset (low watermark) above
    /// bronze's committed next offset (its Delta txn for the partition; 0 before its first commit). The watermarks are read first,
    /// bronze's positions after, so a position that moved on meanwhile cannot hide a loss. Suspects only: the stream's consumer may
    /// have fetched them before they were deleted (<see cref="ThrowIfDeletedBeforeConsumedAsync"/> settles it).
    /// </summary>
    internal async Task<IReadOnlyList<RetentionLoss>> DeletedBeforeConsumedAsync(CancellationToken cancellationToken) =>
        (await RetentionAsync(cancellationToken).ConfigureAwait(false)).Losses;

    private async Task<(IReadOnlyList<RetentionLoss> Losses, Dictionary<int, long> Committed)> RetentionAsync(CancellationToken cancellationToken)
    {
        var marks = _kafka.Watermarks(Topic);
        var committed = new Dictionary<int, long>();
        if (marks.Values.All(w => w.Low == 0) && _suspects.Count == 0) return ([], committed);
        var bronze = DeltaTable.Open(Storage.Scope(SilverTables.Bronze(Dataset)), _engine);
        if (await bronze.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            var snapshot = await bronze.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var partition in marks.Keys)
            {
                if (snapshot.TransactionVersion(StreamIngestor.AppId(SourceKinds.Kafka, Topic, Invariant(partition))) is { } next) committed[partition] = next;
            }
        }
        return (DeletedBeforeConsumed(marks, committed), committed);
    }

    /// <summary>The partitions whose log start offset is above the committed next offset (none committed: 0), in partition order.</summary>
    internal static IReadOnlyList<RetentionLoss> DeletedBeforeConsumed(IReadOnlyDictionary<int, (long Low, long High)> marks, IReadOnlyDictionary<int, long> committed) =>
        [.. marks.OrderBy(m => m.Key).Select(m => new RetentionLoss(m.Key, committed.GetValueOrDefault(m.Key), m.Value.Low)).Where(l => l.Events > 0)];

    /// <summary>
    /// Fails, naming the events and partitions, when the mock deleted events bronze never got: the run is void. A partition whose
    /// log start passed bronze's committed offset is a suspect until bronze commits past the deleted range; then bronze's rows of
    /// that range are counted (offsets are contiguous on the mock), and any missing one is lost.
    /// </summary>
    internal async Task ThrowIfDeletedBeforeConsumedAsync(CancellationToken cancellationToken)
    {
        var (suspects, committed) = await RetentionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var s in suspects)
            _suspects[s.Partition] = _suspects.TryGetValue(s.Partition, out var known) ? known with { LogStart = Math.Max(known.LogStart, s.LogStart) } : s;
        var lost = new List<RetentionLoss>();
        foreach (var s in _suspects.Values.OrderBy(p => p.Partition).ToList())
        {
            if (committed.GetValueOrDefault(s.Partition) < s.LogStart) continue;
            _suspects.Remove(s.Partition);
            var held = await CountAsync(SilverTables.Bronze(Dataset), string.Create(CultureInfo.InvariantCulture,
                $"count(*) FILTER (WHERE source_kind = '{SourceKinds.Kafka}' AND source_partition = '{s.Partition}' AND source_offset >= {s.Committed} AND source_offset < {s.LogStart})"),
                cancellationToken).ConfigureAwait(false);
            if (held < s.Events) lost.Add(s with { Missing = s.Events - held });
        }
        if (lost.Count > 0) throw new LakehouseException(LakehouseErrorReason.Engine, RetentionLoss.Describe(lost, Partitions));
    }

    /// <summary>Stops the stream with SIGTERM (it must exit 143, as a stopped service does) and returns its peak RSS.</summary>
    internal async Task<long> StopAsync(CancellationToken cancellationToken)
    {
        var (code, _, stderr) = await Stream.StopAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        if (code != 143) throw new LakehouseException(LakehouseErrorReason.Engine, $"lakehouse stream ended with exit code {code} after SIGTERM (143 expected): {stderr.Trim()}");
        return Stream.PeakRssBytes;
    }

    /// <summary>
    /// Where the events went, from the tables (bronze rows, silver rows, quarantine rows, gold's summed events) and from the stream's
    /// own totals (saved with its last progress: rows silver read, duplicates dropped); <see cref="MedallionCounts.Check"/> refuses
    /// counts that do not reconcile with the <paramref name="produced"/> events.
    /// </summary>
    internal async Task<MedallionCounts> CountsAsync(long produced, CancellationToken cancellationToken)
    {
        var saved = await Storage.ReadAsync("_lakehouse/stream/" + Dataset + ".bronze+silver+gold.json", cancellationToken).ConfigureAwait(false);
        using var progress = JsonDocument.Parse(saved);
        var totals = progress.RootElement.GetProperty("totals");
        var bronze = await CountAsync(SilverTables.Bronze(Dataset), "count(*)", cancellationToken).ConfigureAwait(false);
        var quarantined = await CountAsync(SilverTables.Quarantine(Dataset), "count(*)", cancellationToken).ConfigureAwait(false);
        var counts = new MedallionCounts(produced, bronze, totals.GetProperty("silverIn").GetInt64(), totals.GetProperty("silver").GetInt64(), quarantined,
            totals.GetProperty("duplicates").GetInt64(), await CountAsync(SilverTables.Silver(Dataset), "count(*)", cancellationToken).ConfigureAwait(false),
            await CountAsync(GoldTables.Gold(GoldTable), "sum(events)", cancellationToken).ConfigureAwait(false));
        counts.Check();
        if (totals.GetProperty("quarantined").GetInt64() != quarantined)
            throw new LakehouseException(LakehouseErrorReason.Engine, $"The stream counted {totals.GetProperty("quarantined").GetInt64()} quarantined events, the quarantine table holds {quarantined}.");
        return counts;
    }

    /// <summary><paramref name="aggregate"/> over the current snapshot of <paramref name="table"/> (0 when it does not exist).</summary>
    internal async Task<long> CountAsync(string table, string aggregate, CancellationToken cancellationToken)
    {
        var delta = DeltaTable.Open(Storage.Scope(table), _engine);
        if (!await delta.ExistsAsync(cancellationToken).ConfigureAwait(false)) return 0;
        var snapshot = await delta.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(delta, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(lease.Connection.Scalar($"SELECT coalesce({aggregate}, 0) FROM ({scan.Sql})", cancellationToken), CultureInfo.InvariantCulture);
    }

    internal void Progress(string text) => _progress(text);

    /// <summary>Kills the stream if it still runs.</summary>
    public void Dispose() => Stream.Dispose();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Events of one partition the mock's retention deleted before bronze committed them: offsets <see cref="Committed"/> to
/// <see cref="LogStart"/> - 1; <see cref="Missing"/> of them bronze never got (null: not known yet).
/// </summary>
internal sealed record RetentionLoss(int Partition, long Committed, long LogStart, long? Missing = null)
{
    /// <summary>How many events were deleted unread.</summary>
    internal long Events => LogStart - Committed;

    /// <summary>What the bench says when it stops: the events lost, the partitions (up to 4 named) and what to change.</summary>
    internal static string Describe(IReadOnlyList<RetentionLoss> losses, int partitions) => string.Create(CultureInfo.InvariantCulture,
        $"The mock cluster's retention deleted {losses.Sum(l => l.Missing ?? l.Events):N0} events before bronze committed them, in {losses.Count} of {partitions} partitions (") +
        string.Join("; ", losses.Take(4).Select(l => string.Create(CultureInfo.InvariantCulture, $"partition {l.Partition}: log start {l.LogStart:N0}, bronze's committed offset {l.Committed:N0}"))) +
        (losses.Count > 4 ? "; …" : "") +
        string.Create(CultureInfo.InvariantCulture, $"): the stream fell further behind than about {StreamRig.EventsPerPartition:N0} events per partition; the run is void (more --partitions, or a lower rate).");
}

/// <summary>The samples of one Prometheus text page: <c>name{labels}</c> → value.</summary>
internal sealed class PrometheusSample
{
    private readonly List<(string Name, string Labels, double Value)> _samples = [];

    internal static PrometheusSample Parse(string text)
    {
        var sample = new PrometheusSample();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            if (space < 0 || !double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
            var head = line[..space];
            var brace = head.IndexOf('{', StringComparison.Ordinal);
            sample._samples.Add(brace < 0 ? (head, "", value) : (head[..brace], head[brace..], value));
        }
        return sample;
    }

    /// <summary>The value of the first sample named <paramref name="name"/> whose labels contain <paramref name="label"/> (e.g. <c>stage="bronze"</c>).</summary>
    internal double? Value(string name, string? label = null)
    {
        foreach (var (n, labels, value) in _samples)
            if (n == name && (label is null || labels.Contains(label, StringComparison.Ordinal))) return value;
        return null;
    }

    /// <summary>Bronze took <paramref name="events"/> events, silver consumed bronze's latest version, gold silver's.</summary>
    internal bool CaughtUp(long events) =>
        Value("lakehouse_stream_rows_total", "stage=\"bronze\"") >= events &&
        Value("lakehouse_stream_table_version", "table=\"bronze.") is { } bronze && Value("lakehouse_stream_consumed_version", "layer=\"silver\"") == bronze &&
        Value("lakehouse_stream_table_version", "table=\"silver.") is { } silver && Value("lakehouse_stream_consumed_version", "layer=\"gold\"") == silver;
}
