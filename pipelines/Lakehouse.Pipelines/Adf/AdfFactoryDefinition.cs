using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Adf;

/// <summary>One child resource of a factory as ARM names it: its kind (<c>linkedservices</c>, <c>datasets</c>, <c>pipelines</c>, <c>triggers</c>), name and properties.</summary>
/// <param name="Kind">The ARM child type under <c>Microsoft.DataFactory/factories/</c>, lower case.</param>
/// <param name="Name">The resource's name.</param>
/// <param name="Properties">The resource's <c>properties</c> as in its Git file.</param>
/// <param name="DependsOn">The resources of the factory this one references (<c>kind/name</c>), which must exist before it.</param>
public sealed record AdfFactoryResource(string Kind, string Name, JsonObject Properties, IReadOnlyList<string> DependsOn)
{
    /// <summary>The full ARM type, e.g. <c>Microsoft.DataFactory/factories/pipelines</c>.</summary>
    public string Type => AdfFactoryDefinition.FactoryType + "/" + Kind;

    /// <summary>The key <see cref="DependsOn"/> entries use: <c>kind/name</c>.</summary>
    public string Key => Kind + "/" + Name;
}

/// <summary>
/// A data factory as its Git layout holds it (<c>factory/</c>, <c>linkedService/</c>, <c>dataset/</c>, <c>pipeline/</c>,
/// <c>trigger/</c>): the factory's own settings and its child resources in an order that respects their references (a linked
/// service before what uses it, a pipeline before the pipelines and triggers that start it), the order ARM needs.
/// </summary>
public sealed class AdfFactoryDefinition
{
    /// <summary>The ARM type of a factory.</summary>
    public const string FactoryType = "Microsoft.DataFactory/factories";

    /// <summary>The only API version of Microsoft.DataFactory's resources in Microsoft's schema.</summary>
    public const string ApiVersion = "2018-06-01";

    private static readonly Regex FactoryNamePattern = new("^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    // Git folder → ARM child type, in the order ADF deploys them when nothing else decides.
    private static readonly (string Folder, string Kind)[] Folders =
        [("linkedService", "linkedservices"), ("dataset", "datasets"), ("pipeline", "pipelines"), ("trigger", "triggers")];

    private static readonly Dictionary<string, string> ReferenceKinds = new(StringComparer.Ordinal)
    {
        ["LinkedServiceReference"] = "linkedservices",
        ["DatasetReference"] = "datasets",
        ["PipelineReference"] = "pipelines",
    };

    private AdfFactoryDefinition(string name, string? location, JsonObject? identity, JsonObject? properties, IReadOnlyList<AdfFactoryResource> resources)
    {
        (Name, Location, Identity, Properties, Resources) = (name, location, identity, properties, resources);
    }

    /// <summary>The factory's name (from <c>factory/*.json</c>, or as given).</summary>
    public string Name { get; }

    /// <summary>The factory's region from its file, if it names one.</summary>
    public string? Location { get; }

    /// <summary>The factory's managed identity block, if any.</summary>
    public JsonObject? Identity { get; }

    /// <summary>The factory's properties (global parameters, network access), if a factory file exists.</summary>
    public JsonObject? Properties { get; }

    /// <summary>The child resources, each after every resource it depends on.</summary>
    public IReadOnlyList<AdfFactoryResource> Resources { get; }

    /// <summary>Reads the Git layout under <paramref name="folder"/>.</summary>
    /// <param name="folder">The folder holding <c>factory/</c>, <c>pipeline/</c> and the others (e.g. <c>pipelines/adf</c>).</param>
    /// <param name="factoryName">The factory's name; null for the name in <c>factory/*.json</c>.</param>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <exception cref="LakehouseException">The folder has no ADF files, a file is not an ADF resource, a name is used twice, a
    /// reference names a resource the folder does not hold, or references form a cycle (reason InvalidInput).</exception>
    public static Task<AdfFactoryDefinition> LoadAsync(string folder, string? factoryName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw Invalid($"no such folder: {folder}");
        JsonObject? factory = null;
        var factoryFiles = Directory.Exists(Path.Combine(folder, "factory")) ? Directory.GetFiles(Path.Combine(folder, "factory"), "*.json") : [];
        if (factoryFiles.Length > 1) throw Invalid($"{Path.Combine(folder, "factory")} holds {factoryFiles.Length} factory files; a factory has one");
        if (factoryFiles.Length == 1) factory = Read(factoryFiles[0]);

        var name = factoryName ?? (string?)factory?["name"]
            ?? throw Invalid($"no factory name: {folder} has no factory/*.json naming one; give the name (--factory-name)");
        if (name.Length is < 3 or > 63 || !FactoryNamePattern.IsMatch(name))
            throw Invalid($"'{name}' is not a valid factory name: 3 to 63 letters, digits and single hyphens, starting and ending with a letter or digit");

        var found = new Dictionary<string, (string Kind, string Name, JsonObject Properties, string File)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (sub, kind) in Folders)
        {
            var dir = Path.Combine(folder, sub);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var doc = Read(file);
                var resourceName = (string?)doc["name"] ?? throw Invalid($"{file}: the file has no \"name\"");
                if (doc["properties"] is not JsonObject properties) throw Invalid($"{file}: the file has no \"properties\" object");
                // ADF names are case-insensitive: two files whose names differ only in case are one resource.
                if (!found.TryAdd(kind + "/" + resourceName, (kind, resourceName, properties, file)))
                    throw Invalid($"{file}: a second {kind} named '{resourceName}' (also in {found[kind + "/" + resourceName].File})");
            }
        }

