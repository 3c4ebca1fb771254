using Lakehouse.Storage;

namespace Lakehouse.Serve.Ingest;

/// <summary>
/// Which datasets exist, until the dataset catalog of shared/ is wired in: the built-in ones, and those with a definition
/// file <c>_lakehouse/datasets/&lt;name&gt;.json</c> in the lake (looked up on each request on a local lake; listed once at
/// start on a remote one).
/// </summary>
internal static class InterimDatasets
{
    internal static IReadOnlyList<string> BuiltIn { get; } = ["weblogs", "sensors", "accesslogs"];

    internal const string DefinitionFolder = "_lakehouse/datasets/";

    internal static async Task<Func<string, bool>> OpenAsync(ILakeStorage lake, CancellationToken cancellationToken)
    {
        if (lake.LocalPathOrNull(DefinitionFolder) is { } folder)
            return name => BuiltIn.Contains(name, StringComparer.Ordinal) || File.Exists(Path.Combine(folder, name + ".json"));
        var defined = new HashSet<string>(BuiltIn, StringComparer.Ordinal);
        await foreach (var file in lake.ListAsync(DefinitionFolder, cancellationToken).ConfigureAwait(false))
        {
            var name = file.Path[DefinitionFolder.Length..];
            if (name.EndsWith(".json", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal)) defined.Add(name[..^".json".Length]);
        }
        return defined.Contains;
    }
}
