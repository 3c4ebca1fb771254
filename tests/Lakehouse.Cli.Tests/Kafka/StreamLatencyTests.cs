using System.Text;
using Lakehouse.Bronze;
using Lakehouse.Cli.Streaming;
using Lakehouse.Delta.Write;
using Lakehouse.Silver;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Kafka;

/// <summary>
/// <see cref="StreamLatency"/> on a lake whose commit times are set by hand: bronze commits as the Kafka ingest makes them (its own
/// position per partition beside the hub partition's guard counter, which ends in the same partition), silver and gold commits
/// naming the version they consumed. Every latency is known in advance.
/// </summary>
public sealed class StreamLatencyTests(EngineFixture engine) : IClassFixture<EngineFixture>, IDisposable
{
    private const string Topic = "web";
    private readonly TempDirectory _temp = new("stream-latency");

    public void Dispose() => _temp.Dispose();

    /// <summary>Bronze v<c>k</c> (0–3) holds offsets 10k to 10k + 9, each produced at t0 + offset ms, and appeared at t0 + (k + 1) s.</summary>
    private async Task<(ILakeStorage Lake, DateTimeOffset T0)> BronzeAsync()
    {
        var lake = LakeStorage.Open(_temp.Combine("lake"));
        var t0 = new DateTimeOffset(DateTime.UtcNow.AddMinutes(-1).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var bronze = BronzeTable.Open(lake.Scope("bronze/weblogs"), engine.Engine);
        for (var version = 0; version < 4; version++)
        {
            var events = Enumerable.Range(version * 10, 10).Select(offset => new BronzeEvent(Encoding.UTF8.GetBytes("{}"),
                new SourcePosition(SourceKinds.Kafka, Topic, "0", offset, null), t0.AddMilliseconds(offset))).ToList();
            var previous = version == 0 ? -1 : version * 10;
            var result = await bronze.CommitAsync(events,
            [
                new DeltaAppTransaction(StreamIngestor.AppId(SourceKinds.Kafka, Topic, "0"), (version + 1) * 10) { Previous = previous },
                new DeltaAppTransaction($"hub/{Topic}/0", version + 1) { Previous = version == 0 ? -1 : version },
            ]);
            Assert.Equal(version, result.Version);
            Touch(lake, "bronze/weblogs", version, t0.AddSeconds(version + 1));
        }
        return (lake, t0);
    }

    private void Touch(ILakeStorage lake, string table, long version, DateTimeOffset at) =>
        File.SetLastWriteTimeUtc(Path.Combine(_temp.Combine("lake"), table, "_delta_log", $"{version:D20}.json"), at.UtcDateTime);

    /// <summary>A commit of <paramref name="table"/> at <paramref name="version"/> with only the txn of <paramref name="appId"/>, appeared at <paramref name="at"/>.</summary>
    private void Consumed(ILakeStorage lake, string table, long version, string appId, long consumed, DateTimeOffset at)
    {
        var log = Path.Combine(_temp.Combine("lake"), table, "_delta_log");
        Directory.CreateDirectory(log);
        File.WriteAllText(Path.Combine(log, $"{version:D20}.json"), $"{{\"txn\":{{\"appId\":\"{appId}\",\"version\":{consumed}}}}}\n");
        Touch(lake, table, version, at);
    }

    [Fact]
    public async Task Measure_GuardCounterBesideThePosition_EachEventTimedToItsOwnCommits()
    {
        var (lake, t0) = await BronzeAsync();
        var silverApp = SilverJob.AppId("weblogs");
        Consumed(lake, "silver/weblogs", 0, silverApp, 0, t0.AddMilliseconds(1500));
        Consumed(lake, "silver/weblogs", 1, silverApp, 3, t0.AddMilliseconds(4500));
        Consumed(lake, "gold/page_performance_daily", 0, Gold.GoldTables.AppId("weblogs"), 1, t0.AddMilliseconds(6000));

        var latency = await StreamLatency.MeasureAsync(lake, engine.Engine, "weblogs", "page_performance_daily");

        // Offset o of bronze v(o / 10) is produced at t0 + o ms: to bronze (o / 10 + 1) s − o ms.
        Assert.Equal(40, latency.Events);
        Assert.Equal(2000 - 10, latency.BronzeP50Ms); // the 20th of 991…1000, 1981…1990, 2971…2980, 3961…3970
        Assert.Equal(3970, latency.BronzeP99Ms);
        // Silver v0 (1.5 s) made bronze v0 visible, silver v1 (4.5 s) v1 to v3.
        Assert.Equal(40, latency.SilverEvents);
        Assert.Equal(4500 - 30, latency.SilverP50Ms); // the 20th of 1491…1500, 4461…4490
        Assert.Equal(4490, latency.SilverP99Ms);
        // Gold v0 (6 s) consumed silver v1: every event.
        Assert.Equal(40, latency.GoldEvents);
        Assert.Equal(6000 - 20, latency.GoldP50Ms);
        Assert.Equal(6000, latency.GoldP99Ms);
        Assert.Equal(t0, latency.FirstProduced);
        Assert.Equal(t0.AddMilliseconds(39), latency.LastProduced);
        Assert.Equal(t0.AddMilliseconds(4500), latency.SilverDoneAt);
        Assert.Equal(t0.AddMilliseconds(6000), latency.GoldDoneAt);
    }

    [Fact]
    public async Task Measure_WindowOfARunningStream_EventsNotVisibleYetCountWithTheirAge()
    {
        var (lake, t0) = await BronzeAsync();
        Consumed(lake, "silver/weblogs", 0, SilverJob.AppId("weblogs"), 0, t0.AddMilliseconds(1500));

        // Offsets 5–24: five visible in silver (1495…1491 ms), fifteen not yet, about a minute old.
        var latency = await StreamLatency.MeasureAsync(lake, engine.Engine, "weblogs", "page_performance_daily", t0.AddMilliseconds(5), t0.AddMilliseconds(25), null);

        Assert.Equal(20, latency.Events);
        Assert.Equal(5, latency.SilverEvents);
        Assert.Equal(0, latency.GoldEvents);
        Assert.InRange(latency.SilverP50Ms, 55_000, 120_000);
        Assert.InRange(latency.SilverP99Ms, 55_000, 120_000);
        Assert.InRange(latency.GoldP99Ms!.Value, 55_000, 120_000);

        // Measured as a finished run, the same window leaves those out: what silver shows is all there is.
        var finished = await StreamLatency.MeasureAsync(lake, engine.Engine, "weblogs", "page_performance_daily", t0.AddMilliseconds(5), null, null);
        Assert.Equal(5, finished.SilverEvents);
        Assert.Equal(1495, finished.SilverP99Ms);
        Assert.Null(finished.GoldP99Ms);
    }
}
