using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Delta.Write;

public sealed partial class DeltaWriter
{
    /// <summary>The commitInfo operation of <see cref="AddColumnsAsync"/>, as Spark names it.</summary>
    private const string AddColumnsOperation = "ADD COLUMNS";

    /// <summary>The commitInfo operation of <see cref="SetPropertiesAsync"/>, as Spark names it (ALTER TABLE … SET TBLPROPERTIES).</summary>
    private const string SetPropertiesOperation = "SET TBLPROPERTIES";

    /// <summary>
    /// Adds nullable columns at the end of the table's schema (Spark's <c>ALTER TABLE … ADD COLUMNS</c>): one commit with the new
    /// metadata and no data change; existing files read the new columns as null. Columns the table already has (by name, ignoring
    /// case) are left as they are; when it has them all, nothing is committed (Committed = false), so callers may call it on every run.
    /// </summary>
    /// <exception cref="ArgumentException">A column is not nullable.</exception>
    /// <exception cref="LakehouseException">NotFound when the table does not exist; InvalidInput for a name Delta cannot store.</exception>
    public Task<DeltaCommitResult> AddColumnsAsync(IReadOnlyList<StructField> columns, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Any(c => c is null || !c.Nullable)) throw new ArgumentException("Columns added to an existing table must be nullable.", nameof(columns));
        return RunAsync(AddColumnsOperation, ct => AddColumnsCoreAsync(columns, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> AddColumnsCoreAsync(IReadOnlyList<StructField> columns, CancellationToken cancellationToken)
    {
        var snapshot = await LoadSnapshotAsync(withFiles: false, cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: no columns to add to.");
        CheckWritable(snapshot, removes: false);
        var missing = columns.Where(c => snapshot.Schema.Find(c.Name) is null).DistinctBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ToList();
        if (missing.Count == 0) return NotCommitted(snapshot, AddColumnsOperation);
        var schema = new StructType([.. snapshot.Schema.Fields, .. missing]);
        SourceProjection.CheckNames(schema);
        var txn = new DeltaTransaction(_table, snapshot, AddColumnsOperation)
        {
            Metadata = snapshot.Metadata with { SchemaString = schema.ToSchemaString() },
        };
        txn.Parameters["columns"] = JsonSerializer.Serialize(missing.Select(c => new { column = new { name = c.Name, type = c.Type.ToDuckDb() } }), ActionSerializer.SerializerOptions);
        return await CommitAsync(txn, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets the table properties <paramref name="set"/> and removes <paramref name="unset"/> (Spark's <c>ALTER TABLE … SET
    /// TBLPROPERTIES</c> and <c>UNSET TBLPROPERTIES</c>): one commit with the new metadata and no data change, whose metrics count the
    /// properties added or changed (<c>numChangedProperties</c>) and removed (<c>numRemovedProperties</c>). Nothing is committed
    /// (Committed = false) when the table already has exactly these values and none of the keys to remove.
    /// </summary>
    /// <exception cref="ArgumentException">A key is blank, or is both set and removed.</exception>
    /// <exception cref="LakehouseException">
    /// NotFound when the table does not exist; InvalidInput for a property this writer cannot honour (one that needs a table feature
    /// outside the Synapse profile) or a value it cannot read (an interval, a checkpoint interval).
    /// </exception>
    public Task<DeltaCommitResult> SetPropertiesAsync(IReadOnlyDictionary<string, string> set, IReadOnlyCollection<string> unset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(unset);
        if (set.Keys.Concat(unset).Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("A table property needs a name.", nameof(set));
        if (set.Keys.Intersect(unset, StringComparer.Ordinal).FirstOrDefault() is { } both)
            throw new ArgumentException($"Table property '{both}' is both set and removed.", nameof(unset));
        TableProperties.CheckForCreate(set);
        return RunAsync(SetPropertiesOperation, ct => SetPropertiesCoreAsync(set, unset, ct), cancellationToken);
    }

    private async Task<DeltaCommitResult> SetPropertiesCoreAsync(IReadOnlyDictionary<string, string> set, IReadOnlyCollection<string> unset, CancellationToken cancellationToken)
    {
        var snapshot = await LoadSnapshotAsync(withFiles: false, cancellationToken).ConfigureAwait(false)
            ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"'{_table.Location}' is not a Delta table: no properties to set.");
        CheckWritable(snapshot, removes: false);
        var configuration = new Dictionary<string, string>(snapshot.Metadata.Configuration, StringComparer.Ordinal);
        long changed = 0, removed = 0;
        foreach (var (key, value) in set)
        {
            if (configuration.TryGetValue(key, out var old) && old == value) continue;
            configuration[key] = value;
            changed++;
        }
        foreach (var key in unset) removed += configuration.Remove(key) ? 1 : 0;
        if (changed + removed == 0) return NotCommitted(snapshot, SetPropertiesOperation);
        var txn = new DeltaTransaction(_table, snapshot, SetPropertiesOperation)
        {
            Metadata = snapshot.Metadata with { Configuration = configuration },
        };
        txn.Metrics["numChangedProperties"] = changed;
        txn.Metrics["numRemovedProperties"] = removed;
        txn.Parameters["properties"] = JsonSerializer.Serialize(set, ActionSerializer.SerializerOptions);
        if (unset.Count > 0) txn.Parameters["removed"] = JsonSerializer.Serialize(unset, ActionSerializer.SerializerOptions);
        return await CommitAsync(txn, null, cancellationToken).ConfigureAwait(false);
    }
}
