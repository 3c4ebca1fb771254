using System.Globalization;
using System.Text;
using Lakehouse.Bronze;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Silver.Tests;

/// <summary>A lake in a temporary folder: lands payloads in bronze through the real bronze writer, runs silver, reads tables back.</summary>
internal sealed class SilverLake(DuckEngine engine, string name) : IDisposable
{
    private readonly TempDirectory _temp = new(name);
    private long _offset;

    internal ILakeStorage Root => LakeStorage.Open(_temp.Path);

    internal string Path => _temp.Path;

    internal DuckEngine Engine => engine;

    /// <summary>Lands <paramref name="payloads"/> as one bronze commit of a Kafka partition (offsets continue across calls).</summary>
    internal async Task<long> LandAsync(string dataset, IEnumerable<byte[]> payloads, DateTimeOffset? ingestTime = null, string partition = "0")
    {
        var table = BronzeTable.Open(Root.Scope(SilverTables.Bronze(dataset)), engine);
        var start = _offset;
        var events = payloads.Select(p => new BronzeEvent(p, new SourcePosition(SourceKinds.Kafka, dataset, partition, _offset++, null))).ToList();
        var result = await table.CommitAsync(events, [new DeltaAppTransaction(StreamIngestor.AppId(SourceKinds.Kafka, dataset, partition), _offset) { Previous = start == 0 ? -1 : start }], ingestTime);
        return result.Version;
    }

    /// <summary>
    /// Lands <paramref name="lines"/> as one bronze commit of a landed file, as the landing ingest records them (line numbers from 1);
    /// the same file with other lines (one that grew) is a new file, as for the landing ingest, and lands again whole.
    /// </summary>
    internal async Task<long> LandFileAsync(string dataset, string file, params string[] lines)
    {
        var table = BronzeTable.Open(Root.Scope(SilverTables.Bronze(dataset)), engine);
        var events = lines.Select((l, i) => new BronzeEvent(Encoding.UTF8.GetBytes(l), new SourcePosition(SourceKinds.File, file, null, null, i + 1))).ToList();
        var identity = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
        var result = await table.CommitAsync(events, [new DeltaAppTransaction($"file/{file}#{identity}", 1)]);
        return result.Version;
    }

    internal Task<long> LandAsync(string dataset, params string[] payloads) => LandAsync(dataset, payloads.Select(Encoding.UTF8.GetBytes));

    internal Task<SilverRunResult> RunAsync(string dataset, SilverRunOptions? options = null) =>
        SilverJob.Open(Root, engine).RunAsync(DatasetCatalog.BuiltIn.Get(dataset), options);

    /// <summary>The rows of <c>SELECT {columns} FROM table ORDER BY {orderBy}</c>, each as text ("NULL" for null), columns joined by '|'.</summary>
    internal async Task<List<string>> RowsAsync(string table, string columns, string orderBy)
    {
        var delta = DeltaTable.Open(Root.Scope(table), engine);
        if (!await delta.ExistsAsync()) return [];
        var snapshot = await delta.GetSnapshotAsync();
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(delta, snapshot, lease.Connection);
        var rows = new List<string>();
        using var r = lease.Connection.Query($"SELECT {columns} FROM ({scan.Sql}) ORDER BY {orderBy}");
        while (r.Read())
        {
            var values = new string[r.ColumnCount];
            for (var i = 0; i < values.Length; i++) values[i] = r.IsNull(i) ? "NULL" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture)!;
            rows.Add(string.Join("|", values));
        }
        return rows;
    }

    /// <summary>The rows of <paramref name="query"/>, in which <c>t</c> is the table, as <see cref="RowsAsync"/> gives them.</summary>
    internal async Task<List<string>> QueryAsync(string table, string query)
    {
        var delta = DeltaTable.Open(Root.Scope(table), engine);
        var snapshot = await delta.GetSnapshotAsync();
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(delta, snapshot, lease.Connection);
        var rows = new List<string>();
        using var r = lease.Connection.Query($"WITH t AS ({scan.Sql}) {query}");
        while (r.Read())
        {
            var values = new string[r.ColumnCount];
            for (var i = 0; i < values.Length; i++) values[i] = r.IsNull(i) ? "NULL" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture)!;
            rows.Add(string.Join("|", values));
        }
        return rows;
    }

    internal async Task<long> CountAsync(string table) => long.Parse((await RowsAsync(table, "count(*)", "1"))[0], CultureInfo.InvariantCulture);

    public void Dispose() => _temp.Dispose();
}
