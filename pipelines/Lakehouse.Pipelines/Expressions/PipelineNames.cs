using System.Text.Json.Nodes;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// The parameters, variables and activities a pipeline declares, to check the literal references of its expressions
/// (<c>pipeline().parameters.x</c>, <c>variables('x')</c>, <c>activity('x')</c>) before it runs.
/// </summary>
internal sealed class PipelineNames
{
    private readonly HashSet<string> _parameters = new(StringComparer.OrdinalIgnoreCase);
    // Variables match exactly, as the runner sets and reads them (SetVariable's variableName, variables('x')): in any casing,
    // variables('X') passed this check and then failed the run with "variable 'X' is not declared".
    private readonly HashSet<string> _variables = new(StringComparer.Ordinal);
    private readonly HashSet<string> _activities = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// By JSON path, the activity whose values are there and the activities whose output they may read: its ancestors, i.e. what it
    /// depends on (directly or through others) and, for an activity in a container, what the container may read. An Until's
    /// expression may also read the activities inside it.
    /// </summary>
    private readonly List<(string Path, string Activity, HashSet<string> Ancestors)> _scopes = [];

    /// <summary>The names of a pipeline document, or null when the document is not a pipeline.</summary>
    internal static PipelineNames? From(JsonNode? document)
    {
        if (document is not JsonObject root || root["properties"] is not JsonObject properties || properties["activities"] is not JsonArray activities)
        {
            return null;
        }
        var names = new PipelineNames();
        if (properties["parameters"] is JsonObject parameters)
        {
            names._parameters.UnionWith(parameters.Select(p => p.Key));
        }
        if (properties["variables"] is JsonObject variables)
        {
            names._variables.UnionWith(variables.Select(p => p.Key));
        }
        names.AddActivities(activities, "$.properties.activities", new HashSet<string>(StringComparer.OrdinalIgnoreCase), 0);
        return names;
    }

