using Lakehouse.Core;
using Lakehouse.Datasets;

namespace Lakehouse.Cli.Commands;

/// <summary>The datasets a layer's run works on: the one <c>--dataset</c> names, else every one whose input table exists.</summary>
internal static class LayerDatasets
{
    /// <summary>
    /// <paramref name="name"/>'s definition when given; otherwise the definitions that <paramref name="eligible"/> accepts and whose
    /// input table (<paramref name="inputTable"/>, lake-relative) exists — refused with <paramref name="noneMessage"/> when none does.
    /// </summary>
    internal static async Task<List<DatasetDefinition>> SelectAsync(LakeContext lake, DatasetCatalog catalog, string? name, Func<DatasetDefinition, bool> eligible,
        Func<string, string> inputTable, Func<IEnumerable<string>, string> noneMessage, CancellationToken cancellationToken)
    {
        if (name is not null) return [catalog.Get(name)];
        var candidates = catalog.Definitions.Where(eligible).ToList();
        var result = new List<DatasetDefinition>();
        foreach (var d in candidates)
        {
            if (await lake.OpenTable(lake.Root.Scope(inputTable(d.Name))).ExistsAsync(cancellationToken).ConfigureAwait(false)) result.Add(d);
        }
        if (result.Count == 0) throw new LakehouseException(LakehouseErrorReason.NotFound, noneMessage(candidates.Select(d => d.Name)));
        return result;
    }
}
