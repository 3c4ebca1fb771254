using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Lakehouse.Core.Webhooks;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Pipelines.State;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>A temp folder with a pipeline/ folder and a lake, and a runner on that lake (SQLite state).</summary>
public abstract class RunnerTestKit : IAsyncLifetime
{
    protected TempDirectory Temp { get; } = new("runner");

    protected string Lake => Temp.Combine("lake");

    protected string Work => Temp.Combine("work");

    protected PipelineRunner Runner { get; private set; } = null!;

    protected WebhookOptions? Webhook { get; set; }

    /// <summary>The runner's clock: the system's, with the waits between retries over at once (and kept, to be asserted).</summary>
    protected NoWaitClock Clock { get; } = new();

    public virtual Task InitializeAsync()
    {
        Directory.CreateDirectory(Work);
        Directory.CreateDirectory(Temp.Combine("pipeline"));
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (Runner is not null) await Runner.DisposeAsync();
        Temp.Dispose();
    }

    /// <summary>The runner's state store; null for SQLite under the lake.</summary>
    protected IPipelineStateStore? StateStore { get; set; }

    /// <summary>The runner's logs; null for none.</summary>
    protected Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    protected PipelineRunner CreateRunner()
    {
        Runner = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = Lake, Webhook = Webhook, Clock = Clock, StateStore = StateStore, LoggerFactory = LoggerFactory });
        return Runner;
    }

    /// <summary>Writes pipeline/&lt;name&gt;.json with these activities, parameters and variables, and returns its path.</summary>
    protected string Pipeline(string name, JsonArray activities, JsonObject? parameters = null, JsonObject? variables = null)
    {
        var properties = new JsonObject { ["activities"] = activities };
        if (parameters is not null) properties["parameters"] = parameters;
        if (variables is not null) properties["variables"] = variables;
        var path = Temp.Combine("pipeline", name + ".json");
        File.WriteAllText(path, new JsonObject { ["name"] = name, ["properties"] = properties }.ToJsonString());
        return path;
    }

    protected static JsonObject Custom(string name, string command, JsonObject? policy = null, params (string Activity, string[] Conditions)[] dependsOn) =>
        Activity(name, "Custom", new JsonObject { ["command"] = command }, policy, dependsOn);

    protected static JsonObject Activity(string name, string type, JsonObject typeProperties, JsonObject? policy = null, params (string Activity, string[] Conditions)[] dependsOn)
    {
        var activity = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["dependsOn"] = new JsonArray(dependsOn.Select(d => (JsonNode)new JsonObject
            {
                ["activity"] = d.Activity,
                ["dependencyConditions"] = new JsonArray(d.Conditions.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
            }).ToArray()),
            ["typeProperties"] = typeProperties,
        };
        if (policy is not null) activity["policy"] = policy;
        return activity;
    }

    /// <summary>A policy of <paramref name="retry"/> retries ADF's shortest interval apart (30 s, which <see cref="Clock"/> does not wait).</summary>
    protected static JsonObject Retry(int retry, string timeout = "0.00:05:00", int intervalSeconds = 30) =>
        new() { ["retry"] = retry, ["retryIntervalInSeconds"] = intervalSeconds, ["timeout"] = timeout };

    protected static (string, string[]) On(string activity, params string[] conditions) => (activity, conditions);

    protected static RunStatus StatusOf(PipelineRunResult result, string activity) => result.Activities.Single(a => a.ActivityName == activity).Status;
}

/// <summary>The system clock, except that a timer is due at once: the runner's wait between retries ends without waiting. The waits asked for are kept.</summary>
public sealed class NoWaitClock : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _waits = new();

    /// <summary>The due times of the timers made on this clock, in order.</summary>
    public IReadOnlyList<TimeSpan> Waits => [.. _waits];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _waits.Enqueue(dueTime);
        return base.CreateTimer(callback, state, dueTime == Timeout.InfiniteTimeSpan ? dueTime : TimeSpan.Zero, period);
    }
}
