using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Storage;

namespace Lakehouse.Datasets;

/// <summary>
/// The datasets a lake knows: the built-in definitions (weblogs, sensors, accesslogs) and the lake's own, one JSON file per
/// dataset in <c>&lt;lake&gt;/_lakehouse/datasets/&lt;name&gt;.json</c>. Adding a dataset is writing such a file; no code changes.
/// </summary>
public sealed class DatasetCatalog
{
    /// <summary>The lake folder that holds a lake's own definitions, relative to the lake root.</summary>
    public const string DefinitionsFolder = "_lakehouse/datasets";

    /// <summary>The most bytes a definition file may hold (1 MiB; a definition of hundreds of columns is a few KB).</summary>
    public const long MaxDefinitionBytes = 1 << 20;

    private static readonly Lazy<DatasetCatalog> BuiltInCatalog = new(LoadBuiltIn);

    private readonly Dictionary<string, DatasetDefinition> _definitions;

    private DatasetCatalog(IEnumerable<DatasetDefinition> definitions, string? lakeFolder)
    {
        _definitions = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
        Names = [.. _definitions.Keys.Order(StringComparer.Ordinal)];
        LakeFolder = lakeFolder;
    }

    /// <summary>The built-in definitions only (no lake): weblogs, sensors and accesslogs.</summary>
    public static DatasetCatalog BuiltIn => BuiltInCatalog.Value;

    /// <summary>Every dataset's name, in ordinal order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Every definition, in the order of <see cref="Names"/>.</summary>
    public IReadOnlyList<DatasetDefinition> Definitions => [.. Names.Select(n => _definitions[n])];

    /// <summary>Where this lake's own definitions are (<c>&lt;lake&gt;/_lakehouse/datasets</c>); null for <see cref="BuiltIn"/>.</summary>
    public string? LakeFolder { get; }

    /// <summary>
    /// The built-in definitions and those of the lake at <paramref name="lake"/> (its root). Every <c>*.json</c> file directly in
    /// <see cref="DefinitionsFolder"/> is a definition named like the file; other files there are ignored. A definition that is not
    /// valid, whose name differs from its file name, or whose name is a built-in dataset's is refused with a
    /// <see cref="LakehouseException"/> (InvalidInput) naming the file and the field; no catalog is returned then, so a lake with a
    /// broken definition is noticed at once rather than when that dataset is next used.
    /// </summary>
    public static async Task<DatasetCatalog> LoadAsync(ILakeStorage lake, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var read = await ReadLakeAsync(lake, cancellationToken).ConfigureAwait(false);
        return read.Problem is { } problem ? throw new LakehouseException(LakehouseErrorReason.InvalidInput, problem) : read.Catalog;
    }

    /// <summary>
    /// A lookup of the lake's datasets that stays current while a process runs (a server, a long ingest): a definition file added,
    /// changed or removed is seen without a restart. See <see cref="DatasetLookup"/> for when it reads the lake again.
    /// </summary>
    /// <param name="lake">The lake's root.</param>
    /// <param name="maxAge">How long a known dataset is answered without looking at the lake again (default 2 s; zero: every time).</param>
    public static DatasetLookup Lookup(ILakeStorage lake, TimeSpan? maxAge = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        return new DatasetLookup(lake, maxAge ?? DatasetLookup.DefaultMaxAge);
    }

