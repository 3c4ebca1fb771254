using System.Globalization;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Expressions;

namespace Lakehouse.Pipelines.Runner;

/// <summary>One problem <see cref="PipelineChecks"/> found in a pipeline document.</summary>
/// <param name="Path">The JSON path of the value.</param>
/// <param name="Activity">The activity the value belongs to, or null (a parameter).</param>
/// <param name="Rule">The rule, as <c>adf validate</c> names it: <c>lakehouse:policy</c>, <c>lakehouse:limit</c>, <c>lakehouse:parameter</c>, <c>lakehouse:variable</c> or <c>lakehouse:expression</c>.</param>
/// <param name="Message">What is wrong, with the value.</param>
internal sealed record PipelineCheckProblem(string Path, string? Activity, string Rule, string Message);

/// <summary>
/// The checks of a pipeline document that no schema makes and that both <c>lakehouse adf validate</c> (<see cref="Adf.AdfValidator"/>)
/// and the local runner before a run (<see cref="PipelineDefinition"/>) make, so the two cannot disagree: each activity's
/// policy (retry, retryIntervalInSeconds from 30 s to a day, timeout up to ADF's 7 days), an Until's own timeout (up to 90 days),
/// ADF's limits (<c>lakehouse:limit</c>: 120 activities and 50 parameters per pipeline, no ForEach inside a ForEach or an Until, no
/// SetVariable inside a ForEach that runs in parallel), each parameter's and variable's type and default value (of that type),
/// and every expression (<see cref="AdfExpression.CheckDocument"/>: it parses, calls known functions, names declared
/// parameters, variables and activities). Values written as expressions are checked again, by the same rules, when they are evaluated.
/// </summary>
internal static class PipelineChecks
{
    /// <summary>ADF's longest activity timeout (policy.timeout): 7 days, also its default.</summary>
    internal static readonly TimeSpan MaxActivityTimeout = TimeSpan.FromDays(7);

    /// <summary>
    /// ADF's longest Until timeout (typeProperties.timeout): 90 days (its default is 7, <see cref="MaxActivityTimeout"/>). Each
    /// activity inside still has its own 7-day policy.timeout.
    /// </summary>
    internal static readonly TimeSpan MaxUntilTimeout = TimeSpan.FromDays(90);

    /// <summary>ADF's most activities per pipeline, the inner activities of containers (ForEach, Until, IfCondition, Switch) included.</summary>
    internal const int MaxActivities = 120;

    /// <summary>ADF's most parameters per pipeline.</summary>
    internal const int MaxParameters = 50;

    /// <summary>ADF's most items a ForEach iterates over.</summary>
    internal const int MaxForEachItems = 100_000;

    /// <summary>ADF's shortest retry interval (policy.retryIntervalInSeconds), also its default: 30 seconds (the schema's minimum).</summary>
    internal const long MinRetryIntervalSeconds = 30;

    /// <summary>ADF's longest retry interval (policy.retryIntervalInSeconds): a day.</summary>
    internal const long MaxRetryIntervalSeconds = 86_400;

    /// <summary>
    /// The parameter types of a pipeline, spelled as ADF's schema has them (<see cref="Adf.AdfDeclaredTypes.Parameter"/>). A type
    /// in another casing ("string", "securestring") is that type, as ADF takes it; types of ARM templates that the schema does not
    /// list (SecureObject) are refused, as <c>adf validate</c> refuses them.
    /// </summary>
    internal static IReadOnlyList<string> ParameterTypes => Adf.AdfDeclaredTypes.Parameter;

    /// <summary>
    /// The variable types of a pipeline, as ADF has them (<see cref="Adf.AdfDeclaredTypes.Variable"/>: String, Bool, Array; Microsoft's
    /// schema, the REST API's VariableType and the Set Variable article agree), in any casing. "Boolean" and "Integer" are not
    /// among them: <c>adf validate</c> refuses them, so the runner does too.
    /// </summary>
    internal static IReadOnlyList<string> VariableTypes => Adf.AdfDeclaredTypes.Variable;

    private static readonly string[] Containers = ["activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities"];

