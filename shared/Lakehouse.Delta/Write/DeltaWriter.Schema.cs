using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Delta.Write;

public sealed partial class DeltaWriter
{
    /// <summary>The commitInfo operation of <see cref="AddColumnsAsync"/>, as Spark names it.</summary>
    private const string AddColumnsOperation = "ADD COLUMNS";

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
}
