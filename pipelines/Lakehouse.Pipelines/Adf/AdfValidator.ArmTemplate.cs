using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;

namespace Lakehouse.Pipelines.Adf;

/// <summary>The check of an ARM deployment template of a factory (what <see cref="AdfArmTemplate"/> writes).</summary>
public sealed partial class AdfValidator
{
    private readonly JsonSchema _armTemplate;

    /// <summary>
    /// Validates an ARM template: the envelope and every resource against <c>local/adf-arm-template.schema.json</c> (which hands each
    /// Microsoft.DataFactory resource to Microsoft's resourceDefinitions), plus what no schema says: every <c>dependsOn</c> entry names
    /// a resource of the template, and no resource depends on itself.
    /// </summary>
    /// <param name="file">The name problems carry.</param>
    /// <param name="text">The template's JSON text.</param>
    public IReadOnlyList<AdfProblem> ValidateArmTemplate(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        JToken root;
        try
        {
            using var reader = new JsonTextReader(new StringReader(text)) { DateParseHandling = DateParseHandling.None, MaxDepth = 128 };
            root = JToken.ReadFrom(reader, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error });
        }
        catch (JsonReaderException e)
        {
            return [new(file, "$", "lakehouse:json", $"not valid JSON: {e.Message}")];
        }

        var problems = new List<AdfProblem>();
        // As in a Git file, parameter and variable types in any casing are the schema's (ADF takes them so).
        foreach (var resource in ((root as JObject)?["resources"] as JArray ?? []).OfType<JObject>())
        {
            if (resource["properties"] is JObject properties && resource["type"] is JValue { Type: JTokenType.String } type)
                AdfDeclaredTypes.ToSchemaCasing(AdfDeclaredTypes.KindOfArmType((string?)type), properties);
        }

        foreach (var e in _armTemplate.Validate(root)) Collect(file, "microsoft", e, problems);
        if (root["resources"] is JArray resources)
        {
            var keys = resources.Select(r => AdfArmTemplate.KeyOf((string?)r["type"], (string?)r["name"])).ToList();
            for (var i = 0; i < resources.Count; i++)
            {
                if (resources[i]["dependsOn"] is not JArray deps) continue;
                for (var j = 0; j < deps.Count; j++)
                {
                    var target = AdfArmTemplate.KeyOfDependency((string?)deps[j]);
                    if (target is null || !keys.Contains(target, StringComparer.OrdinalIgnoreCase))
                        problems.Add(new(file, $"$.resources[{i}].dependsOn[{j}]", "lakehouse:depends-on", $"'{deps[j]}' names no resource of the template"));
                    else if (string.Equals(target, keys[i], StringComparison.OrdinalIgnoreCase))
                        problems.Add(new(file, $"$.resources[{i}].dependsOn[{j}]", "lakehouse:depends-on", "a resource cannot depend on itself"));
                }
            }
        }

        return [.. problems.Distinct()];
    }

    /// <summary>
    /// Microsoft's schema with each of its <c>resourceDefinitions</c> also under <c>definitions</c> (as <c>resource_&lt;name&gt;</c>).
    /// NJsonSchema resolves a reference into a document's unknown section (<c>#/resourceDefinitions/factories</c>) from the raw JSON
    /// and then reads that section's own <c>#/definitions/…</c> references against the referring document, where they do not exist;
    /// under <c>definitions</c> the resource definitions are schemas of Microsoft's document, resolved with it.
    /// </summary>
    private static string WithResourceDefinitions(string microsoftJson)
    {
        var root = JObject.Parse(microsoftJson);
        if (root["resourceDefinitions"] is JObject resources && root["definitions"] is JObject definitions)
        {
            foreach (var p in resources.Properties()) definitions[ResourceDefinitionPrefix + p.Name] = p.Value.DeepClone();
        }

        return root.ToString(Formatting.None);
    }

    private const string ResourceDefinitionPrefix = "resource_";

    private static async Task<JsonSchema> LoadArmTemplateSchemaAsync(string path, JsonSchema definitions, JsonSchema microsoft, CancellationToken cancellationToken)
    {
        var json = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false))
            .Replace("Microsoft.DataFactory.json#/resourceDefinitions/", "Microsoft.DataFactory.json#/definitions/" + ResourceDefinitionPrefix, StringComparison.Ordinal);
        return await JsonSchema.FromJsonAsync(json, path, schema =>
        {
            var resolver = new JsonReferenceResolver(new JsonSchemaAppender(schema, new DefaultTypeNameGenerator()));
            resolver.AddDocumentReference(DefinitionsUrl, definitions);
            resolver.AddDocumentReference(MicrosoftUrl, microsoft);
            return resolver;
        }, cancellationToken).ConfigureAwait(false);
    }
}