    /// <summary>Every problem of a pipeline document (<c>{"name", "properties": {"activities", "parameters"}}</c>), in document order.</summary>
    internal static List<PipelineCheckProblem> Check(JsonObject root)
    {
        var problems = new List<PipelineCheckProblem>();
        var properties = root["properties"] as JsonObject;
        foreach (var (name, node) in properties?["parameters"] as JsonObject ?? [])
        {
            var at = $"$.properties.parameters.{name}";
            var type = ParameterType(PipelineDefinition.Str(node?["type"]));
            if (type is null)
                problems.Add(new($"{at}.type", null, "lakehouse:parameter", ParameterTypeProblem(PipelineDefinition.Str(node?["type"]))!));
            else if (node?["defaultValue"] is { } defaultValue && DefaultProblem($"parameter '{name}'", type, defaultValue) is { } problem)
                problems.Add(new($"{at}.defaultValue", null, "lakehouse:parameter", problem));
        }
        foreach (var (name, node) in properties?["variables"] as JsonObject ?? [])
        {
            var at = $"$.properties.variables.{name}";
            var type = VariableType(PipelineDefinition.Str(node?["type"]));
            if (type is null)
                problems.Add(new($"{at}.type", null, "lakehouse:variable", VariableTypeProblem(PipelineDefinition.Str(node?["type"]))!));
            else if (node?["defaultValue"] is { } defaultValue && DefaultProblem($"variable '{name}'", type, defaultValue) is { } problem)
                problems.Add(new($"{at}.defaultValue", null, "lakehouse:variable", problem));
        }

        if (properties?["parameters"] is JsonObject declared && declared.Count > MaxParameters)
            problems.Add(new("$.properties.parameters", null, "lakehouse:limit",
                string.Create(CultureInfo.InvariantCulture, $"the pipeline declares {declared.Count} parameters; ADF allows at most {MaxParameters} per pipeline")));

        var activities = new List<(string Path, string Name)>();
        CheckActivities(properties?["activities"] as JsonArray, "$.properties.activities", null, problems, activities);
        if (activities.Count > MaxActivities)
            problems.Add(new("$.properties.activities", null, "lakehouse:limit", string.Create(CultureInfo.InvariantCulture,
                $"the pipeline has {activities.Count} activities, the inner activities of its ForEach, Until, IfCondition and Switch activities included; ADF allows at most {MaxActivities} per pipeline: move some into pipelines of their own, run by ExecutePipeline")));
        foreach (var problem in AdfExpression.CheckDocument(root))
        {
            var owner = activities.Where(a => Within(problem.Path, a.Path)).MaxBy(a => a.Path.Length);
            problems.Add(new(problem.Path, owner.Name, "lakehouse:expression", problem.Message));
        }
        return problems;
    }

    /// <summary>The parameter type <paramref name="type"/> is, in the schema's spelling (in any casing: "int" is Int), or null when it is none.</summary>
    internal static string? ParameterType(string? type) => Adf.AdfDeclaredTypes.Canonical(ParameterTypes, type);

    /// <summary>Why <paramref name="type"/> is not a parameter type, naming the types (in any casing), or null when it is one.</summary>
    internal static string? ParameterTypeProblem(string? type) =>
        ParameterType(type) is not null ? null : $"'{type}' is not a parameter type ({string.Join(", ", ParameterTypes)}, in any casing)";

    /// <summary>The variable type <paramref name="type"/> is, in the schema's spelling (in any casing: "bool" is Bool), or null when it is none.</summary>
    internal static string? VariableType(string? type) => Adf.AdfDeclaredTypes.Canonical(VariableTypes, type);

    /// <summary>Why <paramref name="type"/> is not a variable type, naming the types (and Bool for "Boolean"), or null when it is one.</summary>
    internal static string? VariableTypeProblem(string? type) =>
        VariableType(type) is not null ? null
        : $"'{type}' is not a variable type ({string.Join(", ", VariableTypes)}, in any casing){(string.Equals(type, "Boolean", StringComparison.OrdinalIgnoreCase) ? "; ADF spells it Bool" : "")}";

