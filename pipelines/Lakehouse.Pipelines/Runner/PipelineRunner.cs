using System.Diagnostics;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Runs ADF pipeline files on this machine, with ADF's semantics: dependsOn conditions on final status, the leaf-activity
/// rule for the run's status, policy retry/retryIntervalInSeconds/timeout, parameters and variables, and the activities
/// Custom, Script, WebActivity, ExecutePipeline, ForEach, IfCondition, Until, Wait, Fail, SetVariable and AppendVariable.
/// Every activity is checkpointed in the state store when it starts and ends, so a run whose process died can be resumed
/// (<see cref="ResumeAsync(string, IReadOnlyDictionary{string, string}?, CancellationToken)"/>) without running again what finished. A failed run is posted to the webhook, when one is set.
/// </summary>
/// <example>
/// <code>
/// await using var runner = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = "lake" });
/// var result = await runner.RunAsync("pipelines/adf/pipeline/pl_medallion.json",
///     new Dictionary&lt;string, string&gt; { ["lakeRoot"] = "lake", ["landingRoot"] = "landing" });
/// Console.WriteLine($"{result.RunId}: {result.Status}");
/// </code>
/// </example>
public sealed class PipelineRunner : IAsyncDisposable
{
    private readonly bool _ownsStore;
    private readonly SemaphoreSlim _initialize = new(1, 1);
    private readonly PipelineNotifier? _notifier;
    private bool _initialized;

