using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lakehouse.Pipelines.Adf;

/// <summary>
/// The ARM deployment template of a factory, in the layout of ADF's own <c>ARMTemplateForFactory.json</c>: a <c>factoryName</c>
/// parameter, a <c>factoryId</c> variable, and each linked service, dataset, pipeline and trigger as a top-level resource named
/// <c>[concat(parameters('factoryName'), '/name')]</c> whose <c>dependsOn</c> lists what it references (a pipeline the linked services,
/// datasets and pipelines it uses, a trigger its pipelines). Unlike ADF's export, the factory itself is a resource of the template
/// (with a <c>location</c> parameter), so one deployment creates it, and every child depends on it.
/// </summary>
public static partial class AdfArmTemplate
{
    /// <summary>The deployment template schema the <c>$schema</c> of the template names.</summary>
    public const string SchemaUrl = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

    private const string FactoryNameExpression = "[parameters('factoryName')]";

    // ARM spells the child types in lower case in Microsoft's schema (an enum, case-sensitive there); dependsOn keeps ADF's spelling.
    private static readonly Dictionary<string, string> DependsOnSegments = new(StringComparer.Ordinal)
    {
        ["linkedservices"] = "linkedServices",
        ["datasets"] = "datasets",
        ["pipelines"] = "pipelines",
        ["triggers"] = "triggers",
    };

    /// <summary>Builds the template of <paramref name="factory"/>, resources in deployment order.</summary>
    public static JsonObject Build(AdfFactoryDefinition factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var factoryResource = new JsonObject
        {
            ["name"] = FactoryNameExpression,
            ["type"] = AdfFactoryDefinition.FactoryType,
            ["apiVersion"] = AdfFactoryDefinition.ApiVersion,
            ["location"] = "[parameters('location')]",
        };
        if (factory.Identity is not null) factoryResource["identity"] = Escape(factory.Identity);
        factoryResource["properties"] = factory.Properties is null ? new JsonObject() : SchemaCasing("factory", Escape(factory.Properties));

        var resources = new JsonArray(factoryResource);
        foreach (var r in factory.Resources)
        {
            var dependsOn = new JsonArray("[variables('factoryId')]");
            foreach (var d in r.DependsOn)
            {
                var slash = d.IndexOf('/', StringComparison.Ordinal);
                dependsOn.Add($"[concat(variables('factoryId'), '/{DependsOnSegments[d[..slash]]}/{d[(slash + 1)..]}')]");
            }

            resources.Add(new JsonObject
            {
                ["name"] = $"[concat(parameters('factoryName'), '/{r.Name}')]",
                ["type"] = r.Type,
                ["apiVersion"] = AdfFactoryDefinition.ApiVersion,
                ["properties"] = SchemaCasing(AdfDeclaredTypes.KindOfArmType(r.Type), Escape(r.Properties)),
                ["dependsOn"] = dependsOn,
            });
        }

        return new JsonObject
        {
            ["$schema"] = SchemaUrl,
            ["contentVersion"] = "1.0.0.0",
            ["parameters"] = new JsonObject
            {
                ["factoryName"] = new JsonObject { ["type"] = "string", ["metadata"] = "Data Factory name", ["defaultValue"] = factory.Name },
                ["location"] = new JsonObject
                {
                    ["type"] = "string",
                    ["metadata"] = "The factory's region",
                    ["defaultValue"] = factory.Location ?? "[resourceGroup().location]",
                },
            },
            ["variables"] = new JsonObject { ["factoryId"] = "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]" },
            ["resources"] = resources,
        };
    }

    /// <summary>
    /// The properties with parameter and variable types in the schema's spelling ("string" → "String"): ADF takes any casing, but
    /// the template is checked against Microsoft's schema (here and by ajv in tests/run.sh), whose enums are case-sensitive.
    /// </summary>
    private static JsonNode SchemaCasing(string? kind, JsonNode properties)
    {
        if (properties is JsonObject obj) AdfDeclaredTypes.ToSchemaCasing(kind, obj);
        return properties;
    }

    /// <summary>The template as a file holds it: indented, quotes and apostrophes of ARM expressions written as they are (not \u0027).</summary>
    public static string ToText(JsonObject template, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(template);
        return template.ToJsonString(new JsonSerializerOptions { WriteIndented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>
    /// A copy of a resource's properties in which every string that starts with '[' is written '[[': ARM evaluates a string in
    /// square brackets as a template expression, and '[[' is its escape for a literal '[' (as ADF's export does).
    /// </summary>
    public static JsonNode Escape(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Map(node, s => s.StartsWith('[') ? "[" + s : s);
    }

    /// <summary>The inverse of <see cref="Escape"/>: what the resource provider receives for a template string.</summary>
    public static JsonNode Unescape(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Map(node, s => s.StartsWith("[[", StringComparison.Ordinal) ? s[1..] : s);
    }

    /// <summary>The key (<c>type/name</c>, child type lower case) a template resource is known by; null for a name this class does not write.</summary>
    internal static string? KeyOf(string? type, string? name)
    {
        if (type is null || name is null) return null;
        if (name == FactoryNameExpression) return AdfFactoryDefinition.FactoryType;
        var m = ChildName().Match(name);
        return m.Success ? type.ToLowerInvariant() + "/" + m.Groups[1].Value : null;
    }

    /// <summary>The key (see <see cref="KeyOf"/>) of the resource a <c>dependsOn</c> entry names, or null when it is not one this class writes.</summary>
    internal static string? KeyOfDependency(string? dependency)
    {
        if (dependency is null) return null;
        if (dependency == "[variables('factoryId')]") return AdfFactoryDefinition.FactoryType;
        var m = ChildDependency().Match(dependency);
        return m.Success ? AdfFactoryDefinition.FactoryType + "/" + m.Groups[1].Value.ToLowerInvariant() + "/" + m.Groups[2].Value : null;
    }

    private static JsonNode Map(JsonNode node, Func<string, string> map) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Map(p.Value, map)))),
        JsonArray array => new JsonArray([.. array.Select(i => i is null ? null : Map(i, map))]),
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(map(s)),
        _ => node.DeepClone(),
    };

    [GeneratedRegex(@"^\[concat\(parameters\('factoryName'\), '/([^'/]+)'\)\]$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ChildName();

    [GeneratedRegex(@"^\[concat\(variables\('factoryId'\), '/([A-Za-z]+)/([^'/]+)'\)\]$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ChildDependency();
}
