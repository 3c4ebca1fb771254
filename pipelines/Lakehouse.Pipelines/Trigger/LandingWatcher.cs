using System.Text.Json.Nodes;
using Lakehouse.Bronze.Landing;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Pipelines.Trigger;

/// <summary>Settings of <see cref="LandingWatcher"/>; validated when set.</summary>
public sealed class LandingWatchOptions
{
    private TimeSpan _settle = TimeSpan.FromSeconds(5);
    private TimeSpan _scan = TimeSpan.FromSeconds(1);

    /// <summary>How long the new files' size and modification time must stay the same before their batch starts a run. 0 to 1 hour; default 5 s.</summary>
    public TimeSpan SettleTime
    {
        get => _settle;
        set => _settle = value >= TimeSpan.Zero && value <= TimeSpan.FromHours(1) ? value : throw new ArgumentOutOfRangeException(nameof(SettleTime), value, "the settle time must be 0 to 1 hour");
    }

    /// <summary>How often the folder is listed in full (file system events are only a hint: watchers drop them). 10 ms to 1 minute; default 1 s.</summary>
    public TimeSpan ScanInterval
    {
        get => _scan;
        set => _scan = value >= TimeSpan.FromMilliseconds(10) && value <= TimeSpan.FromMinutes(1) ? value : throw new ArgumentOutOfRangeException(nameof(ScanInterval), value, "the scan interval must be 10 ms to 1 minute");
    }

    /// <summary>The container the landing folder stands for (the first segment of <c>folderPath</c>); null for the folder's own name.</summary>
    public string? Container { get; set; }

    /// <summary>Pipeline parameters of every run besides the trigger's (<c>--param k=v</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; set; } = [];

    /// <summary>Handle the files there now (one run, or one per 256 files), and return.</summary>
    public bool Once { get; set; }

    /// <summary>The log of the watch.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
}

/// <summary>
/// The local storage-event trigger: watches a landing folder (a <see cref="FileSystemWatcher"/> as a hint, and a full listing every
/// <see cref="LandingWatchOptions.ScanInterval"/>, since watchers drop events), waits until the batch of new files has settled (every
/// file's size and modification time unchanged for <see cref="LandingWatchOptions.SettleTime"/>; names the bronze landing ingest skips
/// as temporary are skipped here too), claims each file in the state store's landed-file ledger, and starts one pipeline run for the
/// files of the batch it claimed, with a BlobEventsTrigger body. A file already claimed (same path, size and modification time), in this
/// process or before a restart, starts nothing. Runs are started one at a time.
/// </summary>
public sealed class LandingWatcher : IDisposable
{
    /// <summary>The most files one run is started for.</summary>
    internal const int MaxBatchFiles = 256;

    private readonly string _root;
    private readonly string _container;
    private readonly BlobEventsTriggerDefinition _trigger;
    private readonly IPipelineStateStore _store;
    private readonly IPipelineLauncher _launcher;
    private readonly LandingWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Dictionary<string, Observation> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<(string Path, long Size, DateTimeOffset ModifiedAt)> _handled = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Runner.PipelineDefinition _pipeline;

