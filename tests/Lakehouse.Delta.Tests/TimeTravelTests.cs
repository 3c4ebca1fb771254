using Lakehouse.Core;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>Time travel by timestamp over commits whose writers' clocks disagree.</summary>
public sealed class TimeTravelTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private const long V1 = 1674611422877; // commitInfo.timestamp of basic_append's version 1
    private readonly DuckEngine _engine = fixture.Engine;
    private readonly TempDirectory _temp = new("timetravel");

    public void Dispose() => _temp.Dispose();

    /// <summary>basic_append (versions 0, 1) plus hand-written commits 2.. stamped at <paramref name="times"/> (ms since the epoch).</summary>
    private DeltaTable WithCommitsAt(params long[] times)
    {
        var root = _temp.Combine(Guid.NewGuid().ToString("N"));
        TestFiles.CopyTree(ConformanceCorpus.Root("dat/v0.0.2/basic_append"), root);
        for (var i = 0; i < times.Length; i++)
        {
            var version = (i + 2).ToString("D20", System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(root, "_delta_log", version + ".json"),
                $"{{\"commitInfo\":{{\"timestamp\":{times[i]},\"operation\":\"SET TBLPROPERTIES\",\"operationParameters\":{{}}}}}}\n");
        }
        return DeltaTable.Open(LakeStorage.Open(root), _engine);
    }

    [Fact]
    public async Task VersionAtAsync_TimestampsGoingBackwards_AdjustedLikeDeltaBeforeTheSearch()
    {
        // Version 3 was written on a machine whose clock ran 5 s behind, version 5 by one a minute behind.
        var table = WithCommitsAt(V1 + 10_000, V1 + 5_000, V1 + 20_000, V1 - 60_000, V1 + 30_000);

        var history = await table.GetHistoryAsync();
        Assert.Equal([6L, 5, 4, 3, 2, 1, 0], history.Select(h => h.Version));
        var times = history.OrderBy(h => h.Version).Select(h => h.Timestamp.ToUnixTimeMilliseconds()).ToList();
        Assert.Equal([1674611413970, V1, V1 + 10_000, V1 + 10_001, V1 + 20_000, V1 + 20_001, V1 + 30_000], times);

        // A time read off the history selects that version.
        foreach (var h in history) Assert.Equal(h.Version, await table.VersionAtAsync(h.Timestamp));

        // Between the adjusted times: the latest version at or before the time. A binary search over the raw stamps answers 5 for
        // the first two (it meets the stamps of versions 3 and 5, which went backwards).
        Assert.Equal(1, await table.VersionAtAsync(DateTimeOffset.FromUnixTimeMilliseconds(V1 + 9_999)));
        Assert.Equal(3, await table.VersionAtAsync(DateTimeOffset.FromUnixTimeMilliseconds(V1 + 15_000)));
        Assert.Equal(5, await table.VersionAtAsync(DateTimeOffset.FromUnixTimeMilliseconds(V1 + 25_000)));
        Assert.Equal(6, (await table.GetSnapshotAsync(DateTimeOffset.FromUnixTimeMilliseconds(V1 + 30_000))).Version);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => table.VersionAtAsync(DateTimeOffset.FromUnixTimeMilliseconds(V1 - 60_000)));
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Contains("before the earliest available commit (version 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetHistoryAsync_WithLimit_ShowsTheSameAdjustedTimes()
    {
        var table = WithCommitsAt(V1 + 10_000, V1 + 5_000);
        var last = await table.GetHistoryAsync(1);
        Assert.Equal(3, Assert.Single(last).Version);
        Assert.Equal(V1 + 10_001, last[0].Timestamp.ToUnixTimeMilliseconds());
        Assert.Equal("SET TBLPROPERTIES", last[0].Operation);
    }

    [Fact]
    public async Task LatestVersionAsync_CheckpointedTableNoTableAndGap_VersionFromTheListingNullOrTheGapNamed()
    {
        var root = _temp.Combine(Guid.NewGuid().ToString("N"));
        TestFiles.CopyTree(ConformanceCorpus.Root("dat/v0.0.2/with_checkpoint"), root);
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        Assert.Equal(3L, await table.LatestVersionAsync());
        Assert.Equal(3L, (await table.GetSnapshotAsync()).Version);

        // One more commit is seen at once; the listing starts at the checkpoint named by _last_checkpoint.
        File.WriteAllText(Path.Combine(root, "_delta_log", "00000000000000000004.json"), "{\"commitInfo\":{\"timestamp\":1,\"operation\":\"WRITE\"}}\n");
        Assert.Equal(4L, await table.LatestVersionAsync());

        // A gap after the checkpoint is the log's damage, named as a snapshot would name it.
        File.WriteAllText(Path.Combine(root, "_delta_log", "00000000000000000006.json"), "{\"commitInfo\":{\"timestamp\":2,\"operation\":\"WRITE\"}}\n");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => table.LatestVersionAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains("00000000000000000005.json is missing", e.Message, StringComparison.Ordinal);

        Assert.Null(await DeltaTable.Open(LakeStorage.Open(_temp.Combine("nothing-here")), _engine).LatestVersionAsync());
    }
    [Fact]
    public async Task GetSnapshotAsync_VersionReadFromItsCheckpoint_HasItsCommitsTimeNotTheFilesModificationTime()
    {
        // A copy's files are as new as the copy: versions 1 and 2 of this table are each read from a checkpoint of their own.
        var root = _temp.Combine(Guid.NewGuid().ToString("N"));
        TestFiles.CopyTree(ConformanceCorpus.Root("golden/only-checkpoint-files"), root);
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        var history = (await table.GetHistoryAsync()).ToDictionary(h => h.Version, h => h.Timestamp);
        Assert.True(history[2] < DateTimeOffset.UtcNow.AddYears(-1), "the corpus commit is years old");

        Assert.Equal(history[2], (await table.GetSnapshotAsync()).Timestamp);
        Assert.Equal(history[1], (await table.GetSnapshotAsync(1L)).Timestamp);
        Assert.Equal(history[2], (await table.GetSnapshotAsync(2L, withFiles: false, CancellationToken.None)).Timestamp);

        // Without the commit file (log cleanup) the checkpoint is all there is: its modification time, and the table still reads.
        File.Delete(Path.Combine(root, "_delta_log", "00000000000000000002.json"));
        var checkpointTime = File.GetLastWriteTimeUtc(Path.Combine(root, "_delta_log", "00000000000000000002.checkpoint.parquet"));
        Assert.Equal(checkpointTime, (await table.GetSnapshotAsync()).Timestamp.UtcDateTime, TimeSpan.FromSeconds(1));

        // A damaged commit the checkpoint makes unnecessary does not stop the read either.
        File.WriteAllText(Path.Combine(root, "_delta_log", "00000000000000000002.json"), "{\"commitInfo\":{\"timest");
        Assert.Equal(2L, (await table.GetSnapshotAsync()).Version);
    }
}
