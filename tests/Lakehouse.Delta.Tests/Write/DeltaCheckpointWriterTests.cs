using System.Text;
using System.Text.Json;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

public sealed class DeltaCheckpointWriterTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private static string LogFile(LocalTable t, string name) => Path.Combine(t.Root, "_delta_log", name);

    [Fact]
    public async Task Commits_EveryTenth_WritesCheckpointAndSmallLastCheckpoint()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 21; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10, $"'{i % 2}'"));

        Assert.True(File.Exists(LogFile(t, "00000000000000000010.checkpoint.parquet")));
        Assert.True(File.Exists(LogFile(t, "00000000000000000020.checkpoint.parquet")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(t.Root, "_delta_log"), "*.checkpoint.parquet").Length);

        var last = File.ReadAllBytes(LogFile(t, "_last_checkpoint"));
        Assert.True(last.Length <= 200, $"_last_checkpoint has {last.Length} bytes: {Encoding.UTF8.GetString(last)}");
        using var doc = JsonDocument.Parse(last);
        Assert.Equal(20, doc.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(21, doc.RootElement.GetProperty("numOfAddFiles").GetInt64());
        Assert.Equal(23, doc.RootElement.GetProperty("size").GetInt64()); // protocol + metaData + 21 adds
        Assert.Equal(new FileInfo(LogFile(t, "00000000000000000020.checkpoint.parquet")).Length, doc.RootElement.GetProperty("sizeInBytes").GetInt64());
        Assert.False(doc.RootElement.TryGetProperty("checkpointSchema", out _));

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(20, snapshot.CheckpointVersion);
        Assert.Equal(["210"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(DISTINCT id) FROM t"));
    }

    [Fact]
    public async Task Checkpoint_WithTombstonesAndTxns_ReaderRebuildsTheSameSnapshotWithoutTheJsonCommits()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 6, "(i % 3)::VARCHAR"));                        // v0
        for (var i = 1; i <= 7; i++)
            await t.Writer.AppendAsync(WriteTestKit.Rows(i * 100, (i * 100) + 2, "'x'"), [new DeltaAppTransaction("app", i)]); // v1..v7
        await t.Writer.DeleteAsync("part = '1'");                                                       // v8: one tombstone
        await t.Writer.ReplacePartitionsAsync(WriteTestKit.Rows(900, 901, "'2'"));                     // v9: another
        await t.Writer.AppendAsync(WriteTestKit.Rows(1000, 1001, "'y'"), [new DeltaAppTransaction("other", 42)]); // v10: checkpoint

        var fromJson = await t.Table.GetSnapshotAsync(10);
        Assert.Equal(10, fromJson.CheckpointVersion);
        foreach (var v in Enumerable.Range(0, 10)) File.Delete(LogFile(t, $"{v:D20}.json"));

        var fromCheckpoint = await t.Table.GetSnapshotAsync();
        Assert.Equal(10, fromCheckpoint.Version);
        Assert.Equal(7, fromCheckpoint.TransactionVersion("app"));
        Assert.Equal(42, fromCheckpoint.TransactionVersion("other"));
        Assert.Equal(2, fromCheckpoint.Tombstones.Count);
        Assert.All(fromCheckpoint.Tombstones, r => Assert.NotNull(r.DeletionTimestamp));
        Assert.Contains(fromCheckpoint.Tombstones, r => r.Path.StartsWith("part=1/", StringComparison.Ordinal));
        Assert.Contains(fromCheckpoint.Tombstones, r => r.Path.StartsWith("part=2/", StringComparison.Ordinal));
        Assert.Equal(fromJson.Files.Select(f => (f.Path, f.Size, f.Stats, f.PartitionValues["part"])).Order(),
            fromCheckpoint.Files.Select(f => (f.Path, f.Size, f.Stats, f.PartitionValues["part"])).Order());
        Assert.Equal(fromJson.Metadata.SchemaString, fromCheckpoint.Metadata.SchemaString);
        Assert.Equal(["part"], fromCheckpoint.PartitionColumns);
        Assert.Equal(["0,3,100,101,200,201,300,301,400,401,500,501,600,601,700,701,900,1000"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"));
    }

    [Fact]
    public async Task Checkpoint_Parquet_HasTheSchemaReadersExpect()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3, "NULL"));
        Assert.Equal(0, await t.Writer.CheckpointAsync());
        using var lease = _engine.Lease();
        var file = SqlText.Literal(LogFile(t, "00000000000000000000.checkpoint.parquet"));
        var types = WriteTestKit.Strings(lease.Connection, $"SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet({file}))");
        Assert.Contains(types, c => c!.StartsWith("add STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR", StringComparison.Ordinal));
        Assert.Contains(types, c => c!.StartsWith("txn STRUCT(appId VARCHAR, \"version\" BIGINT", StringComparison.Ordinal));
        Assert.Contains(types, c => c!.StartsWith("remove STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN", StringComparison.Ordinal));
        Assert.Contains(types, c => c!.StartsWith("metaData STRUCT(id VARCHAR", StringComparison.Ordinal));
        Assert.Contains(types, c => c!.StartsWith("protocol STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER", StringComparison.Ordinal));
        Assert.Contains(types, c => c!.StartsWith("domainMetadata STRUCT(", StringComparison.Ordinal));
        // A null partition value is a null map value, not the string "null".
        Assert.Equal(["true"], WriteTestKit.Strings(lease.Connection, $"SELECT (add.partitionValues['part'] IS NULL)::VARCHAR FROM read_parquet({file}) WHERE add IS NOT NULL"));
        Assert.Equal(["1|2"], WriteTestKit.Strings(lease.Connection, $"SELECT protocol.minReaderVersion || '|' || protocol.minWriterVersion FROM read_parquet({file}) WHERE protocol IS NOT NULL"));
    }

    [Fact]
    public async Task Checkpoint_AddsReadColumnByColumn_EqualTheCommitLines()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 4, "CASE WHEN i % 2 = 0 THEN NULL ELSE 'p''x' END"));
        await t.Writer.AppendAsync(WriteTestKit.Rows(4, 6, "'ü/='"));
        var fromCommits = await t.Table.GetSnapshotAsync();
        Assert.Equal(1, await t.Writer.CheckpointAsync());
        var fromCheckpoint = await t.Table.GetSnapshotAsync();

        Assert.Equal((-1L, 1L), (fromCommits.CheckpointVersion, fromCheckpoint.CheckpointVersion));
        static List<string> Describe(DeltaSnapshot s) => [.. s.Files.Select(f =>
            $"{f.Path}|{string.Join(",", f.PartitionValues.Select(p => $"{p.Key}={p.Value ?? "<null>"}"))}|{f.Size}|{f.ModificationTime}|{f.DataChange}|{f.Stats}|{f.Tags is null}|{f.DeletionVector is null}")
            .Order(StringComparer.Ordinal)];
        Assert.Equal(3, fromCheckpoint.Files.Count);
        Assert.Equal(Describe(fromCommits), Describe(fromCheckpoint));
        // The add rows are read as columns, not through the JSON fallback that serves checkpoints without an add struct.
        using var lease = _engine.Lease();
        var source = $"read_parquet({SqlText.Literal(LogFile(t, "00000000000000000001.checkpoint.parquet"))})";
        Assert.Superset(new HashSet<string> { "path", "partitionValues", "size", "modificationTime", "dataChange", "stats" },
            Log.CheckpointReader.StructFields(lease.Connection, source, "add"));
    }

    [Fact]
    public async Task Append_AfterCheckpoint_SeesTheCheckpointTransactionsFromAStateOnlySnapshot()
    {
        using var t = new LocalTable(_engine);
        for (var i = 0; i < 11; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1), [new DeltaAppTransaction("app", i)]);
        foreach (var v in Enumerable.Range(0, 10)) File.Delete(LogFile(t, $"{v:D20}.json"));

        var state = await t.Table.GetSnapshotAsync(null, withFiles: false, default);
        Assert.Equal((10L, 10L, false, 0, 0), (state.Version, state.CheckpointVersion, state.FilesLoaded, state.Files.Count, state.Tombstones.Count));
        Assert.Equal(10, state.TransactionVersion("app"));
        Assert.Equal((await t.Table.GetSnapshotAsync()).Metadata.SchemaString, state.Metadata.SchemaString);

        Assert.False((await t.Writer.AppendAsync(WriteTestKit.Rows(100, 101), [new DeltaAppTransaction("app", 10)])).Committed);
        var next = await t.Writer.AppendAsync(WriteTestKit.Rows(100, 101), [new DeltaAppTransaction("app", 11)]);
        Assert.Equal((true, 11L), (next.Committed, next.Version));
        Assert.Equal(["12"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public void LastCheckpointJson_LargestValues_StaysUnder200Bytes()
    {
        var json = CheckpointWriter.LastCheckpointJson(long.MaxValue, long.MaxValue, long.MaxValue, long.MaxValue);
        Assert.True(json.Length <= CheckpointWriter.LastCheckpointMaxBytes, $"{json.Length} bytes");
    }

    [Fact]
    public async Task Commits_CustomCheckpointInterval_IsHonoured()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "3" } });
        for (var i = 0; i < 7; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1));
        Assert.Equal(["00000000000000000003.checkpoint.parquet", "00000000000000000006.checkpoint.parquet"],
            Directory.GetFiles(Path.Combine(t.Root, "_delta_log"), "*.checkpoint.parquet").Select(Path.GetFileName).Order());
    }
}
