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

    protected PipelineRunner CreateRunner()
    {
        Runner = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = Lake, Webhook = Webhook });
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

    protected static JsonObject Retry(int retry, string timeout = "0.00:05:00") =>
        new() { ["retry"] = retry, ["retryIntervalInSeconds"] = 0, ["timeout"] = timeout };

    protected static (string, string[]) On(string activity, params string[] conditions) => (activity, conditions);

    protected static RunStatus StatusOf(PipelineRunResult result, string activity) => result.Activities.Single(a => a.ActivityName == activity).Status;
}