        if (found.Count == 0) throw Invalid($"no ADF files in {folder}: expected *.json under {string.Join(", ", Folders.Select(f => f.Folder + "/"))}");
        var resources = new List<AdfFactoryResource>();
        foreach (var (key, r) in found)
        {
            var deps = new SortedSet<string>(StringComparer.Ordinal);
            CollectReferences(r.Properties, deps);
            var resolved = new List<string>();
            foreach (var dep in deps)
            {
                if (string.Equals(dep, key, StringComparison.OrdinalIgnoreCase)) continue; // a pipeline starting itself needs nothing first
                if (!found.TryGetValue(dep, out var target))
                    throw Invalid($"{r.File}: references {dep.Replace("/", " '", StringComparison.Ordinal)}', which is not in {folder}");
                resolved.Add(target.Kind + "/" + target.Name);
            }

            resources.Add(new AdfFactoryResource(r.Kind, r.Name, r.Properties, resolved));
        }

        return Task.FromResult(new AdfFactoryDefinition(name, (string?)factory?["location"], factory?["identity"] as JsonObject, factory?["properties"] as JsonObject, Order(resources)));
    }

    /// <summary>Every <c>{"referenceName": x, "type": "…Reference"}</c> of a kind the factory holds, as <c>kind/name</c>.</summary>
    private static void CollectReferences(JsonNode? node, SortedSet<string> into)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["referenceName"] is JsonValue rn && rn.TryGetValue<string>(out var refName)
                    && obj["type"] is JsonValue t && t.TryGetValue<string>(out var refType) && ReferenceKinds.TryGetValue(refType, out var kind))
                {
                    into.Add(kind + "/" + refName);
                }

                foreach (var (_, child) in obj) CollectReferences(child, into);
                break;
            case JsonArray array:
                foreach (var child in array) CollectReferences(child, into);
                break;
            default:
                break;
        }
    }

    /// <summary>A topological order (Kahn); ties go by kind (linked services, datasets, pipelines, triggers), then name.</summary>
    private static List<AdfFactoryResource> Order(List<AdfFactoryResource> resources)
    {
        int Rank(AdfFactoryResource r) => Array.FindIndex(Folders, f => f.Kind == r.Kind);
        var byKey = resources.ToDictionary(r => r.Key, StringComparer.Ordinal);
        var waiting = resources.ToDictionary(r => r.Key, r => r.DependsOn.Count, StringComparer.Ordinal);
        var ready = new SortedSet<AdfFactoryResource>(Comparer<AdfFactoryResource>.Create((a, b) =>
            Rank(a) != Rank(b) ? Rank(a).CompareTo(Rank(b)) : string.CompareOrdinal(a.Name, b.Name)));
        foreach (var r in resources.Where(r => r.DependsOn.Count == 0)) ready.Add(r);
        var ordered = new List<AdfFactoryResource>();
        while (ready.Count > 0)
        {
            var next = ready.Min!;
            ready.Remove(next);
            ordered.Add(next);
            foreach (var r in resources.Where(r => r.DependsOn.Contains(next.Key, StringComparer.Ordinal)))
            {
                if (--waiting[r.Key] == 0) ready.Add(byKey[r.Key]);
            }
        }

        if (ordered.Count < resources.Count)
        {
            var cycle = resources.Where(r => waiting[r.Key] > 0).Select(r => r.Key).Order(StringComparer.Ordinal);
            throw Invalid($"the references between {string.Join(", ", cycle)} form a cycle: ARM cannot deploy them in any order");
        }

        return ordered;
    }

    private static JsonObject Read(string file)
    {
        var text = AdfValidator.ReadFile(file, $"the ADF file '{file}'");
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 128 }) as JsonObject
                ?? throw Invalid($"{file}: the file must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid($"{file}: not valid JSON: {e.Message}");
        }
    }

    private static LakehouseException Invalid(string message) => new(LakehouseErrorReason.InvalidInput, message);
}
