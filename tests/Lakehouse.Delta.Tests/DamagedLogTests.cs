using Lakehouse.Core;
using Lakehouse.Delta.Tests.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>A damaged log is refused, naming the file, by readers and writers alike, instead of being read as a smaller table.</summary>
public sealed class DamagedLogTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private static string LogFile(LocalTable t, string name) => Path.Combine(t.Root, "_delta_log", name);

    private static string Commit(long v) => v.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".json";

    private static int CommitCount(LocalTable t) => Directory.GetFiles(Path.Combine(t.Root, "_delta_log"), "*.json").Length;

    /// <summary>Twelve appends of two rows each: versions 0..11, 24 rows, a checkpoint at version 10 (13 actions: protocol, metadata, 11 adds).</summary>
    private static async Task<LocalTable> TwelveAppendsAsync(DuckEngine engine)
    {
        var t = new LocalTable(engine);
        for (var i = 0; i < 12; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 2, (i * 2) + 2));
        Assert.Equal(["24"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.True(File.Exists(LogFile(t, "00000000000000000010.checkpoint.parquet")));
        return t;
    }

    /// <summary>
    /// A _last_checkpoint whose version is not a number is a damaged hint: the next checkpoint replaces it. Before, the append that
    /// wrote the checkpoint failed with .NET's "requires an element of type 'Number'", after its commit had landed.
    /// </summary>
    [Theory]
    [InlineData("{\"version\":\"x\"}")]
    [InlineData("[10]")]
    public async Task Append_CheckpointOverALastCheckpointOfAnotherShape_ReplacesIt(string pointer)
    {
        using var t = new LocalTable(_engine);
        for (var i = 0; i < 10; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 2, (i * 2) + 2));
        await File.WriteAllTextAsync(LogFile(t, "_last_checkpoint"), pointer);

        await t.Writer.AppendAsync(WriteTestKit.Rows(20, 22)); // version 10: a checkpoint

        Assert.True(File.Exists(LogFile(t, "00000000000000000010.checkpoint.parquet")));
        Assert.StartsWith("{\"version\":10,", File.ReadAllText(LogFile(t, "_last_checkpoint")), StringComparison.Ordinal);
        Assert.Equal(["22"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Read_EmptiedLastCommit_RefusedNamingTheFileAndWritesRefusedToo()
    {
        using var t = await TwelveAppendsAsync(_engine);
        await File.WriteAllBytesAsync(LogFile(t, Commit(11)), []); // read as 22 of 24 rows before

        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"commit file '_delta_log/{Commit(11)}' is empty (0 bytes, no actions)", e.Message, StringComparison.Ordinal);
        Assert.Equal(["22"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t", version: 10)); // earlier versions still read

        // A writer waits a moment for an in-flight commit, then refuses as well: nothing is written or committed on top of the damage.
        var dataFiles = Directory.GetFiles(t.Root, "*.parquet").Length;
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(100, 102)));
        Assert.Equal(LakehouseErrorReason.CorruptLog, w.Reason);
        Assert.Contains(Commit(11), w.Message, StringComparison.Ordinal);
        Assert.Equal(12, CommitCount(t));
        Assert.Equal(dataFiles, Directory.GetFiles(t.Root, "*.parquet").Length);
    }

    [Fact]
    public async Task Read_BlankLinesOnlyCommit_RefusedAsEmpty()
    {
        using var t = await TwelveAppendsAsync(_engine);
        await File.WriteAllTextAsync(LogFile(t, Commit(11)), "\n\n");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Contains($"'_delta_log/{Commit(11)}' is empty (2 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_TxnWithoutAppId_RefusedNamingTheFile()
    {
        // A txn line without its appId went into the snapshot's map under a null key: an ArgumentNullException, not a damaged log.
        using var t = await TwelveAppendsAsync(_engine);
        await File.WriteAllTextAsync(LogFile(t, Commit(12)), "{\"commitInfo\":{\"timestamp\":1700000000000}}\n{\"txn\":{\"version\":3}}\n");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"{Commit(12)}' line 2 is not a valid action: txn action has no 'appId'", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Rewrites the version-10 checkpoint with its first <paramref name="rows"/> rows only: still valid Parquet.</summary>
    private void CutCheckpoint(LocalTable t, int rows)
    {
        var checkpoint = LogFile(t, "00000000000000000010.checkpoint.parquet");
        var cut = checkpoint + ".cut";
        using (var lease = _engine.Lease())
            lease.Connection.Execute($"COPY (SELECT * FROM read_parquet({SqlText.Literal(checkpoint)}) LIMIT {rows}) TO {SqlText.Literal(cut)} (FORMAT parquet)");
        File.Move(cut, checkpoint, overwrite: true);
    }

    [Fact]
    public async Task Read_CheckpointShorterThanLastCheckpointSays_RefusedNamingTheCheckpoint()
    {
        using var t = await TwelveAppendsAsync(_engine);
        Assert.Contains("\"size\":13,", File.ReadAllText(LogFile(t, "_last_checkpoint")), StringComparison.Ordinal);
        Assert.Contains("\"numOfAddFiles\":11", File.ReadAllText(LogFile(t, "_last_checkpoint")), StringComparison.Ordinal);
        CutCheckpoint(t, 8); // protocol, metadata and 6 of the 11 adds: read as 14 of 24 rows before

        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains("checkpoint '_delta_log/00000000000000000010.checkpoint.parquet' is incomplete: it holds 8 actions, _delta_log/_last_checkpoint says 13 (size)",
            e.Message, StringComparison.Ordinal);

        // A blind append reads only the table's state from the checkpoint, and is refused just the same.
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(100, 102)));
        Assert.Contains("it holds 8 actions", w.Message, StringComparison.Ordinal);
        Assert.Equal(12, CommitCount(t));

        // Without the size, the number of add actions gives it away.
        await File.WriteAllTextAsync(LogFile(t, "_last_checkpoint"), "{\"version\":10,\"numOfAddFiles\":11}");
        e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Contains("it holds 6 add actions, _delta_log/_last_checkpoint says 11 (numOfAddFiles)", e.Message, StringComparison.Ordinal);

        // Once the damaged checkpoint and its pointer are gone, the commits rebuild the whole table.
        File.Delete(LogFile(t, "00000000000000000010.checkpoint.parquet"));
        File.Delete(LogFile(t, "_last_checkpoint"));
        Assert.Equal(["24"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Read_FolderNamedLikeTheNextCommit_RefusedNamingItByReadersAndWriters()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        await t.Writer.AppendAsync(WriteTestKit.Rows(3, 6));
        var folder = LogFile(t, Commit(2));
        Directory.CreateDirectory(folder);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"'_delta_log/{Commit(2)}' is a folder, not a log file", e.Message, StringComparison.Ordinal);
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(6, 9))); // crashed with UnauthorizedAccessException before
        Assert.Equal(LakehouseErrorReason.CorruptLog, w.Reason);
        Assert.Contains("is a folder", w.Message, StringComparison.Ordinal);
        Assert.Equal(["3"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t", version: 0));

        // With something in it, the folder shows in every listing of the log.
        await File.WriteAllTextAsync(Path.Combine(folder, "x"), "x");
        e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetHistoryAsync());
        Assert.Contains($"'_delta_log/{Commit(2)}' is a folder", e.Message, StringComparison.Ordinal);

        Directory.Delete(folder, recursive: true);
        Assert.Equal(2, (await t.Writer.AppendAsync(WriteTestKit.Rows(6, 9))).Version);
    }

    [Fact]
    public async Task Commit_FolderAppearsAtTheVersionBeingCommitted_CorruptLogNotACrash()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        t.Writer.BeforeCommit = () =>
        {
            Directory.CreateDirectory(LogFile(t, Commit(1)));
            return Task.CompletedTask;
        };
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(3, 6)));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"'_delta_log/{Commit(1)}' is a folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckFilesAsync_LiveFileMissingOrCutOff_RefusedNamingTheFile()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 3));
        await t.Writer.AppendAsync(WriteTestKit.Rows(3, 6));
        var snapshot = await t.Table.GetSnapshotAsync();
        await t.Table.CheckFilesAsync(snapshot);
        var files = snapshot.Files.Select(f => f.Path).Order(StringComparer.Ordinal).ToList();

        var bytes = await File.ReadAllBytesAsync(Path.Combine(t.Root, files[1]));
        await File.WriteAllBytesAsync(Path.Combine(t.Root, files[1]), bytes[..100]);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.CheckFilesAsync(snapshot));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"Data file '{files[1]}' of '{t.Root}' has 100 bytes in storage, but version 1 records {bytes.Length}", e.Message, StringComparison.Ordinal);

        File.Delete(Path.Combine(t.Root, files[0]));
        e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.CheckFilesAsync(snapshot));
        Assert.Contains($"Data file '{files[0]}' is live in version 1 of '{t.Root}' but missing from storage.", e.Message, StringComparison.Ordinal);
    }
}
