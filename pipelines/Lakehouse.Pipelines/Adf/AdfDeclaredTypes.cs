using System.Text.Json.Nodes;
using Newtonsoft.Json.Linq;

namespace Lakehouse.Pipelines.Adf;

/// <summary>
/// The declared types of ADF parameters and variables, spelled as Microsoft's schema has them (Microsoft.DataFactory.json,
/// 2018-06-01: <c>ParameterSpecification.type</c>, <c>VariableSpecification.type</c>, <c>GlobalParameterSpecification.type</c>).
/// The schema's enums compare case-sensitively, but the ADF service takes these types in any casing (Microsoft's own template
/// gallery writes "string", "int", "securestring"); shared/schemas/adf/README.md lists this among the gaps of the schema that a
/// validator covers itself. So another casing is read as the schema's spelling: by <c>adf validate</c> before the schema check, by
/// the local runner, and in the template of <c>adf export-arm</c>. A type the schema does not list (SecureObject) stays refused.
/// </summary>
internal static class AdfDeclaredTypes
{
    /// <summary>The types of a pipeline's, dataset's or linked service's parameter.</summary>
    internal static readonly IReadOnlyList<string> Parameter = ["String", "Int", "Float", "Bool", "Array", "Object", "SecureString"];

    /// <summary>The types of a pipeline's variable, as Microsoft's schema lists them.</summary>
    internal static readonly IReadOnlyList<string> Variable = ["String", "Bool", "Array"];

    /// <summary>The types of a factory's global parameter (no SecureString).</summary>
    internal static readonly IReadOnlyList<string> GlobalParameter = ["String", "Int", "Float", "Bool", "Array", "Object"];

    /// <summary>The spelling of <paramref name="type"/> among <paramref name="types"/> in any casing, or null when it is none of them.</summary>
    internal static string? Canonical(IReadOnlyList<string> types, string? type) =>
        type is null ? null : types.FirstOrDefault(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Where the resource of a kind (as ADF's Git layout names it: <c>pipeline</c>, <c>dataset</c>, <c>linkedService</c>,
    /// <c>factory</c>) declares typed names in its <c>properties</c>: the property holding the declarations and their types.
    /// </summary>
    internal static IReadOnlyList<(string Container, IReadOnlyList<string> Types)> DeclarationsOf(string? kind) => kind switch
    {
        "pipeline" => [("parameters", Parameter), ("variables", Variable)],
        "dataset" or "linkedService" => [("parameters", Parameter)],
        "factory" => [("globalParameters", GlobalParameter)],
        _ => [],
    };

    /// <summary>The Git-layout kind of a resource of an ARM template by its type (<c>Microsoft.DataFactory/factories/pipelines</c> → <c>pipeline</c>), in any casing as ARM takes it.</summary>
    internal static string? KindOfArmType(string? type) => type?.ToUpperInvariant() switch
    {
        "MICROSOFT.DATAFACTORY/FACTORIES" => "factory",
        "MICROSOFT.DATAFACTORY/FACTORIES/PIPELINES" => "pipeline",
        "MICROSOFT.DATAFACTORY/FACTORIES/DATASETS" => "dataset",
        "MICROSOFT.DATAFACTORY/FACTORIES/LINKEDSERVICES" => "linkedService",
        _ => null,
    };

    /// <summary>
    /// Rewrites, in place, each declared type of <paramref name="properties"/> (of a resource of <paramref name="kind"/>) that differs
    /// from the schema's spelling only in casing to that spelling; other values are left for the checks to report.
    /// </summary>
    internal static void ToSchemaCasing(string? kind, JsonObject properties)
    {
        foreach (var (container, types) in DeclarationsOf(kind))
        {
            if (properties[container] is not JsonObject declared) continue;
            foreach (var (_, spec) in declared)
            {
                if (spec is JsonObject s && s["type"] is JsonValue v && v.TryGetValue<string>(out var type)
                    && Canonical(types, type) is { } canonical && canonical != type)
                    s["type"] = canonical;
            }
        }
    }

    /// <summary>The same as <see cref="ToSchemaCasing(string?, JsonObject)"/> on a JSON.NET object (line information kept).</summary>
    internal static void ToSchemaCasing(string? kind, JObject properties)
    {
        foreach (var (container, types) in DeclarationsOf(kind))
        {
            if (properties[container] is not JObject declared) continue;
            foreach (var p in declared.Properties())
            {
                if (p.Value is JObject s && s["type"] is JValue { Type: JTokenType.String } v
                    && Canonical(types, (string?)v) is { } canonical)
                    v.Value = canonical;
            }
        }
    }
}
