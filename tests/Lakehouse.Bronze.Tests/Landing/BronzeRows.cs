using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Bronze.Tests.Landing;

/// <summary>A bronze table's rows as they are in its live data files, read with DuckDB (one view per call).</summary>
internal static class BronzeRows
{
    /// <summary>
    /// Runs <paramref name="sql"/> over a view named <c>bronze</c> of the table's current rows (no rows when the table has no files)
    /// and returns each row's values.
    /// </summary>
    internal static async Task<List<object?[]>> QueryAsync(BronzeTable table, DuckEngine engine, string sql)
    {
        var snapshot = await table.Table.GetSnapshotAsync();
        var storage = LakeStorage.Open(table.Table.Location);
        var files = snapshot.Files.Select(f => storage.LocalPathOrNull(Uri.UnescapeDataString(f.Path))!).ToList();
        var columns = string.Join(", ", BronzeTable.Columns.Where(c => c.Name != BronzeTable.PartitionColumn).Select(c => $"CAST(NULL AS {c.DuckType}) AS {c.Name}"));
        var source = files.Count == 0 ? $"SELECT {columns} WHERE false" : $"SELECT * FROM read_parquet({SqlText.LiteralList(files)})";
        using var lease = engine.Lease();
        using var result = lease.Connection.Query($"WITH bronze AS ({source}) {sql}");
        var rows = new List<object?[]>();
        while (result.Read())
        {
            var row = new object?[result.ColumnCount];
            for (var i = 0; i < row.Length; i++) row[i] = result.IsNull(i) ? null : result.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    internal static async Task<long> CountAsync(BronzeTable table, DuckEngine engine, string where = "true") =>
        Convert.ToInt64((await QueryAsync(table, engine, $"SELECT count(*) FROM bronze WHERE {where}"))[0][0], System.Globalization.CultureInfo.InvariantCulture);
}
