using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// A pipeline file read and checked before anything runs: every activity type is one the local runner knows, dependsOn
/// names siblings with known conditions, pipelines it executes exist and pass the same checks, and the checks
/// <c>lakehouse adf validate</c> makes too (<see cref="PipelineChecks"/>: policies, parameter defaults, expressions) pass.
/// </summary>
internal sealed class PipelineDefinition
{
    /// <summary>The activity types the local runner runs.</summary>
    internal static readonly IReadOnlySet<string> SupportedTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Custom", "Script", "WebActivity", "ExecutePipeline", "ForEach", "IfCondition", "Until", "Wait", "Fail", "SetVariable", "AppendVariable",
    };

    internal static readonly IReadOnlySet<string> Conditions = new HashSet<string>(StringComparer.Ordinal) { "Succeeded", "Failed", "Skipped", "Completed" };

    private PipelineDefinition(string file, string name, JsonObject properties)
    {
        File = file;
        Name = name;
        Properties = properties;
        Activities = properties["activities"] as JsonArray ?? [];
        if (properties["parameters"] is JsonObject parameters)
            foreach (var (key, value) in parameters) Parameters[key] = InSchemaCasing(value as JsonObject ?? [], PipelineChecks.ParameterType);
        if (properties["variables"] is JsonObject variables)
            foreach (var (key, value) in variables) Variables[key] = InSchemaCasing(value as JsonObject ?? [], PipelineChecks.VariableType);
    }

    /// <summary>
    /// A declaration whose type, given in another casing ("string", "securestring", as ADF takes it), is written as the type is
    /// spelled ("String", "SecureString"), so the run treats it exactly as that type.
    /// </summary>
    private static JsonObject InSchemaCasing(JsonObject spec, Func<string?, string?> canonical)
    {
        if (Str(spec["type"]) is { } type && canonical(type) is { } spelled && spelled != type) spec["type"] = spelled;
        return spec;
    }

    /// <summary>The file's full path.</summary>
    internal string File { get; }

    internal string Name { get; }

    internal JsonObject Properties { get; }

    internal JsonArray Activities { get; }

    /// <summary>Declared parameters: name → { type, defaultValue }.</summary>
    internal Dictionary<string, JsonObject> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Declared variables: name → { type, defaultValue }; the type is one of <see cref="PipelineChecks.VariableTypes"/> (checked on load).</summary>
    internal Dictionary<string, JsonObject> Variables { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads and checks a pipeline file and every pipeline it executes.</summary>
    /// <exception cref="LakehouseException">The file is missing (NotFound) or not runnable (InvalidInput): the message lists every
    /// problem as <c>file: JSON path (activity 'x'): what is wrong</c>.</exception>
    internal static PipelineDefinition Load(string file) => Load(Path.GetFullPath(file), new HashSet<string>(StringComparer.Ordinal));

    private static PipelineDefinition Load(string file, HashSet<string> loading)
    {
        JsonNode? document;
        var json = Adf.AdfValidator.ReadFile(file, $"the pipeline file '{file}'");
        try
        {
            document = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{file}: not JSON: {e.Message}", e);
        }

        if (document is not JsonObject root || root["properties"] is not JsonObject properties || properties["activities"] is not JsonArray)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{file}: $.properties.activities: not a pipeline (a pipeline has properties.activities)");
        var name = root["name"] is JsonValue n && n.TryGetValue<string>(out var text) ? text : Path.GetFileNameWithoutExtension(file);
        var definition = new PipelineDefinition(file, name, properties);
        loading.Add(file);
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        definition.CheckActivities(definition.Activities, "$.properties.activities", problems, names, loading);
        CheckCycles(definition.Activities, "$.properties.activities", problems);
        foreach (var problem in PipelineChecks.Check(root))
            problems.Add(problem.Activity is null ? $"{problem.Path}: {problem.Message}" : $"{problem.Path} (activity '{problem.Activity}'): {problem.Message}");
        loading.Remove(file);
        if (problems.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"{file}: the pipeline cannot run ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}, nothing was run):" + string.Concat(problems.Select(p => $"{Environment.NewLine}  {file}: {p}")));
        return definition;
    }

    /// <summary>The file of a pipeline executed by reference: <c>&lt;referenceName&gt;.json</c> in this file's folder.</summary>
    internal string ReferencedFile(string referenceName) => Path.Combine(Path.GetDirectoryName(File)!, referenceName + ".json");

    /// <summary>Loads a pipeline this one executes (checked already when this one was loaded).</summary>
    internal PipelineDefinition LoadReferenced(string referenceName) => Load(ReferencedFile(referenceName));

    private void CheckActivities(JsonArray activities, string path, List<string> problems, HashSet<string> names, HashSet<string> loading)
    {
        var siblings = activities.OfType<JsonObject>().Select(a => Str(a["name"])).OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < activities.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (activities[i] is not JsonObject activity)
            {
                problems.Add($"{at}: an activity must be a JSON object");
                continue;
            }
            var name = Str(activity["name"]);
            if (string.IsNullOrWhiteSpace(name))
            {
                problems.Add($"{at}.name: the activity has no name");
                continue;
            }
            string Where(string sub) => $"{at}{sub} (activity '{name}')";
            if (!names.Add(name)) problems.Add($"{Where(".name")}: another activity of the pipeline has the same name (ADF needs names unique in the pipeline)");
            var type = Str(activity["type"]);
            if (type is null || !SupportedTypes.Contains(type))
            {
                problems.Add($"{Where(".type")}: the activity type '{type}' is unknown to the local runner (it runs {string.Join(", ", SupportedTypes.Order(StringComparer.Ordinal))})");
                continue;
            }
            if (activity["dependsOn"] is JsonArray dependsOn)
            {
                for (var d = 0; d < dependsOn.Count; d++)
                {
                    var upstream = Str(dependsOn[d]?["activity"]);
                    if (upstream is null || !siblings.Contains(upstream))
                        problems.Add($"{Where($".dependsOn[{d}].activity")}: '{upstream}' is not an activity beside this one");
                    var conditions = dependsOn[d]?["dependencyConditions"] as JsonArray;
                    if (conditions is null || conditions.Count == 0)
                        problems.Add($"{Where($".dependsOn[{d}].dependencyConditions")}: no condition given (Succeeded, Failed, Skipped, Completed)");
                    else
                        foreach (var c in conditions)
                            if (Str(c) is not { } condition || !Conditions.Contains(condition))
                                problems.Add($"{Where($".dependsOn[{d}].dependencyConditions")}: '{Str(c)}' is not a condition (Succeeded, Failed, Skipped, Completed)");
                }
            }
            var props = activity["typeProperties"] as JsonObject;
            void Need(string property)
            {
                if (props?[property] is null) problems.Add($"{Where($".typeProperties.{property}")}: a {type} activity needs typeProperties.{property}");
            }
            // A switch such as isSequential is a JSON boolean or an expression; the string "true" (which ADF's own ForEach page shows,
            // and its schema refuses) was taken as false, so the loop ran in parallel.
            void NeedBoolean(string property)
            {
                if (props?[property] is JsonValue value && !IsExpression(value) && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    problems.Add($"{Where($".typeProperties.{property}")}: {property} must be true or false (a JSON boolean, not {value.ToJsonString()}), or an expression");
            }
            switch (type)
            {
                case "Custom":
                    Need("command");
                    break;
                case "Script":
                    Need("scripts");
                    break;
                case "WebActivity":
                    Need("method");
                    Need("url");
                    break;
                case "Fail":
                    Need("message");
                    Need("errorCode");
                    break;
                case "Wait":
                    Need("waitTimeInSeconds");
                    break;
                case "IfCondition":
                    Need("expression");
                    foreach (var branch in new[] { "ifTrueActivities", "ifFalseActivities" })
                        if (props?[branch] is JsonArray inner) CheckActivities(inner, $"{at}.typeProperties.{branch}", problems, names, loading);
                    break;
                case "ForEach":
                case "Until":
                    Need(type == "ForEach" ? "items" : "expression");
                    Need("activities");
                    if (props?["activities"] is JsonArray loop) CheckActivities(loop, $"{at}.typeProperties.activities", problems, names, loading);
                    if (type == "ForEach" && props?["batchCount"] is JsonValue batch && !IsExpression(batch) && (!batch.TryGetValue<int>(out var b) || b is < 1 or > 50))
                        problems.Add($"{Where(".typeProperties.batchCount")}: batchCount must be a whole number from 1 to 50");
                    if (type == "ForEach") NeedBoolean("isSequential");
                    break;
                case "SetVariable":
                case "AppendVariable":
                    Need("variableName");
                    if (Str(props?["variableName"]) is { } variable && !Variables.ContainsKey(variable))
                        problems.Add($"{Where(".typeProperties.variableName")}: the pipeline declares no variable '{variable}'");
                    else if (type == "AppendVariable" && Str(props?["variableName"]) is { } arrayVariable && Str(Variables[arrayVariable]["type"]) != "Array")
                        problems.Add($"{Where(".typeProperties.variableName")}: AppendVariable needs an Array variable; '{arrayVariable}' is {Str(Variables[arrayVariable]["type"])}");
                    break;
                case "ExecutePipeline":
                    NeedBoolean("waitOnCompletion");
                    var reference = Str(props?["pipeline"]?["referenceName"]);
                    if (reference is null)
                    {
                        problems.Add($"{Where(".typeProperties.pipeline.referenceName")}: an ExecutePipeline activity needs the pipeline's referenceName");
                        break;
                    }
                    var target = ReferencedFile(reference);
                    if (!System.IO.File.Exists(target))
                        problems.Add($"{Where(".typeProperties.pipeline.referenceName")}: the pipeline '{reference}' is not in this folder ({target} does not exist)");
                    else if (loading.Contains(Path.GetFullPath(target)))
                        problems.Add($"{Where(".typeProperties.pipeline.referenceName")}: '{reference}' executes itself (directly or through other pipelines)");
                    else
                    {
                        try
                        {
                            Load(Path.GetFullPath(target), loading);
                        }
                        catch (LakehouseException e)
                        {
                            problems.Add($"{Where(".typeProperties.pipeline.referenceName")}: the pipeline '{reference}' cannot run: {e.Message}");
                        }
                    }
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>dependsOn must not go round in a circle (in any container): one problem at each activity of a circle.</summary>
    private static void CheckCycles(JsonArray activities, string path, List<string> problems)
    {
        var circular = Adf.ActivityGraph.InCircles(activities.OfType<JsonObject>().Where(a => Str(a["name"]) is not null)
            .Select(a => (Str(a["name"])!, (IEnumerable<string>)Upstream(a))));
        for (var i = 0; i < activities.Count; i++)
        {
            if (activities[i] is not JsonObject activity) continue;
            if (Str(activity["name"]) is { } name && circular.Contains(name))
                problems.Add($"{path}[{i}].dependsOn (activity '{name}'): dependsOn goes round in a circle through '{name}'");
            if (activity["typeProperties"] is not JsonObject props) continue;
            foreach (var key in new[] { "activities", "ifTrueActivities", "ifFalseActivities" })
                if (props[key] is JsonArray inner) CheckCycles(inner, $"{path}[{i}].typeProperties.{key}", problems);
        }
    }

    /// <summary>A string value that is an expression ('@…'); <c>{"value", "type": "Expression"}</c> is an object, never a <see cref="JsonValue"/>.</summary>
    private static bool IsExpression(JsonValue value) => value.TryGetValue<string>(out var text) && Expressions.AdfExpression.IsExpression(text);

    /// <summary>The names an activity depends on.</summary>
    internal static List<string> Upstream(JsonObject activity) =>
        (activity["dependsOn"] as JsonArray ?? []).Select(d => Str(d?["activity"])).OfType<string>().ToList();

    /// <summary>ADF's timespan text, <c>d.hh:mm:ss</c> (or <c>hh:mm:ss</c>).</summary>
    internal static bool TryTimeSpan(string text, out TimeSpan value) =>
        TimeSpan.TryParseExact(text, [@"d\.hh\:mm\:ss", @"hh\:mm\:ss", @"d\.hh\:mm\:ss\.FFFFFFF"], CultureInfo.InvariantCulture, out value) && value > TimeSpan.Zero;

    internal static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
