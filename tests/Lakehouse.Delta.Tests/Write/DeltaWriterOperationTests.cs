using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

public sealed class DeltaWriterOperationTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private static DeltaWriteOptions Partitioned(string column = "part") => new() { PartitionColumns = [column] };

    /// <summary>
    /// A delta.appendOnly that another tool set to a value that is neither true nor false stops every write that replaces or deletes rows,
    /// naming the property and the value: before, it was read as false, so an overwrite replaced the files the owner may have meant to
    /// protect. Appends go on (append-only or not, they are allowed), and setting the property to false lets the overwrite through.
    /// </summary>
    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData(" true")]
    public async Task OverwriteAsync_AppendOnlyNeitherTrueNorFalseFromAnotherTool_RefusedNamingThePropertyAndValueNothingReplaced(string value)
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await SetByAnotherToolAsync(t, "delta.appendOnly", value);
        var message = $"Table '{t.Root}' has delta.appendOnly = '{value}', which is neither true nor false: this writer cannot tell whether the table is append-only, " +
            "so it replaces and deletes no rows in it. Set the property to true or false (lakehouse table set-properties <table> delta.appendOnly=true).";

        var overwrite = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12)));
        var delete = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.DeleteAsync("id = 0"));

        Assert.Equal((LakehouseErrorReason.InvalidInput, message), (overwrite.Reason, overwrite.Message));
        Assert.Equal((LakehouseErrorReason.InvalidInput, message), (delete.Reason, delete.Message));
        Assert.Equal(1, (await t.Table.GetSnapshotAsync()).Version);
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 3));
        Assert.Equal(["0", "1", "2"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        await t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["delta.appendOnly"] = "false" }, []);
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12));
        Assert.Equal(["10", "11"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    /// <summary>Commits <paramref name="version"/> of <paramref name="t"/> (the next one), setting one table property as another tool could have, unchecked.</summary>
    private static async Task SetByAnotherToolAsync(LocalTable t, string key, string value, int version = 1)
    {
        var log = Path.Combine(t.Root, "_delta_log");
        var metadata = File.ReadAllLines(Path.Combine(log, "00000000000000000000.json")).Single(l => l.StartsWith("{\"metaData\"", StringComparison.Ordinal));
        var edited = metadata.Replace("\"configuration\":{}", $"\"configuration\":{{{JsonSerializer.Serialize(key)}:{JsonSerializer.Serialize(value)}}}", StringComparison.Ordinal);
        Assert.NotEqual(metadata, edited);
        await File.WriteAllTextAsync(Path.Combine(log, $"{version:D20}.json"), "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"SET TBLPROPERTIES\"}}\n" + edited + "\n");
    }

    /// <summary>
    /// A table whose change data feed another tool turned on, under its name or the older one Delta still reads
    /// (delta.enableChangeDataCapture), or with a value Delta could not read, refuses writes that replace or delete rows, naming the
    /// property: they would need change data files. Before, only delta.enableChangeDataFeed = true was seen, and an overwrite of a table
    /// with the older name left its change feed without the rows it replaced. Appends need no change data files and go on; false lets
    /// the overwrite through.
    /// </summary>
    [Theory]
    [InlineData("delta.enableChangeDataFeed", "true")]
    [InlineData("delta.enableChangeDataFeed", "True")]
    [InlineData("delta.enableChangeDataFeed", "yes")]
    [InlineData("delta.enableChangeDataCapture", "true")]
    [InlineData("delta.enableChangeDataCapture", "1")]
    public async Task OverwriteAsync_ChangeDataFeedOnByAnotherTool_RefusedNamingThePropertyAppendsGoOn(string key, string value)
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await SetByAnotherToolAsync(t, key, value);
        var message = $"Table '{t.Root}' has the change data feed enabled ({key} = '{value}'); replacing or deleting rows would need change data files, which this writer does not write.";

        var overwrite = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12)));
        var delete = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.DeleteAsync("id = 0"));

        Assert.Equal((LakehouseErrorReason.UnsupportedFeature, message), (overwrite.Reason, overwrite.Message));
        Assert.Equal((LakehouseErrorReason.UnsupportedFeature, message), (delete.Reason, delete.Message));
        Assert.Equal(1, (await t.Table.GetSnapshotAsync()).Version);
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 3));
        Assert.Equal(["0", "1", "2"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        await SetByAnotherToolAsync(t, key, "false", version: 3);
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12));
        Assert.Equal(["10", "11"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    /// <summary>delta.appendOnly is read as Delta reads it, true or false in any case: TRUE protects the table, False does not.</summary>
    [Fact]
    public async Task OverwriteAsync_AppendOnlyTrueOrFalseInAnyCase_ReadAsThatValue()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["delta.appendOnly"] = "TRUE" }, []);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12)));
        Assert.Equal($"Table '{t.Root}' is append-only (delta.appendOnly = true): rows cannot be replaced or deleted.", e.Message);
        await t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["delta.appendOnly"] = "False" }, []);
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12));
        Assert.Equal(["10", "11"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AppendAsync_CancelledAfterTheFilesBeforeTheCommit_NoDataFileLeft(bool partitioned)
    {
        // CI, 2026-12-04: Ctrl+C at the end of `lakehouse table import` left a data file in the table's folder, placed but never
        // committed (only a conflict deleted them).
        using var t = new LocalTable(_engine, partitioned ? Partitioned() : null);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2, "'a'"));
        static string[] Files(LocalTable t) =>
            [.. Directory.GetFiles(t.Root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(t.Root, f)).Order(StringComparer.Ordinal)];
        var before = Files(t);
        using var cancel = new CancellationTokenSource();
        t.Writer.BeforeCommit = () =>
        {
            Assert.True(Files(t).Length > before.Length, "the hook ran before the data files were placed");
            cancel.Cancel();
            return Task.CompletedTask;
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(2, 5000, "(i % 3)::VARCHAR"), cancellationToken: cancel.Token));

        Assert.Equal(before, Files(t));
        Assert.Equal(["2"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task CreateTableAsync_DeclaredSchema_EmptyTableWithProtocol12AndProperties()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions
        {
            PartitionColumns = ["day"],
            TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "5" },
        });
        var schema = new StructType([
            new StructField("id", PrimitiveType.Long, false),
            new StructField("day", PrimitiveType.Date, true),
            new StructField("payload", new StructType([new StructField("a", PrimitiveType.String, true)]), true),
        ]);
        var result = await t.Writer.CreateTableAsync(schema);

        Assert.Equal(0, result.Version);
        Assert.Equal("CREATE TABLE", result.Operation);
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Empty(snapshot.Files);
        Assert.Equal(["day"], snapshot.PartitionColumns);
        Assert.Equal(schema.ToSchemaString(), snapshot.Metadata.SchemaString);
        Assert.Equal("5", snapshot.Property("delta.checkpointInterval"));
        Assert.Equal((1, 2), (snapshot.Protocol.MinReaderVersion, snapshot.Protocol.MinWriterVersion));
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.CreateTableAsync(schema));
        Assert.Equal(LakehouseErrorReason.AlreadyExists, ex.Reason);
    }

    [Fact]
    public async Task CreateTableAsync_FromQuery_SchemaFromDescribeWithTimestampAsUtc()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.CreateTableAsync("SELECT 1::BIGINT AS id, 'x' AS name, TIMESTAMP '2024-01-01 00:00:00' AS at, [1.5] AS xs");
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(["id:long", "name:string", "at:timestamp", "xs:array"],
            snapshot.Schema.Fields.Select(f => f.Name + ":" + (f.Type is PrimitiveType p ? p.Name : "array")));
        Assert.Null(snapshot.Protocol.ReaderFeatures);
    }

    [Fact]
    public async Task AppendAsync_NonNullableColumnGetsNull_RefusedAndNothingCommittedOrLeftBehind()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.CreateTableAsync(new StructType([new StructField("id", PrimitiveType.Long, false), new StructField("v", PrimitiveType.String, true)]));
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT NULL::BIGINT AS id, 'x' AS v"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Contains("'id'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Empty(Directory.GetFiles(t.Root, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AppendAsync_ExtraSourceColumn_RefusedNamingIt()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1 AS id");
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT 2 AS id, 'x' AS surprise"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Contains("'surprise'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendAsync_MissingNullableColumnAndOtherCase_FilledWithNullAndMatched()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id, 'a' AS name");
        await t.Writer.AppendAsync("SELECT 2 AS ID");
        Assert.Equal(["1:a", "2:null"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || ':' || coalesce(name, 'null') FROM t ORDER BY id"));
    }

    [Fact]
    public async Task AppendAsync_OtherPartitioningThanTheTable_Refused()
    {
        using var t = new LocalTable(_engine, Partitioned());
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.OtherWriter(Partitioned("v")).AppendAsync(WriteTestKit.Rows(2, 4)));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Contains("partitioned by (part)", ex.Message, StringComparison.Ordinal);
        await t.OtherWriter().AppendAsync(WriteTestKit.Rows(2, 4)); // No partitioning asked: the table's applies.
        Assert.Equal(["4"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task OverwriteAsync_ExistingTable_OnlyNewRowsRemainAndMetricsSaySo()
    {
        using var t = new LocalTable(_engine, Partitioned());
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10, "(i % 3)::VARCHAR"));
        var result = await t.Writer.OverwriteAsync(WriteTestKit.Rows(100, 103, "'z'"));
        Assert.Equal(1, result.Version);
        Assert.Equal(3, result.Metric("numRemovedFiles"));
        Assert.Equal(3, result.Metric("numOutputRows"));
        Assert.Equal(["100", "101", "102"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(3, snapshot.Tombstones.Count);
        var history = await t.Table.GetHistoryAsync();
        Assert.Contains("\"mode\":\"Overwrite\"", history[0].OperationParameters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplacePartitionsAsync_ReplaceWhere_ReplacesMatchingPartitionsOnly()
    {
        using var t = new LocalTable(_engine, Partitioned("day"));
        await t.Writer.AppendAsync("SELECT i AS id, DATE '2024-01-01' + (i % 4)::INTEGER AS day FROM range(8) AS r(i)");
        await t.Writer.ReplacePartitionsAsync("SELECT 100 + i AS id, DATE '2024-01-02' AS day FROM range(2) AS r(i)", "day >= DATE '2024-01-02' AND day < DATE '2024-01-04'");

        Assert.Equal(["2024-01-01:0,4", "2024-01-02:100,101", "2024-01-04:3,7"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT day || ':' || string_agg(id::VARCHAR, ',' ORDER BY id) FROM t GROUP BY day ORDER BY day"));
    }

    [Fact]
    public async Task ReplacePartitionsAsync_RowsOutsideReplaceWhere_RefusedAndTableUnchanged()
    {
        using var t = new LocalTable(_engine, Partitioned("day"));
        await t.Writer.AppendAsync("SELECT 1 AS id, DATE '2024-01-01' AS day");
        var ex = await Assert.ThrowsAsync<LakehouseException>(() =>
            t.Writer.ReplacePartitionsAsync("SELECT 2 AS id, DATE '2024-01-09' AS day", "day = DATE '2024-01-01'"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Single(Directory.GetFiles(t.Root, "*.parquet", SearchOption.AllDirectories));

        var notPartition = await Assert.ThrowsAsync<LakehouseException>(() =>
            t.Writer.ReplacePartitionsAsync("SELECT 2 AS id, DATE '2024-01-01' AS day", "id = 1"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, notPartition.Reason);
    }

    [Fact]
    public async Task ReplacePartitionsAsync_Dynamic_ReplacesExactlyThePartitionsWritten()
    {
        using var t = new LocalTable(_engine, Partitioned());
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 9, "(i % 3)::VARCHAR"));
        var result = await t.Writer.ReplacePartitionsAsync(WriteTestKit.Rows(50, 52, "'1'"));
        Assert.Equal(1, result.Metric("numRemovedFiles"));
        Assert.Equal(["0:0,3,6", "1:50,51", "2:2,5,8"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT part || ':' || string_agg(id::VARCHAR, ',' ORDER BY id) FROM t GROUP BY part ORDER BY part"));
    }

    [Fact]
    public async Task MergeAsync_InsertIfAbsent_InsertsOnlyNewKeysAndRewritesNothing()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT i AS id, 'old' AS v FROM range(5) AS r(i)");
        var before = (await t.Table.GetSnapshotAsync()).Files.Select(f => f.Path).ToHashSet();

        var result = await t.Writer.MergeAsync("SELECT i AS id, 'new' AS v FROM range(3, 8) AS r(i)", ["id"], DeltaMergeMode.InsertIfAbsent);

        Assert.Equal(3, result.Metric("numTargetRowsInserted"));
        Assert.Equal(0, result.Metric("numTargetFilesRemoved"));
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.True(before.IsSubsetOf(snapshot.Files.Select(f => f.Path)));
        Assert.Equal(["0:old", "1:old", "2:old", "3:old", "4:old", "5:new", "6:new", "7:new"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT id || ':' || v FROM t ORDER BY id"));

        var again = await t.Writer.MergeAsync("SELECT i AS id, 'new' AS v FROM range(3, 8) AS r(i)", ["id"], DeltaMergeMode.InsertIfAbsent);
        Assert.False(again.Committed);
        Assert.Equal(1, (await t.Table.GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task MergeAsync_Upsert_RewritesOnlyFilesWithMatchedKeys()
    {
        using var t = new LocalTable(_engine);
        for (var i = 0; i < 4; i++) await t.Writer.AppendAsync($"SELECT {i * 10} + j AS id, 'old' AS v FROM range(10) AS r(j)"); // Four files: ids 0-9, 10-19, 20-29, 30-39.
        var before = await t.Table.GetSnapshotAsync();
        var untouched = before.Files.Where(f => JsonDocument.Parse(f.Stats!).RootElement.GetProperty("minValues").GetProperty("id").GetInt64() is 0 or 30)
            .Select(f => f.Path).ToList();
        Assert.Equal(2, untouched.Count);

        var result = await t.Writer.MergeAsync("SELECT * FROM (VALUES (15, 'upd'), (25, 'upd'), (99, 'ins')) AS s(id, v)", ["id"]);

        Assert.Equal(2, result.Metric("numTargetFilesRemoved"));
        Assert.Equal(2, result.Metric("numTargetRowsUpdated"));
        Assert.Equal(1, result.Metric("numTargetRowsInserted"));
        Assert.Equal(18, result.Metric("numTargetRowsCopied"));
        var after = await t.Table.GetSnapshotAsync();
        Assert.All(untouched, p => Assert.Contains(after.Files, f => f.Path == p));
        Assert.Equal(41, WriteCount(await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t")));
        Assert.Equal(["15:upd", "25:upd", "99:ins"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || ':' || v FROM t WHERE v <> 'old' ORDER BY id"));
        Assert.Equal(["0"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) - count(DISTINCT id) FROM t"));
    }

    [Fact]
    public async Task MergeAsync_PartitionedByKeyPart_ReadsAndRewritesOnlyTheSourcePartitions()
    {
        using var t = new LocalTable(_engine, Partitioned("day"));
        await t.Writer.AppendAsync("SELECT i AS id, DATE '2024-01-01' + (i % 3)::INTEGER AS day, 'old' AS v FROM range(9) AS r(i)");
        var before = await t.Table.GetSnapshotAsync();
        await t.Writer.MergeAsync("SELECT 4 AS id, DATE '2024-01-02' AS day, 'upd' AS v", ["id", "day"]);
        var after = await t.Table.GetSnapshotAsync();
        Assert.Equal(before.Files.Where(f => f.PartitionValues["day"] != "2024-01-02").Select(f => f.Path).Order(),
            after.Files.Where(f => f.PartitionValues["day"] != "2024-01-02").Select(f => f.Path).Order());
        Assert.Equal(["1:old", "4:upd", "7:old"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || ':' || v FROM t WHERE day = DATE '2024-01-02' ORDER BY id"));
    }

    [Fact]
    public async Task MergeAsync_DuplicateSourceKeys_RefusedWithCount()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1 AS id, 'a' AS v");
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.MergeAsync("SELECT * FROM (VALUES (2, 'x'), (2, 'y'), (3, 'z')) AS s(id, v)", ["id"]));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Contains("1 key(s)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MergeAsync_MissingTable_CreatesItFromTheSource()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.MergeAsync("SELECT i AS id FROM range(3) AS r(i)", ["id"]);
        Assert.Equal(["3"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task DeleteAsync_DataPredicate_RewritesOnlyFilesWithMatches()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT i AS id FROM range(10) AS r(i)");
        await t.Writer.AppendAsync("SELECT i AS id FROM range(10, 20) AS r(i)");
        await t.Writer.AppendAsync("SELECT i AS id FROM range(20, 30) AS r(i)");
        var before = await t.Table.GetSnapshotAsync();

        var result = await t.Writer.DeleteAsync("id % 10 = 3 AND id < 20 OR id >= 20");

        Assert.Equal(12, result.Metric("numDeletedRows"));
        Assert.Equal(3, result.Metric("numRemovedFiles"));
        Assert.Equal(1, result.Metric("numAddedFiles")); // The two partly matching files are rewritten together.
        Assert.Equal(18, result.Metric("numCopiedRows"));
        Assert.Equal(["0,1,2,4,5,6,7,8,9,10,11,12,14,15,16,17,18,19"], await WriteTestKit.QueryAsync(t.Table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"));
        var none = await t.Writer.DeleteAsync("id = 12345");
        Assert.False(none.Committed);
        Assert.Equal(before.Version + 1, (await t.Table.GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task DeleteAsync_PartitionPredicate_RemovesWholeFilesWithoutRewriting()
    {
        using var t = new LocalTable(_engine, Partitioned());
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 9, "(i % 3)::VARCHAR"));
        var result = await t.Writer.DeleteAsync("part IN ('0', '2')");
        Assert.Equal(2, result.Metric("numRemovedFiles"));
        Assert.Equal(0, result.Metric("numAddedFiles"));
        Assert.Equal(6, result.Metric("numDeletedRows"));
        Assert.Equal(["1", "4", "7"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    [Fact]
    public async Task AppendAsync_AppTransaction_SecondCallWithSameVersionIsSkipped()
    {
        using var t = new LocalTable(_engine);
        var first = await t.Writer.AppendAsync("SELECT 1 AS id", [new DeltaAppTransaction("bronze/p0", 7)]);
        var replay = await t.Writer.AppendAsync("SELECT 1 AS id", [new DeltaAppTransaction("bronze/p0", 7)]);
        var next = await t.Writer.AppendAsync("SELECT 2 AS id", [new DeltaAppTransaction("bronze/p0", 8)]);

        Assert.True(first.Committed);
        Assert.False(replay.Committed);
        Assert.True(next.Committed);
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(8, snapshot.TransactionVersion("bronze/p0"));
        Assert.Null(snapshot.TransactionVersion("other"));
        Assert.Equal(["1", "2"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        Assert.NotNull(snapshot.Transactions["bronze/p0"].LastUpdated);
    }

    [Fact]
    public async Task AppendAsync_RecordsCommitVersionRetriedAfterAnotherWriterWon_RecordsTheVersionItLandedAt()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 0 AS id");
        var other = t.OtherWriter();
        t.Writer.BeforeCommit = async () =>
        {
            t.Writer.BeforeCommit = null;
            await other.AppendAsync("SELECT 1 AS id"); // takes version 1, which this commit read as free
        };
        var result = await t.Writer.AppendAsync("SELECT 2 AS id",
            [new DeltaAppTransaction("key/a", 42) { Previous = -1 }, new DeltaAppTransaction("version/a", 0) { RecordsCommitVersion = true }]);
        var again = await t.Writer.AppendAsync("SELECT 2 AS id",
            [new DeltaAppTransaction("key/a", 42) { Previous = -1 }, new DeltaAppTransaction("version/a", 0) { RecordsCommitVersion = true }]);

        Assert.Equal((2L, 2), (result.Version, result.Attempts));
        Assert.False(again.Committed); // the key decides "already applied", not the recorded version
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal((42L, 2L), (snapshot.TransactionVersion("key/a"), snapshot.TransactionVersion("version/a")));
        Assert.Equal(["0", "1", "2"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    [Fact]
    public async Task AppendAsync_AppTransactionWithStalePrevious_ConflictAndNothingCommitted()
    {
        using var t = new LocalTable(_engine);
        Assert.True((await t.Writer.AppendAsync("SELECT 1 AS id", [new DeltaAppTransaction("bronze/p0", 10) { Previous = -1 }])).Committed);
        // Planned from the state before the first commit: absent, then 10 → 15 while the table already holds 10.
        var absent = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT 2 AS id", [new DeltaAppTransaction("bronze/p0", 15) { Previous = -1 }]));
        var behind = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT 2 AS id", [new DeltaAppTransaction("bronze/p0", 15) { Previous = 5 }]));
        var follows = await t.Writer.AppendAsync("SELECT 3 AS id", [new DeltaAppTransaction("bronze/p0", 15) { Previous = 10 }]);

        Assert.Equal((LakehouseErrorReason.Conflict, LakehouseErrorReason.Conflict), (absent.Reason, behind.Reason));
        Assert.Contains("'bronze/p0' at 10, not at -1", absent.Message, StringComparison.Ordinal);
        Assert.Contains("'bronze/p0' at 10, not at 5", behind.Message, StringComparison.Ordinal);
        Assert.True(follows.Committed);
        Assert.Equal(["1", "3"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        Assert.Equal(15, (await t.Table.GetSnapshotAsync()).TransactionVersion("bronze/p0"));
    }

    [Fact]
    public async Task AppendAsync_PreviousOnMissingTable_ConflictAndNoTable()
    {
        using var t = new LocalTable(_engine);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT 1 AS id", [new DeltaAppTransaction("bronze/p0", 9) { Previous = 4 }]));
        Assert.Equal(LakehouseErrorReason.Conflict, e.Reason);
        Assert.False(await t.Table.ExistsAsync());
    }

    [Fact]
    public async Task AppendAsync_AppTransactionWithNoRows_StillRecordsProgress()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1 AS id");
        var result = await t.Writer.AppendAsync("SELECT 1 AS id WHERE false", [new DeltaAppTransaction("silver", 3)]);
        Assert.True(result.Committed);
        Assert.Equal(3, (await t.Table.GetSnapshotAsync()).TransactionVersion("silver"));
        var empty = await t.Writer.AppendAsync("SELECT 1 AS id WHERE false");
        Assert.False(empty.Committed);
    }

    [Fact]
    public async Task AppendAsync_CommitInfo_HasOperationMetricsEngineAndReadVersion()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1 AS id");
        await t.Writer.AppendAsync("SELECT i AS id FROM range(5) AS r(i)");
        var line = File.ReadAllLines(Path.Combine(t.Root, "_delta_log", "00000000000000000001.json"))[0];
        using var doc = JsonDocument.Parse(line);
        var info = doc.RootElement.GetProperty("commitInfo");
        Assert.Equal("WRITE", info.GetProperty("operation").GetString());
        Assert.Equal("Append", info.GetProperty("operationParameters").GetProperty("mode").GetString());
        Assert.Equal("5", info.GetProperty("operationMetrics").GetProperty("numOutputRows").GetString());
        Assert.Equal("1", info.GetProperty("operationMetrics").GetProperty("numFiles").GetString());
        Assert.StartsWith("Lakehouse/", info.GetProperty("engineInfo").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, info.GetProperty("readVersion").GetInt64());
        Assert.True(info.GetProperty("isBlindAppend").GetBoolean());
        Assert.True(Guid.TryParse(info.GetProperty("txnId").GetString(), out _));
        Assert.True(info.GetProperty("timestamp").GetInt64() > 0);
        var history = await t.Table.GetHistoryAsync();
        Assert.Equal(["WRITE", "CREATE TABLE AS SELECT"], history.Select(h => h.Operation));
    }

    private static long WriteCount(List<string?> rows) => long.Parse(Assert.Single(rows)!, System.Globalization.CultureInfo.InvariantCulture);
}
