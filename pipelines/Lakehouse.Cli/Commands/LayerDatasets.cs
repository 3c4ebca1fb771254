using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>The datasets a layer's run works on: the one <c>--dataset</c> names, else every one whose input table exists.</summary>
internal static class LayerDatasets
{
    /// <summary>
    /// <paramref name="name"/>'s definition when given; otherwise the definitions that <paramref name="eligible"/> accepts and whose
    /// input table (<c>&lt;inputLayer&gt;/&lt;name&gt;</c>) exists — refused with <paramref name="noneMessage"/> when none does. An
    /// input table whose dataset has no definition (its file was removed) is named with where the definition belongs: refused
    /// when it is the one asked for or the only kind there is, else a warning on <paramref name="warnings"/>.
    /// </summary>
    internal static async Task<List<DatasetDefinition>> SelectAsync(LakeContext lake, DatasetCatalog catalog, string? name, Func<DatasetDefinition, bool> eligible,
        string inputLayer, Func<IEnumerable<string>, string> noneMessage, TextWriter warnings, CancellationToken cancellationToken)
    {
        if (name is not null)
        {
            if (!catalog.TryGet(name, out var definition) && LakeNames.IsTableName(name)
                && await lake.OpenTable(lake.Root.Scope(inputLayer + "/" + name)).ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new LakehouseException(LakehouseErrorReason.NotFound, NoDefinitionMessage(catalog, inputLayer, [name]));
            }
            return [definition ?? catalog.Get(name)];
        }
        var candidates = catalog.Definitions.Where(eligible).ToList();
        var result = new List<DatasetDefinition>();
        foreach (var d in candidates)
        {
            if (await lake.OpenTable(lake.Root.Scope(inputLayer + "/" + d.Name)).ExistsAsync(cancellationToken).ConfigureAwait(false)) result.Add(d);
        }
        var undefined = await UndefinedAsync(lake, catalog, inputLayer, cancellationToken).ConfigureAwait(false);
        if (result.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                undefined.Count > 0 ? NoDefinitionMessage(catalog, inputLayer, undefined) : noneMessage(candidates.Select(d => d.Name)));
        }
        if (undefined.Count > 0) await warnings.WriteLineAsync("warning: skipped: " + NoDefinitionMessage(catalog, inputLayer, undefined)).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="run"/> for each of <paramref name="definitions"/> in turn. With more than one, a dataset that fails is
    /// reported on the session's error output as <c>error: &lt;layer&gt;.&lt;name&gt;: message</c> and the others still run; the
    /// command then fails (exit 1) naming every dataset that failed. One dataset's error, and a stop on request, end the run as
    /// they come.
    /// </summary>
    internal static async Task RunEachAsync(CliSession session, string layer, IReadOnlyList<DatasetDefinition> definitions,
        Func<DatasetDefinition, Task> run, CancellationToken cancellationToken)
    {
        var failures = new List<(string Name, Exception Error)>();
        foreach (var d in definitions)
        {
            try
            {
                await run(d).ConfigureAwait(false);
            }
            catch (Exception e) when (definitions.Count > 1 && e is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (!CliErrors.IsExpected(e))
                {
                    var command = $"{layer} run ({d.Name})";
                    Log.Unexpected(session.Logger, command, e);
                }
                CliErrors.Write(session.Error, e, session.Verbose, $"{layer}.{d.Name}: ");
                failures.Add((d.Name, e));
            }
        }
        if (failures.Count == 0) return;
        var names = string.Join(", ", failures.Select(f => layer + "." + f.Name));
        var first = failures[0].Error;
        throw new LakehouseException(first is LakehouseException l ? l.Reason : LakehouseErrorReason.Internal,
            $"{failures.Count} of {definitions.Count} datasets failed ({names}; their errors are above); the others were built.", first);
    }

    /// <summary>
    /// The tables of <paramref name="layer"/> named like a dataset that <paramref name="catalog"/> has no definition of (the lake's
    /// own tables, <c>_quality</c> and the like, and silver's quarantine tables are not datasets' tables).
    /// </summary>
    internal static async Task<List<string>> UndefinedAsync(LakeContext lake, DatasetCatalog catalog, string layer, CancellationToken cancellationToken) =>
        [.. (await LakeStorage.TableFoldersAsync(lake.Root, layer, cancellationToken).ConfigureAwait(false))
            .Where(n => !n.StartsWith('_') && !n.EndsWith("_quarantine", StringComparison.Ordinal) && !catalog.TryGet(n, out _))];

    /// <summary>What is wrong when <paramref name="layer"/> holds tables of <paramref name="names"/> but no definition of them is found.</summary>
    internal static string NoDefinitionMessage(DatasetCatalog catalog, string layer, IReadOnlyList<string> names)
    {
        var folder = catalog.LakeFolder?.TrimEnd('/') ?? DatasetCatalog.DefinitionsFolder;
        var tables = string.Join(", ", names.Select(n => layer + "." + n));
        var files = string.Join(", ", names.Select(n => $"{folder}/{n}.json"));
        return names.Count == 1
            ? $"{tables} exists, but no definition of dataset '{names[0]}' is found: it belongs in {files}, which is not there. " +
              $"Put the definition back as that file (check it first with 'lakehouse dataset check {names[0]}.json'; 'lakehouse dataset list' shows the datasets the lake knows)."
            : $"{tables} exist, but no definition of their datasets is found: they belong in {files}, which are not there. " +
              "Put the definitions back as those files (check each first with 'lakehouse dataset check <name>.json'; 'lakehouse dataset list' shows the datasets the lake knows).";
    }
}
