using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Expressions;
using Lakehouse.Pipelines.State;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// One run of one pipeline: the activities run as a dependency graph, each checkpointed in the state store when it starts
/// and when it ends (status, output, error) before anything that depends on it starts. A resumed run reads the checkpoints
/// first: an activity that ended (Succeeded, Failed, Skipped) is not run again, its output and variable effects are taken
/// from the checkpoint; one that started and never ended runs again.
/// </summary>
internal sealed partial class RunExecution
{
    private readonly PipelineRunner _runner;
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActivityRunRecord> _checkpoints;
    private readonly Lock _gate = new();
    private readonly List<Task> _detached = [];
    private readonly List<(DateTimeOffset At, string Activity, string Error)> _failures = [];
    private string? _crashedActivity;

    internal RunExecution(PipelineRunner runner, PipelineDefinition definition, string runId, Dictionary<string, JsonNode?> parameters, JsonNode? triggerBody,
        DateTimeOffset triggerTime, IEnumerable<ActivityRunRecord> checkpoints, SecureValues secure)
    {
        Secure = secure;
        _runner = runner;
        Definition = definition;
        RunId = runId;
        Parameters = parameters;
        TriggerBody = triggerBody;
        TriggerTime = triggerTime;
        _checkpoints = checkpoints.ToDictionary(c => c.ActivityName, StringComparer.Ordinal);
        foreach (var (name, spec) in definition.Variables)
            _variables[name] = spec["defaultValue"] is { } defaultValue
                ? PipelineValues.Convert(PipelineDefinition.Str(spec["type"])!, defaultValue) // of the type: checked on load
                : PipelineDefinition.Str(spec["type"]) == "Array" ? new JsonArray() : null;
        LogDirectory = Path.Combine(runner.Options.LakeRoot, "_lakehouse", "runs", runId);
    }

    internal PipelineDefinition Definition { get; }

    internal string RunId { get; }

    internal Dictionary<string, JsonNode?> Parameters { get; }

    internal JsonNode? TriggerBody { get; }

    internal DateTimeOffset TriggerTime { get; }

    internal string LogDirectory { get; }

    /// <summary>The run's SecureString values: masked in every text this run logs or records.</summary>
    internal SecureValues Secure { get; }

    /// <summary>How many activities had ended before this (resumed) run started.</summary>
    internal int FinishedBefore => _checkpoints.Values.Count(c => IsFinal(c.Status));

    /// <summary>The first activity that failed, by end time, and its error.</summary>
    internal (string? Activity, string? Error) FirstFailure
    {
        get
        {
            lock (_gate)
            {
                var first = _failures.OrderBy(f => f.At).FirstOrDefault();
                return (first.Activity, first.Error);
            }
        }
    }

    /// <summary>The pipeline's activity whose run ended in an exception that ended the whole run (the first one), or null.</summary>
    internal string? CrashedActivity
    {
        get
        {
            lock (_gate) return _crashedActivity;
        }
    }

    private ILogger Logger => _runner.Logger;

    /// <summary>Runs the pipeline's activities, then waits for pipelines it started without waiting.</summary>
    internal async Task<ContainerResult> RunAsync(CancellationToken cancellationToken)
    {
        var result = await RunContainerAsync(Definition.Activities, new Scope("", false, null, new(StringComparer.OrdinalIgnoreCase)), cancellationToken).ConfigureAwait(false);
        Task[] detached;
        lock (_gate) detached = [.. _detached];
        await Task.WhenAll(detached).ConfigureAwait(false);
        return result;
    }

    internal static bool IsFinal(RunStatus status) => status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Skipped;

    /// <summary>What an expression sees in <paramref name="scope"/> (copies: parallel branches may change variables meanwhile).</summary>
    internal ExpressionContext Context(Scope scope)
    {
        lock (_gate)
        {
            return new ExpressionContext
            {
                PipelineName = Definition.Name,
                RunId = RunId,
                TriggerTime = TriggerTime,
                TriggerType = TriggerBody is null ? "Manual" : "BlobEventsTrigger",
                Parameters = Parameters,
                Variables = _variables.ToDictionary(v => v.Key, v => v.Value?.DeepClone(), StringComparer.Ordinal),
                Activities = scope.Snapshot(),
                TriggerBody = TriggerBody,
                HasItem = scope.HasItem,
                Item = scope.Item,
                Clock = _runner.Options.Clock,
            };
        }
    }

