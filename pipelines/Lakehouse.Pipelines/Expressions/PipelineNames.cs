using System.Text.Json.Nodes;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// The parameters, variables and activities a pipeline declares, to check the literal references of its expressions
/// (<c>pipeline().parameters.x</c>, <c>variables('x')</c>, <c>activity('x')</c>) before it runs.
/// </summary>
internal sealed class PipelineNames
{
    private readonly HashSet<string> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _variables = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _activities = new(StringComparer.OrdinalIgnoreCase);

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
        names.AddActivities(activities, 0);
        return names;
    }

    private void AddActivities(JsonArray activities, int depth)
    {
        if (depth > ExpressionParser.MaxDepth)
        {
            return;
        }
        foreach (var activity in activities.OfType<JsonObject>())
        {
            if (activity["name"] is JsonValue name && name.TryGetValue<string>(out var text))
            {
                _activities.Add(text);
            }
            if (activity["typeProperties"] is JsonObject type)
            {
                // Containers: ForEach and Until (activities), IfCondition (ifTrueActivities, ifFalseActivities), Switch (cases, defaultActivities).
                foreach (var key in new[] { "activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities" })
                {
                    if (type[key] is JsonArray inner)
                    {
                        AddActivities(inner, depth + 1);
                    }
                }
                if (type["cases"] is JsonArray cases)
                {
                    foreach (var c in cases.OfType<JsonObject>())
                    {
                        if (c["activities"] is JsonArray inner)
                        {
                            AddActivities(inner, depth + 1);
                        }
                    }
                }
            }
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
                        Add(problems, path, call.Position, $"function '{call.Name}': variable '{name}' is not declared in the pipeline");
                    }
                    else if (call.Name.Equals("activity", StringComparison.OrdinalIgnoreCase) && !_activities.Contains(name))
                    {
                        Add(problems, path, call.Position, $"function '{call.Name}': the pipeline has no activity '{name}'");
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

    private static void Add(List<AdfExpressionProblem> problems, string path, int position, string message) =>
        problems.Add(new AdfExpressionProblem(path, position, ExpressionParser.Error(position, message).Message));
}
