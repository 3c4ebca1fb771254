using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Expressions;

namespace Lakehouse.Pipelines.Runner;

/// <summary>Parameter binding and the evaluation of ADF property values (literals, '@' expressions, {"value", "type": "Expression"}).</summary>
internal static class PipelineValues
{
    /// <summary>
    /// The run's parameters: each given value converted to its declared type (String, Int, Float, Bool, Array, Object), the
    /// others from their defaults, converted the same way. A parameter that is not declared, a value of the wrong type or a
    /// missing one without a default is an error before the run starts (a default of the wrong type already fails
    /// <see cref="PipelineChecks"/>).
    /// </summary>
    internal static Dictionary<string, JsonNode?> Bind(PipelineDefinition definition, IEnumerable<KeyValuePair<string, JsonNode?>> given)
    {
        var values = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        var givenNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        foreach (var (name, value) in given)
        {
            var declared = definition.Parameters.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
            if (declared is null)
            {
                problems.Add($"the pipeline has no parameter '{name}' (it declares {(definition.Parameters.Count == 0 ? "none" : string.Join(", ", definition.Parameters.Keys))})");
                continue;
            }
            // A given value that is not of the type is that value's problem alone: the parameter was given, so neither its
            // default nor its lack of one has a say (it was also reported as "has no default value", or bound to the default).
            givenNames.Add(declared);
            var type = PipelineDefinition.Str(definition.Parameters[declared]["type"]) ?? "String";
            try
            {
                values[declared] = Convert(type, value);
            }
            catch (FormatException e)
            {
                problems.Add($"parameter '{declared}' of type {PipelineChecks.ParameterType(type) ?? type}: the value {e.Message}");
            }
        }
        foreach (var (name, spec) in definition.Parameters)
        {
            if (givenNames.Contains(name)) continue;
            if (!spec.ContainsKey("defaultValue"))
            {
                problems.Add($"parameter '{name}' has no default value: give it (--param {name}=…)");
                continue;
            }
            try
            {
                values[name] = spec["defaultValue"] is { } defaultValue ? Convert(PipelineDefinition.Str(spec["type"]) ?? "String", defaultValue) : null;
            }
            catch (FormatException e)
            {
                problems.Add($"parameter '{name}': the default value {e.Message}");
            }
        }
        if (problems.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{definition.File}: the run's parameters are not valid: {string.Join("; ", problems)}");
        return values;
    }

    /// <summary>Parameters given as text (<c>--param k=v</c>), converted by <see cref="Bind"/>.</summary>
    internal static IEnumerable<KeyValuePair<string, JsonNode?>> FromText(IReadOnlyDictionary<string, string>? parameters) =>
        (parameters ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)));

    /// <summary>
    /// A parameter value converted to its declared type: a JSON value of that type, or text that parses as one ("5" for an
    /// Int, JSON text for an Array or Object); a String takes anything, as text. The type is read in any casing ("int" is Int).
    /// </summary>
    /// <exception cref="FormatException">The value is not of the type; the message shows the value and the type.</exception>
    internal static JsonNode? Convert(string type, JsonNode? value)
    {
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        switch (PipelineChecks.ParameterType(type) ?? type)
        {
            case "String":
            case "SecureString":
                return text is not null ? JsonValue.Create(text) : JsonValue.Create(value?.ToJsonString());
            case "Int":
                if (value is JsonValue iv && iv.TryGetValue<long>(out var l)) return JsonValue.Create(l);
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)
                    ? JsonValue.Create(l) : throw new FormatException($"'{text ?? value?.ToJsonString()}' is not an Int");
            case "Float":
                if (value is JsonValue fv && fv.TryGetValue<double>(out var d)) return JsonValue.Create(d);
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out d) && double.IsFinite(d)
                    ? JsonValue.Create(d) : throw new FormatException($"'{text ?? value?.ToJsonString()}' is not a Float");
            case "Bool":
                if (value is JsonValue bv && bv.TryGetValue<bool>(out var b)) return JsonValue.Create(b);
                return bool.TryParse(text, out b) ? JsonValue.Create(b) : throw new FormatException($"'{text ?? value?.ToJsonString()}' is not a Bool (true or false)");
            case "Array":
            case "Object":
                string? why = null;
                var node = text is not null ? ParseJson(text, out why) : value?.DeepClone();
                var array = PipelineChecks.ParameterType(type) == "Array";
                var ok = array ? node is JsonArray : node is JsonObject;
                return ok ? node : throw new FormatException($"'{text ?? value?.ToJsonString()}' is not a JSON {(array ? "array (such as [\"a\", \"b\"])" : "object (such as {\"a\": 1})")}{why}");
            default:
                throw new FormatException($"'{type}' is not a parameter type");
        }
    }

    /// <summary>
    /// The JSON value <paramref name="text"/> holds, or null when it is not JSON (the caller says what was expected). A key given
    /// twice is not JSON here (<paramref name="why"/> says so): such an object failed when it was first read, in the middle of the run.
    /// </summary>
    private static JsonNode? ParseJson(string text, out string? why)
    {
        why = null;
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            if (e.LineNumber is null) why = $": {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// The value of a property as ADF computes it: <c>{"value": "…", "type": "Expression"}</c> and strings are evaluated as
    /// expressions (literal text stays text, '@@' unescaped); objects and arrays are evaluated member by member.
    /// </summary>
    internal static JsonNode? Evaluate(JsonNode? node, ExpressionContext context) => node switch
    {
        null => null,
        JsonObject o when o.Count == 2 && PipelineDefinition.Str(o["type"]) == "Expression" && PipelineDefinition.Str(o["value"]) is { } expression
            => AdfExpression.Parse(expression).Evaluate(context)?.DeepClone(),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Evaluate(p.Value, context)))),
        JsonArray a => new JsonArray(a.Select(x => Evaluate(x, context)).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var s) => AdfExpression.Parse(s).Evaluate(context)?.DeepClone(),
        _ => node.DeepClone(),
    };

    /// <summary>A value as text: a string as it is, anything else as JSON.</summary>
    internal static string Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";

    /// <summary>A value that must be a boolean (an IfCondition's or Until's expression).</summary>
    internal static bool Bool(JsonNode? node, string what) =>
        node is JsonValue v && v.TryGetValue<bool>(out var b) ? b
        : throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{what} must be a boolean, not {node?.ToJsonString() ?? "null"}");

    /// <summary>A value that must be a whole number.</summary>
    internal static long Whole(JsonNode? node, string what)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue<long>(out var l)) return l;
            if (v.TryGetValue<int>(out var i)) return i;
            if (v.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) < 1e15) return (long)d;
            if (v.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)) return l;
        }
        throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{what} must be a whole number, not {node?.ToJsonString() ?? "null"}");
    }
}