    /// <summary>Creates a runner (nothing is opened until the first run).</summary>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    public PipelineRunner(PipelineRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        Logger = loggerFactory.CreateLogger<PipelineRunner>();
        _ownsStore = options.StateStore is null;
        Store = options.StateStore ?? new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(options.LakeRoot), loggerFactory.CreateLogger<SqlitePipelineStateStore>());
        LakehouseCommand = options.LakehouseCommand ?? CustomCommand.DefaultLakehouseCommand();
        if (options.Webhook is { } webhook) _notifier = new PipelineNotifier(webhook, Logger);
    }

    internal PipelineRunnerOptions Options { get; }

    internal ILogger Logger { get; }

    internal IPipelineStateStore Store { get; }

    internal IReadOnlyList<string> LakehouseCommand { get; }

    internal HttpClient Http { get; } = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Starts a new run of a pipeline file and runs it to its end. The file (and every pipeline it executes) is checked first:
    /// an unknown activity type or function, an expression that does not parse, or a parameter that is not declared or of
    /// the wrong type throws before anything runs or is recorded.
    /// </summary>
    /// <param name="pipelineFile">The pipeline's JSON file (ADF's Git layout: <c>pipeline/&lt;name&gt;.json</c>).</param>
    /// <param name="parameters">Parameter values as text (as <c>--param k=v</c> gives them), converted to the declared types; the others take their defaults.</param>
    /// <param name="triggerBody">What <c>@triggerBody()</c> returns (a BlobEventsTrigger's payload: <c>{"folderPath", "fileName"}</c>), or null.</param>
    /// <param name="cancellationToken">Stops the run: running processes are killed, the run is recorded Cancelled (and can be resumed).</param>
    /// <returns>The run's id, status and activity runs. A failed run is a result, not an exception.</returns>
    /// <exception cref="LakehouseException">The file cannot run as written (InvalidInput, NotFound).</exception>
    public async Task<PipelineRunResult> RunAsync(string pipelineFile, IReadOnlyDictionary<string, string>? parameters = null, JsonNode? triggerBody = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipelineFile);
        var definition = PipelineDefinition.Load(pipelineFile);
        var values = PipelineValues.Bind(definition, PipelineValues.FromText(parameters));
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var runId = Guid.NewGuid().ToString("D");
        var now = Options.Clock.GetUtcNow();
        var run = await Store.CreateRunAsync(new PipelineRunRecord(runId, definition.Name, Envelope(definition, values, triggerBody, null), RunStatus.InProgress, now), cancellationToken)
            .ConfigureAwait(false);
        RunnerLog.RunStarted(Logger, definition.Name, runId, definition.File);
        return await ExecuteAsync(definition, run, values, triggerBody, [], false, true, SecureValues.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Resumes a run that did not finish (its process was killed, or it was cancelled): activities that ended are not run
    /// again (their outputs come from the checkpoints); activities that started and never ended run again from the start
    /// (a Custom activity's process left over from the dead runner is stopped first). The pipeline file is read again from
    /// where the run recorded it.
    /// </summary>
    /// <exception cref="LakehouseException">The run does not exist (NotFound), has finished (PreconditionFailed), or its runner
    /// process is still alive on this machine (Conflict); it has SecureString parameters, which need <see cref="ResumeAsync(string, IReadOnlyDictionary{string, string}?, CancellationToken)"/> (InvalidInput).</exception>
    public Task<PipelineRunResult> ResumeAsync(string runId, CancellationToken cancellationToken = default) => ResumeAsync(runId, null, cancellationToken);

    /// <summary>
    /// Resumes a run that did not finish, as <see cref="ResumeAsync(string, CancellationToken)"/>, given its SecureString parameters
    /// again: the run record keeps them masked, never their values, so a run that was given one cannot be resumed without it (a
    /// SecureString parameter that took its default value takes it again). Other parameters come from the record; one given here
    /// must have the recorded value.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="parameters">Parameter values as text (as <c>--param k=v</c> gives them): every SecureString parameter the run was given.</param>
    /// <param name="cancellationToken">Stops the run, as <see cref="RunAsync"/>'s does.</param>
    /// <exception cref="LakehouseException">The run does not exist (NotFound), has finished (PreconditionFailed), or its runner
    /// process is still alive on this machine (Conflict); a SecureString parameter is missing, or another parameter differs from the record (InvalidInput).</exception>
    public async Task<PipelineRunResult> ResumeAsync(string runId, IReadOnlyDictionary<string, string>? parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var run = await Store.TryGetRunAsync(runId, cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"There is no pipeline run '{runId}' in the state store.");
        if (run.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Skipped)
            throw new LakehouseException(LakehouseErrorReason.PreconditionFailed, $"Pipeline run '{runId}' has finished ({run.Status}): only a run that did not finish can be resumed; start a new run instead.");
        var envelope = RunEnvelope.Parse(run.ParametersJson);
        if (run.Status is RunStatus.InProgress or RunStatus.Queued && envelope.RunnerAlive())
            throw new LakehouseException(LakehouseErrorReason.Conflict, $"Pipeline run '{runId}' is still running (process {envelope.RunnerPid} on {envelope.RunnerHost}); it cannot be resumed twice.");
        var definition = PipelineDefinition.Load(envelope.File);
        var values = PipelineValues.Bind(definition, ResumeParameters(runId, definition, envelope, parameters));
        var checkpoints = await Store.ListActivitiesAsync(runId, cancellationToken).ConfigureAwait(false);
        var starting = run.Status == RunStatus.Queued && checkpoints.Count == 0; // queued by a trigger: this is its start, not a resumption
        run = await Store.UpdateRunAsync(run with { Status = RunStatus.InProgress, EndedAt = null, Error = null, ParametersJson = Envelope(definition, values, envelope.TriggerBody, envelope.ParentRunId) },
            cancellationToken).ConfigureAwait(false);
        if (starting) RunnerLog.RunStarted(Logger, definition.Name, runId, definition.File);
        return await ExecuteAsync(definition, run, values, envelope.TriggerBody, checkpoints, !starting, envelope.ParentRunId is null, SecureValues.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The parameters a resumed run is bound with: the recorded ones, each SecureString one from <paramref name="given"/> (one the
    /// record masks must be there; one that took its default takes it again); a recorded value written before SecureString values
    /// were masked is taken as it is.
    /// </summary>
    private static List<KeyValuePair<string, JsonNode?>> ResumeParameters(string runId, PipelineDefinition definition, RunEnvelope envelope, IReadOnlyDictionary<string, string>? given)
    {
        given ??= new Dictionary<string, string>();
        var missing = envelope.Masked.Where(m => !given.Keys.Contains(m, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missing.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Pipeline run '{runId}' was given the SecureString parameter{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))}, whose value the run record does not keep: "
                + $"resume it with {string.Join(" ", missing.Select(m => $"--param {m}=<value>"))} (the value the run needs now), or --param-env <name>=<VARIABLE> to read it "
                + "from an environment variable, off the command line.");
        bool Kept(KeyValuePair<string, JsonNode?> p) =>
            !envelope.Masked.Contains(p.Key, StringComparer.OrdinalIgnoreCase) && !(SecureValues.IsSecure(definition, p.Key) && PipelineValues.Text(p.Value) == SecureValues.Mask);
        var result = envelope.Parameters.Where(Kept).Where(p => !SecureValues.IsSecure(definition, p.Key) || !given.Keys.Contains(p.Key, StringComparer.OrdinalIgnoreCase))
            .Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())).ToList();
        foreach (var (name, text) in given)
        {
            var declared = definition.Parameters.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Pipeline run '{runId}': the pipeline has no parameter '{name}'");
            if (SecureValues.IsSecure(definition, declared) || envelope.Masked.Contains(declared, StringComparer.OrdinalIgnoreCase))
            {
                result.RemoveAll(p => string.Equals(p.Key, declared, StringComparison.OrdinalIgnoreCase));
                result.Add(KeyValuePair.Create(declared, (JsonNode?)JsonValue.Create(text)));
                continue;
            }
            var recorded = envelope.Parameters.FirstOrDefault(p => string.Equals(p.Key, declared, StringComparison.OrdinalIgnoreCase)).Value;
            string? value;
            try
            {
                value = PipelineValues.Convert(PipelineDefinition.Str(definition.Parameters[declared]["type"]) ?? "String", JsonValue.Create(text))?.ToJsonString();
            }
            catch (FormatException)
            {
                value = null;
            }
            if (value is null || value != recorded?.ToJsonString())
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Pipeline run '{runId}': parameter '{declared}' is not a SecureString and the run keeps its own value: a resumed run keeps its parameters; drop --param {declared} (or start a new run)");
        }
        return result;
    }

    /// <summary>
    /// The run of the same pipeline file, parameters and trigger body that did not finish and whose runner process is gone
    /// (killed), or null when there is none: the run <c>lakehouse pipeline run</c> resumes instead of starting a new one.
    /// </summary>
    /// <exception cref="LakehouseException">The same run is still running in a live process on this machine (Conflict), or the file cannot run (InvalidInput).</exception>
    public async Task<string?> FindUnfinishedRunAsync(string pipelineFile, IReadOnlyDictionary<string, string>? parameters = null, JsonNode? triggerBody = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipelineFile);
        var definition = PipelineDefinition.Load(pipelineFile);
        var values = PipelineValues.Bind(definition, PipelineValues.FromText(parameters));
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var identity = RunEnvelope.Identity(definition.File, SecureValues.ForRecord(definition, values).Values, triggerBody);
        foreach (var run in await Store.ListRunsAsync(definition.Name, 50, cancellationToken).ConfigureAwait(false))
        {
            if (run.Status is not (RunStatus.InProgress or RunStatus.Queued)) continue;
            RunEnvelope envelope;
            try
            {
                envelope = RunEnvelope.Parse(run.ParametersJson);
            }
            catch (LakehouseException)
            {
                continue; // a run recorded by something else than this runner
            }
            if (envelope.ParentRunId is not null || envelope.IdentityText != identity) continue;
            if (envelope.RunnerAlive())
                throw new LakehouseException(LakehouseErrorReason.Conflict,
                    $"Pipeline run '{run.RunId}' of the same file and parameters is still running (process {envelope.RunnerPid}); wait for it, or stop it and run again to resume it.");
            return run.RunId;
        }
        return null;
    }

    /// <summary>
    /// Runs a pipeline an ExecutePipeline activity starts: a run of its own (resumed when it exists and did not finish). Its texts
    /// mask the parent's SecureString values (<paramref name="inherited"/>) too, whatever the child's parameter types.
    /// </summary>
    internal async Task<PipelineRunResult> RunChildAsync(PipelineDefinition definition, string runId, Dictionary<string, JsonNode?> values, string parentRunId,
        SecureValues inherited, CancellationToken cancellationToken)
    {
        var now = Options.Clock.GetUtcNow();
        var record = new PipelineRunRecord(runId, definition.Name, Envelope(definition, values, null, parentRunId, inherited: inherited), RunStatus.InProgress, now);
        IReadOnlyList<ActivityRunRecord> checkpoints = [];
        var resumed = false;
        try
        {
            record = await Store.CreateRunAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (PipelineStateConflictException)
        {
            // The parent was resumed: this child run exists from before.
            var existing = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            checkpoints = await Store.ListActivitiesAsync(runId, cancellationToken).ConfigureAwait(false);
            if (existing.Status is RunStatus.Succeeded or RunStatus.Failed)
                return new PipelineRunResult(runId, existing.Pipeline, existing.Status, existing.StartedAt, existing.EndedAt ?? now, existing.Error, null, checkpoints, true,
                    Path.Combine(Options.LakeRoot, "_lakehouse", "runs", runId));
            record = await Store.UpdateRunAsync(existing with { Status = RunStatus.InProgress, EndedAt = null, Error = null }, cancellationToken).ConfigureAwait(false);
            resumed = true;
        }
        RunnerLog.RunStarted(Logger, definition.Name, runId, definition.File);
        return await ExecuteAsync(definition, record, values, null, checkpoints, resumed, false, inherited, cancellationToken).ConfigureAwait(false);
    }

    private async Task<PipelineRunResult> ExecuteAsync(PipelineDefinition definition, PipelineRunRecord run, Dictionary<string, JsonNode?> values, JsonNode? triggerBody,
        IEnumerable<ActivityRunRecord> checkpoints, bool resumed, bool notify, SecureValues inherited, CancellationToken cancellationToken)
    {
        var execution = new RunExecution(this, definition, run.RunId, values, triggerBody, run.StartedAt, checkpoints, SecureValues.Of(definition, values, inherited));
        var secure = execution.Secure;
        if (resumed) RunnerLog.RunResumed(Logger, definition.Name, run.RunId, execution.FinishedBefore);
        var clock = Stopwatch.StartNew();
        ContainerResult result;
        try
        {
            result = await execution.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Store.UpdateRunAsync(run with { Status = RunStatus.Cancelled, EndedAt = Options.Clock.GetUtcNow(), Error = "cancelled" }, CancellationToken.None).ConfigureAwait(false);
            RunnerLog.RunEnded(Logger, definition.Name, run.RunId, RunStatus.Cancelled, clock.ElapsedMilliseconds);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw await RecordCrashAsync(definition, run, execution, e, clock, notify).ConfigureAwait(false);
        }
        var (failedActivity, firstError) = execution.FirstFailure;
        var ended = Options.Clock.GetUtcNow();
        var error = secure.RedactOrNull(result.Status == RunStatus.Succeeded ? null : result.Error ?? firstError);
        firstError = secure.RedactOrNull(firstError);
        run = await Store.UpdateRunAsync(run with { Status = result.Status, EndedAt = ended, Error = error }, CancellationToken.None).ConfigureAwait(false);
        RunnerLog.RunEnded(Logger, definition.Name, run.RunId, result.Status, clock.ElapsedMilliseconds);
        var activities = await Store.ListActivitiesAsync(run.RunId, CancellationToken.None).ConfigureAwait(false);
        var outcome = new PipelineRunResult(run.RunId, definition.Name, result.Status, run.StartedAt, ended, error,
            result.Status == RunStatus.Succeeded ? null : failedActivity, activities, resumed, execution.LogDirectory);
        if (notify && outcome.Status == RunStatus.Failed) await NotifyAsync(run, definition, execution, failedActivity, firstError ?? error, error, ended).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Records a run that an exception ended rather than a failed activity (a policy value an expression made wrong, a state
    /// store error) as Failed with the error, and its activities still in progress as Failed, so it is not left InProgress
    /// (where the same command line would resume it into the same exception). Returns the exception to throw, naming the activity:
    /// a <see cref="LakehouseException"/> keeps its reason; any other exception is one the runner does not anticipate, an
    /// internal error (reason <see cref="LakehouseErrorReason.Internal"/>, its type named), never the input's fault.
    /// </summary>
    private async Task<LakehouseException> RecordCrashAsync(PipelineDefinition definition, PipelineRunRecord run, RunExecution execution, Exception exception, Stopwatch clock,
        bool notify)
    {
        var what = exception is LakehouseException ? exception.Message : $"internal error ({exception.GetType().Name}): {exception.Message}";
        var error = execution.Secure.Redact(execution.CrashedActivity is { } activity ? $"activity {activity}: {what}" : what);
        // The exception is kept as the inner one (shown with --verbose) only when it shows no SecureString value.
        var inner = execution.Secure.Reveals(exception.ToString()) ? null : exception;
        var reason = exception is LakehouseException lakehouse ? lakehouse.Reason : LakehouseErrorReason.Internal;
        var ended = Options.Clock.GetUtcNow();
        try
        {
            foreach (var unfinished in (await Store.ListActivitiesAsync(run.RunId, CancellationToken.None).ConfigureAwait(false)).Where(a => a.Status == RunStatus.InProgress))
                await Store.SaveActivityAsync(unfinished with { Status = RunStatus.Failed, EndedAt = ended, Error = error }, CancellationToken.None).ConfigureAwait(false);
            await Store.UpdateRunAsync(run with { Status = RunStatus.Failed, EndedAt = ended, Error = error }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception storeError) when (storeError is not OperationCanceledException)
        {
            var storeMessage = execution.Secure.Redact(storeError.Message);
            RunnerLog.RunNotRecordedFailed(Logger, definition.Name, run.RunId, storeMessage);
            return new LakehouseException(reason, $"{error} (run {run.RunId} could not be recorded Failed: {storeMessage})", inner);
        }
        RunnerLog.RunEnded(Logger, definition.Name, run.RunId, RunStatus.Failed, clock.ElapsedMilliseconds);
        if (notify) await NotifyAsync(run, definition, execution, execution.CrashedActivity, error, error, ended).ConfigureAwait(false);
        return new LakehouseException(reason, $"{error} (run {run.RunId} is recorded Failed)", inner);
    }

    /// <summary>Posts a failed run to the webhook, when one is set.</summary>
    private async Task NotifyAsync(PipelineRunRecord run, PipelineDefinition definition, RunExecution execution, string? failedActivity, string? error, string? runError,
        DateTimeOffset ended)
    {
        if (_notifier is null) return;
        await _notifier.PostAsync(run.RunId, definition.Name, new JsonObject
        {
            ["pipeline"] = definition.Name,
            ["runId"] = run.RunId,
            ["status"] = "Failed",
            ["failedActivity"] = failedActivity,
            ["error"] = error,
            ["runError"] = runError,
            ["logs"] = execution.LogDirectory,
            ["startedAt"] = run.StartedAt,
            ["endedAt"] = ended,
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A Script activity's script, through the options' lake.</summary>
    internal Task<JsonArray> RunScriptAsync(string text, CancellationToken cancellationToken) =>
        LakeScript.RunAsync(Options.LakeRoot, text, Options.LoggerFactory, cancellationToken);

    /// <summary>
    /// The run record's envelope: SecureString values masked (<see cref="SecureValues.ForRecord"/>); in a child run's, any parameter
    /// holding a SecureString value of the parent (<paramref name="inherited"/>) too, and named with the masked ones (a resume gives it again).
    /// </summary>
    private static string Envelope(PipelineDefinition definition, Dictionary<string, JsonNode?> values, JsonNode? triggerBody, string? parentRunId, bool queued = false,
        SecureValues? inherited = null)
    {
        var (shown, masked) = SecureValues.ForRecord(definition, values);
        if (inherited is { Any: true })
        {
            foreach (var (name, value) in shown.ToList())
            {
                if (value is null || (!inherited.Reveals(value.ToJsonString()) && !inherited.Reveals(PipelineValues.Text(value)))) continue;
                shown[name] = inherited.Redact(value);
                if (!masked.Contains(name, StringComparer.OrdinalIgnoreCase)) masked.Add(name);
            }
        }
        return RunEnvelope.Create(definition.File, shown, masked, triggerBody, parentRunId, queued).ToJsonString();
    }

    /// <summary>
    /// The record of a run queued and not started (no runner process), which <see cref="ResumeAsync(string, IReadOnlyDictionary{string, string}?, CancellationToken)"/> starts: what a trigger writes
    /// before it claims the run's files, so a trigger that dies after claiming them leaves a run to start rather than claims that no
    /// run will take. The parameters are checked as <see cref="RunAsync"/> checks them.
    /// </summary>
    /// <exception cref="LakehouseException">A parameter is not declared or not of its type (InvalidInput).</exception>
    internal static PipelineRunRecord Queued(string runId, PipelineDefinition definition, IReadOnlyDictionary<string, string> parameters, JsonNode triggerBody, DateTimeOffset now) =>
        new(runId, definition.Name, Envelope(definition, PipelineValues.Bind(definition, PipelineValues.FromText(parameters)), triggerBody, null, queued: true), RunStatus.Queued, now);

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initialize.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized) return;
            Directory.CreateDirectory(Options.LakeRoot);
            await Store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            _initialized = true;
        }
        finally
        {
            _initialize.Release();
        }
    }

    /// <summary>Closes the HTTP clients and the state store when the runner opened it.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _notifier?.Dispose();
        _initialize.Dispose();
        if (_ownsStore) await Store.DisposeAsync().ConfigureAwait(false);
    }
}