    /// <summary>
    /// Lists the lake's definition files and reads them: the listing (what <see cref="DatasetLookup"/> compares to see a change),
    /// the catalog of the built-ins and every valid definition, and the problems of the others as one message (null: none).
    /// </summary>
    internal static async Task<LakeDefinitions> ReadLakeAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var files = await ListDefinitionFilesAsync(lake, cancellationToken).ConfigureAwait(false);
        var definitions = new List<DatasetDefinition>(BuiltIn._definitions.Values);
        var problems = new List<string>();
        var folder = DefinitionsFolder + "/";
        foreach (var file in files)
        {
            var fileName = file.Path[folder.Length..];
            var location = Location(lake, file.Path);
            try
            {
                if (file.Size > MaxDefinitionBytes)
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"Dataset definition '{location}' holds {file.Size.ToString("N0", CultureInfo.InvariantCulture)} bytes, more than the {MaxDefinitionBytes.ToString("N0", CultureInfo.InvariantCulture)} a definition may have.");
                var bytes = await lake.ReadAsync(file.Path, cancellationToken).ConfigureAwait(false);
                var definition = DefinitionReader.Read(bytes, location, isBuiltIn: false);
                var expected = fileName[..^".json".Length];
                if (definition.Name != expected)
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"Dataset definition '{location}', field 'name': '{definition.Name}' differs from the file name; the definition of dataset '{definition.Name}' is {folder}{definition.Name}.json.");
                if (BuiltIn._definitions.ContainsKey(definition.Name))
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"Dataset definition '{location}', field 'name': '{definition.Name}' is a built-in dataset and cannot be redefined; give this definition another name (and file name).");
                definitions.Add(definition);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
            {
                problems.Add(e.Message);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                // Deleted between listing and reading: not a definition any more.
            }
        }
        var problem = problems.Count switch
        {
            0 => null,
            1 => problems[0],
            _ => $"{problems.Count} dataset definitions are not valid:\n  " + string.Join("\n  ", problems),
        };
        return new LakeDefinitions(files, new DatasetCatalog(definitions, Location(lake, DefinitionsFolder)), problem);
    }

    /// <summary>The definition files in the lake (<c>*.json</c> directly in <see cref="DefinitionsFolder"/>, not hidden), in path order.</summary>
    internal static async Task<IReadOnlyList<LakeFile>> ListDefinitionFilesAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        var folder = DefinitionsFolder + "/";
        var files = new List<LakeFile>();
        await foreach (var file in lake.ListAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            var fileName = file.Path[folder.Length..];
            if (fileName.Contains('/', StringComparison.Ordinal) || !fileName.EndsWith(".json", StringComparison.Ordinal) || fileName.StartsWith('.')) continue;
            files.Add(file);
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>The definition of <paramref name="name"/>, if this catalog has one.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out DatasetDefinition? definition)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _definitions.TryGetValue(name, out definition);
    }

    /// <summary>
    /// The definition of <paramref name="name"/>; an unknown name is a <see cref="LakehouseException"/> (InvalidInput) that lists
    /// the known datasets and says how to add one.
    /// </summary>
    public DatasetDefinition Get(string name) =>
        TryGet(name, out var definition) ? definition : throw new LakehouseException(LakehouseErrorReason.InvalidInput, UnknownMessage(name));

    /// <summary>Why <paramref name="name"/> is not a dataset here: the known ones, a suggestion, and where a definition goes.</summary>
    internal string UnknownMessage(string name)
    {
        var suggestion = DefinitionReader.Suggest(name, Names);
        var where = LakeFolder is null
            ? $"in the lake's {DefinitionsFolder} folder"
            : $"as {LakeFolder.TrimEnd('/')}/{(DefinitionReader.IsDatasetName(name) ? name : "<name>")}.json";
        return $"Unknown dataset '{name}'{(suggestion is null ? "" : $" (did you mean '{suggestion}'?)")}. " +
            $"The datasets are {(Names.Count == 1 ? Names[0] : string.Join(", ", Names.Take(Names.Count - 1)) + " and " + Names[^1])}. To add one, write its definition {where} " +
            "(the format is in the README under \"Datasets\"; `lakehouse dataset show weblogs` prints an example).";
    }

    private static string Location(ILakeStorage lake, string path) =>
        lake.Location.Contains("://", StringComparison.Ordinal) ? lake.Location.TrimEnd('/') + "/" + path : Path.Combine(lake.Location, path);

    private static DatasetCatalog LoadBuiltIn()
    {
        var assembly = typeof(DatasetCatalog).Assembly;
        const string prefix = "Lakehouse.Datasets.Definitions.";
        var definitions = new List<DatasetDefinition>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            definitions.Add(DefinitionReader.Read(memory.ToArray(), resource[prefix.Length..] + " (built-in)", isBuiltIn: true));
        }
        return new DatasetCatalog(definitions, null);
    }
}

/// <summary>What <see cref="DatasetCatalog.ReadLakeAsync"/> found.</summary>
/// <param name="Files">The definition files listed, in path order.</param>
/// <param name="Catalog">The built-ins and every valid definition among the files.</param>
/// <param name="Problem">Why the other files are not valid definitions (one message naming each), or null.</param>
internal sealed record LakeDefinitions(IReadOnlyList<LakeFile> Files, DatasetCatalog Catalog, string? Problem);
