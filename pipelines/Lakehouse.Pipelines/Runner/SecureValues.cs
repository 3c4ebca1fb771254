using System.Text.Json.Nodes;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// The values of a run's SecureString parameters, and their masking: ADF shows a SecureString parameter as masked in its
/// monitoring, and so does the local runner. The run record keeps <see cref="Mask"/> in place of each SecureString value, and
/// every text the runner logs or records (activity outputs and errors, the run's error, a Custom activity's log file, the failure
/// webhook's body) has each SecureString value replaced by <see cref="Mask"/>. The activities themselves get the real values.
/// </summary>
internal sealed class SecureValues
{
    /// <summary>What a SecureString value is shown as.</summary>
    internal const string Mask = "***";

    /// <summary>
    /// The start of the names of the environment variables through which <c>lakehouse watch</c> gives the runs it starts their
    /// SecureString values (<c>LAKEHOUSE_SECURE_PARAM_0</c>, <c>_1</c>, …, named on the run's command line by <c>--param-env</c>): never
    /// on a command line, which every user of the machine can read. Custom activities' commands do not get them.
    /// </summary>
    internal const string VariablePrefix = "LAKEHOUSE_SECURE_PARAM_";

    /// <summary>No secrets: nothing is masked.</summary>
    internal static readonly SecureValues None = new([]);

    private readonly string[] _values;

    private SecureValues(IEnumerable<string> values) =>
        // Longest first, so a secret that holds another one is masked whole.
        _values = [.. values.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length)];

    /// <summary>Whether there is anything to mask.</summary>
    internal bool Any => _values.Length > 0;

    /// <summary>Whether the environment variable <paramref name="name"/> is one that carries a SecureString value (<see cref="VariablePrefix"/>).</summary>
    internal static bool IsVariable(string name) => name.StartsWith(VariablePrefix, StringComparison.Ordinal);

    /// <summary>Whether the parameter <paramref name="name"/> of <paramref name="definition"/> is a SecureString (its type is canonical once loaded).</summary>
    internal static bool IsSecure(PipelineDefinition definition, string name) =>
        definition.Parameters.TryGetValue(name, out var spec) && PipelineDefinition.Str(spec["type"]) == "SecureString";

    /// <summary>The SecureString values of a run's bound parameters, with those of the run that started it (<paramref name="inherited"/>).</summary>
    internal static SecureValues Of(PipelineDefinition definition, IReadOnlyDictionary<string, JsonNode?> values, SecureValues? inherited = null) =>
        new(values.Where(v => IsSecure(definition, v.Key)).Select(v => PipelineValues.Text(v.Value)).Concat(inherited?._values ?? []));

    /// <summary>
    /// The parameters as a run record keeps them: each SecureString value replaced by <see cref="Mask"/>; and the names of those a
    /// resume must be given again (all but those holding their default value, which a resume takes again).
    /// </summary>
    internal static (Dictionary<string, JsonNode?> Values, List<string> Masked) ForRecord(PipelineDefinition definition, IReadOnlyDictionary<string, JsonNode?> values)
    {
        var shown = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        var masked = new List<string>();
        foreach (var (name, value) in values)
        {
            if (IsSecure(definition, name) && value is not null)
            {
                shown[name] = JsonValue.Create(Mask);
                if (!IsDefault(definition, name, value)) masked.Add(name);
            }
            else
            {
                shown[name] = value?.DeepClone();
            }
        }
        masked.Sort(StringComparer.OrdinalIgnoreCase);
        return (shown, masked);
    }

    private static bool IsDefault(PipelineDefinition definition, string name, JsonNode value)
    {
        if (definition.Parameters[name]["defaultValue"] is not { } defaultValue) return false;
        try
        {
            return PipelineValues.Convert("SecureString", defaultValue)?.ToJsonString() == value.ToJsonString();
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary><paramref name="text"/> with every secret replaced by <see cref="Mask"/>.</summary>
    internal string Redact(string text)
    {
        foreach (var value in _values) text = text.Replace(value, Mask, StringComparison.Ordinal);
        return text;
    }

    /// <summary><paramref name="text"/> masked, null staying null.</summary>
    internal string? RedactOrNull(string? text) => text is null ? null : Redact(text);

    /// <summary>A copy of <paramref name="node"/> whose strings (values and property names) are masked.</summary>
    internal JsonNode? Redact(JsonNode? node)
    {
        if (!Any) return node?.DeepClone();
        return node switch
        {
            null => null,
            JsonObject o => RedactObject(o),
            JsonArray a => new JsonArray([.. a.Select(Redact)]),
            JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(Redact(s)),
            _ => node.DeepClone(),
        };
    }

    private JsonObject RedactObject(JsonObject o)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in o) copy[Redact(key)] = Redact(value); // two names masked alike keep the last value
        return copy;
    }

    /// <summary>JSON text (an activity's output) with its strings masked.</summary>
    internal string? RedactJson(string? json)
    {
        if (json is null || !Any) return json;
        return Redact(JsonNode.Parse(json))?.ToJsonString() ?? "null";
    }

    /// <summary>Whether <paramref name="text"/> holds a secret.</summary>
    internal bool Reveals(string? text) => text is not null && _values.Any(v => text.Contains(v, StringComparison.Ordinal));
}