    /// <summary>Why a policy.retry value is not a retry count, or null when it is one.</summary>
    internal static string? RetryProblem(JsonNode? value) =>
        WholeNumber(value) is >= 0 and <= int.MaxValue ? null : $"{Shown(value)} is not a retry count (a whole number from 0)";

    /// <summary>Why a policy.retryIntervalInSeconds value is not a retry interval, or null when it is one.</summary>
    internal static string? RetryIntervalProblem(JsonNode? value) =>
        WholeNumber(value) is >= MinRetryIntervalSeconds and <= MaxRetryIntervalSeconds ? null
            : string.Create(CultureInfo.InvariantCulture, $"{Shown(value)} is not a retry interval (whole seconds from {MinRetryIntervalSeconds} to {MaxRetryIntervalSeconds})");

    /// <summary>
    /// Why a policy.timeout value is not an activity timeout (<c>d.hh:mm:ss</c>, more than 0, at most <see cref="MaxActivityTimeout"/>),
    /// or null when it is one; <paramref name="timeout"/> is then its length.
    /// </summary>
    internal static string? TimeoutProblem(JsonNode? value, out TimeSpan timeout) => TimeoutProblem(value, MaxActivityTimeout, "the longest activity timeout ADF allows", out timeout);

    /// <summary>
    /// Why an Until's typeProperties.timeout is not one (<c>d.hh:mm:ss</c>, more than 0, at most <see cref="MaxUntilTimeout"/>), or null
    /// when it is; <paramref name="timeout"/> is then its length.
    /// </summary>
    internal static string? UntilTimeoutProblem(JsonNode? value, out TimeSpan timeout) => TimeoutProblem(value, MaxUntilTimeout, "the longest timeout ADF allows an Until", out timeout);

    private static string? TimeoutProblem(JsonNode? value, TimeSpan longest, string what, out TimeSpan timeout)
    {
        timeout = default;
        if (PipelineDefinition.Str(value) is not { } text || !PipelineDefinition.TryTimeSpan(text, out var parsed)) return $"{Shown(value)} is not a timeout (d.hh:mm:ss)";
        if (parsed > longest)
            return string.Create(CultureInfo.InvariantCulture, $"'{text}' is longer than {longest.TotalDays} days ({longest.ToString("c", CultureInfo.InvariantCulture)}), {what}");
        timeout = parsed;
        return null;
    }

    /// <summary>
    /// Why a parameter's or variable's default value is not of its declared type (as a given value is converted), naming
    /// <paramref name="what"/> ("parameter 'n'"), or null when it is; null is no default.
    /// </summary>
    private static string? DefaultProblem(string what, string type, JsonNode defaultValue)
    {
        try
        {
            PipelineValues.Convert(type, defaultValue);
            return null;
        }
        catch (FormatException e)
        {
            return $"{what}: the default value {e.Message}";
        }
    }

