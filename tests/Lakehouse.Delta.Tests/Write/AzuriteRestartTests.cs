using System.Diagnostics;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>
/// Delta appends to an Azure lake while the storage itself goes away: Azurite (on disk) is stopped in the middle of a run and
/// started again on the same port with the same data folder. Within the retry budget the run waits and completes; past it the
/// append fails with an error naming the storage, and a rerun completes. Afterwards the table is checked (every file of every
/// commit there, nothing partially visible) and its rows counted: lost and duplicated rows are asserted to be 0.
/// </summary>
public sealed class AzuriteRestartTests(EngineFixture engine, ITestOutputHelper output) : IClassFixture<EngineFixture>
{
    private const int RowsPerAppend = 10;

    private readonly Lakehouse.Testing.CapturingLoggerFactory _logs = new();

    private static string Rows(int append) =>
        $"SELECT {(append * RowsPerAppend).ToString(CultureInfo.InvariantCulture)} + i AS id, 'a{append.ToString("D2", CultureInfo.InvariantCulture)}' AS tag FROM range({RowsPerAppend.ToString(CultureInfo.InvariantCulture)}) AS r(i)";

    private int Retries => _logs.Events.Count(e => e.Id.Id == LogEventIds.Storage);

    /// <summary>
    /// The retry budget of a run that must outlast Azurite's stop and restart: 8 retries back off 0.5, 1, 2, 4, 8, 16, 30 and 30 s,
    /// about 90 s. Stopping Azurite (SIGTERM, it saves its metadata) and starting node again take seconds on a loaded machine: with 5
    /// retries (about 15 s) the budget ran out before Azurite listened again and the append failed ("failed after 6 tries over 16.4 s:
    /// ... Connection refused"). The budget only bounds a hang; the run stops waiting as soon as Azurite answers.
    /// </summary>
    private const int RetriesOutlastingARestart = 8;

    private DeltaTable Open(AzuriteServer azurite, AzuriteContainer container, int maxRetries)
    {
        var options = azurite.CreateOptions();
        options.MaxRetries = maxRetries;
        options.LoggerFactory = _logs;
        return DeltaTable.Open(container.Open("events", options), engine.Engine);
    }

