using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// A JSON string value of an ADF definition, parsed by the rules of the Azure Data Factory expression language: a value
/// that starts with '@' is an expression whose result is any JSON value; '@@' at the start escapes a literal '@';
/// '@{…}' inside a string interpolates expressions (the result is then always a string, and '@@{' writes a literal '@{');
/// any other string is a literal. Unknown functions, wrong argument counts and literal arguments of the wrong kind fail
/// when the value is parsed, so a pipeline can be refused before it runs.
/// </summary>
public sealed class AdfExpression
{
    internal sealed record Template(string? Literal, ExpressionNode? Expression, List<object>? Parts);

    private readonly Template _template;

    private AdfExpression(string text, Template template)
    {
        Text = text;
        _template = template;
    }

    /// <summary>The string value as written in the definition.</summary>
    public string Text { get; }

    /// <summary>True when the value has no expression in it (its result is the literal text, after '@@' unescaping).</summary>
    public bool IsLiteral => _template.Literal is not null;

    /// <summary>The names of the functions the language supports (matched case-insensitively).</summary>
    public static IReadOnlyCollection<string> SupportedFunctions { get; } = ExpressionFunctions.Names.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Whether a JSON string value holds an expression: it starts with a single '@' or contains '@{'.</summary>
    public static bool IsExpression(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.StartsWith('@') ? !value.StartsWith("@@", StringComparison.Ordinal) : value.Contains("@{", StringComparison.Ordinal);
    }

    /// <summary>Parses a JSON string value.</summary>
    /// <exception cref="LakehouseException">The expression is malformed, calls an unknown function, passes the wrong number of
    /// arguments or a literal of the wrong kind (reason <see cref="LakehouseErrorReason.InvalidInput"/>; the message names the
    /// function and the 0-based position).</exception>
    public static AdfExpression Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new AdfExpression(value, ExpressionParser.ParseTemplate(value));
    }

    /// <summary>The problems <see cref="Parse"/> would raise for one string value, as a list (empty when it parses).</summary>
    public static IReadOnlyList<AdfExpressionProblem> Check(string value) => Check(value, "");

    /// <summary>
    /// Checks every string value of a JSON document (a pipeline, a trigger, a dataset) and returns each problem with the JSON
    /// path of the string, so a runner or validator can refuse the file before anything runs.
    /// </summary>
    /// <remarks>In a pipeline (a document with <c>properties.activities</c>), literal references are checked too:
    /// <c>pipeline().parameters.x</c> must name a declared parameter, <c>variables('x')</c> a declared variable and
    /// <c>activity('x')</c> an ancestor activity (parameter and activity names compared ignoring case, variable names exactly, as the runner reads them).</remarks>
    public static IReadOnlyList<AdfExpressionProblem> CheckDocument(JsonNode? document)
    {
        var problems = new List<AdfExpressionProblem>();
        var declared = PipelineNames.From(document);
        Walk(document, "$", problems, declared);
        return problems;
    }

    /// <summary>Evaluates the value: a JSON value for a whole expression, a string for a literal or an interpolation.</summary>
    /// <exception cref="LakehouseException">The expression fails while it runs: a missing property, parameter, variable or
    /// activity result, an argument of the wrong kind, a division by zero (reason <see cref="LakehouseErrorReason.InvalidInput"/>).</exception>
    public JsonNode? Evaluate(ExpressionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_template.Literal is { } literal)
        {
            return JsonValue.Create(literal);
        }
        if (_template.Expression is { } expression)
        {
            return ExpressionValues.ToNode(ExpressionEvaluator.Evaluate(expression, context));
        }
        var sb = new StringBuilder();
        foreach (var part in _template.Parts!)
        {
            sb.Append(part is string text ? text : ExpressionValues.ToText(ExpressionEvaluator.Evaluate((ExpressionNode)part, context)));
        }
        return JsonValue.Create(sb.ToString());
    }

    /// <summary>Evaluates the value and writes the result as text, the way '@{…}' writes it (booleans True/False, containers as JSON).</summary>
    public string EvaluateToString(ExpressionContext context)
    {
        var node = Evaluate(context);
        return node is JsonValue value && value.TryGetValue<string>(out var s) ? s : ExpressionValues.ToText(ExpressionValues.FromNode(node));
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>ADF's most characters per expression (the string value as written).</summary>
    internal const int MaxLength = 8_192;

    private static List<AdfExpressionProblem> Check(string value, string path, PipelineNames? declared = null)
    {
        if (value.Length > MaxLength && IsExpression(value))
            return [new AdfExpressionProblem(path, MaxLength, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the expression is {value.Length} characters long; ADF allows at most {MaxLength} characters per expression"))];
        try
        {
            var template = ExpressionParser.ParseTemplate(value);
            return declared is null ? [] : declared.CheckReferences(template, path);
        }
        catch (LakehouseException e)
        {
            return [new AdfExpressionProblem(path, PositionOf(e.Message), e.Message)];
        }
    }

    private static int PositionOf(string message)
    {
        const string Marker = "at position ";
        var start = message.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        var end = start;
        while (end < message.Length && char.IsAsciiDigit(message[end]))
        {
            end++;
        }
        return int.Parse(message.AsSpan(start, end - start), provider: System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Walk(JsonNode? node, string path, List<AdfExpressionProblem> problems, PipelineNames? declared)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    Walk(child, IsPlainName(key) ? $"{path}.{key}" : $"{path}['{key.Replace("'", "\\'", StringComparison.Ordinal)}']", problems, declared);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", problems, declared);
                }
                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                problems.AddRange(Check(text, path, declared));
                break;
        }
    }

    private static bool IsPlainName(string key) => key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
