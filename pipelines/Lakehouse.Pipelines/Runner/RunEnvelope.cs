using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// What the local runner keeps in a run record's <c>ParametersJson</c>: <c>{"file", "parameters", "triggerBody", "parentRunId",
/// "runner": {"host", "pid", "startedAt"}}</c>. The file, parameters and trigger body make the run's identity (a rerun of the
/// same command line finds the unfinished run); the runner's process tells whether the run is still running.
/// </summary>
internal sealed record RunEnvelope(string File, JsonObject Parameters, JsonNode? TriggerBody, string? ParentRunId, string? RunnerHost, int RunnerPid, DateTimeOffset RunnerStartedAt)
{
    internal string IdentityText => Identity(File, Parameters.ToDictionary(p => p.Key, p => p.Value), TriggerBody);

    /// <summary>The envelope of a run this process runs; with <paramref name="queued"/>, of a run no process runs yet (no runner).</summary>
    internal static JsonObject Create(string file, Dictionary<string, JsonNode?> parameters, JsonNode? triggerBody, string? parentRunId, bool queued = false)
    {
        using var self = Process.GetCurrentProcess();
        return new JsonObject
        {
            ["file"] = file,
            ["parameters"] = Sorted(parameters),
            ["triggerBody"] = triggerBody?.DeepClone(),
            ["parentRunId"] = parentRunId,
            ["runner"] = queued ? null : new JsonObject
            {
                ["host"] = Environment.MachineName,
                ["pid"] = Environment.ProcessId,
                ["startedAt"] = new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero),
            },
        };
    }

    internal static string Identity(string file, IReadOnlyDictionary<string, JsonNode?> parameters, JsonNode? triggerBody) =>
        new JsonObject { ["file"] = file, ["parameters"] = Sorted(parameters), ["triggerBody"] = triggerBody?.DeepClone() }.ToJsonString();

    private static JsonObject Sorted(IEnumerable<KeyValuePair<string, JsonNode?>> parameters) =>
        new(parameters.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));

    internal static RunEnvelope Parse(string json)
    {
        try
        {
            var root = JsonNode.Parse(json) as JsonObject;
            var file = PipelineDefinition.Str(root?["file"]);
            if (root is null || file is null || root["parameters"] is not JsonObject parameters) throw new JsonException("no file or parameters");
            var runner = root["runner"] as JsonObject;
            return new RunEnvelope(file, (JsonObject)parameters.DeepClone(), root["triggerBody"]?.DeepClone(), PipelineDefinition.Str(root["parentRunId"]),
                PipelineDefinition.Str(runner?["host"]), runner?["pid"]?.GetValue<int>() ?? 0, runner?["startedAt"]?.GetValue<DateTimeOffset>() ?? default);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, "The run was not recorded by the local pipeline runner (its parameters hold no pipeline file).", e);
        }
    }

    /// <summary>
    /// Whether the process that ran this run is alive: same host, same pid, same start time (so a reused pid is not taken for it).
    /// A run recorded on another host is taken as alive: this machine cannot tell.
    /// </summary>
    internal bool RunnerAlive()
    {
        if (RunnerPid <= 0) return false;
        if (!string.Equals(RunnerHost, Environment.MachineName, StringComparison.Ordinal)) return true;
        return CustomCommand.IsRunning(RunnerPid, RunnerStartedAt);
    }
}