    /// <summary>
    /// Runs a list of activities (the pipeline's, a ForEach iteration's, an IfCondition branch's, an Until iteration's) as a
    /// dependency graph and gives the list's status by ADF's rule.
    /// </summary>
    internal async Task<ContainerResult> RunContainerAsync(JsonArray activities, Scope scope, CancellationToken cancellationToken)
    {
        var byName = activities.OfType<JsonObject>().ToDictionary(a => PipelineDefinition.Str(a["name"])!, StringComparer.Ordinal);
        var tasks = new Dictionary<string, Task<Outcome>>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        Task<Outcome> Start(string name)
        {
            if (tasks.TryGetValue(name, out var task)) return task;
            var activity = byName[name];
            var upstream = PipelineDefinition.Upstream(activity).Select(u => (Name: u, Task: Start(u))).ToList();
            task = RunWhenReadyAsync(activity, upstream, scope, stop.Token);
            tasks[name] = task;
            return task;
        }

        foreach (var name in byName.Keys) _ = Start(name);
        try
        {
            await Task.WhenAll(tasks.Values).ConfigureAwait(false);
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false); // a store error or a stop: end the siblings too
            try
            {
                await Task.WhenAll(tasks.Values).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The first error is the one reported.
            }
            throw;
        }
        var outcomes = tasks.ToDictionary(t => t.Key, t => t.Value.Result, StringComparer.Ordinal);
        return ContainerResult.ByLeafRule(byName, outcomes);
    }

    private async Task<Outcome> RunWhenReadyAsync(JsonObject activity, List<(string Name, Task<Outcome> Task)> upstream, Scope scope, CancellationToken cancellationToken)
    {
        await Task.WhenAll(upstream.Select(u => u.Task)).ConfigureAwait(false);
        var name = PipelineDefinition.Str(activity["name"])!;
        // ADF's conditional paths (https://learn.microsoft.com/azure/data-factory/tutorial-pipeline-failure-error-handling):
        // each dependsOn entry is met when the upstream's final status is one of its conditions (Completed = Succeeded or
        // Failed); all entries must be met, else the activity is Skipped ("Upon Skip" then fires for its dependents).
        var met = true;
        foreach (var dependency in activity["dependsOn"] as JsonArray ?? [])
        {
            var upstreamName = PipelineDefinition.Str(dependency?["activity"])!;
            var status = upstream.First(u => u.Name == upstreamName).Task.Result.Status;
            var conditions = (dependency?["dependencyConditions"] as JsonArray ?? []).Select(PipelineDefinition.Str);
            if (!conditions.Any(c => c == status.ToString() || (c == "Completed" && status is RunStatus.Succeeded or RunStatus.Failed))) met = false;
        }
        Outcome outcome;
        if (met)
        {
            try
            {
                outcome = await RunActivityAsync(activity, scope, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (scope.Prefix.Length == 0 && !cancellationToken.IsCancellationRequested)
            {
                // Not a failed activity (that is an outcome): the run ends, and the runner records it Failed naming this activity.
                lock (_gate) _crashedActivity ??= name;
                throw;
            }
            catch (LakehouseException e) when (!cancellationToken.IsCancellationRequested)
            {
                // Inside a ForEach, IfCondition or Until: the container activity fails with this error, which names the inner activity.
                throw new LakehouseException(e.Reason, $"activity {scope.Prefix + name}: {e.Message}", e, e.IsTransient);
            }
        }
        else
        {
            var key = scope.Prefix + name;
            if (Checkpoint(key) is not { Status: RunStatus.Skipped })
            {
                var now = _runner.Options.Clock.GetUtcNow();
                await SaveAsync(new ActivityRunRecord(RunId, key, 1, RunStatus.Skipped, null, now, now), CancellationToken.None).ConfigureAwait(false);
            }
            RunnerLog.ActivitySkipped(Logger, key);
            outcome = new Outcome(name, RunStatus.Skipped, null, null, null);
        }
        scope.Record(outcome);
        return outcome;
    }

    /// <summary>One activity with its policy: attempts, retries after retryIntervalInSeconds, a timeout per attempt.</summary>
    private async Task<Outcome> RunActivityAsync(JsonObject activity, Scope scope, CancellationToken cancellationToken)
    {
        var name = PipelineDefinition.Str(activity["name"])!;
        var type = PipelineDefinition.Str(activity["type"])!;
        var key = scope.Prefix + name;
        var previous = Checkpoint(key);
        if (previous is not null && IsFinal(previous.Status) && !MaskedVariable(type, previous))
        {
            RunnerLog.ActivityFromCheckpoint(Logger, key, previous.Status);
            var output = previous.OutputJson is { } json ? JsonNode.Parse(json) : null;
            Replay(activity, output);
            if (previous.Status == RunStatus.Failed) NoteFailure(previous.EndedAt ?? previous.StartedAt, key, previous.Error ?? "");
            return new Outcome(name, previous.Status, output, previous.Error, ErrorCodeOf(output));
        }
        if (previous?.OutputJson is { } interrupted && JsonNode.Parse(interrupted) is JsonObject { } pidInfo
            && pidInfo["pid"] is JsonValue pidValue && pidValue.TryGetValue<int>(out var pid)
            && pidInfo["processStartedAt"] is JsonValue startValue && startValue.TryGetValue<DateTimeOffset>(out var processStart)
            && CustomCommand.KillIfSame(pid, processStart))
        {
            RunnerLog.OrphanKilled(Logger, key, pid);
        }

        var policy = activity["policy"] as JsonObject;
        var context = Context(scope);
        var retries = (int)(PolicyValue(policy, "retry", context, PipelineChecks.RetryProblem) is { } retry ? PipelineValues.Whole(retry, "policy.retry") : 0);
        var interval = PolicyValue(policy, "retryIntervalInSeconds", context, PipelineChecks.RetryIntervalProblem) is { } seconds
            ? PipelineValues.Whole(seconds, "policy.retryIntervalInSeconds")
            : PipelineChecks.MinRetryIntervalSeconds;
        var timeout = TimeoutOf(type, policy, context);
        var first = (previous?.Attempt ?? 0) + 1;
        var last = first + Math.Max(0, type == "Fail" ? 0 : retries);
        for (var attempt = first; ; attempt++)
        {
            var started = _runner.Options.Clock.GetUtcNow();
            await SaveAsync(new ActivityRunRecord(RunId, key, attempt, RunStatus.InProgress, null, started), cancellationToken).ConfigureAwait(false);
            RunnerLog.ActivityStarted(Logger, key, type, attempt);
            var clock = Stopwatch.StartNew();
            JsonNode? output = null;
            string? error = null;
            string? errorCode = null;
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout is { } t) limit.CancelAfter(t);
            try
            {
                output = await ExecuteAsync(activity, type, key, attempt, started, scope, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await SaveAsync(new ActivityRunRecord(RunId, key, attempt, RunStatus.Cancelled, null, started, _runner.Options.Clock.GetUtcNow(), "cancelled"),
                    CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
                RunnerLog.ActivityTimedOut(Logger, key, attempt, timeout!.Value);
                error = $"Activity '{name}' timed out after {timeout.Value.ToString("c", CultureInfo.InvariantCulture)} (policy.timeout); its process was stopped.";
                errorCode = "ActivityTimedOut";
            }
            catch (ActivityFailedException e)
            {
                (error, errorCode, output) = (e.Message, e.ErrorCode, e.Output);
            }
            catch (Exception e) when (e is not PipelineStateConflictException and not PipelineStateNotFoundException && !cancellationToken.IsCancellationRequested)
            {
                error = e.Message;
                errorCode = e is LakehouseException ? "InvalidInput" : e.GetType().Name;
            }
            var ended = _runner.Options.Clock.GetUtcNow();
            var status = error is null ? RunStatus.Succeeded : RunStatus.Failed;
            if (error is not null && errorCode is not null)
            {
                output = output as JsonObject ?? new JsonObject();
                ((JsonObject)output)["errorCode"] = errorCode;
            }
            await SaveAsync(new ActivityRunRecord(RunId, key, attempt, status, output?.ToJsonString(), started, ended, error), CancellationToken.None).ConfigureAwait(false);
            RunnerLog.ActivityEnded(Logger, key, attempt, status, clock.ElapsedMilliseconds);
            if (error is null) return new Outcome(name, status, output, null, null);
            if (attempt >= last || errorCode == UsageErrorCode)
            {
                NoteFailure(ended, key, error);
                return new Outcome(name, status, output, error, errorCode);
            }
            RunnerLog.ActivityRetrying(Logger, key, attempt - first + 1, last - first + 1, Secure.Redact(error), interval);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(interval), _runner.Options.Clock, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped between attempts: the activity has retries left, so its status is not final. Recorded Cancelled, a resumed
                // run retries it; the Failed attempt's record would have been taken as the activity's final status.
                await SaveAsync(new ActivityRunRecord(RunId, key, attempt, RunStatus.Cancelled, output?.ToJsonString(), started, _runner.Options.Clock.GetUtcNow(),
                    $"cancelled while waiting to retry after: {error}"), CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// Whether a resumed run runs a variable activity again rather than taking its value from the checkpoint: the checkpoint keeps
    /// it with the SecureString values masked, and the activities after it must get the real value (given again to the resume).
    /// </summary>
    private bool MaskedVariable(string type, ActivityRunRecord previous) =>
        Secure.Any && type is "SetVariable" or "AppendVariable" && previous.Status == RunStatus.Succeeded
        && previous.OutputJson?.Contains(SecureValues.Mask, StringComparison.Ordinal) == true;

    private static string? ErrorCodeOf(JsonNode? output) => output is JsonObject o ? PipelineDefinition.Str(o["errorCode"]) : null;

    /// <summary>The attempt timeout: policy.timeout, else ADF's default of 12 hours for activities that do work; none for control activities.</summary>
    private static TimeSpan? TimeoutOf(string type, JsonObject? policy, ExpressionContext context)
    {
        var timeout = TimeSpan.Zero;
        if (PolicyValue(policy, "timeout", context, value => PipelineChecks.TimeoutProblem(value, out timeout)) is not null) return timeout;
        return type is "Custom" or "Script" or "WebActivity" ? TimeSpan.FromHours(12) : null;
    }

    /// <summary>
    /// A policy property's value (null when it is not set), its expression evaluated and the result checked by the rule the
    /// file was checked by before the run (<see cref="PipelineChecks"/>).
    /// </summary>
    /// <exception cref="LakehouseException">The value breaks the rule, e.g. a timeout over 7 days from a parameter.</exception>
    private static JsonNode? PolicyValue(JsonObject? policy, string property, ExpressionContext context, Func<JsonNode?, string?> problem)
    {
        if (policy?[property] is not { } node) return null;
        var value = PipelineValues.Evaluate(node, context);
        return problem(value) is { } message ? throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"policy.{property} {message}") : value;
    }

    private void NoteFailure(DateTimeOffset at, string activity, string error)
    {
        lock (_gate) _failures.Add((at, activity, error));
    }

    /// <summary>A variable activity's effect, taken again from its checkpointed output when a resumed run skips it.</summary>
    private void Replay(JsonObject activity, JsonNode? output)
    {
        var type = PipelineDefinition.Str(activity["type"]);
        if (type is not ("SetVariable" or "AppendVariable") || output is not JsonObject o || PipelineDefinition.Str(o["name"]) is not { } variable) return;
        lock (_gate)
        {
            if (type == "SetVariable") _variables[variable] = o["value"]?.DeepClone();
            else if (_variables[variable] is JsonArray array) array.Add(o["value"]?.DeepClone());
        }
    }

    internal ActivityRunRecord? Checkpoint(string key)
    {
        lock (_gate) return _checkpoints.GetValueOrDefault(key);
    }

    /// <summary>
    /// Stores an activity's checkpoint over the last one this run holds (its ETag), and keeps the stored copy. Its output and error
    /// are stored with SecureString values masked (a resumed run takes a skipped activity's output masked, as ADF shows it).
    /// </summary>
    internal async Task SaveAsync(ActivityRunRecord record, CancellationToken cancellationToken)
    {
        var current = Checkpoint(record.ActivityName);
        var saved = await _runner.Store.SaveActivityAsync(record with { ETag = current?.ETag, OutputJson = Secure.RedactJson(record.OutputJson), Error = Secure.RedactOrNull(record.Error) },
            cancellationToken).ConfigureAwait(false);
        lock (_gate) _checkpoints[record.ActivityName] = saved;
    }

    internal void Detach(Task task)
    {
        lock (_gate) _detached.Add(task);
    }

    /// <summary>An activity's final state, as <c>activity('x')</c> sees it.</summary>
    internal sealed record Outcome(string Name, RunStatus Status, JsonNode? Output, string? Error, string? ErrorCode)
    {
        internal JsonObject ToResult()
        {
            var result = new JsonObject { ["status"] = Status.ToString(), ["output"] = Output?.DeepClone() ?? new JsonObject() };
            if (Error is not null) result["error"] = new JsonObject { ["message"] = Error, ["errorCode"] = ErrorCode ?? "" };
            return result;
        }
    }

    /// <summary>Where activities run: the prefix of their checkpoint names, the ForEach item, and the results they can see.</summary>
    internal sealed class Scope(string prefix, bool hasItem, JsonNode? item, Dictionary<string, JsonNode?> results)
    {
        private readonly Lock _gate = new();

        internal string Prefix { get; } = prefix;

        internal bool HasItem { get; } = hasItem;

        internal JsonNode? Item { get; } = item;

        internal void Record(Outcome outcome)
        {
            lock (_gate) results[outcome.Name] = outcome.ToResult();
        }

        internal Dictionary<string, JsonNode?> Snapshot()
        {
            lock (_gate) return results.ToDictionary(r => r.Key, r => r.Value?.DeepClone(), StringComparer.OrdinalIgnoreCase);
        }

        /// <summary>A scope inside this one (a loop iteration, a branch): it sees this scope's results as they are now.</summary>
        internal Scope Inner(string prefix, bool hasItem, JsonNode? item) => new(prefix, hasItem || HasItem, hasItem ? item : Item, Snapshot());
    }
}

/// <summary>The status of a list of activities and, when it failed, why.</summary>
internal sealed record ContainerResult(RunStatus Status, string? Error, string? ErrorCode)
{
    /// <summary>
    /// ADF's rule for a pipeline's status ("Understanding pipeline failures and error handling", Azure Data Factory blog, and
    /// https://learn.microsoft.com/azure/data-factory/tutorial-pipeline-failure-error-handling): evaluate the outcome of every
    /// leaf activity (one no other activity depends on); if a leaf was skipped, evaluate its parent activity instead; the
    /// pipeline succeeds if and only if every leaf evaluated succeeds. So a try/catch (only an Upon Failure path, which
    /// succeeds) gives Succeeded, and a do-if-else (Upon Success and Upon Failure paths) gives Failed when the failure path runs.
    /// The local runner applies the same rule to the inside of a ForEach iteration, an IfCondition branch and an Until iteration.
    /// </summary>
    internal static ContainerResult ByLeafRule(Dictionary<string, JsonObject> activities, Dictionary<string, RunExecution.Outcome> outcomes)
    {
        var parents = activities.ToDictionary(a => a.Key, a => PipelineDefinition.Upstream(a.Value), StringComparer.Ordinal);
        var hasDependents = parents.Values.SelectMany(p => p).ToHashSet(StringComparer.Ordinal);
        var evaluated = new List<RunExecution.Outcome>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var leaf in activities.Keys.Where(n => !hasDependents.Contains(n))) Evaluate(leaf);
        var failed = evaluated.FirstOrDefault(o => o.Status != RunStatus.Succeeded);
        return failed is null ? new ContainerResult(RunStatus.Succeeded, null, null)
            : new ContainerResult(RunStatus.Failed, failed.Error ?? $"Activity '{failed.Name}' {failed.Status}", failed.ErrorCode);

        void Evaluate(string name)
        {
            if (!seen.Add(name)) return;
            var outcome = outcomes[name];
            if (outcome.Status != RunStatus.Skipped)
            {
                evaluated.Add(outcome);
                return;
            }
            foreach (var parent in parents[name]) Evaluate(parent);
        }
    }
}

/// <summary>An activity that ran and failed, with its error code and whatever output it has.</summary>
internal sealed class ActivityFailedException : Exception
{
    internal ActivityFailedException(string message, string errorCode, JsonNode? output = null)
        : base(message)
    {
        ErrorCode = errorCode;
        Output = output;
    }

    public ActivityFailedException()
    {
        ErrorCode = "";
    }

    public ActivityFailedException(string message)
        : base(message)
    {
        ErrorCode = "";
    }

    public ActivityFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = "";
    }

    internal string ErrorCode { get; }

    internal JsonNode? Output { get; }
}