    private void AddActivities(JsonArray activities, string path, HashSet<string> outer, int depth)
    {
        if (depth > ExpressionParser.MaxDepth)
        {
            return;
        }
        var upstream = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var activity in activities.OfType<JsonObject>())
        {
            if (activity["name"] is JsonValue name && name.TryGetValue<string>(out var text))
            {
                upstream.TryAdd(text, (activity["dependsOn"] as JsonArray ?? []).Select(d => d?["activity"] is JsonValue v && v.TryGetValue<string>(out var u) ? u : null)
                    .OfType<string>().ToList());
            }
        }
        for (var i = 0; i < activities.Count; i++)
        {
            if (activities[i] is not JsonObject activity)
            {
                continue;
            }
            var at = $"{path}[{i}]";
            var ancestors = new HashSet<string>(outer, StringComparer.OrdinalIgnoreCase);
            if (activity["name"] is JsonValue name && name.TryGetValue<string>(out var text))
            {
                _activities.Add(text);
                AddUpstream(text, upstream, ancestors, new HashSet<string>(StringComparer.OrdinalIgnoreCase));
                _scopes.Add((at, text, ancestors));
            }
            if (activity["typeProperties"] is JsonObject type)
            {
                // Containers: ForEach and Until (activities), IfCondition (ifTrueActivities, ifFalseActivities), Switch (cases, defaultActivities).
                foreach (var key in new[] { "activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities" })
                {
                    if (type[key] is JsonArray inner)
                    {
                        AddActivities(inner, $"{at}.typeProperties.{key}", ancestors, depth + 1);
                    }
                }
                if (type["cases"] is JsonArray cases)
                {
                    for (var c = 0; c < cases.Count; c++)
                    {
                        if (cases[c]?["activities"] is JsonArray inner)
                        {
                            AddActivities(inner, $"{at}.typeProperties.cases[{c}].activities", ancestors, depth + 1);
                        }
                    }
                }
                if (activity["type"] is JsonValue kind && kind.TryGetValue<string>(out var until) && until == "Until" && type["activities"] is JsonArray loop
                    && activity["name"] is JsonValue untilName && untilName.TryGetValue<string>(out var untilText))
                {
                    var readable = new HashSet<string>(ancestors, StringComparer.OrdinalIgnoreCase);
                    readable.UnionWith(loop.OfType<JsonObject>().Select(a => a["name"] is JsonValue n && n.TryGetValue<string>(out var t) ? t : null).OfType<string>());
                    _scopes.Add(($"{at}.typeProperties.expression", untilText, readable));
                }
            }
        }
    }

    private static void AddUpstream(string name, Dictionary<string, List<string>> upstream, HashSet<string> ancestors, HashSet<string> seen)
    {
        if (!seen.Add(name) || !upstream.TryGetValue(name, out var parents))
        {
            return;
        }
        foreach (var parent in parents)
        {
            ancestors.Add(parent);
            AddUpstream(parent, upstream, ancestors, seen);
        }
    }

    internal List<AdfExpressionProblem> CheckReferences(AdfExpression.Template template, string path)
    {
        var problems = new List<AdfExpressionProblem>();
        if (template.Expression is { } expression)
        {
            Visit(expression, path, problems);
        }
        foreach (var part in template.Parts ?? [])
        {
            if (part is ExpressionNode node)
            {
                Visit(node, path, problems);
            }
        }
        return problems;
    }

    private void Visit(ExpressionNode node, string path, List<AdfExpressionProblem> problems)
    {
        switch (node)
        {
            case CallNode call:
                if (call.Arguments is [LiteralNode { Value: string name }])
                {
                    if (call.Name.Equals("variables", StringComparison.OrdinalIgnoreCase) && !_variables.Contains(name))
                    {
                        var other = _variables.FirstOrDefault(v => v.Equals(name, StringComparison.OrdinalIgnoreCase));
                        Add(problems, path, call.Position, $"function '{call.Name}': variable '{name}' is not declared in the pipeline"
                            + (other is null ? "" : $" (it declares '{other}': variable names are case-sensitive)"));
                    }
                    else if (call.Name.Equals("activity", StringComparison.OrdinalIgnoreCase) && !_activities.Contains(name))
                    {
                        Add(problems, path, call.Position, $"function '{call.Name}': the pipeline has no activity '{name}'");
                    }
                    else if (call.Name.Equals("activity", StringComparison.OrdinalIgnoreCase) && ScopeOf(path) is { } scope && !scope.Ancestors.Contains(name))
                    {
                        // The runner would read it only if it happened to have ended first; ADF refuses it.
                        Add(problems, path, call.Position,
                            $"function '{call.Name}': activity '{name}' is not an ancestor of activity '{scope.Activity}', so its output is not there when '{scope.Activity}' runs "
                            + $"(an activity reads the output of what it depends on, directly or through others, or what the ForEach, IfCondition, Until or Switch holding it depends on)");
                    }
                }
                foreach (var argument in call.Arguments)
                {
                    Visit(argument, path, problems);
                }
                break;
            case AccessNode access:
                if (access.Name is { } parameter
                    && access.Target is AccessNode { Name: { } parameters, Target: CallNode pipeline }
                    && parameters.Equals("parameters", StringComparison.OrdinalIgnoreCase)
                    && pipeline.Name.Equals("pipeline", StringComparison.OrdinalIgnoreCase)
                    && !_parameters.Contains(parameter))
                {
                    Add(problems, path, access.Position, $"the pipeline has no parameter '{parameter}'");
                }
                Visit(access.Target, path, problems);
                if (access.Index is { } index)
                {
                    Visit(index, path, problems);
                }
                break;
        }
    }

    /// <summary>The innermost activity (or Until expression) whose values <paramref name="path"/> is in, or null (not in an activity).</summary>
    private (string Path, string Activity, HashSet<string> Ancestors)? ScopeOf(string path)
    {
        (string Path, string Activity, HashSet<string> Ancestors)? best = null;
        foreach (var scope in _scopes)
        {
            if (path.StartsWith(scope.Path, StringComparison.Ordinal) && (path.Length == scope.Path.Length || path[scope.Path.Length] is '.' or '[')
                && (best is null || scope.Path.Length > best.Value.Path.Length))
            {
                best = scope;
            }
        }
        return best;
    }

    private static void Add(List<AdfExpressionProblem> problems, string path, int position, string message) =>
        problems.Add(new AdfExpressionProblem(path, position, ExpressionParser.Error(position, message).Message));
}
