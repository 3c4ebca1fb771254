using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Gold.Serving;

/// <summary>The script from the lake itself: every Delta table under <c>silver/</c> and <c>gold/</c>, with the schema of its latest version.</summary>
public sealed partial class SynapseScript
{
    /// <summary>The layers Synapse serves, in the order their views are written.</summary>
    internal static IReadOnlyList<string> ServedLayers { get; } = ["silver", "gold"];

    /// <summary>The largest <c>_last_checkpoint</c> file Synapse serverless reads (a longer one breaks its log parsing).</summary>
    internal const int MaxLastCheckpointBytes = 200;

    /// <summary>
    /// The script for the lake at <paramref name="lake"/>: one view per Delta table directly under <c>silver/</c> and <c>gold/</c>
    /// (a folder holding a <c>_delta_log</c>; names starting with '_', such as <c>silver/_quality</c>, are the lake's own
    /// bookkeeping and left out), so a new dataset or gold table needs no code. Each view follows the schema of its table's latest
    /// version, partition columns included.
    /// </summary>
    /// <exception cref="LakehouseException">
    /// The lake has no silver or gold table (NotFound); or a table cannot be served as it is (UnsupportedFeature: a folder name
    /// that is not a table name or differs from another's of its layer only in case, a column name that cannot be a SQL name, a table Synapse serverless cannot read — Delta reader
    /// version above 1, column mapping, a <c>_last_checkpoint</c> over 200 bytes): then the message lists every such table and
    /// why, and nothing is generated, rather than a script that leaves tables out or reads them wrong.
    /// </exception>
    public static async Task<SynapseScript> FromLakeAsync(ILakeStorage lake, DuckEngine engine, SynapseScriptOptions options,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Lakehouse.Gold.Synapse");
        var views = new List<SynapseView>();
        var problems = new List<string>();
        foreach (var layer in ServedLayers)
        {
            // A view's name is its folder's: two folders whose names differ only in case would be one view where names are
            // compared without case (the second CREATE OR ALTER VIEW replacing the first, its rows read under the other's name).
            var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in await LakeStorage.TableFoldersAsync(lake, layer, cancellationToken).ConfigureAwait(false))
            {
                if (name.StartsWith('_'))
                {
                    SynapseLog.TableSkipped(logger, layer, name);
                    continue;
                }
                var (view, problem) = await ReadViewAsync(lake, engine, layer, name, options.StringLength, loggerFactory, logger, cancellationToken).ConfigureAwait(false);
                if (problem is null && view is not null && !seen.TryAdd(name, name))
                {
                    problem = $"its name differs from {layer}/{TSqlText.Printable(seen[name])}'s only in case, and a database that compares names without case " +
                        "(a case-insensitive collation) takes their views for one, the second replacing the first: rename one of the folders";
                }
                if (problem is not null) problems.Add($"{layer}/{TSqlText.Printable(name)}: {problem}");
                else if (view is not null) views.Add(view);
            }
        }
        if (problems.Count > 0)
        {
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                string.Create(CultureInfo.InvariantCulture, $"Synapse serverless cannot serve {problems.Count} table{(problems.Count == 1 ? "" : "s")} of the lake at '{lake.Location}', so no script was written:")
                + string.Concat(problems.Select(p => "\n  " + p)));
        }
        if (views.Count == 0)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                $"The lake at '{lake.Location}' has no silver or gold tables to serve: run lakehouse silver run (and gold run) first, or give the right --lake.");
        }
        var script = Create(views, options);
        SynapseLog.ScriptGenerated(logger, script.Database, views.Count, script.Batches.Count);
        return script;
    }

    /// <summary>The view of one table, or why it cannot be served; (null, null) for a folder that is not a table (yet).</summary>
    private static async Task<(SynapseView? View, string? Problem)> ReadViewAsync(ILakeStorage lake, DuckEngine engine, string layer, string name,
        int? stringLength, ILoggerFactory? loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        if (!LakeNames.IsTableName(name))
            return (null, $"the folder name is not a table name ({LakeNames.TableNameRule}); its view would be named after it: rename the folder or move it out of {layer}/");
        var storage = lake.Scope(layer + "/" + name);
        var table = DeltaTable.Open(storage, engine, loggerFactory);
        DeltaSnapshot snapshot;
        try
        {
            snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            // A _delta_log without a commit: a table being created right now, or an empty folder. Not a table to serve yet.
            SynapseLog.NotATable(logger, layer, name);
            return (null, null);
        }
        catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.UnsupportedFeature or LakehouseErrorReason.CorruptLog)
        {
            return (null, e.Message);
        }

        if (snapshot.Protocol.MinReaderVersion > 1)
        {
            var features = snapshot.Protocol.ReaderFeatures is { Count: > 0 } f ? $" (reader features: {string.Join(", ", f)})" : "";
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"it needs Delta reader version {snapshot.Protocol.MinReaderVersion}{features}; Synapse serverless reads only reader version 1 and would read some values as NULL"));
        }
        if (snapshot.ColumnMappingMode != "none")
            return (null, $"it uses column mapping (mode {snapshot.ColumnMappingMode}), which Synapse serverless does not read");
        if (await storage.GetInfoAsync("_delta_log/_last_checkpoint", cancellationToken).ConfigureAwait(false) is { Size: > MaxLastCheckpointBytes } last)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"its _delta_log/_last_checkpoint has {last.Size} bytes; Synapse serverless fails on one over {MaxLastCheckpointBytes} (write a new checkpoint with a short _last_checkpoint)"));
        }

        var partitions = snapshot.PartitionColumns.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var columns = new List<SynapseColumn>(snapshot.Schema.Fields.Count);
        foreach (var field in snapshot.Schema.Fields)
        {
            if (TSqlText.NameProblem(field.Name) is { } problem)
                return (null, $"the column '{TSqlText.Printable(field.Name)}' cannot be a SQL name: it {problem}");
            columns.Add(new SynapseColumn(field.Name, SynapseTypes.Describe(field.Type), SynapseTypes.Of(field.Type, stringLength), partitions.Contains(field.Name)));
        }
        if (columns.Count == 0) return (null, "its schema has no columns");
        return (new SynapseView(layer, name, snapshot.Version, columns), null);
    }

}
