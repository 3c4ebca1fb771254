using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

public sealed class DeltaMaintenanceTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private static void Age(string path, TimeSpan by) => File.SetLastWriteTimeUtc(path, DateTime.UtcNow - by);

    private static List<string> DataFiles(LocalTable t) =>
        [.. Directory.GetFiles(t.Root, "*.parquet", SearchOption.AllDirectories)
            .Where(f => !f.Contains("_delta_log", StringComparison.Ordinal)).Select(f => Path.GetRelativePath(t.Root, f)).Order()];

    [Fact]
    public async Task VacuumAsync_RetentionBelowTableDefault_RefusedUnlessForced()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.VacuumAsync(TimeSpan.FromHours(1)));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Contains("168 hours", ex.Message, StringComparison.Ordinal);
        var forced = await t.Writer.VacuumAsync(TimeSpan.FromHours(1), force: true);
        Assert.Empty(forced.Files);
    }

    [Fact]
    public async Task VacuumAsync_Forced_DeletesRemovedFilesKeepsLiveOnesAndLogsStartEnd()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 6, "(i % 2)::VARCHAR"));
        var old = DataFiles(t);
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 12, "'1'"));
        var live = DataFiles(t).Except(old).ToList();
        Assert.Single(live);

        var dry = await t.Writer.VacuumAsync(TimeSpan.Zero, dryRun: true, force: true);
        Assert.Equal(old, dry.Files.Order());
        Assert.Equal(3, DataFiles(t).Count);

        var result = await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);
        Assert.Equal(old, result.Files.Order());
        Assert.Equal(live, DataFiles(t));
        Assert.Equal(["10", "11"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        var history = await t.Table.GetHistoryAsync(2);
        Assert.Equal(["VACUUM END", "VACUUM START"], history.Select(h => h.Operation));
        Assert.Contains("\"numFilesToDelete\":\"2\"", history[1].OperationMetrics, StringComparison.Ordinal);
        Assert.Contains("\"numDeletedFiles\":\"2\"", history[0].OperationMetrics, StringComparison.Ordinal);
    }

    /// <summary>
    /// Deletion vectors go as Spark's VACUUM deletes them: those the version's files (or tombstones within the retention) name stay,
    /// the others go. They used to stay for good, while <c>table check</c> said VACUUM would delete them. OPTIMIZE then rewrites
    /// the files with deleted rows (it left a file alone in its partition as it was), after which VACUUM deletes every vector.
    /// </summary>
    [Fact]
    public async Task VacuumAsync_DeletionVectorsOnlyOlderVersionsName_DeletedThoseInUseKeptUntilOptimizeRewritesTheirFiles()
    {
        using var temp = new TempDirectory("vacuum-dv");
        var root = temp.Combine("t");
        TestFiles.CopyTree(ConformanceCorpus.Root("golden/dv-partitioned-with-checkpoint"), root);
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        var writer = DeltaWriter.Create(table);
        List<string> Vectors() => [.. Directory.GetFiles(root, "deletion_vector_*.bin", SearchOption.AllDirectories).Select(f => Path.GetFileName(f)).Order()];
        async Task<List<string>> InUseAsync() => [.. (await table.GetSnapshotAsync()).Files.Select(f => f.DeletionVector).OfType<DeletionVectorDescriptor>()
            .Select(dv => Path.GetFileName(DeletionVectors.FilePath(dv, table.Storage)!)).Distinct().Order()];
        Task<List<string?>> RowsAsync() => WriteTestKit.QueryAsync(table, "SELECT count(*)::VARCHAR || ' ' || sum(hash(t))::VARCHAR FROM t");
        var rows = await RowsAsync();
        var inUse = await InUseAsync();
        Assert.Equal(2, inUse.Count);
        Assert.Equal(15, Vectors().Count); // 13 of them named only by versions before the latest

        var result = await writer.VacuumAsync(TimeSpan.Zero, force: true);

        Assert.Equal(inUse, Vectors());
        Assert.Equal(13, result.Files.Count(f => f.Contains("deletion_vector_", StringComparison.Ordinal)));
        Assert.Equal(rows, await RowsAsync());
        Assert.Empty((await writer.VacuumAsync(TimeSpan.Zero, dryRun: true, force: true)).Files);

        // OPTIMIZE rewrites the files with deleted rows (each has more than 5 % of its rows deleted), even one alone in its partition,
        // so their vectors are needed no more.
        await writer.OptimizeAsync();
        Assert.Empty(await InUseAsync());
        Assert.Equal(rows, await RowsAsync());
        await writer.VacuumAsync(TimeSpan.Zero, force: true);
        Assert.Empty(Vectors());
        Assert.Equal(rows, await RowsAsync());
    }

    [Fact]
    public async Task VacuumAsync_DefaultRetention_KeepsRecentTombstonesAndDeletesOldOrphans()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(3, 6));
        foreach (var f in DataFiles(t)) Age(Path.Combine(t.Root, f), TimeSpan.FromDays(30)); // Even old files stay while live or recently removed.
        var orphan = Path.Combine(t.Root, "part-99999-orphan.c000.zstd.parquet");
        File.Copy(Path.Combine(t.Root, DataFiles(t)[0]), orphan);
        var staged = Path.Combine(t.Root, DataFileWriter.StagingFolder, "abc", "data_0.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(staged)!);
        File.WriteAllText(staged, "half-written");
        var young = Path.Combine(t.Root, "part-99998-young.c000.zstd.parquet");
        File.WriteAllText(young, "in flight");
        Age(orphan, TimeSpan.FromDays(8));
        Age(staged, TimeSpan.FromDays(8));

        var result = await t.Writer.VacuumAsync();

        Assert.Equal(TimeSpan.FromDays(7), result.Retention);
        Assert.Equal([Path.Combine(DataFileWriter.StagingFolder, "abc", "data_0.parquet"), "part-99999-orphan.c000.zstd.parquet"], result.Files.Order());
        Assert.False(File.Exists(orphan));
        Assert.False(File.Exists(staged));
        Assert.True(File.Exists(young));
        Assert.Equal(3, DataFiles(t).Count); // The live file, the tombstoned one (removed just now) and the young in-flight file.
        Assert.Equal(["3", "4", "5"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    [Fact]
    public async Task WriteWithoutCommit_Crash_TableUnchangedAndVacuumRemovesOrphansLater()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 4, "'a'"));
        var snapshot = await t.Table.GetSnapshotAsync();

        // A writer that dies after writing its data files and before committing.
        WrittenFiles written;
        using (var lease = _engine.Lease())
        {
            written = await DataFileWriter.WriteAsync(t.Table, lease.Connection, "SELECT i::BIGINT AS id, 'b' AS part, 'x' AS v FROM range(100) AS r(i)",
                snapshot.Schema, snapshot.PartitionColumns, 1 << 20, compressionLevel: null, dataChange: true, stagedSource: false, CancellationToken.None);
        }
        Assert.All(written.Paths, p => Assert.True(File.Exists(Path.Combine(t.Root, p))));

        var after = await t.Table.GetSnapshotAsync();
        Assert.Equal(snapshot.Version, after.Version);
        Assert.Equal(["4"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));

        Assert.Empty((await t.Writer.VacuumAsync(dryRun: true)).Files); // Too young to be sure the writer is gone.
        foreach (var p in written.Paths) Age(Path.Combine(t.Root, p), TimeSpan.FromDays(8));
        var vacuum = await t.Writer.VacuumAsync();
        Assert.Equal(written.Paths.Order(), vacuum.Files.Order());
        Assert.All(written.Paths, p => Assert.False(File.Exists(Path.Combine(t.Root, p))));
        Assert.Equal(["4"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task OptimizeAsync_SmallFiles_CompactedPerPartitionWithTheSameRows()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 5; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10, "(i % 2)::VARCHAR"));
        await t.Writer.AppendAsync(WriteTestKit.Rows(1000, 1001, "'single'"));
        var before = await t.Table.GetSnapshotAsync();
        Assert.Equal(11, before.Files.Count);
        var rowsBefore = await WriteTestKit.QueryAsync(t.Table, "SELECT to_json(t)::VARCHAR FROM t ORDER BY id");
        var single = before.Files.Single(f => f.PartitionValues["part"] == "single");

        var result = await t.Writer.OptimizeAsync();

        Assert.Equal("OPTIMIZE", result.Operation);
        Assert.Equal(10, result.Metric("numRemovedFiles"));
        Assert.Equal(2, result.Metric("numAddedFiles"));
        var after = await t.Table.GetSnapshotAsync();
        Assert.Equal(3, after.Files.Count);
        Assert.Contains(after.Files, f => f.Path == single.Path);
        Assert.All(after.Files.Where(f => f.Path != single.Path), f => Assert.False(f.DataChange));
        Assert.Equal(rowsBefore, await WriteTestKit.QueryAsync(t.Table, "SELECT to_json(t)::VARCHAR FROM t ORDER BY id"));
        Assert.All(after.Tombstones, r => Assert.False(r.DataChange));

        var again = await t.Writer.OptimizeAsync();
        Assert.False(again.Committed);
    }

    [Fact]
    public async Task OptimizeAsync_PartitionFilter_CompactsOnlyMatchingPartitions()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 3; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10, "(i % 2)::VARCHAR"));
        var result = await t.Writer.OptimizeAsync("part = '0'");
        Assert.Equal(3, result.Metric("numRemovedFiles"));
        var after = await t.Table.GetSnapshotAsync();
        Assert.Single(after.Files, f => f.PartitionValues["part"] == "0");
        Assert.Equal(3, after.Files.Count(f => f.PartitionValues["part"] == "1"));
    }

    /// <summary>
    /// A predicate is pasted into SQL on the writer's engine, which reads any file: a subquery (read_text, glob), a function that
    /// reads the environment, or text that closes the condition's parentheses and adds to the query is refused before it runs.
    /// Before, each ran, and DuckDB's cast error printed /etc/passwd. A condition that closes its own parentheses early and opens
    /// new ones ("part = '1') OR (true") is refused too: it was taken as the wider "(part = '1') OR (true)" and compacted every partition.
    /// Conditions on partition columns still select partitions.
    /// </summary>
    [Theory]
    [InlineData("part = (SELECT content FROM read_text('/etc/passwd'))", "it holds a subquery")]
    [InlineData("EXISTS (SELECT * FROM glob('/*'))", "it holds a subquery")]
    [InlineData("part = getenv('HOME')", "it calls getenv()")]
    [InlineData("1=1) UNION ALL SELECT (2", "it is not one condition")]
    [InlineData("1=1) GROUP BY (1", "it is not one condition")]
    [InlineData("part = '0'; SELECT 1", "it does not parse as a condition")]
    [InlineData("part = '1') OR (true", "it is not one condition (its parentheses do not pair up")]
    [InlineData("part = '1'] OR [true", "it does not parse as a condition")]
    public async Task OptimizeAsync_PredicateThatIsNotACondition_RefusedBeforeItRuns(string predicate, string problem)
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 2; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10, "'0'"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.OptimizeAsync(predicate));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith($"The optimize predicate '{predicate}' must be a SQL condition on the partition columns (part) only: {problem}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await t.Table.GetSnapshotAsync()).Files.Count);
        Assert.Equal(1, (await t.Writer.OptimizeAsync("part = '0' OR upper(part) = 'X'")).Metric("numAddedFiles"));
    }

    /// <summary>
    /// A predicate naming a column that is not a partition column is refused naming it, in the writer's words: before, DuckDB's binder
    /// error was the message ('Referenced column "v" not found in FROM clause! Candidate bindings: "part"'). A lambda's parameter is
    /// not a column.
    /// </summary>
    [Theory]
    [InlineData("v = 'v1'", "it names v, which is not a partition column")]
    [InlineData("part = '0' AND (id > 3 OR nosuch IS NULL)", "it names id, nosuch, which are not partition columns")]
    public async Task OptimizeAsync_PredicateOnOtherColumns_RefusedNamingThemWithoutEngineText(string predicate, string problem)
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 2; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10, "'0'"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.OptimizeAsync(predicate));

        Assert.Equal((LakehouseErrorReason.InvalidInput, $"The optimize predicate '{predicate}' must be a SQL condition on the partition columns (part) only: {problem}."),
            (e.Reason, e.Message));
        Assert.Equal(2, (await t.Table.GetSnapshotAsync()).Files.Count);
        Assert.Equal(1, (await t.Writer.OptimizeAsync("len(list_filter(['0'], x -> x = PART)) = 1")).Metric("numAddedFiles"));
    }

    [Fact]
    public async Task OptimizeAsync_FilesToLeave_LeftForALaterCompaction()
    {
        using var t = new LocalTable(_engine);
        for (var i = 0; i < 5; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10));
        var files = (await t.Table.GetSnapshotAsync()).Files.OrderBy(f => f.ModificationTime).Select(f => f.Path).ToList();
        var unread = files.TakeLast(2).ToHashSet(StringComparer.Ordinal);

        var result = await t.Writer.OptimizeAsync(leave: unread);

        Assert.Equal((3L, 1L), (result.Metric("numRemovedFiles"), result.Metric("numAddedFiles")));
        var after = await t.Table.GetSnapshotAsync();
        Assert.Equal(3, after.Files.Count);
        Assert.All(unread, p => Assert.Contains(after.Files, f => f.Path == p));
        Assert.Equal(["50"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(DISTINCT id)::VARCHAR FROM t"));
        Assert.False((await t.Writer.OptimizeAsync(leave: unread)).Committed); // one small file besides them: nothing to pack
    }

    /// <summary>
    /// OPTIMIZE rewrites a file for its deletion vector only when the vector deletes more than 5 % of its rows (Spark's
    /// optimize.maxDeletedRowsRatio): a large file with a few deleted rows, or with exactly 5 %, keeps its file and its vector, as
    /// does a small file alone in its partition (nothing to pack it with). It used to rewrite every file with a vector, a whole
    /// large file for one deleted row. The vectors (inline, as Delta's RoaringBitmapArray) are put on files this writer wrote.
    /// </summary>
    [Fact]
    public async Task OptimizeAsync_DeletionVectors_RewritesOnlyFilesWithMoreThanFivePercentOfTheirRowsDeleted()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        for (var i = 0; i < 3; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 4000, (i + 1) * 4000, "'a'"));
        await t.Writer.AppendAsync(WriteTestKit.Rows(20000, 20020, "'b'"));
        var written = await t.Table.GetSnapshotAsync();
        static long FirstId(AddAction f) => System.Text.Json.JsonDocument.Parse(f.Stats!).RootElement.GetProperty("minValues").GetProperty("id").GetInt64();
        var byFirst = written.Files.ToDictionary(FirstId);
        Assert.Equal([0L, 4000, 8000, 20000], byFirst.Keys.Order());
        // Deleted rows per file (of 4000, 4000, 4000, 20): 0.025 %, exactly 5 %, 5.025 %, and 5 % of the small file.
        var deleted = new Dictionary<long, int> { [0] = 1, [4000] = 200, [8000] = 201, [20000] = 1 };
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var actions = new List<DeltaAction> { new ProtocolAction(3, 7, ["deletionVectors"], ["deletionVectors"]) };
        foreach (var (first, count) in deleted)
        {
            var f = byFirst[first];
            var bitmap = Lakehouse.Delta.Tests.Scan.DeletionVectorTests.Bitmap([.. Enumerable.Range(0, count).Select(r => (ushort)(r * 3))]);
            var dv = new DeletionVectorDescriptor("i", Lakehouse.Delta.Tests.Scan.DeletionVectorTests.Z85ZeroPadded(bitmap), null, bitmap.Length, count);
            actions.Add(new RemoveAction(f.Path, now, true, true, f.PartitionValues, f.Size));
            actions.Add(f with { DeletionVector = dv, DataChange = true, ModificationTime = now });
        }
        await File.WriteAllBytesAsync(Path.Combine(t.Root, "_delta_log", $"{written.Version + 1:D20}.json"), ActionSerializer.ToCommitBytes(actions));
        var table = DeltaTable.Open(LakeStorage.Open(t.Root), _engine);
        var before = await table.GetSnapshotAsync();
        Assert.Equal(4, before.Files.Count(f => f.DeletionVector is not null));
        // Every file of partition a is of the target size or larger, so none is small; the file of partition b is.
        var target = byFirst.Where(kv => kv.Key < 20000).Min(kv => kv.Value.Size);
        Assert.True(byFirst[20000].Size < target, $"the 20-row file ({byFirst[20000].Size} bytes) must be smaller than the 4000-row ones ({target} bytes)");
        Task<List<string?>> RowsAsync() => WriteTestKit.QueryAsync(table, "SELECT count(*)::VARCHAR || ' ' || sum(hash(t))::VARCHAR FROM t");
        var rows = await RowsAsync();
        Assert.StartsWith("11617 ", rows.Single(), StringComparison.Ordinal); // 12020 rows less 403 deleted

        var result = await DeltaWriter.Create(table, new DeltaWriteOptions { TargetFileSizeBytes = target }).OptimizeAsync();

        Assert.Equal((1L, 1L, 1L, 201L), (result.Metric("numRemovedFiles"), result.Metric("numAddedFiles"),
            result.Metric("numDeletionVectorsRemoved"), result.Metric("numDeletionVectorRowsRemoved")));
        var after = await table.GetSnapshotAsync();
        Assert.Equal(4, after.Files.Count);
        foreach (var first in new long[] { 0, 4000, 20000 })
        {
            var kept = after.Files.Single(f => f.Path == byFirst[first].Path);
            Assert.Equal(before.Files.Single(f => f.Path == kept.Path).DeletionVector, kept.DeletionVector);
        }
        Assert.DoesNotContain(after.Files, f => f.Path == byFirst[8000].Path);
        var rewritten = after.Files.Single(f => !byFirst.Values.Any(w => w.Path == f.Path));
        Assert.Equal((null, 3799L, false, "a"), (rewritten.DeletionVector, StatsJson.NumRecords(rewritten), rewritten.DataChange, rewritten.PartitionValues["part"]));
        Assert.Equal(rows, await RowsAsync());
        Assert.False((await DeltaWriter.Create(table, new DeltaWriteOptions { TargetFileSizeBytes = target }).OptimizeAsync()).Committed);
    }

    [Fact]
    public async Task RestoreAsync_EarlierVersion_ContentAsThenAndHistoryKept()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));      // v0
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4));      // v1
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 11)); // v2
        await t.Writer.DeleteAsync("id = 10");                    // v3

        var result = await t.Writer.RestoreAsync(1);

        Assert.Equal(4, result.Version);
        Assert.Equal("RESTORE", result.Operation);
        Assert.Equal(2, result.Metric("numRestoredFiles"));
        Assert.Equal(0, result.Metric("numRemovedFiles"));
        Assert.Equal(["0", "1", "2", "3"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        Assert.Equal(["10"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id", version: 2));
        var restoredToTwo = await t.Writer.RestoreAsync(2);
        Assert.Equal(2, restoredToTwo.Metric("numRemovedFiles"));
        Assert.Equal(["10"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        // To the version the table is at: nothing to commit (an empty RESTORE was committed before).
        var again = await t.Writer.RestoreAsync(restoredToTwo.Version);
        Assert.Equal((false, restoredToTwo.Version), (again.Committed, again.Version));
    }

    [Fact]
    public async Task RestoreAsync_ProgressMarkers_SetBackWithTheContentThoseFirstCommittedLaterKept()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2), [new DeltaAppTransaction("source", 1)]);                                        // v0
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4), [new DeltaAppTransaction("source", 2)]);                                        // v1
        await t.Writer.AppendAsync(WriteTestKit.Rows(4, 6), [new DeltaAppTransaction("source", 3), new DeltaAppTransaction("other", 7)]); // v2

        var result = await t.Writer.RestoreAsync(0);

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal((1L, 7L), (snapshot.TransactionVersion("source"), snapshot.TransactionVersion("other")));
        Assert.Equal((1L, 1L), (result.Metric("numRestoredAppTransactions"), result.Metric("numKeptAppTransactions")));
        // The writer of "source" is no longer told its later batches are in the table: it commits them again, once.
        Assert.True((await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4), [new DeltaAppTransaction("source", 2)])).Committed);
        Assert.False((await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4), [new DeltaAppTransaction("source", 2)])).Committed);
        Assert.Equal(["0", "1", "2", "3"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        // Back to version 2: its files and its markers (source at 3) again.
        var forward = await t.Writer.RestoreAsync(2);
        Assert.Equal((1L, 0L), (forward.Metric("numRestoredAppTransactions"), forward.Metric("numKeptAppTransactions")));
        Assert.Equal(3L, (await t.Table.GetSnapshotAsync()).TransactionVersion("source"));
        Assert.Equal(["0", "1", "2", "3", "4", "5"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
    }

    [Fact]
    public async Task CountDataChangesAsync_CompactionVacuumAndMarkerOnlyCommits_NotCounted()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));                                    // v0
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 4));                                    // v1
        await t.Writer.OptimizeAsync();                                                         // v2: no data change
        await t.Writer.VacuumAsync(TimeSpan.FromDays(7));                                       // v3, v4: vacuum start and end
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 0), [new DeltaAppTransaction("a", 1)]); // v5: a marker alone
        await t.Writer.DeleteAsync("id = 1");                                                   // v6

        Assert.Equal(6, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Equal((3L, 2L, 1L, 0L), (await t.Table.CountDataChangesAsync(-1, 6), await t.Table.CountDataChangesAsync(0, 6),
            await t.Table.CountDataChangesAsync(1, 6), await t.Table.CountDataChangesAsync(6, 6)));
    }

    [Fact]
    public async Task RestoreAsync_FilesVacuumed_RefusedWithNotFound()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(10, 11));
        await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.RestoreAsync(0));
        Assert.Equal(LakehouseErrorReason.NotFound, ex.Reason);
        Assert.Contains("VACUUM", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VacuumAsync_PartitionFoldersItEmptied_RemovedOthersKept()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 4, "CASE WHEN i < 2 THEN 'a' ELSE 'b' END"));
        await t.Writer.ReplacePartitionsAsync(WriteTestKit.Rows(10, 12, "'b'"));
        await t.Writer.DeleteAsync("part = 'a'");
        Assert.True(Directory.Exists(Path.Combine(t.Root, "part=a")));

        var result = await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);

        Assert.Equal(2, result.Files.Count);
        Assert.False(Directory.Exists(Path.Combine(t.Root, "part=a")));
        Assert.True(Directory.Exists(Path.Combine(t.Root, "part=b")));
        Assert.Equal(["10", "11"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t ORDER BY id"));
        var end = (await t.Table.GetHistoryAsync(1))[0];
        Assert.Equal("VACUUM END", end.Operation);
        Assert.Contains("\"numVacuumedDirectories\":\"1\"", end.OperationMetrics, StringComparison.Ordinal);

        // A write into the partition whose folder vacuum removed recreates it.
        await t.Writer.AppendAsync(WriteTestKit.Rows(20, 21, "'a'"));
        Assert.Equal(["20"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t WHERE part = 'a'"));
    }

    [Fact]
    public async Task VacuumAsync_StagingFilesOfARunningWriter_KeptEvenWithZeroRetentionDeletedOnceItIsGone()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        var folder = Path.Combine(t.Root, DataFileWriter.StagingFolder, "inflight");
        var staged = Path.Combine(folder, "data_0.parquet");
        Directory.CreateDirectory(folder);
        File.WriteAllText(staged, "being written");
        Age(staged, TimeSpan.FromDays(30));
        using (new FileStream(folder + DataFileWriter.LockSuffix, FileMode.CreateNew, FileAccess.Write, FileShare.None)) // what a writer holds
        {
            Assert.Empty((await t.Writer.VacuumAsync(TimeSpan.Zero, force: true)).Files);
            Assert.True(File.Exists(staged));
        }
        // The writer died (its lock is released with it): its staged file, its lock and the folders they leave empty go.
        var result = await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);
        Assert.Equal([Path.Combine(DataFileWriter.StagingFolder, "inflight.lock"), Path.Combine(DataFileWriter.StagingFolder, "inflight", "data_0.parquet")], result.Files.Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(t.Root, DataFileWriter.StagingFolder)));
    }

    [Fact]
    public async Task Writes_SucceededOrFailed_LeaveNoStagingFolderInTheTable()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["part"] });
        var staging = Path.Combine(t.Root, DataFileWriter.StagingFolder);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10, "(i % 3)::VARCHAR"));
        Assert.False(Directory.Exists(staging));

        // Fails while DuckDB writes the staged files.
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(
            "SELECT CASE WHEN i < 5000 THEN i ELSE error('boom') END::BIGINT AS id, 'x' AS part, 'v' AS v FROM range(10000) AS r(i)"));
        Assert.Contains("boom", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(staging));

        // Fails after the files are placed (a lost race with a conflict): they are deleted, nothing staged is left either.
        t.Writer.BeforeCommit = async () => await t.OtherWriter().OverwriteAsync(WriteTestKit.Rows(100, 101, "'0'"));
        await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.ReplacePartitionsAsync(WriteTestKit.Rows(200, 201, "'0'")));
        Assert.False(Directory.Exists(staging));
        Assert.Equal(["100"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t"));
    }
}