    internal LandingWatcher(string landingRoot, BlobEventsTriggerDefinition trigger, IPipelineStateStore store, IPipelineLauncher launcher, LandingWatchOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(landingRoot);
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _root = Path.GetFullPath(landingRoot);
        if (!Directory.Exists(_root)) throw new LakehouseException(LakehouseErrorReason.NotFound, $"the landing folder {landingRoot} does not exist");
        _container = options.Container ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(_root));
        if (_container.Length == 0 || _container.Contains('/', StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{_container}' cannot be a container name: give --container");
        var clash = options.Parameters.FirstOrDefault(p => trigger.ParameterNames.Contains(p.Key, StringComparer.OrdinalIgnoreCase)).Key;
        if (clash is not null)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"--param {clash}: the trigger '{trigger.Name}' sets '{clash}' from each event; it cannot be given too");
        // The pipeline is checked before any file is claimed: a run refused for a mistyped parameter would leave its files claimed.
        var pipeline = Runner.PipelineDefinition.Load(trigger.PipelineFile);
        var unknown = options.Parameters.FirstOrDefault(p => !pipeline.Parameters.Keys.Contains(p.Key, StringComparer.OrdinalIgnoreCase)).Key;
        if (unknown is not null)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"--param {unknown}: the pipeline '{pipeline.Name}' has no parameter '{unknown}' (it declares {(pipeline.Parameters.Count == 0 ? "none" : string.Join(", ", pipeline.Parameters.Keys))}); no file was claimed");
        (_trigger, _store, _launcher, _options, _time, _pipeline) = (trigger, store, launcher, options, time ?? TimeProvider.System, pipeline);
        _log = options.LoggerFactory.CreateLogger<LandingWatcher>();
    }

    /// <summary>
    /// A watcher that starts each run as <c>&lt;program&gt; &lt;leading…&gt; pipeline run &lt;file&gt; --trigger-body '&lt;json&gt;' --param k=v … &lt;trailing…&gt;</c>,
    /// a child process (the <c>lakehouse</c> executable itself).
    /// </summary>
    public static LandingWatcher Create(string landingRoot, BlobEventsTriggerDefinition trigger, IPipelineStateStore store, LandingWatchOptions options,
        string program, IReadOnlyList<string> leadingArguments, IReadOnlyList<string> trailingArguments) =>
        new(landingRoot, trigger, store, new ProcessPipelineLauncher(program, leadingArguments, trailingArguments), options);

    private sealed record Observation(long Size, DateTimeOffset ModifiedAt, DateTimeOffset Since);

    /// <summary>Watches until cancelled (or, with <see cref="LandingWatchOptions.Once"/>, until the files there now are handled).</summary>
    /// <returns>The number of runs that failed (exit code not 0).</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        using var watcher = _options.Once ? null : StartWatcher();
        TriggerLog.Watching(_log, _root, _container, _trigger.PipelineFile, _options.SettleTime.TotalSeconds);
        var failed = await ResumeInterruptedAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var outcome = await StepAsync(cancellationToken).ConfigureAwait(false);
            if (outcome is { } exitCode && exitCode != 0) failed++;
            if (_options.Once && _pending.Count == 0) return failed;
            if (outcome is not null && _pending.Count > 0) continue; // the rest of a bounded batch, settled already
            await _wake.WaitAsync(_options.ScanInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Resumes, oldest first, the runs of this pipeline that a watch over this container started and that did not finish: cancelled
    /// (the watch was stopped by Ctrl+C or SIGTERM, which stops its run too) or in progress with their process gone (killed). Their
    /// files are claimed, so a new look at the folder starts nothing for them: without this they never ran to the end.
    /// </summary>
    /// <returns>The number of resumed runs that failed.</returns>
    internal async Task<int> ResumeInterruptedAsync(CancellationToken cancellationToken)
    {
        var failed = 0;
        var pipelineFile = Path.GetFullPath(_trigger.PipelineFile);
        foreach (var run in (await _store.ListRunsAsync(_pipeline.Name, 100, cancellationToken).ConfigureAwait(false)).Reverse())
        {
            if (run.Status is not (RunStatus.InProgress or RunStatus.Queued or RunStatus.Cancelled)) continue;
            Runner.RunEnvelope envelope;
            try
            {
                envelope = Runner.RunEnvelope.Parse(run.ParametersJson);
            }
            catch (LakehouseException)
            {
                continue; // recorded by something else than the local runner
            }

            if (envelope.ParentRunId is not null || envelope.File != pipelineFile || !StartedByWatch(envelope.TriggerBody)) continue;
            if (run.Status is not RunStatus.Cancelled && envelope.RunnerAlive()) continue; // another process runs it
            TriggerLog.Resuming(_log, run.RunId, run.Status);
            var launch = new PipelineLaunch(envelope.File, envelope.TriggerBody!.ToJsonString(), [], run.RunId, run.RunId)
            {
                SecureParameters = Secure(Parameters((JsonObject)envelope.TriggerBody, run.StartedAt)),
            };
            var exitCode = await _launcher.LaunchAsync(launch, cancellationToken).ConfigureAwait(false);
            TriggerLog.RunEnded(_log, run.RunId, exitCode);
            if (exitCode != 0) failed++;
        }

        return failed;
    }

    /// <summary>Whether a run's trigger body is one a watch over this container made: its <c>files</c> (local only) are all in the container.</summary>
    private bool StartedByWatch(JsonNode? body) =>
        body is JsonObject { } o && o["files"] is JsonArray { Count: > 0 } files
        && files.All(f => f is JsonValue v && v.TryGetValue<string>(out var path) && path.StartsWith(_container + "/", StringComparison.Ordinal));

    /// <summary>
    /// One look at the folder: records what changed; when every new file has settled, claims them and starts one run for those claimed.
    /// </summary>
    /// <returns>The run's exit code when one was started, else null.</returns>
    internal async Task<int?> StepAsync(CancellationToken cancellationToken)
    {
        // The clock is read after the scan: a write the scan saw happened by then, so its settle time is never cut short by a
        // scan that was slow (a large folder, a loaded machine) between reading the clock and looking at the file.
        var files = Scan().ToList();
        var now = _time.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            seen.Add(file.Path);
            var key = (file.Path, file.Size, file.ModifiedAt);
            if (_handled.Contains(key)) continue;
            if (!_pending.TryGetValue(file.Path, out var o) || o.Size != file.Size || o.ModifiedAt != file.ModifiedAt)
            {
                _pending[file.Path] = new Observation(file.Size, file.ModifiedAt, now);
            }
        }

        foreach (var gone in _pending.Keys.Where(p => !seen.Contains(p)).ToList()) _pending.Remove(gone);
        if (_pending.Count == 0) return null;
        var unsettled = _pending.Count(p => now - p.Value.Since < _options.SettleTime);
        if (unsettled > 0)
        {
            TriggerLog.Settling(_log, _pending.Count, unsettled);
            return null;
        }

        // A batch is bounded so its trigger body fits on a command line (Linux allows 128 KiB per argument); the rest of the
        // settled files make the next batch, started right after this one.
        var batch = _pending.OrderBy(p => p.Key, StringComparer.Ordinal).Take(MaxBatchFiles).Select(p => (Path: p.Key, p.Value.Size, p.Value.ModifiedAt)).ToList();
        foreach (var (path, _, _) in batch) _pending.Remove(path);
        var fresh = new List<(string Path, long Size, DateTimeOffset ModifiedAt)>();
        foreach (var file in batch)
        {
            _handled.Add(file);
            try
            {
                if (await _store.TryGetClaimAsync(new LandedFile(file.Path, file.Size, file.ModifiedAt), cancellationToken).ConfigureAwait(false) is { } before)
                    TriggerLog.SeenBefore(_log, file.Path, before.RunId);
                else
                    fresh.Add(file);
            }
            catch (ArgumentException e)
            {
                // A name the state store cannot key on (a line break or another control character in it): this file is left out,
                // and the watch goes on with the others.
                TriggerLog.Unclaimable(_log, State.StateKeys.Display(file.Path), e.Message);
            }
        }

        if (fresh.Count == 0) return null;
        // The run is recorded (Queued) before its files are claimed, and the claims name it: a watch that dies from here on leaves a
        // queued run, which the next watch starts (ResumeInterruptedAsync), never claims that no run will take.
        var runId = Guid.NewGuid().ToString("D");
        var body = TriggerBody([.. fresh.Select(f => f.Path)]);
        var run = await _store.CreateRunAsync(Queued(runId, body, now), cancellationToken).ConfigureAwait(false);
        var claimed = new List<string>();
        foreach (var (path, size, modifiedAt) in fresh)
        {
            var claim = await _store.ClaimFileAsync(new LandedFile(path, size, modifiedAt), runId, cancellationToken).ConfigureAwait(false);
            if (claim.Claimed) claimed.Add(path);
            else TriggerLog.SeenBefore(_log, path, claim.RunId);
        }

        if (claimed.Count == 0)
        {
            // Another watch claimed them all since they were looked up: this run has nothing to do.
            await _store.UpdateRunAsync(run with { Status = RunStatus.Skipped, EndedAt = _time.GetUtcNow(), Error = "its files were claimed by another run" }, cancellationToken)
                .ConfigureAwait(false);
            return null;
        }

        if (claimed.Count < fresh.Count)
        {
            body = TriggerBody(claimed);
            run = await _store.UpdateRunAsync(run with { ParametersJson = Queued(runId, body, now).ParametersJson }, cancellationToken).ConfigureAwait(false);
        }

        var parameters = Parameters(body, now);
        var launch = new PipelineLaunch(_trigger.PipelineFile, body.ToJsonString(), parameters, runId, runId) { SecureParameters = Secure(parameters) };
        TriggerLog.Starting(_log, claimed.Count, (string?)body["folderPath"] ?? "", runId);
        var exitCode = await _launcher.LaunchAsync(launch, cancellationToken).ConfigureAwait(false);
        TriggerLog.RunEnded(_log, runId, exitCode);
        return exitCode;
    }

    /// <summary>The pipeline parameters of a run: the trigger's, from its body, and the watch's own.</summary>
    private List<KeyValuePair<string, string>> Parameters(JsonObject body, DateTimeOffset now) => [.. _trigger.Parameters(body, now), .. _options.Parameters];

    /// <summary>The SecureString ones of a run's parameters: the run record keeps them masked, so its start (a resume) is given them again.</summary>
    private List<KeyValuePair<string, string>> Secure(List<KeyValuePair<string, string>> parameters) =>
        [.. parameters.Where(p => Runner.SecureValues.IsSecure(_pipeline, p.Key))];

    private PipelineRunRecord Queued(string runId, JsonObject body, DateTimeOffset now) =>
        Runner.PipelineRunner.Queued(runId, _pipeline, Parameters(body, now).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase), body, now);

    /// <summary>
    /// The BlobEventsTrigger body of a batch: <c>folderPath</c> is <c>container/folder</c> (no leading slash) of the batch's folder (the
    /// deepest folder holding all of its files), <c>fileName</c> the file's name when the batch is one file, else empty; <c>files</c>
    /// (local only) lists every file as <c>container/path</c>.
    /// </summary>
    internal JsonObject TriggerBody(IReadOnlyList<string> paths)
    {
        var relative = paths.Select(p => Path.GetRelativePath(_root, p).Replace(Path.DirectorySeparatorChar, '/')).ToList();
        var folders = relative.Select(r => r.Contains('/', StringComparison.Ordinal) ? r[..r.LastIndexOf('/')] : "").ToList();
        var common = folders[0].Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var f in folders.Skip(1))
        {
            var parts = f.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var n = 0;
            while (n < common.Count && n < parts.Length && common[n] == parts[n]) n++;
            common.RemoveRange(n, common.Count - n);
        }

        return new JsonObject
        {
            ["folderPath"] = string.Join('/', common.Prepend(_container)),
            ["fileName"] = relative.Count == 1 ? relative[0][(relative[0].LastIndexOf('/') + 1)..] : "",
            ["files"] = new JsonArray([.. relative.Select(r => (JsonNode)JsonValue.Create(_container + "/" + r))]),
        };
    }

    private IEnumerable<(string Path, long Size, DateTimeOffset ModifiedAt)> Scan()
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var info in new DirectoryInfo(_root).EnumerateFiles("*", options))
        {
            var relative = Path.GetRelativePath(_root, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (LandingKinds.IsIgnored(relative)) continue;
            long size;
            DateTimeOffset modified;
            try
            {
                info.Refresh();
                if (!info.Exists) continue; // renamed or deleted since the listing
                (size, modified) = (info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
            }
            catch (IOException)
            {
                continue;
            }

            if (!_trigger.Matches(_container, relative, size)) continue;
            yield return (info.FullName, size, modified);
        }
    }

    private FileSystemWatcher? StartWatcher()
    {
        try
        {
            var watcher = new FileSystemWatcher(_root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.LastWrite };
            FileSystemEventHandler wake = (_, _) => Wake();
            watcher.Created += wake;
            watcher.Changed += wake;
            watcher.Renamed += (_, _) => Wake();
            watcher.Error += (_, e) => TriggerLog.WatcherError(_log, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // Out of inotify watches, or a file system without events: the periodic listing alone finds the files.
            TriggerLog.WatcherError(_log, e.Message);
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _wake.Dispose();

    private void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }
}
