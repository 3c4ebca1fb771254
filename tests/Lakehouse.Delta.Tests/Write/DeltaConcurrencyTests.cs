using System.Diagnostics;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>Several writers on one table, run against every storage implementation (local disk and Azurite).</summary>
public abstract class DeltaConcurrencyTestBase
{
    protected abstract DuckEngine Engine { get; }

    protected abstract ITestOutputHelper Output { get; }

    /// <summary>Opens (another handle on) the storage of the test's table; every call with the same name reaches the same table.</summary>
    protected abstract ILakeStorage OpenStorage(string table);

    private DeltaWriter Writer(string table, DeltaWriteOptions? options = null) =>
        DeltaWriter.Create(DeltaTable.Open(OpenStorage(table), Engine), options);

    /// <summary>Two writers on one table that both hold their commit until the other has reached its own: a guaranteed race.</summary>
    private (DeltaWriter A, DeltaWriter B) RacingWriters(string table, DeltaWriteOptions? options = null)
    {
        var barrier = Barrier(2);
        var a = Writer(table, options);
        var b = Writer(table, options);
        a.BeforeCommit = barrier;
        b.BeforeCommit = barrier;
        return (a, b);
    }

    /// <summary>Lets <paramref name="count"/> writers through only when all of them have arrived (once).</summary>
    private static Func<Task> Barrier(int count)
    {
        var arrived = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return async () =>
        {
            if (all.Task.IsCompleted) return; // Retries after the race go straight through.
            if (Interlocked.Increment(ref arrived) >= count) all.TrySetResult();
            await all.Task.WaitAsync(TimeSpan.FromSeconds(60));
        };
    }

