using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// What the local runner keeps in a run record's <c>ParametersJson</c>: <c>{"file", "parameters", "masked", "triggerBody",
/// "parentRunId", "runner": {"host", "pid", "startedAt"}}</c>. The file, parameters and trigger body make the run's identity (a
/// rerun of the same command line finds the unfinished run); the runner's process tells whether the run is still running.
/// SecureString parameters are kept as <see cref="SecureValues.Mask"/>, their names in <c>masked</c>: a resume is given them again.
/// </summary>
internal sealed record RunEnvelope(string File, JsonObject Parameters, JsonNode? TriggerBody, string? ParentRunId, string? RunnerHost, int RunnerPid, DateTimeOffset RunnerStartedAt)
{
    internal string IdentityText => Identity(File, Parameters.ToDictionary(p => p.Key, p => p.Value), TriggerBody);

    /// <summary>The SecureString parameters whose values the record does not keep (shown as <see cref="SecureValues.Mask"/>).</summary>
    internal IReadOnlyList<string> Masked { get; init; } = [];

    /// <summary>
    /// The envelope of a run this process runs; with <paramref name="queued"/>, of a run no process runs yet (no runner).
    /// <paramref name="parameters"/> are the values as recorded (<see cref="SecureValues.ForRecord"/>), <paramref name="masked"/> the SecureString ones.
    /// </summary>
    internal static JsonObject Create(string file, Dictionary<string, JsonNode?> parameters, IReadOnlyList<string> masked, JsonNode? triggerBody, string? parentRunId, bool queued = false)
    {
        using var self = Process.GetCurrentProcess();
        return new JsonObject
        {
            ["file"] = file,
            ["parameters"] = Sorted(parameters),
            ["masked"] = masked.Count == 0 ? null : new JsonArray([.. masked.Select(m => (JsonNode)JsonValue.Create(m))]),
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
                PipelineDefinition.Str(runner?["host"]), runner?["pid"]?.GetValue<int>() ?? 0, runner?["startedAt"]?.GetValue<DateTimeOffset>() ?? default)
            {
                Masked = [.. (root["masked"] as JsonArray ?? []).Select(m => m?.GetValue<string>() ?? throw new JsonException("a null in masked"))],
            };
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
