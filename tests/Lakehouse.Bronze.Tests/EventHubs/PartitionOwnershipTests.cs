using Lakehouse.Bronze.EventHubs;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>Partition ownership through lease files in a lake folder: fair shares, takeover of a dead worker's partitions, release.</summary>
public sealed class PartitionOwnershipTests : IDisposable
{
    private static readonly string[] Partitions = ["0", "1", "2", "3"];
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _temp = new("ownership");

    public void Dispose() => _temp.Dispose();

    /// <summary>A clock the test moves: wall time and the monotonic timestamp advance together.</summary>
    private sealed class ManualClock(TimeSpan skew = default) : TimeProvider
    {
        private long _ticks = 1;

        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero) + skew + TimeSpan.FromTicks(_ticks);

        public override long GetTimestamp() => _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private PartitionOwnership Worker(string id, TimeProvider clock) =>
        new(LakeStorage.Open(_temp.Path), id, Partitions, Lease, NullLogger.Instance, clock);

    [Fact]
    public async Task BalanceAsync_SecondWorkerJoins_TwoPartitionsEachAndNeverOneTwice()
    {
        var clock = new ManualClock();
        var a = Worker("a", clock);
        var b = Worker("b", clock);
        Assert.Equal(4, (await a.BalanceAsync(default)).Count);

        for (var round = 0; round < 3; round++)
        {
            await b.BalanceAsync(default);
            await a.BalanceAsync(default);
            clock.Advance(a.RenewInterval);
        }

        Assert.Equal(2, a.Owned.Count);
        Assert.Equal(2, b.Owned.Count);
        Assert.Empty(a.Owned.Intersect(b.Owned));
    }

    [Fact]
    public async Task BalanceAsync_OwnerStopsRenewing_TheOtherTakesEveryPartitionAfterOneLeaseDuration()
    {
        var clock = new ManualClock();
        var dead = Worker("dead", clock);
        var survivor = Worker("survivor", clock);
        await dead.BalanceAsync(default);

        for (var elapsed = TimeSpan.Zero; elapsed < Lease - survivor.RenewInterval; elapsed += survivor.RenewInterval)
        {
            await survivor.BalanceAsync(default);
            clock.Advance(survivor.RenewInterval);
        }
        Assert.Equal(2, survivor.Owned.Count); // its fair share while the other looked alive

        clock.Advance(survivor.RenewInterval);
        await survivor.BalanceAsync(default);
        Assert.Equal(Partitions, survivor.Owned.Order());
    }

    [Fact]
    public async Task BalanceAsync_DeadOwnerClockAnHourAhead_LeaseStillEndsOneLeaseDurationAfterItWasSeen()
    {
        var dead = Worker("dead", new ManualClock(skew: TimeSpan.FromHours(1)));
        await dead.BalanceAsync(default); // expiry written an hour ahead of the survivor's clock
        var clock = new ManualClock();
        var survivor = Worker("survivor", clock);

        await survivor.BalanceAsync(default);
        Assert.True(survivor.Owned.Count <= 2);
        for (var i = 0; i < 4; i++)
        {
            clock.Advance(survivor.RenewInterval);
            await survivor.BalanceAsync(default);
        }
        Assert.Equal(Partitions, survivor.Owned.Order());
    }

    [Fact]
    public async Task ReleaseAsync_PartitionsFreeForOthersAtOnce()
    {
        var clock = new ManualClock();
        var leaving = Worker("leaving", clock);
        await leaving.BalanceAsync(default);
        await leaving.ReleaseAsync(default);
        Assert.Empty(leaving.Owned);

        var next = Worker("next", clock);
        Assert.Equal(Partitions, (await next.BalanceAsync(default)).Order());
    }

    [Fact]
    public async Task BalanceAsync_ManyRounds_OldLeaseEpochsDeleted()
    {
        var clock = new ManualClock();
        var a = Worker("a", clock);
        for (var i = 0; i < 20; i++)
        {
            await a.BalanceAsync(default);
            clock.Advance(a.RenewInterval);
        }
        foreach (var p in Partitions)
        {
            var files = Directory.GetFiles(_temp.Combine(p), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["00000000000000000017.json", "00000000000000000018.json", "00000000000000000019.json", "00000000000000000020.json"], files);
        }
    }
}
