using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Lakehouse.Bronze;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Gold;
using Lakehouse.Serve.Monitoring;
using Lakehouse.Silver;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli.Streaming;

/// <summary>
/// Continuous mode: a stream into bronze micro-batches (the bronze <see cref="StreamIngestor"/>), silver following bronze's new
/// versions and gold following silver's, all in this process or only the layers it is given (others run them in other processes).
/// </summary>
/// <remarks>
/// Nothing here keeps state of its own: each layer's position is what its tables already record (bronze: the stream positions as
/// txn actions; silver: the bronze version consumed; gold: the silver version consumed), so a worker stopped anywhere — by a
/// signal, a crash or SIGKILL — resumes where its tables say, and a layer run twice at once is refused by the Delta conflict rules.
/// A stop request drops the bronze batch being buffered (not committed: read again on restart) and gives the silver or gold step
/// running <see cref="StreamRunOptions.Grace"/> to commit before it is cancelled (its commit then either happened or not).
/// Each table this process writes is compacted every <see cref="StreamRunOptions.CompactEvery"/> of its commits; checkpoints come
/// from the Delta writer (every <c>delta.checkpointInterval</c> commits), so a snapshot replays a bounded log.
/// </remarks>
internal sealed class StreamRunner
{
    private readonly StreamRunOptions _options;
    private readonly ILakeStorage _lake;
    private readonly DuckEngine _engine;
    private readonly DatasetDefinition _definition;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly string _layersKey;
    private readonly Lock _gate = new();
    private readonly Queue<StreamProgress> _recent = new();
    private readonly Channel<bool> _bronzeCommitted = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _silverCommitted = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _alertsRaised = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<bool> _persist = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal)
    {
        ["bronze"] = 0,
        ["silverIn"] = 0,
        ["silver"] = 0,
        ["quarantined"] = 0,
        ["duplicates"] = 0,
        ["goldIn"] = 0,
        ["goldRead"] = 0,
        ["alerts"] = 0,
        ["lateEvents"] = 0,
    };

    // The bronze commits of this process since the last progress record (guarded by _gate).
    private long _pendingRows;
    private TimeSpan _pendingReceive, _pendingCommit;
    private readonly Dictionary<string, long> _pendingStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pendingEnd = new(StringComparer.Ordinal);
    private long _httpCounted; // HTTP ingest events counted into the bronze total
    private long? _bronzeVersion, _silverVersion, _silverConsumed, _goldConsumed;
    private DateTimeOffset? _watermark;
    private long _batchId;
    private DateTimeOffset _lastEnd = DateTimeOffset.UtcNow;
    private StreamProgress? _last;
    private Func<long?>? _sourceLag;

    internal StreamRunner(StreamRunOptions options, ILakeStorage lake, DuckEngine engine, DatasetDefinition definition, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.Layers & StreamLayers.Bronze) != 0 && options.From is null) throw new ArgumentException("Bronze needs a source (From).", nameof(options));
        _options = options;
        _lake = lake;
        _engine = engine;
        _definition = definition;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger<StreamRunner>();
        _layersKey = StreamLayerNames.Key(options.Layers);
        RunId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    }

    /// <summary>This process's run id (in every progress record).</summary>
    internal string RunId { get; }

    /// <summary>Where the latest progress is kept for <c>lakehouse status</c>, lake-relative.</summary>
    internal string ProgressPath => ProgressFolder + "/" + _options.Dataset + "." + _layersKey + ".json";

    /// <summary>The folder of every stream's latest progress, lake-relative.</summary>
    internal const string ProgressFolder = "_lakehouse/stream";

    /// <summary>Called with each progress record as it is made (the terminal's progress line).</summary>
    internal event Action<StreamProgress>? Progressed;

    /// <summary>The last progress record, or null before the first batch.</summary>
    internal StreamProgress? Last
    {
        get
        {
            lock (_gate) return _last;
        }
    }

    /// <summary>The <paramref name="count"/> most recent progress records as a JSON array, oldest first (<c>GET /progress</c>).</summary>
    internal string ProgressJson(int count)
    {
        StreamProgress[] records;
        lock (_gate) records = [.. _recent.Skip(Math.Max(0, _recent.Count - count))];
        return JsonSerializer.Serialize(records, StreamProgress.Json);
    }

    /// <summary>Adds the stream's counters and gauges to <c>GET /metrics</c>.</summary>
    internal void WriteMetrics(PrometheusText text)
    {
        StreamProgress? last;
        Dictionary<string, long> totals;
        long batches;
        long? lag;
        lock (_gate)
        {
            last = _last;
            totals = new Dictionary<string, long>(_totals, StringComparer.Ordinal);
            batches = _batchId;
        }
        lag = _sourceLag?.Invoke();
        (string, string) d = ("dataset", _options.Dataset), l = ("layers", _layersKey);
        text.Counter("lakehouse_stream_batches_total", "Micro-batches this stream process has completed.", batches, d, l);
        foreach (var (stage, rows) in totals)
            text.Counter("lakehouse_stream_rows_total", "Rows this stream process handled, by stage: bronze (events committed), silverIn (bronze rows read), silver (rows added), quarantined, duplicates (repeats of an event id dropped), goldIn (new silver rows gold consumed), goldRead (silver rows of the dates gold recomputed, old ones included), alerts (new), lateEvents.", rows, d, l, ("stage", stage));
        if (lag is { } events) text.Gauge("lakehouse_stream_source_lag_events", "Events between what the stream read and the broker's end, over the partitions this process owns.", events, d);
        if (last is null) return;
        foreach (var (phase, ms) in last.DurationMs)
            text.Gauge("lakehouse_stream_last_batch_duration_ms", "Milliseconds the last micro-batch spent per phase.", ms, d, l, ("phase", phase));
        text.Gauge("lakehouse_stream_last_batch_input_rows", "Rows the last micro-batch took in.", last.NumInputRows, d, l)
            .Gauge("lakehouse_stream_input_rows_per_second", "Rows in over the time since the batch before (last micro-batch).", last.InputRowsPerSecond, d, l)
            .Gauge("lakehouse_stream_processed_rows_per_second", "Rows in over the time the last micro-batch took.", last.ProcessedRowsPerSecond, d, l)
            .Gauge("lakehouse_stream_last_batch_timestamp_seconds", "When the last micro-batch ended (Unix seconds).", last.Timestamp.ToUnixTimeMilliseconds() / 1000.0, d, l);
        if (last.Watermark is { } w) text.Gauge("lakehouse_stream_watermark_timestamp_seconds", "The gold watermark (Unix seconds).", w.ToUnixTimeMilliseconds() / 1000.0, d);
        const string VersionHelp = "Versions of the tables after the last micro-batch.", ConsumedHelp = "The upstream version each layer has consumed.";
        if (last.Sink.BronzeVersion is { } bv) text.Gauge("lakehouse_stream_table_version", VersionHelp, bv, d, ("table", "bronze." + _options.Dataset));
        if (last.Sink.SilverVersion is { } sv) text.Gauge("lakehouse_stream_table_version", VersionHelp, sv, d, ("table", "silver." + _options.Dataset));
        if (last.Sink.SilverConsumedBronzeVersion is { } sc) text.Gauge("lakehouse_stream_consumed_version", ConsumedHelp, sc, d, ("layer", "silver"));
        if (last.Sink.GoldConsumedSilverVersion is { } gc) text.Gauge("lakehouse_stream_consumed_version", ConsumedHelp, gc, d, ("layer", "gold"));
    }

    /// <summary>
    /// Runs until <paramref name="stop"/> is cancelled (then ends with <see cref="OperationCanceledException"/>) or a layer fails (its
    /// exception, after the other layers stopped). <paramref name="source"/> is the stream of bronze (null: bronze is not run here, or
    /// arrives by HTTP ingest, whose committed event count <paramref name="httpEvents"/> tells).
    /// </summary>
    internal async Task RunAsync(IStreamSource? source, Func<long>? httpEvents, CancellationToken stop)
    {
        Log.StreamStarted(_log, RunId, _options.Dataset, _layersKey, _options.From ?? "-");
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var hard = new CancellationTokenSource();
        using var graceful = failed.Token.Register(() =>
        {
            Log.StreamStopping(_log, RunId, _options.Dataset, _options.Grace.TotalSeconds);
            hard.CancelAfter(_options.Grace);
        });
        var downstream = (_options.Layers & (StreamLayers.Silver | StreamLayers.Gold)) != 0;
        var workers = new List<Task>();
        if (source is not null)
        {
            _sourceLag = () => source.Lag;
            workers.Add(BronzeAsync(source, emitEachCommit: !downstream, failed.Token));
        }
        else if (httpEvents is not null && !downstream)
        {
            workers.Add(HttpBronzeAsync(httpEvents, failed.Token));
        }
        if (downstream) workers.Add(DownstreamAsync(waitForBronze: source is not null, httpEvents, failed.Token, hard.Token));
        using var persistStop = new CancellationTokenSource();
        var persisting = PersistLoopAsync(persistStop.Token);
        try
        {
            var running = workers.ToList();
            while (running.Count > 0)
            {
                var done = await Task.WhenAny(running).ConfigureAwait(false);
                running.Remove(done);
                if (done.IsFaulted) await failed.CancelAsync().ConfigureAwait(false);
            }
            var errors = workers.Where(w => w.IsFaulted).Select(w => w.Exception!.GetBaseException()).Where(e => e is not OperationCanceledException).ToList();
            if (errors.Count > 0) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(errors[0]).Throw();
            stop.ThrowIfCancellationRequested();
        }
        finally
        {
            await persistStop.CancelAsync().ConfigureAwait(false);
            await persisting.ConfigureAwait(false);
            StreamProgress? last;
            // The totals as they stand at the stop: bronze may have committed after the last micro-batch record.
            lock (_gate) last = _last is null ? null : _last with { Stopped = true, Timestamp = DateTimeOffset.UtcNow, Totals = new Dictionary<string, long>(_totals, StringComparer.Ordinal) };
            if (last is not null) await SaveAsync(last).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// After the HTTP server stopped (it answers the requests in flight and commits what was queued after the layers stopped):
    /// counts the events it committed that no record counted yet, of <paramref name="events"/> in all, into a last stopped record,
    /// and saves it. Without it the final summary and <c>lakehouse status</c> left out what was landed while the process stopped.
    /// </summary>
    internal async Task CountHttpAtStopAsync(long events)
    {
        long more;
        lock (_gate)
        {
            more = events - _httpCounted;
            if (more <= 0) return;
            _httpCounted = events;
            _pendingRows += more;
            _totals["bronze"] += more;
        }
        Emit(null, null, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, null, null);
        StreamProgress last;
        lock (_gate) last = _last = _last! with { Stopped = true };
        await SaveAsync(last).ConfigureAwait(false);
    }

    private async Task BronzeAsync(IStreamSource source, bool emitEachCommit, CancellationToken cancellationToken)
    {
        var table = BronzeTable.Open(_lake.Scope(SilverTables.Bronze(_options.Dataset)), _engine, _loggerFactory);
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions
        {
            MaxBatchEvents = _options.MaxBatchEvents,
            MaxBatchWait = _options.MaxBatchWait,
            CompactEveryCommits = _options.CompactEvery,
        }, _loggerFactory);
        ingestor.BatchCommitted += batch =>
        {
            lock (_gate)
            {
                _pendingRows += batch.Events;
                _pendingReceive += batch.Receive;
                _pendingCommit += batch.Commit;
                foreach (var (p, start) in batch.StartPositions) _pendingStart.TryAdd(p, start);
                foreach (var (p, end) in batch.EndPositions) _pendingEnd[p] = end;
                _bronzeVersion = Math.Max(_bronzeVersion ?? -1, batch.Version);
                _totals["bronze"] += batch.Events;
            }
            if (emitEachCommit) Emit(null, null, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, null, null);
            else _bronzeCommitted.Writer.TryWrite(true);
        };
        await ingestor.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task HttpBronzeAsync(Func<long> httpEvents, CancellationToken cancellationToken)
    {
        var bronze = DeltaTable.Open(_lake.Scope(SilverTables.Bronze(_options.Dataset)), _engine, _loggerFactory);
        long seen = httpEvents();
        while (true)
        {
            await Task.Delay(_options.Poll, cancellationToken).ConfigureAwait(false);
            var now = httpEvents();
            if (now == seen) continue;
            var version = await bronze.LatestVersionAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _pendingRows += now - seen;
                _totals["bronze"] += now - seen;
                _httpCounted += now - seen;
                _bronzeVersion = version;
            }
            seen = now;
            Emit(null, null, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, null, null);
        }
    }

    /// <summary>
    /// Silver following bronze and gold following silver, as two loops that run at the same time: silver's latency never waits for
    /// gold's recompute of a day. A batch is one step of either loop that did work.
    /// </summary>
    private Task DownstreamAsync(bool waitForBronze, Func<long>? httpEvents, CancellationToken stop, CancellationToken hard)
    {
        var runSilver = (_options.Layers & StreamLayers.Silver) != 0;
        var runGold = (_options.Layers & StreamLayers.Gold) != 0;
        if (runGold && _definition.GoldOutputs.Count == 0)
        {
            Log.StreamNoGold(_log, _options.Dataset);
            runGold = false;
        }
        var loops = new List<Task>();
        if (runSilver) loops.Add(SilverLoopAsync(waitForBronze, httpEvents, stop, hard));
        if (runGold) loops.Add(GoldLoopAsync(waitForSilver: runSilver, runSilver ? null : httpEvents, stop, hard));
        if (runGold && _options.Webhook is { } webhook && _definition.GoldOutputs.Contains(GoldTables.Alerts)) loops.Add(AlertsLoopAsync(webhook, stop));
        return WhenAllOrFirstFailureAsync(loops);
    }

    /// <summary>Ends when every task has; the first failure ends it at once (the caller then stops the others).</summary>
    private static async Task WhenAllOrFirstFailureAsync(List<Task> tasks)
    {
        var running = tasks.ToList();
        while (running.Count > 0)
        {
            var done = await Task.WhenAny(running).ConfigureAwait(false);
            running.Remove(done);
            await done.ConfigureAwait(false);
        }
    }

    private async Task SilverLoopAsync(bool waitForBronze, Func<long>? httpEvents, CancellationToken stop, CancellationToken hard)
    {
        var bronze = DeltaTable.Open(_lake.Scope(SilverTables.Bronze(_options.Dataset)), _engine, _loggerFactory);
        var silver = DeltaTable.Open(_lake.Scope(SilverTables.Silver(_options.Dataset)), _engine, _loggerFactory);
        var silverJob = SilverJob.Open(_lake, _engine, _loggerFactory);
        var silverOptions = new SilverRunOptions { MaxRowsPerCommit = Math.Max(1000, Math.Min(_options.MaxBatchEvents * 5, 1_000_000)), Webhook = _options.Webhook };
        long? seenBronze = null;
        var httpSeen = httpEvents?.Invoke() ?? 0;
        var commits = 0;
        while (await WaitAsync(waitForBronze ? _bronzeCommitted : null, stop).ConfigureAwait(false))
        {
            httpSeen = CountHttp(httpEvents, httpSeen);
            long? consumedBefore;
            lock (_gate) consumedBefore = _silverConsumed;
            var latest = await bronze.LatestVersionAsync(hard).ConfigureAwait(false);
            SilverRunResult? s = null;
            var took = TimeSpan.Zero;
            if (latest is { } bv && bv != seenBronze)
            {
                var clock = Stopwatch.StartNew();
                s = await silverJob.RunAsync(_definition, silverOptions, hard).ConfigureAwait(false);
                took = clock.Elapsed;
                seenBronze = s.BronzeToVersion;
                commits += s.NothingNew ? 0 : 1;
                lock (_gate)
                {
                    _bronzeVersion = Math.Max(_bronzeVersion ?? -1, bv);
                    _silverConsumed = s.BronzeToVersion;
                }
                if (!s.NothingNew) _silverCommitted.Writer.TryWrite(true);
            }
            // A run that only caught up with compaction commits upstream is "nothing new" but moves the consumed version: progress
            // must show that too, or it keeps reporting a layer as behind.
            var consumedMoved = s is not null && s.BronzeToVersion != consumedBefore;
            if (s?.NothingNew != false && !BronzeWaiting() && !consumedMoved) continue;
            var compaction = TimeSpan.Zero;
            if (_options.CompactEvery > 0 && commits >= _options.CompactEvery)
            {
                compaction = await CompactTimedAsync([SilverTables.Silver(_options.Dataset), SilverTables.Quarantine(_options.Dataset), SilverTables.Quality], hard,
                    await UnreadByGoldAsync(silver, hard).ConfigureAwait(false)).ConfigureAwait(false);
                commits = 0;
            }
            var silverVersion = await silver.LatestVersionAsync(hard).ConfigureAwait(false);
            lock (_gate) _silverVersion = silverVersion;
            Emit(s, null, took, TimeSpan.Zero, compaction, seenBronze, null);
        }
        stop.ThrowIfCancellationRequested();
    }

    private async Task GoldLoopAsync(bool waitForSilver, Func<long>? httpEvents, CancellationToken stop, CancellationToken hard)
    {
        var silver = DeltaTable.Open(_lake.Scope(SilverTables.Silver(_options.Dataset)), _engine, _loggerFactory);
        var goldJob = GoldJob.Open(_lake, _engine, _loggerFactory);
        long? seenSilver = null;
        var httpSeen = httpEvents?.Invoke() ?? 0;
        var commits = 0;
        while (await WaitAsync(waitForSilver ? _silverCommitted : null, stop).ConfigureAwait(false))
        {
            httpSeen = CountHttp(httpEvents, httpSeen);
            long? consumedBefore;
            lock (_gate) consumedBefore = _goldConsumed;
            var latest = await silver.LatestVersionAsync(hard).ConfigureAwait(false);
            GoldRunResult? g = null;
            var took = TimeSpan.Zero;
            if (latest is { } sv && sv != seenSilver)
            {
                var clock = Stopwatch.StartNew();
                g = await goldJob.RunAsync(_definition, new GoldRunOptions { Windows = _options.Windows }, hard).ConfigureAwait(false);
                if (g.AlertsNew > 0) _alertsRaised.Writer.TryWrite(true);
                took = clock.Elapsed;
                seenSilver = g.SilverToVersion;
                commits += g.NothingNew ? 0 : 1;
                lock (_gate)
                {
                    _silverVersion = Math.Max(_silverVersion ?? -1, sv);
                    _goldConsumed = g.SilverToVersion;
                    if (g.Watermark is { } w) _watermark = w;
                }
            }
            var consumedMoved = g is not null && g.SilverToVersion != consumedBefore;
            if (g?.NothingNew != false && (waitForSilver || !BronzeWaiting()) && !consumedMoved) continue;
            var compaction = TimeSpan.Zero;
            if (_options.CompactEvery > 0 && commits >= _options.CompactEvery)
            {
                compaction = await CompactTimedAsync([.. _definition.GoldOutputs.Select(GoldTables.Gold), GoldTables.Runs], hard).ConfigureAwait(false);
                commits = 0;
            }
            Emit(null, g, TimeSpan.Zero, took, compaction, null, seenSilver);
        }
        stop.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Posts gold's pending alerts to the webhook beside the gold loop, which never waits for it: after each gold step that raised
    /// alerts, and every <see cref="AlertsRetry"/> for those a failing webhook left pending (the outbox keeps them; a delivery cut
    /// short by the stop is finished by the next stream or gold run). Once at the start, for alerts left pending by an earlier run.
    /// </summary>
    private async Task AlertsLoopAsync(WebhookOptions webhook, CancellationToken stop)
    {
        var goldJob = GoldJob.Open(_lake, _engine, _loggerFactory);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var (_, pending) = await goldJob.DeliverAlertsAsync(webhook, stop).ConfigureAwait(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                wait.CancelAfter(pending is 0 ? Timeout.InfiniteTimeSpan : AlertsRetry);
                try
                {
                    await _alertsRaised.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    // Time to try the pending ones again.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped: what is not delivered stays pending.
        }
    }

    /// <summary>How long alerts a failing webhook left pending wait before the stream posts them again.</summary>
    private static readonly TimeSpan AlertsRetry = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits for the next step: a signal from the layer upstream in this process (or, without one for a while, a look anyway: another
    /// process may write that table too), else the poll interval. False once stopped.
    /// </summary>
    private async Task<bool> WaitAsync(Channel<bool>? upstream, CancellationToken stop)
    {
        try
        {
            if (upstream is null)
            {
                await Task.Delay(_options.Poll, stop).ConfigureAwait(false);
                return true;
            }
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(stop);
            tick.CancelAfter(_options.Poll * 5);
            try
            {
                await upstream.Reader.ReadAsync(tick.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // Nothing from upstream for a while: look anyway.
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Adds the events HTTP ingest committed since <paramref name="seen"/> to the pending batch; returns the new count.</summary>
    private long CountHttp(Func<long>? httpEvents, long seen)
    {
        if (httpEvents is null) return seen;
        var now = httpEvents();
        lock (_gate)
        {
            _pendingRows += now - seen;
            _totals["bronze"] += now - seen;
            _httpCounted += now - seen;
        }
        return now;
    }

    private bool BronzeWaiting()
    {
        lock (_gate) return _pendingRows > 0;
    }

    private async Task<TimeSpan> CompactTimedAsync(IEnumerable<string> tables, CancellationToken cancellationToken, IReadOnlySet<string>? leave = null)
    {
        var clock = Stopwatch.StartNew();
        await CompactAsync(tables, cancellationToken, leave).ConfigureAwait(false);
        return clock.Elapsed;
    }

    /// <summary>
    /// The silver files gold (in this process) has not read yet: a compaction leaves them alone, so gold finds its new rows in
    /// files of their own and recomputes only the keys they reach (folded in with older rows, they make it recompute whole days).
    /// Null when gold does not run here or has not run yet, or when the commits are gone from the log: then everything is compacted.
    /// </summary>
    private async Task<IReadOnlySet<string>?> UnreadByGoldAsync(DeltaTable silver, CancellationToken cancellationToken)
    {
        long? consumed;
        lock (_gate) consumed = _goldConsumed;
        if ((_options.Layers & StreamLayers.Gold) == 0 || consumed is not { } after) return null;
        var latest = await silver.LatestVersionAsync(cancellationToken).ConfigureAwait(false);
        if (latest is not { } to || to <= after) return null;
        try
        {
            var changes = await silver.GetChangesAsync(after, to, cancellationToken).ConfigureAwait(false);
            return changes.SelectMany(c => c.Adds).Where(a => a.DataChange).Select(a => a.Path).ToHashSet(StringComparer.Ordinal);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Compacts the small files of <paramref name="tables"/> (lake-relative; missing ones are skipped), leaving the files of
    /// <paramref name="leave"/> as they are.
    /// </summary>
    internal async Task CompactAsync(IEnumerable<string> tables, CancellationToken cancellationToken, IReadOnlySet<string>? leave = null)
    {
        foreach (var relative in tables)
        {
            var table = DeltaTable.Open(_lake.Scope(relative), _engine, _loggerFactory);
            if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) continue;
            try
            {
                var result = await DeltaWriter.Create(table).OptimizeAsync(leave: leave, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (result.Committed)
                {
                    long removed = result.Metric("numRemovedFiles"), added = result.Metric("numAddedFiles");
                    Log.StreamCompacted(_log, relative, result.Version, removed, added);
                }
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
            {
                Log.StreamCompactionSkipped(_log, relative, e.Message);
            }
        }
    }

    private void Emit(SilverRunResult? s, GoldRunResult? g, TimeSpan silverTime, TimeSpan goldTime, TimeSpan compaction, long? bronzeConsumed, long? silverConsumed)
    {
        StreamProgress record;
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var bronzeHere = (_options.Layers & StreamLayers.Bronze) != 0;
            var input = bronzeHere ? _pendingRows : s?.RowsIn ?? g?.RowsNew ?? 0;
            var durations = new Dictionary<string, long>(StringComparer.Ordinal);
            if (bronzeHere && _options.From != "http")
            {
                durations["receive"] = (long)_pendingReceive.TotalMilliseconds;
                durations["bronzeCommit"] = (long)_pendingCommit.TotalMilliseconds;
            }
            if ((_options.Layers & StreamLayers.Silver) != 0) durations["silver"] = (long)silverTime.TotalMilliseconds;
            if ((_options.Layers & StreamLayers.Gold) != 0) durations["gold"] = (long)goldTime.TotalMilliseconds;
            if (compaction > TimeSpan.Zero) durations["compaction"] = (long)compaction.TotalMilliseconds;
            var busy = _pendingReceive + _pendingCommit + silverTime + goldTime + compaction;
            durations["triggerExecution"] = (long)busy.TotalMilliseconds;
            var sources = new List<StreamSourceProgress>();
            if (bronzeHere)
            {
                sources.Add(new StreamSourceProgress(_options.From!, new Dictionary<string, long>(_pendingStart, StringComparer.Ordinal),
                    new Dictionary<string, long>(_pendingEnd, StringComparer.Ordinal), _pendingRows, _sourceLag?.Invoke()));
            }
            else if (s is not null)
            {
                sources.Add(new StreamSourceProgress("bronze." + _options.Dataset, Version(s.BronzeFromVersion), Version(s.BronzeToVersion), s.RowsIn,
                    _bronzeVersion is { } bv ? bv - s.BronzeToVersion : null));
            }
            else if (g is not null)
            {
                sources.Add(new StreamSourceProgress("silver." + _options.Dataset, Version(g.SilverFromVersion), Version(g.SilverToVersion), g.RowsNew,
                    _silverVersion is { } sv ? sv - g.SilverToVersion : null));
            }
            if (s is not null)
            {
                _totals["silverIn"] += s.RowsIn;
                _totals["silver"] += s.RowsOut;
                _totals["quarantined"] += s.Quarantined;
                _totals["duplicates"] += s.Duplicates;
            }
            if (g is not null)
            {
                _totals["goldIn"] += g.RowsNew;
                _totals["goldRead"] += g.RowsIn;
                _totals["alerts"] += g.AlertsNew;
                _totals["lateEvents"] += g.LateEvents;
            }
            var sinceLast = (now - _lastEnd).TotalSeconds;
            record = new StreamProgress
            {
                RunId = RunId,
                Dataset = _options.Dataset,
                Layers = _layersKey,
                BatchId = _batchId++,
                Timestamp = now,
                NumInputRows = input,
                InputRowsPerSecond = sinceLast > 0 ? Math.Round(input / sinceLast, 1) : 0,
                ProcessedRowsPerSecond = busy.TotalSeconds > 0 ? Math.Round(input / busy.TotalSeconds, 1) : 0,
                DurationMs = durations,
                Watermark = (_options.Layers & StreamLayers.Gold) != 0 ? _watermark : null,
                Sources = sources,
                Sink = new StreamSinkProgress(_bronzeVersion, _silverVersion, bronzeConsumed ?? _silverConsumed, silverConsumed ?? _goldConsumed),
                Totals = new Dictionary<string, long>(_totals, StringComparer.Ordinal),
            };
            _lastEnd = now;
            _pendingRows = 0;
            _pendingReceive = _pendingCommit = TimeSpan.Zero;
            _pendingStart.Clear();
            _pendingEnd.Clear();
            _last = record;
            _recent.Enqueue(record);
            while (_recent.Count > _options.Keep) _recent.Dequeue();
        }
        var (batchId, rows, ms) = (record.BatchId, record.NumInputRows, record.DurationMs["triggerExecution"]);
        Log.StreamBatch(_log, batchId, _options.Dataset, rows, ms);
        _persist.Writer.TryWrite(true);
        Progressed?.Invoke(record);
    }

    private static Dictionary<string, long> Version(long version) => new(StringComparer.Ordinal) { ["version"] = version };

    /// <summary>Writes the latest record under <c>_lakehouse/stream</c> whenever there is a new one (at most a few times a second).</summary>
    private async Task PersistLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _persist.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _persist.Reader.TryRead(out _);
                StreamProgress? last;
                lock (_gate) last = _last;
                if (last is not null) await SaveAsync(last).ConfigureAwait(false);
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: RunAsync writes the final record.
        }
    }

    private async Task SaveAsync(StreamProgress record)
    {
        try
        {
            await _lake.PutAsync(ProgressPath, JsonSerializer.SerializeToUtf8Bytes(record, StreamProgress.Json), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is LakehouseException or IOException or UnauthorizedAccessException)
        {
            Log.StreamProgressNotSaved(_log, e.Message);
        }
    }

    /// <summary>
    /// The latest progress of every stream process of the lake (what <c>lakehouse status</c> shows), and the progress files that
    /// hold no progress record (a damaged or hand-edited file), each with its dataset (the file name's first part) and why. Files
    /// are replaced whole, so an unreadable one is not one being written.
    /// </summary>
    internal static async Task<(List<JsonDocument> Saved, List<(string Dataset, string Problem)> Unreadable)> ReadSavedAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var saved = new List<JsonDocument>();
        var unreadable = new List<(string, string)>();
        await foreach (var file in lake.ListAsync(ProgressFolder + "/", cancellationToken).ConfigureAwait(false))
        {
            if (!file.Path.EndsWith(".json", StringComparison.Ordinal)) continue;
            var dataset = Path.GetFileName(file.Path).Split('.')[0];
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(await lake.ReadAsync(file.Path, cancellationToken).ConfigureAwait(false));
            }
            catch (JsonException e)
            {
                unreadable.Add((dataset, $"its stream progress file {file.Path} is not JSON ({e.Message}); the stream writes it again at its next batch."));
                continue;
            }
            if (IsProgressRecord(document.RootElement))
            {
                saved.Add(document);
                continue;
            }
            document.Dispose();
            unreadable.Add((dataset, $"its stream progress file {file.Path} is not a stream's progress record (an object with a dataset and a list of sources); the stream writes it again at its next batch."));
        }
        return (saved, unreadable);
    }

    /// <summary>True for what <see cref="StreamProgress"/> saves, in the parts status reads: an object, its dataset a string, its sources (if any) a list of objects.</summary>
    private static bool IsProgressRecord(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object
        && record.TryGetProperty("dataset", out var dataset) && dataset.ValueKind == JsonValueKind.String
        && (!record.TryGetProperty("sources", out var sources)
            || (sources.ValueKind == JsonValueKind.Array && sources.EnumerateArray().All(s => s.ValueKind == JsonValueKind.Object)));
}