    [Fact]
    public async Task AppendAsync_AzuriteStoppedAndRestartedMidRun_WaitsAndEveryCommitLandsOnce()
    {
        const int appends = 16;
        var azurite = await AzuriteServer.StartPersistentAsync();
        try
        {
            var container = await azurite.CreateContainerAsync("restart");
            var writer = DeltaWriter.Create(Open(azurite, container, maxRetries: RetriesOutlastingARestart));
            var committed = 0;
            var clock = Stopwatch.StartNew();
            var run = Task.Run(async () =>
            {
                for (var i = 0; i < appends; i++)
                {
                    Assert.True((await writer.AppendAsync(Rows(i))).Committed);
                    Interlocked.Increment(ref committed);
                }
            });
            while (Volatile.Read(ref committed) < 4 && !run.IsCompleted) await Task.Delay(10);
            await azurite.StopAsync();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: Azurite stopped after {Volatile.Read(ref committed)} commits");
            await Task.Delay(TimeSpan.FromSeconds(2));
            await azurite.RestartAsync();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: Azurite listening again on {azurite.Port}");

            await run; // the run waited for the storage and completed: no append failed
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {appends} appends done, {Retries} storage retries logged");

            Assert.True(Retries >= 1, "no retry was logged: the stop did not hit the run");
            await AssertTableAsync(Open(azurite, container, maxRetries: 2), appends);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task AppendAsync_AzuriteStoppedBetweenDataFilesAndCommitAndBackWithinBudget_CommitsOnce()
    {
        var azurite = await AzuriteServer.StartPersistentAsync();
        try
        {
            var container = await azurite.CreateContainerAsync("commit");
            var table = Open(azurite, container, maxRetries: RetriesOutlastingARestart);
            var writer = DeltaWriter.Create(table);
            for (var i = 0; i < 2; i++) await writer.AppendAsync(Rows(i));
            Task? restart = null;
            var stopping = new StopBeforeCommit(table.Storage, "_delta_log/00000000000000000002.json", async () =>
            {
                await azurite.StopAsync();
                restart = Task.Run(async () =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(1.5));
                    await azurite.RestartAsync();
                });
            });

            // The data files are in place; the commit's put-if-absent meets a stopped Azurite, is retried and lands.
            var third = await DeltaWriter.Create(DeltaTable.Open(stopping, engine.Engine)).AppendAsync(Rows(2));
            await restart!;

            Assert.Equal((true, 2L), (third.Committed, third.Version));
            Assert.Equal(1, stopping.Stops);
            Assert.True(Retries >= 1, "no retry was logged");
            await AssertTableAsync(Open(azurite, container, maxRetries: 2), 3);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task AppendAsync_AzuriteDownAtCommitPastTheRetryBudget_ClearErrorNothingVisibleAndRerunCompletes()
    {
        var azurite = await AzuriteServer.StartPersistentAsync();
        try
        {
            var container = await azurite.CreateContainerAsync("down");
            var table = Open(azurite, container, maxRetries: 2);
            var writer = DeltaWriter.Create(table);
            for (var i = 0; i < 3; i++) await writer.AppendAsync(Rows(i));
            var stopping = new StopBeforeCommit(table.Storage, "_delta_log/00000000000000000003.json", azurite.StopAsync);

            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<LakehouseException>(() => DeltaWriter.Create(DeltaTable.Open(stopping, engine.Engine)).AppendAsync(Rows(3)));
            output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:0.0} s: {error.Message}");

            // What the user sees: the storage named (endpoint and the commit's blob), how many tries, why; no key.
            Assert.Equal(LakehouseErrorReason.Storage, error.Reason);
            Assert.Contains($"the blob endpoint http://127.0.0.1:{azurite.Port.ToString(CultureInfo.InvariantCulture)}/{AzuriteServer.AccountName} could not be reached", error.Message, StringComparison.Ordinal);
            Assert.Contains("events/_delta_log/00000000000000000003.json", error.Message, StringComparison.Ordinal);
            Assert.Contains("failed after 3 tries", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(AzuriteServer.AccountKey, error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(_logs.Events, e => e.Message.Contains(AzuriteServer.AccountKey, StringComparison.Ordinal));
            Assert.Equal(2, Retries);

            await azurite.RestartAsync();
            // Nothing of the failed append is visible (its data files are there, named by no commit); the rerun completes.
            table = Open(azurite, container, maxRetries: 2);
            Assert.Equal(2, (await table.GetSnapshotAsync()).Version);
            Assert.Equal(["30"], await WriteTestKit.QueryAsync(table, "SELECT count(*) FROM t"));
            var rerun = await DeltaWriter.Create(table).AppendAsync(Rows(3));
            Assert.Equal(3, rerun.Version);
            await AssertTableAsync(Open(azurite, container, maxRetries: 2), 4);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    /// <summary>The table is healthy (deep check: every data file opened) and holds each append's rows exactly once.</summary>
    private async Task AssertTableAsync(DeltaTable table, int appends)
    {
        var check = await table.CheckAsync(deep: true);
        foreach (var f in check.Findings) output.WriteLine($"check: {f.Severity} {f.File}: {f.Problem}");
        Assert.True(check.IsHealthy, string.Join("\n", check.Findings));
        Assert.Equal(appends - 1, check.Version);
        var counts = (await WriteTestKit.QueryAsync(table, "SELECT count(*) || '|' || count(DISTINCT id) || '|' || min(id) || '|' || max(id) FROM t")).Single()!.Split('|').Select(long.Parse).ToArray();
        var expected = appends * RowsPerAppend;
        var lost = expected - counts[1];
        var duplicated = counts[0] - counts[1];
        output.WriteLine($"appended {expected} rows, table {counts[0]}, lost {lost}, duplicated {duplicated}");
        Assert.Equal((0L, 0L), (lost, duplicated));
        Assert.Equal((0L, expected - 1L), (counts[2], counts[3]));
        Assert.Equal(Enumerable.Range(0, appends).Select(i => $"a{i:D2}|{RowsPerAppend}"),
            await WriteTestKit.QueryAsync(table, "SELECT tag || '|' || count(*) FROM t GROUP BY tag ORDER BY tag"));
    }

    /// <summary>
    /// The real Azure lake storage, with one hook: the first put-if-absent of <paramref name="commitFile"/> (a commit, after the data
    /// files of its append are written) runs <paramref name="beforeCommit"/> first, which stops Azurite: the fault lands exactly
    /// between the data files and the commit. Everything else goes straight to the wrapped storage.
    /// </summary>
    private sealed class StopBeforeCommit(ILakeStorage inner, string commitFile, Func<Task> beforeCommit) : DelegatingStorage(inner)
    {
        private int _stops;

        public int Stops => _stops;

        public override async Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            if (path.EndsWith(commitFile, StringComparison.Ordinal) && Interlocked.Increment(ref _stops) == 1) await beforeCommit();
            await Inner.PutIfAbsentAsync(path, content, cancellationToken);
        }
    }
}