    [Fact]
    public async Task AppendAsync_FourWritersFiftyAppendsEach_EveryCommitAndEveryRowPresent()
    {
        const int writers = 4, appends = 50, rows = 10;
        var latencies = new List<double>();
        var attempts = 0L;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var writer = Writer("parallel", new DeltaWriteOptions { PartitionColumns = ["writer"] }); // Each task has its own table handle.
            for (var i = 0; i < appends; i++)
            {
                var first = (((w * appends) + i) * rows).ToString(CultureInfo.InvariantCulture);
                var clock = Stopwatch.StartNew();
                var result = await writer.AppendAsync($"SELECT {first} + j AS id, {w} AS writer FROM range({rows}) AS r(j)");
                clock.Stop();
                Assert.True(result.Committed);
                Interlocked.Add(ref attempts, result.Attempts);
                lock (latencies) latencies.Add(clock.Elapsed.TotalMilliseconds);
            }
        })));

        var table = DeltaTable.Open(OpenStorage("parallel"), Engine);
        var commits = new List<long>();
        await foreach (var f in table.Storage.ListAsync("_delta_log/"))
            if (LogFiles.Classify(f) is { Kind: LogFileKind.Commit } c) commits.Add(c.Version);
        if (commits.Count != writers * appends)
        {
            foreach (var v in commits.Order())
            {
                var bytes = await table.Storage.ReadAsync(LogFiles.CommitPath(v));
                var text = System.Text.Encoding.UTF8.GetString(bytes);
                Output.WriteLine($"{v}: {text.Length} bytes {text[..Math.Min(400, text.Length)].Replace("\n", " | ", StringComparison.Ordinal)}");
            }
        }
        Assert.Equal(Enumerable.Range(0, writers * appends).Select(v => (long)v), commits.Order());
        var snapshot = await table.GetSnapshotAsync();
        Assert.Equal(writers * appends - 1, snapshot.Version);
        Assert.Equal(190, snapshot.CheckpointVersion);
        Assert.Equal([$"{writers * appends * rows}|{writers * appends * rows}|0|{(writers * appends * rows) - 1}"],
            await WriteTestKit.QueryAsync(table, snapshot, "SELECT count(*) || '|' || count(DISTINCT id) || '|' || min(id) || '|' || max(id) FROM t"));
        var history = await table.GetHistoryAsync();
        Assert.Equal(1, history.Count(h => h.Operation == "CREATE TABLE AS SELECT"));
        Assert.Equal(writers * appends - 1, history.Count(h => h.Operation == "WRITE"));
        latencies.Sort();
        Output.WriteLine($"{GetType().Name}: {writers}x{appends} appends, median {latencies[latencies.Count / 2]:0.0} ms, p95 {latencies[latencies.Count * 95 / 100]:0.0} ms per append, {attempts} versions tried for {writers * appends} commits");
    }

    [Fact]
    public async Task ReplacePartitionsAsync_TwoRacingOverwritesOfOnePartition_ExactlyOneWinsTheOtherGetsConflict()
    {
        var setup = Writer("race", new DeltaWriteOptions { PartitionColumns = ["part"] });
        await setup.AppendAsync(WriteTestKit.Rows(0, 4, "(i % 2)::VARCHAR"));

        var (a, b) = RacingWriters("race");
        var results = await Task.WhenAll(
            Capture(a.ReplacePartitionsAsync(WriteTestKit.Rows(100, 102, "'0'"))),
            Capture(b.ReplacePartitionsAsync(WriteTestKit.Rows(200, 202, "'0'"))));

        Assert.Single(results, r => r.Result is { Committed: true });
        var failure = Assert.Single(results, r => r.Error is not null).Error!;
        var conflict = Assert.IsType<LakehouseException>(failure);
        Assert.Equal(LakehouseErrorReason.Conflict, conflict.Reason);
        Assert.True(conflict.IsTransient);
        Assert.Contains("version 1 (WRITE by Lakehouse/", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("which this transaction read", conflict.Message, StringComparison.Ordinal);

        var winner = results[0].Result is not null ? "100,101" : "200,201";
        var table = DeltaTable.Open(OpenStorage("race"), Engine);
        Assert.Equal(1, (await table.GetSnapshotAsync()).Version);
        Assert.Equal([winner], await WriteTestKit.QueryAsync(table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t WHERE part = '0'"));
        Assert.Equal(["1,3"], await WriteTestKit.QueryAsync(table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t WHERE part = '1'"));
    }

    [Fact]
    public async Task ReplacePartitionsAsync_RacingOverwritesWithConflictRetries_BothApplyOneAfterTheOther()
    {
        var setup = Writer("retry", new DeltaWriteOptions { PartitionColumns = ["part"] });
        await setup.AppendAsync(WriteTestKit.Rows(0, 4, "(i % 2)::VARCHAR"));

        var options = new DeltaWriteOptions { ConflictRetries = 3 };
        var (a, b) = RacingWriters("retry", options);
        var results = await Task.WhenAll(
            a.ReplacePartitionsAsync(WriteTestKit.Rows(100, 102, "'0'")),
            b.ReplacePartitionsAsync(WriteTestKit.Rows(200, 202, "'0'")));

        Assert.Equal([1L, 2L], results.Select(r => r.Version).Order());
        var last = results.MaxBy(r => r.Version)! == results[0] ? "100,101" : "200,201";
        var table = DeltaTable.Open(OpenStorage("retry"), Engine);
        Assert.Equal([last], await WriteTestKit.QueryAsync(table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t WHERE part = '0'"));
        Assert.Equal(2, (await table.GetSnapshotAsync()).Files.Count); // The loser's first attempt left no file behind in the table.
    }

    [Fact]
    public async Task AppendAsync_RacingAnOverwrite_BothCommitAndTheAppendedRowsSurvive()
    {
        var setup = Writer("blind");
        await setup.AppendAsync(WriteTestKit.Rows(0, 3));

        var (append, overwrite) = RacingWriters("blind");
        var results = await Task.WhenAll(append.AppendAsync(WriteTestKit.Rows(50, 52)), overwrite.OverwriteAsync(WriteTestKit.Rows(90, 91)));

        Assert.All(results, r => Assert.True(r.Committed));
        var table = DeltaTable.Open(OpenStorage("blind"), Engine);
        Assert.Equal(["50,51,90"], await WriteTestKit.QueryAsync(table, "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM t"));
    }

    [Fact]
    public async Task MergeAsync_TwoRacingUpsertsOfTheSameKeys_OneConflicts()
    {
        var setup = Writer("merge");
        await setup.AppendAsync("SELECT i AS id, 'old' AS v FROM range(4) AS r(i)");

        var (a, b) = RacingWriters("merge");
        var results = await Task.WhenAll(
            Capture(a.MergeAsync("SELECT 1 AS id, 'a' AS v", ["id"])),
            Capture(b.MergeAsync("SELECT 1 AS id, 'b' AS v", ["id"])));
        Assert.Single(results, r => r.Result is not null);
        Assert.Equal(LakehouseErrorReason.Conflict, Assert.IsType<LakehouseException>(Assert.Single(results, r => r.Error is not null).Error).Reason);
        var table = DeltaTable.Open(OpenStorage("merge"), Engine);
        Assert.Equal(["4|4"], await WriteTestKit.QueryAsync(table, "SELECT count(*) || '|' || count(DISTINCT id) FROM t"));
    }

    [Fact]
    public async Task AppendAsync_SameAppTransactionRacing_OneCommitsTheOtherConflicts()
    {
        var setup = Writer("txn");
        await setup.AppendAsync(WriteTestKit.Rows(0, 1));
        var (a, b) = RacingWriters("txn");
        var results = await Task.WhenAll(
            Capture(a.AppendAsync(WriteTestKit.Rows(10, 11), [new DeltaAppTransaction("stream/p0", 5)])),
            Capture(b.AppendAsync(WriteTestKit.Rows(20, 21), [new DeltaAppTransaction("stream/p0", 5)])));
        Assert.Single(results, r => r.Result is not null);
        var conflict = Assert.IsType<LakehouseException>(Assert.Single(results, r => r.Error is not null).Error);
        Assert.Contains("application transaction 'stream/p0'", conflict.Message, StringComparison.Ordinal);
        var table = DeltaTable.Open(OpenStorage("txn"), Engine);
        Assert.Equal(["2"], await WriteTestKit.QueryAsync(table, "SELECT count(*) FROM t"));
    }

    /// <summary>
    /// Both writers create the table with the same first batch: the loser may join the winner's table (same shape), but not with
    /// the application transaction the creating commit already holds (it would commit the same source data twice).
    /// </summary>
    [Fact]
    public async Task AppendAsync_SameAppTransactionRacingToCreateTheTable_OneCommitsTheOtherConflicts()
    {
        var (a, b) = RacingWriters("create-txn");
        var results = await Task.WhenAll(
            Capture(a.AppendAsync(WriteTestKit.Rows(10, 11), [new DeltaAppTransaction("file/a.json", 1)])),
            Capture(b.AppendAsync(WriteTestKit.Rows(10, 11), [new DeltaAppTransaction("file/a.json", 1)])));
        Assert.Single(results, r => r.Result is not null);
        var conflict = Assert.IsType<LakehouseException>(Assert.Single(results, r => r.Error is not null).Error);
        Assert.Equal(LakehouseErrorReason.Conflict, conflict.Reason);
        Assert.Contains("application transaction 'file/a.json'", conflict.Message, StringComparison.Ordinal);
        var table = DeltaTable.Open(OpenStorage("create-txn"), Engine);
        Assert.Equal(["1"], await WriteTestKit.QueryAsync(table, "SELECT count(*) FROM t"));
        Assert.Equal(0, (await table.GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task EveryOperation_OnThisStorage_ValuesAndFilesAsExpected()
    {
        var writer = Writer("ops", new DeltaWriteOptions { PartitionColumns = ["part"] });
        await writer.AppendAsync(WriteTestKit.Rows(0, 6, "(i % 2)::VARCHAR") + ";");
        await writer.AppendAsync(WriteTestKit.Rows(6, 8, "'0'"));
        await writer.MergeAsync("SELECT * FROM (VALUES (1, '1', 'merged'), (50, '1', 'new')) AS s(id, part, v)", ["id"]);
        await writer.DeleteAsync("id = 2");
        var optimized = await writer.OptimizeAsync();
        Assert.True(optimized.Committed);
        await writer.VacuumAsync(TimeSpan.Zero, force: true);

        var table = DeltaTable.Open(OpenStorage("ops"), Engine);
        var snapshot = await table.GetSnapshotAsync();
        Assert.Equal(["0:0:v0", "1:1:merged", "3:1:v3", "4:0:v4", "5:1:v5", "6:0:v6", "7:0:v7", "50:1:new"],
            await WriteTestKit.QueryAsync(table, snapshot, "SELECT id || ':' || part || ':' || v FROM t ORDER BY id"));
        var stored = new List<string>();
        await foreach (var f in table.Storage.ListAsync("")) if (f.Path.EndsWith(".parquet", StringComparison.Ordinal) && !f.Path.StartsWith("_delta_log/", StringComparison.Ordinal)) stored.Add(f.Path);
        Assert.Equal(snapshot.Files.Select(f => DeltaPaths.ToTableRelative(f.Path, table.Storage)).Order(), stored.Order()); // Vacuum left exactly the live files.
        Assert.All(stored, p => Assert.Matches("^part=[01]/part-\\d{5}-[0-9a-f-]{36}\\.c000\\.zstd\\.parquet$", p));
    }

    private sealed record Outcome(DeltaCommitResult? Result, Exception? Error);

    private static async Task<Outcome> Capture(Task<DeltaCommitResult> task)
    {
        try
        {
            return new Outcome(await task, null);
        }
        catch (Exception e)
        {
            return new Outcome(null, e);
        }
    }
}

public sealed class LocalDeltaConcurrencyTests(EngineFixture fixture, ITestOutputHelper output) : DeltaConcurrencyTestBase, IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("delta-concurrency");

    protected override DuckEngine Engine => fixture.Engine;

    protected override ITestOutputHelper Output => output;

    protected override ILakeStorage OpenStorage(string table) => LakeStorage.Open(_dir.Combine(table));

    public void Dispose() => _dir.Dispose();
}

public sealed class AzuriteDeltaConcurrencyTests(EngineFixture fixture, AzuriteServer azurite, ITestOutputHelper output)
    : DeltaConcurrencyTestBase, IClassFixture<EngineFixture>, IClassFixture<AzuriteServer>, IAsyncLifetime
{
    private AzuriteContainer? _container;

    protected override DuckEngine Engine => fixture.Engine;

    protected override ITestOutputHelper Output => output;

    protected override ILakeStorage OpenStorage(string table) => _container!.Open("lake/" + table);

    public async Task InitializeAsync() => _container = await azurite.CreateContainerAsync("delta");

    /// <summary>
    /// A remote table's files are staged in the engine's scratch folder, which other writes share: a write that removed the
    /// (then empty) <c>delta-write</c> folder at its end failed a concurrent write creating its own folder in it
    /// (DirectoryNotFoundException, seen in CI). The folder now stays until the engine goes.
    /// </summary>
    [Fact]
    public async Task AppendAsync_RemoteTable_LeavesTheSharedScratchFolderForOtherWriters()
    {
        var scratch = Path.GetDirectoryName(Engine.ScratchDirectory("probe"))!;
        var writer = DeltaWriter.Create(DeltaTable.Open(OpenStorage("scratch"), Engine));
        Assert.True((await writer.AppendAsync(WriteTestKit.Rows(0, 3))).Committed);
        var shared = Path.Combine(scratch, "delta-write");
        Assert.True(Directory.Exists(shared));
        Assert.Empty(Directory.EnumerateFileSystemEntries(shared)); // the write's own folder is gone
    }

    public async Task DisposeAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
    }
}
