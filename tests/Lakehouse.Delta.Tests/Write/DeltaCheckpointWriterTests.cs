using System.Text;
using System.Text.Json;
using Lakehouse.Core;
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
    public async Task Checkpoint_ManyTxnsReadColumnByColumn_EqualTheCommitLines()
    {
        // Txn rows were turned into JSON by DuckDB and parsed one by one: a checkpoint of 1M txns (idempotency keys, landed files)
        // took 4-5 s to read. They are written through the appender and read as columns now; every field must survive both.
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        var lines = new StringBuilder("{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"WRITE\"}}\n");
        string[] odd = ["http/idempotency-key/a\"b", "file/landing/ü 日本/x.json@3/17", "a\\b{}[],:", "", " "];
        for (var i = 0; i < 3000; i++)
        {
            var appId = i < odd.Length ? odd[i] : $"app-{i}";
            long version = i switch { 0 => long.MaxValue, 1 => -1, 2 => 0, _ => i * 7919L };
            var lastUpdated = i % 3 == 0 ? "" : $",\"lastUpdated\":{1700000000000L + i}";
            lines.Append($"{{\"txn\":{{\"appId\":{JsonSerializer.Serialize(appId)},\"version\":{version}{lastUpdated}}}}}\n");
        }
        await File.WriteAllTextAsync(LogFile(t, "00000000000000000001.json"), lines.ToString());
        var fromCommits = await t.Table.GetSnapshotAsync();
        Assert.Equal(3000, fromCommits.Transactions.Count);
        Assert.Equal(1, await t.Writer.CheckpointAsync());
        foreach (var v in Enumerable.Range(0, 2)) File.Delete(LogFile(t, $"{v:D20}.json"));

        var full = await t.Table.GetSnapshotAsync();
        var state = await t.Table.GetSnapshotAsync(null, withFiles: false, default);

        static List<string> Describe(DeltaSnapshot s) => [.. s.Transactions.Select(p => $"{p.Key}|{p.Value.AppId}|{p.Value.Version}|{p.Value.LastUpdated?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "<null>"}").Order(StringComparer.Ordinal)];
        Assert.Equal((1L, 1L), (full.CheckpointVersion, state.CheckpointVersion));
        Assert.Equal(Describe(fromCommits), Describe(full));
        Assert.Equal(Describe(fromCommits), Describe(state));
        Assert.Equal((long.MaxValue, -1L, (long?)null, 1700000000001L), (full.TransactionVersion(odd[0]), full.TransactionVersion(odd[1]), full.Transactions[odd[0]].LastUpdated,
            full.Transactions[odd[1]].LastUpdated));
        Assert.Single(full.Files);
        using var lease = _engine.Lease();
        var source = $"read_parquet({SqlText.Literal(LogFile(t, "00000000000000000001.checkpoint.parquet"))})";
        Assert.Equal(new HashSet<string> { "appId", "version", "lastUpdated" }, Log.CheckpointReader.StructFields(lease.Connection, source, "txn"));
    }

    [Theory]
    [InlineData("add")]
    [InlineData("txn")]
    public async Task Checkpoint_RowHoldingTwoActions_NeitherLost(string typed)
    {
        // The protocol writes one action per row; a row of another writer (or a damaged one) holding an add or txn and a remove was
        // read by columns: the add or txn kept, the remove dropped without a word. It now takes the JSON path, as a commit line does.
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4), [new DeltaAppTransaction("app", 4)]);
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(4, 5));
        Assert.Equal(2, await t.Writer.CheckpointAsync());
        var before = await t.Table.GetSnapshotAsync();
        Assert.Equal((1, 2, 1), (before.Files.Count, before.Tombstones.Count, before.Transactions.Count));

        var checkpoint = LogFile(t, "00000000000000000002.checkpoint.parquet");
        using (var lease = _engine.Lease())
        {
            // The first remove moves into the add (or txn) row; its own row goes.
            var source = $"(SELECT *, row_number() OVER () AS __n FROM read_parquet({SqlText.Literal(checkpoint)}))";
            var first = $"(SELECT min(__n) FROM {source} WHERE \"remove\" IS NOT NULL)";
            lease.Connection.Execute(
                $"COPY (SELECT * EXCLUDE (__n) REPLACE (CASE WHEN {SqlText.Identifier(typed)} IS NOT NULL THEN (SELECT \"remove\" FROM {source} WHERE __n = {first}) ELSE \"remove\" END AS \"remove\") " +
                $"FROM {source} WHERE __n <> {first} ORDER BY __n) TO {SqlText.Literal(checkpoint + ".two")} (FORMAT parquet)");
        }
        File.Move(checkpoint + ".two", checkpoint, overwrite: true);
        File.Delete(LogFile(t, "_last_checkpoint")); // its size counted the row that went
        foreach (var v in Enumerable.Range(0, 3)) File.Delete(LogFile(t, $"{v:D20}.json"));

        var after = await t.Table.GetSnapshotAsync();
        Assert.Equal(before.Tombstones.Select(r => r.Path).Order(StringComparer.Ordinal), after.Tombstones.Select(r => r.Path).Order(StringComparer.Ordinal));
        Assert.Equal(before.Files.Select(f => f.Path), after.Files.Select(f => f.Path));
        Assert.Equal(4, after.TransactionVersion("app"));
        Assert.Equal(["1"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Checkpoint_TxnRowWithoutAppId_RefusedNamingTheCheckpoint()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2), [new DeltaAppTransaction("app", 4)]);
        Assert.Equal(0, await t.Writer.CheckpointAsync());
        var checkpoint = LogFile(t, "00000000000000000000.checkpoint.parquet");
        using (var lease = _engine.Lease())
        {
            lease.Connection.Execute(
                $"COPY (SELECT * REPLACE (CASE WHEN txn IS NOT NULL THEN {{'appId': NULL::VARCHAR, 'version': txn.version, 'lastUpdated': txn.lastUpdated}} END AS txn) " +
                $"FROM read_parquet({SqlText.Literal(checkpoint)})) TO {SqlText.Literal(checkpoint + ".bad")} (FORMAT parquet)");
        }
        File.Move(checkpoint + ".bad", checkpoint, overwrite: true);
        File.Delete(LogFile(t, "00000000000000000000.json"));

        foreach (var withFiles in new[] { true, false })
        {
            var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync(null, withFiles, default));
            Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
            Assert.Contains("00000000000000000000.checkpoint.parquet", e.Message, StringComparison.Ordinal);
            Assert.Contains("txn action has no 'appId'", e.Message, StringComparison.Ordinal);
        }
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

    /// <summary>Sets the modification time of every file of the log (and the log's data files do not matter here).</summary>
    private static void Age(LocalTable t, TimeSpan age, Func<string, bool>? which = null)
    {
        foreach (var f in Directory.GetFiles(Path.Combine(t.Root, "_delta_log")).Where(f => which?.Invoke(Path.GetFileName(f)) ?? true))
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow - age);
    }

    private static List<string> LogNames(LocalTable t) =>
        [.. Directory.GetFiles(Path.Combine(t.Root, "_delta_log")).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Checkpoint_LogOlderThanTheRetention_DeletedBeforeTheNewestExpiredCheckpoint_TableReadsTheSame()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions
        {
            TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "5", ["delta.logRetentionDuration"] = "interval 2 hours" },
        });
        for (var i = 0; i < 4; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10)); // versions 0-3
        Assert.Equal(3, await t.Writer.CheckpointAsync()); // an explicit checkpoint cleans nothing
        Age(t, TimeSpan.FromHours(3));

        await t.Writer.AppendAsync(WriteTestKit.Rows(40, 50)); // version 4
        await t.Writer.AppendAsync(WriteTestKit.Rows(50, 60)); // version 5: checkpoint, then the expired log before 3 goes
        await LogCleanup.WhenDoneAsync(t.Table.Location); // in the background of that commit

        Assert.Equal(
            [
                "00000000000000000003.checkpoint.parquet", "00000000000000000003.json", "00000000000000000004.json",
                "00000000000000000005.checkpoint.parquet", "00000000000000000005.json", "_last_checkpoint",
            ],
            LogNames(t));
        var reader = DeltaTable.Open(Lakehouse.Storage.LakeStorage.Open(t.Root), _engine);
        const string Rows = "SELECT count(*) || ' ' || sum(id) FROM t";
        Assert.Equal(["60 1770"], await WriteTestKit.QueryAsync(reader, Rows));
        Assert.Equal(["50 1225"], await WriteTestKit.QueryAsync(reader, Rows, version: 4));
        Assert.Equal(["40 780"], await WriteTestKit.QueryAsync(reader, Rows, version: 3));
        var gone = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => reader.GetSnapshotAsync(2));
        Assert.Contains("no longer available", gone.Message, StringComparison.Ordinal);
        var changes = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => reader.GetChangesAsync(1, 5));
        Assert.Equal(Lakehouse.Core.LakehouseErrorReason.NotFound, changes.Reason);
        Assert.Equal(2, (await reader.GetChangesAsync(3, 5)).Count);
        Assert.Equal([5L, 4, 3], (await reader.GetHistoryAsync()).Select(c => c.Version));
        Assert.Empty((await reader.CheckAsync(deep: true)).Findings);
    }

    [Fact]
    public async Task Cleanup_SeveralCheckpoints_StartsAtTheNewestExpiredOne_StopsAtAYoungerFile_ThenWaitsAnHour()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions
        {
            TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "5", ["delta.logRetentionDuration"] = "interval 2 hours" },
        });
        for (var i = 0; i < 17; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1)); // versions 0-16, checkpoints 5, 10 and 15
        await LogCleanup.WhenDoneAsync(t.Table.Location);
        var snapshot = await t.Table.GetSnapshotAsync();
        var now = DateTimeOffset.UtcNow.AddHours(3); // every file older than the retention...
        File.SetLastWriteTimeUtc(LogFile(t, "00000000000000000015.json"), DateTime.UtcNow.AddHours(2)); // ...but commit 15: checkpoint 15 is not yet a start
        File.SetLastWriteTimeUtc(LogFile(t, "00000000000000000007.json"), DateTime.UtcNow.AddHours(2)); // ...and commit 7, which ends what goes

        Assert.Equal(8, await LogCleanup.RunAsync(t.Table, snapshot.Metadata.Configuration, now, CancellationToken.None));

        // Checkpoint 10 is where the log starts; what comes before it goes up to the young commit 7, which stays with what follows it.
        Assert.Equal(
            [
                "00000000000000000007.json", "00000000000000000008.json", "00000000000000000009.json", "00000000000000000010.checkpoint.parquet",
                "00000000000000000010.json", "00000000000000000011.json", "00000000000000000012.json", "00000000000000000013.json", "00000000000000000014.json",
                "00000000000000000015.checkpoint.parquet", "00000000000000000015.json", "00000000000000000016.json", "_last_checkpoint",
            ],
            LogNames(t));
        Assert.Equal(["17"], await WriteTestKit.QueryAsync(DeltaTable.Open(Lakehouse.Storage.LakeStorage.Open(t.Root), _engine), "SELECT count(*)::VARCHAR FROM t"));

        // Within the hour nothing is listed again; after it, the commits that were young have expired too.
        File.SetLastWriteTimeUtc(LogFile(t, "00000000000000000015.json"), DateTime.UtcNow);
        Assert.Equal(0, await LogCleanup.RunAsync(t.Table, snapshot.Metadata.Configuration, now.AddMinutes(59), CancellationToken.None));
        Assert.Equal(13, LogNames(t).Count);
        Assert.Empty((await t.Table.CheckAsync()).Findings); // versions 7-9 cannot be rebuilt, but the log has no hole
        Assert.Equal(9, await LogCleanup.RunAsync(t.Table, snapshot.Metadata.Configuration, now.AddMinutes(61), CancellationToken.None));
        Assert.Equal(["00000000000000000015.checkpoint.parquet", "00000000000000000015.json", "00000000000000000016.json", "_last_checkpoint"], LogNames(t));
    }

    [Fact]
    public async Task Checkpoint_LogYoungerThanTheRetentionOrCleanupOff_NothingDeleted()
    {
        foreach (var properties in new[]
        {
            new Dictionary<string, string> { ["delta.checkpointInterval"] = "5" }, // 30 days by default
            new Dictionary<string, string> { ["delta.checkpointInterval"] = "5", ["delta.logRetentionDuration"] = "interval 1 hour", ["delta.enableExpiredLogCleanup"] = "false" },
        })
        {
            using var t = new LocalTable(_engine, new DeltaWriteOptions { TableProperties = properties });
            for (var i = 0; i < 4; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1));
            await t.Writer.CheckpointAsync();
            Age(t, TimeSpan.FromDays(properties.Count == 1 ? 29 : 3));
            for (var i = 4; i < 16; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1)); // checkpoints 5, 10 and 15
            await LogCleanup.WhenDoneAsync(t.Table.Location);
            Assert.Equal(16, LogNames(t).Count(n => n.EndsWith(".json", StringComparison.Ordinal)));
            Assert.Equal(["16"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*)::VARCHAR FROM t"));
            Assert.Equal(["1"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*)::VARCHAR FROM t", version: 0));
        }
    }

    /// <summary>
    /// A delta.enableExpiredLogCleanup that another tool set to a value that is neither true nor false keeps the log: before, anything but
    /// "false" (after trimming) meant on, so "off" or "0" deleted expired commits, which cannot be undone. True in any case still cleans.
    /// </summary>
    [Fact]
    public async Task Cleanup_EnableExpiredLogCleanupNeitherTrueNorFalse_NothingDeleted()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "5" } });
        for (var i = 0; i < 7; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1)); // versions 0-6, checkpoint 5
        await LogCleanup.WhenDoneAsync(t.Table.Location);
        Age(t, TimeSpan.FromDays(31));
        var before = LogNames(t);
        var later = DateTimeOffset.UtcNow.AddHours(2); // past the hour a process waits between two cleanups of a table
        foreach (var value in new[] { "off", "0", " false", "true ", "" })
        {
            var configuration = new Dictionary<string, string> { ["delta.enableExpiredLogCleanup"] = value };
            Assert.Equal(0, await LogCleanup.RunAsync(t.Table, configuration, later, CancellationToken.None));
            Assert.Equal(before, LogNames(t));
        }
        var on = new Dictionary<string, string> { ["delta.enableExpiredLogCleanup"] = "TRUE" };
        Assert.Equal(5, await LogCleanup.RunAsync(t.Table, on, later, CancellationToken.None)); // commits 0-4
        Assert.Equal(["00000000000000000005.checkpoint.parquet", "00000000000000000005.json", "00000000000000000006.json", "_last_checkpoint"], LogNames(t));
    }

    [Fact]
    public void Create_LogRetentionThatIsNoInterval_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { ["delta.logRetentionDuration"] = "a month" } });
        Assert.StartsWith("Table property 'delta.logRetentionDuration' must be an interval such as 'interval 7 days', not 'a month'.", e.Message, StringComparison.Ordinal);
    }
}