    /// <summary>Checks the activities of <paramref name="list"/> and those inside them; <paramref name="loop"/> is the ForEach or Until they run in ("ForEach 'x'"), if any.</summary>
    private static void CheckActivities(JsonArray? list, string path, string? loop, List<PipelineCheckProblem> problems, List<(string Path, string Name)> activities)
    {
        for (var i = 0; i < (list?.Count ?? 0); i++)
        {
            if (list![i] is not JsonObject activity) continue;
            var at = $"{path}[{i}]";
            var name = PipelineDefinition.Str(activity["name"]);
            if (name is not null) activities.Add((at, name));
            var type = PipelineDefinition.Str(activity["type"]);
            if (type == "ForEach" && loop is not null)
                problems.Add(new(at, name, "lakehouse:limit",
                    $"a ForEach inside {loop}: ADF cannot nest a ForEach in a ForEach or an Until; put the inner loop in a pipeline of its own and run that with ExecutePipeline"));
            if (activity["policy"] is JsonObject policy)
            {
                void Policy(string property, Func<JsonNode?, string?> problem)
                {
                    if (policy[property] is { } value && !IsExpression(value) && problem(value) is { } message)
                        problems.Add(new($"{at}.policy.{property}", name, "lakehouse:policy", message));
                }
                Policy("retry", RetryProblem);
                Policy("retryIntervalInSeconds", RetryIntervalProblem);
                Policy("timeout", v => TimeoutProblem(v, out _));
            }
            if (activity["typeProperties"] is not JsonObject typeProperties) continue;
            if (type == "Until" && typeProperties["timeout"] is { } untilTimeout && !IsExpression(untilTimeout)
                && UntilTimeoutProblem(untilTimeout, out _) is { } untilProblem)
                problems.Add(new($"{at}.typeProperties.timeout", name, "lakehouse:policy", untilProblem));
            // An isSequential written as an expression is known when the loop runs: checked then, by the same rule.
            if (type == "ForEach" && (typeProperties["isSequential"] is null || typeProperties["isSequential"]!.GetValueKind() == System.Text.Json.JsonValueKind.False)
                && ParallelSetVariableProblem(typeProperties["activities"] as JsonArray) is { } setProblem)
                problems.Add(new($"{at}.typeProperties.activities", name, "lakehouse:limit", setProblem));
            var inner = type is "ForEach" or "Until" ? $"{type} '{name}'" : loop;
            foreach (var key in Containers) CheckActivities(typeProperties[key] as JsonArray, $"{at}.typeProperties.{key}", inner, problems, activities);
            if (typeProperties["cases"] is JsonArray cases)
                for (var c = 0; c < cases.Count; c++) CheckActivities(cases[c]?["activities"] as JsonArray, $"{at}.typeProperties.cases[{c}].activities", inner, problems, activities);
        }
    }

    /// <summary>
    /// Why a ForEach whose iterations run in parallel cannot hold <paramref name="activities"/>, or null: ADF refuses a SetVariable
    /// in it, at any depth (variables belong to the whole pipeline, so the iterations would overwrite each other's value).
    /// </summary>
    internal static string? ParallelSetVariableProblem(JsonArray? activities) =>
        SetVariableIn(activities) is { } set
            ? $"SetVariable '{set}' is inside this ForEach, whose iterations run in parallel (isSequential is not true): ADF's variables belong to the whole pipeline, " +
              "so the iterations would overwrite each other's value (ADF refuses it); make the loop sequential, collect the values with AppendVariable, or set the variable in a pipeline run by ExecutePipeline"
            : null;

    /// <summary>The name of the first SetVariable among <paramref name="activities"/> and the activities inside them, or null.</summary>
    private static string? SetVariableIn(JsonArray? activities)
    {
        foreach (var activity in activities?.OfType<JsonObject>() ?? [])
        {
            if (PipelineDefinition.Str(activity["type"]) == "SetVariable") return PipelineDefinition.Str(activity["name"]) ?? "";
            if (activity["typeProperties"] is not JsonObject typeProperties) continue;
            foreach (var key in Containers)
                if (SetVariableIn(typeProperties[key] as JsonArray) is { } inContainer) return inContainer;
            foreach (var branch in typeProperties["cases"] as JsonArray ?? [])
                if (SetVariableIn(branch?["activities"] as JsonArray) is { } inCase) return inCase;
        }
        return null;
    }

    /// <summary>A value evaluated when the activity runs: an '@' string or <c>{"value": "@…", "type": "Expression"}</c>.</summary>
    private static bool IsExpression(JsonNode? value) =>
        (PipelineDefinition.Str(value) is { } text && AdfExpression.IsExpression(text)) || (value is JsonObject o && PipelineDefinition.Str(o["type"]) == "Expression");

    private static long? WholeNumber(JsonNode? value)
    {
        try
        {
            return PipelineValues.Whole(value, "");
        }
        catch (LakehouseException)
        {
            return null;
        }
    }

    /// <summary>Whether a JSON path is the activity's at <paramref name="activity"/> or inside it (<c>[1]</c> does not hold <c>[10]</c>).</summary>
    private static bool Within(string path, string activity) =>
        path.StartsWith(activity, StringComparison.Ordinal) && (path.Length == activity.Length || path[activity.Length] is '.' or '[');

    private static string Shown(JsonNode? value) => PipelineDefinition.Str(value) is { } text ? $"'{text}'" : value?.ToJsonString() ?? "null";
}
