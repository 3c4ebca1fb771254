using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Threading.Channels;
using Lakehouse.Core;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// Lands the files of a landing folder or container in bronze, each file exactly once. Every commit holds whole files (several
/// small ones, or one big one) and records, as Delta <c>txn</c> actions in the same commit as their rows, each file's listing
/// identity (path, size, etag or mtime) and content identity (path, size, hash of its bytes); a file whose identity the table
/// holds is skipped, so a re-run, a re-delivered storage event or the same file landed again adds nothing, and a crash at any
/// point leaves either the whole file committed or none of it. Files still being written (modified within the settle time, or
/// changed while they were read) are left for a later look; names starting with '.' or '_' and temporary suffixes are ignored.
/// </summary>
/// <remarks>
/// Reading and committing overlap: while one batch is written to bronze (Parquet, zstd), the next is cut into events and staged
/// in DuckDB through the appender. Lines are never parsed as JSON: bronze keeps bytes.
/// </remarks>
public sealed class LandingIngestor
{
    private const int MaxReplans = 5;

    private readonly BronzeTable _table;
    private readonly ILakeStorage _landing;
    private readonly LandingIngestOptions _options;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);

    /// <summary>The files this ingestor committed rows of: a later pass finds them in bronze, and they are not "skipped" then.</summary>
    private readonly HashSet<string> _ingested = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failed = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private readonly Stopwatch _clock = new();
    private long _filesIngested;
    private long _events;
    private long _payloadBytes;
    private long _fileBytes;
    private long _commits;
    private long _pending;
    private long _held;

    /// <summary>An ingestor of the files under <paramref name="landing"/> into <paramref name="table"/>.</summary>
    public LandingIngestor(BronzeTable table, ILakeStorage landing, LandingIngestOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(landing);
        _table = table;
        _landing = landing;
        _options = options ?? new LandingIngestOptions();
        _log = (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger<LandingIngestor>();
    }

    /// <summary>Called after each commit and each look at the landing zone, with the totals so far.</summary>
    public event Action<LandingIngestProgress>? Progress;

    /// <summary>
    /// Ingests what is there (waiting up to <see cref="LandingIngestOptions.MaxSettleWait"/> for files still being written), or with
    /// <see cref="LandingIngestOptions.Follow"/> looks again every poll interval until cancelled. Cancellation ends with
    /// <see cref="OperationCanceledException"/>; what was committed stays, what was not is ingested by the next run.
    /// Files that cannot be ingested do not stop the others: they are counted and described in <see cref="LandingIngestProgress.Problems"/>.
    /// </summary>
    public async Task<LandingIngestProgress> RunAsync(CancellationToken cancellationToken = default)
    {
        _clock.Restart();
        while (true)
        {
            var settlesIn = await PollAsync(cancellationToken).ConfigureAwait(false);
            Progress?.Invoke(Snapshot());
            if (_options.Follow)
            {
                await Task.Delay(_options.PollInterval, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (settlesIn is not { } wait || _clock.Elapsed >= _options.MaxSettleWait) return Snapshot();
            var left = _options.MaxSettleWait - _clock.Elapsed;
            await Task.Delay(wait < left ? wait : left, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One look: lists the landing zone and ingests the files that are new and settled. Returns when the next pending file settles.</summary>
    private async Task<TimeSpan?> PollAsync(CancellationToken cancellationToken)
    {
        var known = new ConcurrentDictionary<string, long>(await _table.PositionsAsync(LandingFileIdentity.AppIdPrefix, cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        var candidates = new List<(LandingFileIdentity Identity, LandingKind Kind)>();
        TimeSpan? settlesIn = null;
        long pending = 0, listed = 0;
        await foreach (var file in _landing.ListAsync(_options.File ?? "", cancellationToken).ConfigureAwait(false))
        {
            if (_options.File is { } only && !string.Equals(file.Path, LakePath.Normalize(only), StringComparison.Ordinal)) continue;
            if (_options.File is null && LandingKinds.IsIgnored(file.Path)) continue; // A file named on its own is taken whatever its name.
            listed++;
            var identity = LandingFileIdentity.Of(_landing, file);
            if (known.ContainsKey(identity.AppId))
            {
                lock (_gate)
                {
                    if (!_ingested.Contains(identity.AppId)) _skipped.Add(identity.AppId);
                }
                continue;
            }
            lock (_gate)
            {
                if (_failed.ContainsKey(identity.AppId)) continue;
            }
            if (LandingKinds.Of(file.Path, _options.Format) is not { } kind)
            {
                Fail(identity, $"its extension is not one of the landing formats ({string.Join(" ", LandingKinds.Extensions.Select(e => e.Extension))}, each also as .gz or .zst, except .avro); " +
                    "give --format to say what it holds");
                continue;
            }
            var age = now - file.LastModified;
            if (age < _options.SettleTime)
            {
                pending++;
                var left = _options.SettleTime - age;
                settlesIn = settlesIn is { } s && s < left ? s : left;
                continue;
            }
            candidates.Add((identity, kind));
        }
        if (_options.File is { } single && listed == 0)
        {
            // A FIFO, device or socket is not listed (reading one blocks or never ends): say so rather than that it is missing.
            var there = _landing.LocalPathOrNull(single) is { } local && File.Exists(local);
            throw new LakehouseException(there ? LakehouseErrorReason.InvalidInput : LakehouseErrorReason.NotFound, there
                ? $"The landing file '{single}' in {_landing.Location} is not a regular file (a FIFO, device or socket); only regular files are ingested."
                : $"The landing file '{single}' does not exist in {_landing.Location}.");
        }
        int skipped;
        lock (_gate) skipped = _skipped.Count;
        Log.LandingPoll(_log, _landing.Location, candidates.Count, skipped, pending);
        var changed = candidates.Count == 0 ? 0 : await IngestAsync(candidates, known, new LandingVersions(known), cancellationToken).ConfigureAwait(false);
        if (changed > 0) settlesIn = settlesIn is { } s2 && s2 < _options.SettleTime ? s2 : _options.SettleTime;
        Interlocked.Exchange(ref _pending, pending + changed);
        return settlesIn;
    }

    /// <summary>Cuts the candidates into batches and commits them, reading the next batch while the previous one is committed. Returns how many files changed while they were read.</summary>
    private async Task<long> IngestAsync(List<(LandingFileIdentity Identity, LandingKind Kind)> candidates, ConcurrentDictionary<string, long> known, LandingVersions versions,
        CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<LandingStage>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long changed = 0;

        async Task ProduceAsync()
        {
            await Task.Yield(); // Run beside the committer from here on.
            LandingStage? stage = null;
            try
            {
                foreach (var (identity, kind) in candidates)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    stage ??= new LandingStage(_table);
                    if (!await StageFileAsync(stage, identity, kind, known, versions, stop.Token).ConfigureAwait(false)) Interlocked.Increment(ref changed);
                    if (stage.Files.Count >= _options.MaxBatchFiles || stage.Events >= _options.MaxBatchEvents || stage.PayloadBytes >= _options.MaxBatchBytes)
                    {
                        stage.Seal();
                        await channel.Writer.WriteAsync(stage, stop.Token).ConfigureAwait(false);
                        stage = null;
                    }
                }
                if (stage is { Files.Count: > 0 })
                {
                    stage.Seal();
                    await channel.Writer.WriteAsync(stage, stop.Token).ConfigureAwait(false);
                    stage = null;
                }
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
                throw;
            }
            finally
            {
                stage?.Dispose();
            }
        }

        async Task CommitAllAsync()
        {
            try
            {
                await foreach (var stage in channel.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                {
                    using (stage) Interlocked.Add(ref changed, await CommitAsync(stage, known, stop.Token).ConfigureAwait(false));
                }
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            await Task.WhenAll(ProduceAsync(), CommitAllAsync()).ConfigureAwait(false);
        }
        finally
        {
            while (channel.Reader.TryRead(out var left)) left.Dispose();
        }
        return changed;
    }

    /// <summary>
    /// Reads one file into the stage. Returns false when the file changed while it was read (it is left for a later look); a file
    /// that cannot be read is recorded as failed; a file whose content bronze already holds adds only its listing identity; a file
    /// that rewrites an earlier one (see <see cref="LandingVersions"/>) is labelled with its generation.
    /// </summary>
    private async Task<bool> StageFileAsync(LandingStage stage, LandingFileIdentity identity, LandingKind kind, ConcurrentDictionary<string, long> known, LandingVersions versions,
        CancellationToken cancellationToken)
    {
        string local;
        try
        {
            local = await _landing.GetLocalCopyAsync(identity.Path, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            return true; // Deleted since it was listed: nothing to ingest.
        }
        var capture = kind.Format == LandingFormat.Capture;
        CaptureOrigin? origin = null;
        if (capture)
        {
            var (resolved, problem) = CaptureOrigin.Resolve(identity.Location, _options.CaptureHub);
            if (problem is not null)
            {
                Fail(identity, problem);
                return true;
            }
            if (resolved is null) Log.CaptureNotReconciled(_log, identity.Location);
            origin = resolved;
        }
        UInt128 hash;
        long generation = 1;
        try
        {
            var prefixSizes = capture ? [] : versions.PrefixSizes(identity.Location);
            (hash, var prefixes) = await HashAsync(local, prefixSizes, cancellationToken).ConfigureAwait(false);
            if (!capture) generation = versions.Generation(identity.Location, prefixes);
        }
        catch (IOException e)
        {
            Fail(identity, Describe(e));
            return true;
        }
        var file = stage.Add(identity, capture ? SourceKinds.Capture : SourceKinds.File,
            capture ? origin?.Partition ?? CaptureReader.PartitionOf(identity.Path) : LandingVersions.Partition(generation));
        file.Origin = origin;
        file.AppIds.Add(identity.AppId);
        try
        {
            var contentId = identity.ContentAppId(hash);
            if (!known.ContainsKey(contentId))
            {
                file.AppIds.Add(contentId);
                file.ContentId = contentId;
                file.Generation = generation;
                if (!capture) file.LocationGuard = known.GetValueOrDefault(LandingVersions.GuardId(identity.Location), -1);
                file.HasRows = true;
                await ReadAsync(stage, file, local, kind, cancellationToken).ConfigureAwait(false);
                if (origin is not null && await ReconcileAsync(stage, file, cancellationToken).ConfigureAwait(false) is { } refusal)
                {
                    stage.Remove(file);
                    if (refusal.Length == 0) return false; // overlaps a file of this batch: left for the next look
                    Fail(identity, refusal);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or ZstdException or IOException && e is not OperationCanceledException)
        {
            stage.Remove(file);
            Fail(identity, Describe(e));
            return true;
        }
        var now = await _landing.GetInfoAsync(identity.Path, cancellationToken).ConfigureAwait(false);
        if (identity.SameVersion(now)) return true;
        stage.Remove(file);
        Log.ChangedWhileRead(_log, identity.Location);
        return false;
    }

    /// <summary>Cuts a file into events and appends them to the stage.</summary>
    private static async Task ReadAsync(LandingStage stage, StagedFile file, string local, LandingKind kind, CancellationToken cancellationToken)
    {
        var stream = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            var gzip = kind.Compression == LandingCompression.Gzip ? DecodedStream.Open(stream, "gzip") : null;
            Stream input = kind.Compression switch
            {
                LandingCompression.Gzip => gzip!,
                LandingCompression.Zstd => new DecompressionStream(stream, leaveOpen: true),
                _ => stream,
            };
            await using (input.ConfigureAwait(false))
            {
                if (kind.Format == LandingFormat.Capture)
                {
                    CaptureReader.Read(input, (body, sequence, record, enqueued, key) => stage.AddCaptured(file, body, sequence, record, enqueued, key), cancellationToken);
                    gzip?.Verify();
                    return;
                }
                RawEventHandler add = (payload, offset, number) => stage.AddLine(file, payload, offset, number);
                IRawCutter cutter = kind.Format switch
                {
                    LandingFormat.Json => new JsonAutoCutter(add),
                    LandingFormat.JsonArray => new JsonArrayCutter(add),
                    LandingFormat.Csv => new CsvCutter((byte)',', add),
                    LandingFormat.Tsv => new CsvCutter((byte)'\t', add),
                    _ => new LineCutter(add),
                };
                await BlockReader.FeedAsync(input, cutter, cancellationToken).ConfigureAwait(false);
                gzip?.Verify();
            }
        }
    }

    /// <summary>
    /// Takes out of the stage the records of a Capture file that bronze already holds: those of the live stream of the same hub
    /// (an anti-join against bronze's rows of that hub and partition, within the file's sequence range) and those of Capture
    /// files landed before (their runs, from the Delta log). Returns null when the file stays in the batch, "" when it overlaps
    /// another Capture file of the same batch (it waits for the next look), or why it is refused.
    /// </summary>
    private async Task<string?> ReconcileAsync(LandingStage stage, StagedFile file, CancellationToken cancellationToken)
    {
        var origin = file.Origin!;
        file.Runs = HubPositions.Runs(file.Sequences);
        file.Sequences.Clear();
        file.Sequences.TrimExcess();
        if (file.Runs.Count == 0) return null;
        var hub = HubPositions.Normal(origin.Hub);
        foreach (var other in stage.Files)
        {
            if (other == file || other.Origin is not { } o || HubPositions.Normal(o.Hub) != hub || o.Partition != origin.Partition) continue;
            if (other.Runs.Any(r => file.Runs.Any(f => f.First <= r.Last && r.First <= f.Last))) return "";
        }
        if (!stage.SnapshotLoaded)
        {
            stage.Snapshot = await _table.Table.ExistsAsync(cancellationToken).ConfigureAwait(false)
                ? await _table.Table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
                : null;
            stage.SnapshotLoaded = true;
        }
        // A Capture file of another hub than the one(s) bronze holds is most likely a mistake (the wrong folder): refused, unless
        // --capture-hub says which hub the files are.
        var hubs = HubPositions.KnownHubs(stage.Snapshot);
        if (_options.CaptureHub is null && hubs.Count > 0 && !hubs.Contains(origin.Hub))
        {
            return $"it is a Capture file of event hub '{origin.Hub}' (partition {origin.Partition}, from its path), but bronze holds event hub " +
                $"{string.Join(", ", hubs.Order(StringComparer.OrdinalIgnoreCase).Select(h => $"'{h}'"))} (read live or from Capture files); give --capture-hub <hub> " +
                "to land it as that hub's file";
        }
        await RemoveHeldAsync(stage, file, stage.Snapshot, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Takes the records of <paramref name="file"/> that <paramref name="snapshot"/> holds out of the stage, and notes the guard it read.</summary>
    private async Task RemoveHeldAsync(LandingStage stage, StagedFile file, Lakehouse.Delta.DeltaSnapshot? snapshot, CancellationToken cancellationToken)
    {
        var origin = file.Origin!;
        var partition = origin.Partition;
        var held = HubPositions.Of(snapshot, origin.Hub, partition,
            StreamIngestor.AppId(SourceKinds.EventHubs, origin.Hub, partition), StreamIngestor.AppId(SourceKinds.Kafka, origin.Hub, partition));
        long first = file.Runs[0].First, last = file.Runs[^1].Last;
        var key = (HubPositions.Normal(origin.Hub), partition);
        stage.CaptureGuards[key] = held.CaptureGuard;
        // Checked against the live stream only when the file reaches its position: below it, the live consumer commits nothing again.
        if (held.Live is not { } livePosition || last >= livePosition) stage.Guards[key] = held.Guard;
        var byCapture = held.Captured.Where(r => r.First <= last && first <= r.Last).ToList();
        var byLive = held.Live is { } next && next > first;
        if (snapshot is null || (byCapture.Count == 0 && !byLive)) return;
        string Text(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (rows, bytes) = await stage.Rows.WithConnectionAsync(async connection =>
        {
            var conditions = byCapture.Select(r => $"source_offset BETWEEN {Text(r.First)} AND {Text(r.Last)}").ToList();
            DeltaScan? scan = null;
            try
            {
                if (byLive)
                {
                    // The anti-join with the live rows: only this hub's partition, only the file's sequence range (and below the live position).
                    scan = await DeltaScan.CreateAsync(_table.Table, snapshot, connection, cancellationToken: cancellationToken).ConfigureAwait(false);
                    var upTo = Math.Min(last, held.Live!.Value - 1);
                    conditions.Add($"source_offset IN (SELECT source_offset FROM ({scan.Sql}) WHERE source_kind IN ('{SourceKinds.EventHubs}', '{SourceKinds.Kafka}') " +
                        $"AND lower(source) = {SqlText.Literal(HubPositions.Normal(origin.Hub))} AND source_partition = {SqlText.Literal(partition)} " +
                        $"AND source_offset BETWEEN {Text(first)} AND {Text(upTo)})");
                }
                return stage.Rows.RemoveRows(connection, file.Source, string.Join(" OR ", conditions));
            }
            finally
            {
                scan?.Dispose();
            }
        }).ConfigureAwait(false);
        file.Events -= rows;
        file.PayloadBytes -= bytes;
        file.Held += rows;
        Log.CaptureRecordsHeld(_log, file.Identity.Location, origin.Hub, partition, first, last, file.Held, file.Events + file.Held);
    }

    /// <summary>XxHash128 of a file's bytes as stored, and of its first bytes at each of <paramref name="prefixSizes"/> (ascending) within its size.</summary>
    private static async Task<(UInt128 Hash, Dictionary<long, UInt128> Prefixes)> HashAsync(string local, IReadOnlyList<long> prefixSizes, CancellationToken cancellationToken)
    {
        var hash = new XxHash128();
        var prefixes = new Dictionary<long, UInt128>();
        var next = 0;
        long hashed = 0;
        void TakePrefixes()
        {
            for (; next < prefixSizes.Count && prefixSizes[next] == hashed; next++) prefixes[hashed] = hash.GetCurrentHashAsUInt128();
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var stream = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            await using (stream.ConfigureAwait(false))
            {
                TakePrefixes();
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    for (var span = buffer.AsSpan(0, read); span.Length > 0;)
                    {
                        var take = next < prefixSizes.Count ? (int)Math.Min(span.Length, prefixSizes[next] - hashed) : span.Length;
                        hash.Append(span[..take]);
                        hashed += take;
                        span = span[take..];
                        TakePrefixes();
                    }
                }
            }
            return (hash.GetCurrentHashAsUInt128(), prefixes);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Commits a batch with its files' identities. When another ingest committed some of the same files meanwhile (Conflict), the
    /// table's identities are read again, those files are taken out of the batch, and the rest is committed. Returns how many files
    /// were taken out to be looked at again (another ingest landed another version of their location meanwhile).
    /// </summary>
    private async Task<int> CommitAsync(LandingStage stage, ConcurrentDictionary<string, long> known, CancellationToken cancellationToken)
    {
        var left = 0;
        for (var attempt = 1; ; attempt++)
        {
            if (stage.Files.Count == 0) return left;
            var positions = stage.Files.SelectMany(f => f.AppIds.Select(id => new DeltaAppTransaction(id, id == f.ContentId ? f.Generation : 1))).ToList();
            positions.AddRange(stage.Files.Where(f => f.LocationGuard is not null)
                .Select(f => new DeltaAppTransaction(LandingVersions.GuardId(f.Identity.Location), f.LocationGuard!.Value + 1) { Previous = f.LocationGuard, IsGuard = true }));
            positions.AddRange(CapturePositions(stage));
            try
            {
                var result = await stage.CommitAsync(_table, positions, cancellationToken).ConfigureAwait(false);
                var rows = result.Metric("numOutputRows");
                foreach (var p in positions) known[p.AppId] = p.Version;
                lock (_gate)
                {
                    foreach (var f in stage.Files)
                    {
                        if (!result.Committed || !f.HasRows) _skipped.Add(f.Identity.AppId);
                    }
                    if (result.Committed)
                    {
                        foreach (var f in stage.Files.Where(f => f.HasRows)) _ingested.Add(f.Identity.AppId);
                        _filesIngested += stage.Files.Count(f => f.HasRows);
                        _events += rows;
                        _payloadBytes += stage.PayloadBytes;
                        _held += stage.Files.Sum(f => f.Held);
                        _fileBytes += stage.Files.Where(f => f.HasRows).Sum(f => f.Identity.Size);
                        _commits++;
                    }
                }
                if (result.Committed) Log.LandingCommitted(_log, stage.Files.Count, rows, result.Version);
                Progress?.Invoke(Snapshot());
                return left;
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict && attempt < MaxReplans)
            {
                Log.LandingConflict(_log, stage.Files.Count, e.Message);
                var held = await _table.PositionsAsync(LandingFileIdentity.AppIdPrefix, cancellationToken).ConfigureAwait(false);
                foreach (var f in stage.Files.ToList())
                {
                    if (f.AppIds.Any(held.ContainsKey))
                    {
                        stage.Remove(f);
                        lock (_gate) _skipped.Add(f.Identity.AppId);
                    }
                    else if (f.LocationGuard is { } guard && held.GetValueOrDefault(LandingVersions.GuardId(f.Identity.Location), -1) != guard)
                    {
                        // Another version of the location was landed since this one was read: its generation may be taken. The file
                        // is looked at again (what it holds now); the version read here, no longer there, is not landed.
                        stage.Remove(f);
                        left++;
                        Log.ChangedWhileRead(_log, f.Identity.Location);
                    }
                }
                if (stage.Files.Any(f => f.Origin is not null && f.Runs.Count > 0))
                {
                    // The live stream or another landing committed on the same hub partitions: check the records against bronze again.
                    Log.CaptureReplanned(_log);
                    var snapshot = await _table.Table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    stage.Guards.Clear();
                    stage.CaptureGuards.Clear();
                    foreach (var f in stage.Files.Where(f => f.Origin is not null && f.Runs.Count > 0))
                        await RemoveHeldAsync(stage, f, snapshot, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// The txn actions of the batch's reconciled Capture files: each run of sequence numbers they hold (bronze holds them now),
    /// and the guard of each hub partition moved by one from the value their reconciliation read.
    /// </summary>
    private static IEnumerable<DeltaAppTransaction> CapturePositions(LandingStage stage)
    {
        foreach (var f in stage.Files)
        {
            if (f.Origin is not { } origin || f.ContentId is not { } content) continue;
            foreach (var (first, last) in f.Runs)
                yield return new DeltaAppTransaction(HubPositions.CaptureRunId(origin.Hub, origin.Partition, first, content[LandingFileIdentity.AppIdPrefix.Length..]), last + 1);
        }
        bool Staged(string hub, string partition) => stage.Files.Any(f => f.Origin is { } o && f.Runs.Count > 0 && HubPositions.Normal(o.Hub) == hub && o.Partition == partition);
        foreach (var ((hub, partition), guard) in stage.CaptureGuards)
        {
            if (Staged(hub, partition)) yield return new DeltaAppTransaction(HubPositions.CaptureGuardId(hub, partition), guard + 1) { Previous = guard };
        }
        foreach (var ((hub, partition), guard) in stage.Guards)
        {
            if (Staged(hub, partition)) yield return new DeltaAppTransaction(HubPositions.GuardId(hub, partition), guard + 1) { Previous = guard };
        }
    }

    private void Fail(LandingFileIdentity identity, string reason)
    {
        lock (_gate)
        {
            if (!_failed.TryAdd(identity.AppId, reason)) return;
            _problems.Add($"{identity.Location}: {reason}");
        }
        // Following, the log is where a failure shows; otherwise the run's result lists it.
        Log.LandingFileFailed(_log, _options.Follow ? LogLevel.Warning : LogLevel.Debug, identity.Location, reason);
    }

    private static string Describe(Exception e) => e switch
    {
        InvalidDataException when e.Message.StartsWith("it ", StringComparison.Ordinal) || e.Message.StartsWith("record ", StringComparison.Ordinal) => e.Message,
        // ZstdSharp's words alone ("Unknown frame descriptor") did not say the file is not zstd, or a damaged one.
        ZstdException => $"it cannot be read: it is not zstd data, or zstd data that is damaged ({e.Message})",
        _ => $"it cannot be read: {e.Message}",
    };

    private LandingIngestProgress Snapshot()
    {
        lock (_gate)
        {
            return new LandingIngestProgress(_filesIngested, _skipped.Count, Interlocked.Read(ref _pending), _failed.Count, _events, _payloadBytes, _fileBytes, _commits,
                _clock.Elapsed, [.. _problems])
            { EventsAlreadyHeld = _held };
        }
    }
}
