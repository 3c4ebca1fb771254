using System.Collections.Concurrent;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>
/// VACUUM with a zero retention beside writers: a file that any version up to VACUUM START refers to is never deleted, and a writer whose
/// new files such a vacuum may have deleted does not commit references to them.
/// </summary>
public sealed class VacuumConcurrencyTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly DuckEngine _engine = fixture.Engine;

    private static List<string> Paths(DeltaSnapshot snapshot) => [.. snapshot.Files.Select(f => f.Path)];

    [Fact]
    public async Task VacuumAsync_WriterCommitsBetweenVacuumSnapshotAndStart_ItsFilesAreKept()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));                   // v0

        // The writer has written its files (not committed: orphans to anyone listing the table) and waits.
        var writer = t.OtherWriter();
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        writer.BeforeCommit = async () =>
        {
            written.TrySetResult();
            await listed.Task.WaitAsync(Patience);
        };
        var append = writer.AppendAsync(WriteTestKit.Rows(100, 110));
        await written.Task.WaitAsync(Patience);

        // The vacuum has read version 0 and listed the writer's files as orphans; before it commits VACUUM START, the writer commits v1.
        IReadOnlyList<string> candidates = [];
        var vacuum = t.OtherWriter();
        var first = true;
        vacuum.BeforeCommit = async () =>
        {
            if (!first) return;
            first = false;
            candidates = (await t.OtherWriter().VacuumAsync(TimeSpan.Zero, dryRun: true, force: true)).Files;
            listed.TrySetResult();
            Assert.Equal(1, (await append).Version);
        };
        var result = await vacuum.VacuumAsync(TimeSpan.Zero, force: true);    // START v2, END v3

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(3, snapshot.Version);
        var added = Paths(await t.Table.GetSnapshotAsync(1)).Except(Paths(await t.Table.GetSnapshotAsync(0))).ToList();
        Assert.NotEmpty(added);
        Assert.All(added, f => Assert.Contains(f, candidates)); // what the vacuum deleted before this fix
        Assert.All(added, f => Assert.DoesNotContain(f, result.Files));
        await t.Table.CheckFilesAsync(snapshot);
        Assert.Equal(["20|0|109"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) || '|' || min(id) || '|' || max(id) FROM t"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task AppendAsync_VacuumStartCommittedWhileWriting_ConflictNamingItNothingLost(int conflictRetries)
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));                   // v0

        var writer = t.OtherWriter(new DeltaWriteOptions { ConflictRetries = conflictRetries });
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var vacuumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        writer.BeforeCommit = async () =>
        {
            written.TrySetResult();
            await vacuumed.Task.WaitAsync(Patience);
        };
        var append = writer.AppendAsync(WriteTestKit.Rows(100, 110));
        await written.Task.WaitAsync(Patience);
        var orphans = Directory.GetFiles(t.Root, "*.parquet").Length - 1;

        var vacuum = await t.OtherWriter().VacuumAsync(TimeSpan.Zero, force: true); // START v1 deletes the writer's files, END v2
        Assert.Equal(orphans, vacuum.Files.Count);
        vacuumed.TrySetResult();

        if (conflictRetries == 0)
        {
            var e = await Assert.ThrowsAsync<LakehouseException>(() => append);
            Assert.Equal(LakehouseErrorReason.Conflict, e.Reason);
            Assert.Contains("version 1 (VACUUM START by Lakehouse/", e.Message, StringComparison.Ordinal);
            Assert.Contains("may have deleted the data files this transaction adds", e.Message, StringComparison.Ordinal);
            Assert.Contains("This WRITE, started after reading version 0, was not committed", e.Message, StringComparison.Ordinal);
            Assert.Equal(2, (await t.Table.GetSnapshotAsync()).Version);
            Assert.Equal(["10"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        }
        else
        {
            var result = await append; // re-run from version 2 with new files
            Assert.Equal(3, result.Version);
            Assert.Equal(["20|0|109"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) || '|' || min(id) || '|' || max(id) FROM t"));
        }
        var snapshot = await t.Table.GetSnapshotAsync();
        await t.Table.CheckFilesAsync(snapshot);
        Assert.Equal(snapshot.Files.Count, Directory.GetFiles(t.Root, "*.parquet").Length); // no orphan left behind either
    }

    [Fact]
    public async Task AppendAsync_VacuumWithLongRetentionCommittedWhileWriting_NoConflict()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));
        var writer = t.OtherWriter();
        writer.BeforeCommit = async () => await t.OtherWriter().VacuumAsync(TimeSpan.FromHours(1), force: true);
        var result = await writer.AppendAsync(WriteTestKit.Rows(100, 110));
        Assert.Equal(3, result.Version); // after VACUUM START (1) and END (2): an hour's retention cannot reach files written just now
        Assert.Equal(["20"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppendsAndZeroRetentionVacuumLoop_EveryCommittedRowReadable()
    {
        const int writers = 3, appends = 8, rows = 2000;
        using var t = new LocalTable(_engine);
        var log = new CapturingLoggerFactory();
        await t.Writer.AppendAsync(WriteTestKit.Rows(-1, 0));

        using var stop = new CancellationTokenSource();
        var vacuums = 0;
        var vacuumLoop = Task.Run(async () =>
        {
            var vacuum = t.OtherWriter();
            while (!stop.IsCancellationRequested)
            {
                await vacuum.VacuumAsync(TimeSpan.Zero, force: true);
                vacuums++;
                await Task.Delay(Random.Shared.Next(0, 40));
            }
        });

        var committed = new ConcurrentBag<long>();
        var gaveUp = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var writer = DeltaWriter.Create(DeltaTable.Open(LakeStorage.Open(t.Root), _engine, log), new DeltaWriteOptions { ConflictRetries = 100 });
            for (var i = 0; i < appends; i++)
            {
                var first = ((w * appends) + i) * rows;
                try
                {
                    var result = await writer.AppendAsync(WriteTestKit.Rows(first, first + rows));
                    if (result.Committed) committed.Add(first);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
                {
                    Interlocked.Increment(ref gaveUp);
                }
            }
        })));
        await stop.CancelAsync();
        await vacuumLoop;
        await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);
        var reruns = log.Events(3003);
        output.WriteLine($"{committed.Count} appends committed, {gaveUp} gave up after their retries, {vacuums + 1} vacuums, {reruns.Count} re-runs after a conflict " +
                         $"({reruns.Count(r => r.Message.Contains("VACUUM START", StringComparison.Ordinal))} with a VACUUM START)");

        Assert.NotEmpty(committed);
        var snapshot = await t.Table.GetSnapshotAsync(); // the log is whole: every version from 0 on
        await t.Table.CheckFilesAsync(snapshot);
        var expected = 1 + (committed.Count * rows);
        Assert.Equal([$"{expected}|{expected}"], await WriteTestKit.QueryAsync(t.Table, snapshot, "SELECT count(*) || '|' || count(DISTINCT id) FROM t"));
        List<string?> starts = [.. committed.Order().Select(f => f.ToString(CultureInfo.InvariantCulture))];
        Assert.Equal(starts, await WriteTestKit.QueryAsync(t.Table, snapshot, $"SELECT id::VARCHAR FROM t WHERE id >= 0 AND id % {rows} = 0 ORDER BY id"));
        Assert.Equal(snapshot.Files.Count, Directory.GetFiles(t.Root, "*.parquet", SearchOption.AllDirectories).Count(f => !f.Contains("_delta_log", StringComparison.Ordinal)));
    }
}
