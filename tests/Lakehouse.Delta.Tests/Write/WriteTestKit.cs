using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>A temporary local table with a writer, for one test.</summary>
internal sealed class LocalTable : IDisposable
{
    private readonly TempDirectory _dir = new("delta-write");

    internal LocalTable(DuckEngine engine, DeltaWriteOptions? options = null)
    {
        Engine = engine;
        Storage = LakeStorage.Open(_dir.Combine("table"));
        Table = DeltaTable.Open(Storage, engine);
        Writer = DeltaWriter.Create(Table, options);
    }

    internal DuckEngine Engine { get; }

    internal ILakeStorage Storage { get; }

    internal DeltaTable Table { get; }

    internal DeltaWriter Writer { get; }

    internal string Root => Storage.Location;

    /// <summary>A fresh table object and writer on the same folder (as another process would have).</summary>
    internal DeltaWriter OtherWriter(DeltaWriteOptions? options = null) =>
        DeltaWriter.Create(DeltaTable.Open(LakeStorage.Open(Root), Engine), options);

    public void Dispose() => _dir.Dispose();
}

/// <summary>Reading back what the writer wrote: through the snapshot's scan and through plain read_parquet.</summary>
internal static class WriteTestKit
{
    /// <summary>Runs <paramref name="sqlOverT"/> (which selects FROM t) over the latest snapshot and returns the first column of every row as text.</summary>
    internal static async Task<List<string?>> QueryAsync(DeltaTable table, string sqlOverT, long? version = null)
    {
        var snapshot = await table.GetSnapshotAsync(version);
        return await QueryAsync(table, snapshot, sqlOverT);
    }

    internal static async Task<List<string?>> QueryAsync(DeltaTable table, DeltaSnapshot snapshot, string sqlOverT)
    {
        using var lease = table.Engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        return Strings(lease.Connection, $"WITH t AS ({scan.Sql}) {sqlOverT}");
    }

    /// <summary>The first column of every row of <paramref name="sql"/> as text (VARCHAR values; others through CAST in the query).</summary>
    internal static List<string?> Strings(DuckConnection connection, string sql)
    {
        var rows = new List<string?>();
        using var r = connection.Query(sql);
        while (r.Read()) rows.Add(r.IsNull(0) ? null : r.GetValue(0) is string s ? s : Convert.ToString(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        return rows;
    }

    internal static long Count(DuckConnection connection, string sql) => Convert.ToInt64(connection.Scalar(sql), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The local paths of the snapshot's live data files.</summary>
    internal static List<string> LiveFiles(LocalTable t, DeltaSnapshot snapshot) =>
        [.. snapshot.Files.Select(f => t.Storage.LocalPathOrNull(DeltaPaths.ToTableRelative(f.Path, t.Storage))!)];

    /// <summary>Rows of <c>SELECT * FROM range(from, to)</c> shaped as (id BIGINT, part VARCHAR, v VARCHAR).</summary>
    internal static string Rows(long from, long to, string part = "'a'") =>
        $"SELECT i AS id, {part} AS part, 'v' || i AS v FROM range({from}, {to}) AS r(i)";
}
