using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze.EventHubs;
using Lakehouse.Bronze.Landing;
using Lakehouse.Bronze.Tests.Landing;
using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>
/// One event hub read live (AMQP, the stand-in with the real SDK) and landed from its Capture files (written with Apache.Avro
/// in Capture's schema, holding the very events the stand-in stored): bronze holds each (partition, sequence number) once, in
/// either order, with the event's bytes.
/// </summary>
public sealed class CaptureReconciliationTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly DateTime Hour = new(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc);

    private readonly TempDirectory _lake = new("capture-reconcile");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("weblogs", partitionCount: 2);

    public void Dispose()
    {
        _hub.Dispose();
        _lake.Dispose();
    }

    private string Landing => _lake.Combine("landing");

    private BronzeTable Table() => BronzeTable.Open(LakeStorage.Open(_lake.Combine("lake", "bronze", "weblogs")), fixture.Engine);

    private async Task ProduceAsync(string partition, int count)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        var sent = 0;
        while (sent < count)
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partition });
            while (sent < count && batch.TryAdd(new EventData(System.Text.Encoding.UTF8.GetBytes($"{{\"event_id\":\"p{partition}-{Guid.NewGuid():N}\",\"n\":{sent}}}")))) sent++;
            await producer.SendAsync(batch);
        }
    }

    private async Task<StreamIngestProgress> LiveOnceAsync()
    {
        var settings = new StreamSourceSettings
        {
            Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
            Lake = LakeStorage.Open(_lake.Combine("lake")),
            Dataset = "weblogs",
        };
        await using var source = BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/{_hub.HubName}", settings);
        var ingestor = new StreamIngestor(Table(), source, new StreamIngestOptions { Once = true, MaxBatchEvents = 7, MaxBatchWait = TimeSpan.FromMilliseconds(100) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await ingestor.RunAsync(timeout.Token);
    }

    /// <summary>Writes a Capture file of <paramref name="partition"/> holding the stand-in's events <paramref name="first"/>..<paramref name="last"/>.</summary>
    private string Capture(string partition, int first, int last, int minute, string ns = "myns", string hub = "weblogs", string? root = null)
    {
        var path = CaptureFiles.PathOf(root ?? Landing, ns, hub, partition, Hour.AddMinutes(minute));
        CaptureFiles.Write(path, _hub.Events(partition).Skip(first).Take(last - first + 1));
        return path;
    }

    private Task<LandingIngestProgress> LandAsync(string? captureHub = null, string? root = null) =>
        new LandingIngestor(Table(), LakeStorage.Open(root ?? Landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero, MaxSettleWait = TimeSpan.FromSeconds(5), CaptureHub = captureHub }).RunAsync();

    /// <summary>Bronze's rows as (partition, sequence number, kind, payload), in that order.</summary>
    private async Task<List<(string Partition, long Sequence, string Kind, byte[] Payload, DateTimeOffset? Enqueued)>> RowsAsync() =>
        [.. (await BronzeRows.QueryAsync(Table(), fixture.Engine,
            "SELECT source_partition, source_offset, source_kind, payload, epoch_ms(enqueued_time) FROM bronze ORDER BY 1, 2, 3"))
            .Select(r => ((string)r[0]!, (long)r[1]!, (string)r[2]!, (byte[])r[3]!, r[4] is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null))];

    /// <summary>Bronze holds each event of each partition exactly once (sequence numbers 0..n-1), with the stand-in's bytes.</summary>
    private async Task AssertOncePerEventAsync(params (string Partition, int Count)[] expected)
    {
        var rows = await RowsAsync();
        Assert.Equal(expected.Sum(e => e.Count), rows.Count);
        foreach (var (partition, count) in expected)
        {
            var ofPartition = rows.Where(r => r.Partition == partition).ToList();
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), ofPartition.Select(r => r.Sequence));
            var stored = _hub.Events(partition);
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(stored[i].Body, ofPartition[i].Payload);
                // Live rows keep the millisecond; Capture writes the enqueued time to the second.
                var enqueued = new DateTimeOffset(stored[i].EnqueuedTime, TimeSpan.Zero);
                Assert.Equal(ofPartition[i].Kind == SourceKinds.Capture ? enqueued.AddTicks(-(enqueued.Ticks % TimeSpan.TicksPerSecond)) : enqueued, ofPartition[i].Enqueued);
            }
        }
    }

    private static long Count(IEnumerable<(string Partition, long Sequence, string Kind, byte[] Payload, DateTimeOffset? Enqueued)> rows, string partition, string kind) =>
        rows.Count(r => r.Partition == partition && r.Kind == kind);

    [Fact]
    public async Task Land_CaptureAfterLive_OverlapSkippedExtraLandedOncePerEvent()
    {
        await ProduceAsync("0", 30);
        await ProduceAsync("1", 20);
        Assert.Equal(50, (await LiveOnceAsync()).Events);
        await ProduceAsync("0", 10); // the live stream stopped before these: only Capture has them
        Capture("0", 0, 19, minute: 0);
        Capture("0", 20, 39, minute: 5);
        Capture("1", 0, 19, minute: 0);

        var landed = await LandAsync();

        Assert.Equal((3L, 10L, 50L, 0L), (landed.FilesIngested, landed.Events, landed.EventsAlreadyHeld, landed.FilesFailed));
        await AssertOncePerEventAsync(("0", 40), ("1", 20));
        var rows = await RowsAsync();
        Assert.Equal((30L, 10L, 20L, 0L), (Count(rows, "0", SourceKinds.EventHubs), Count(rows, "0", SourceKinds.Capture), Count(rows, "1", SourceKinds.EventHubs), Count(rows, "1", SourceKinds.Capture)));
        Assert.Equal(Enumerable.Range(30, 10).Select(i => (long)i), rows.Where(r => r.Kind == SourceKinds.Capture).Select(r => r.Sequence));

        // The live stream started again: partition 0 starts after what Capture landed, so nothing lands twice.
        Assert.Equal(0, (await LiveOnceAsync()).Events);
        await ProduceAsync("0", 5);
        Assert.Equal(5, (await LiveOnceAsync()).Events);
        await AssertOncePerEventAsync(("0", 45), ("1", 20));
    }

    [Fact]
    public async Task Live_AfterCaptureBackfill_StartsAfterTheBackfillAndLandsOnlyTheRest()
    {
        await ProduceAsync("0", 40);
        await ProduceAsync("1", 25);
        Capture("0", 0, 29, minute: 0);
        Capture("1", 0, 24, minute: 0);
        var landed = await LandAsync();
        Assert.Equal((55L, 0L), (landed.Events, landed.EventsAlreadyHeld));

        var live = await LiveOnceAsync();

        Assert.Equal(10, live.Events);
        await AssertOncePerEventAsync(("0", 40), ("1", 25));
        var rows = await RowsAsync();
        Assert.Equal(Enumerable.Range(30, 10).Select(i => (long)i), rows.Where(r => r.Kind == SourceKinds.EventHubs).Select(r => r.Sequence));
        Assert.Equal(0, Count(rows, "1", SourceKinds.EventHubs));
        Assert.Equal(new Dictionary<string, long> { ["eventhubs/weblogs/0"] = 40 }, await Table().PositionsAsync("eventhubs/weblogs/"));
    }

    [Fact]
    public async Task Live_AfterCaptureWithAGap_LandsTheGapAndTheTailNotWhatCaptureHolds()
    {
        await ProduceAsync("0", 40);
        Capture("0", 0, 9, minute: 0);
        Capture("0", 20, 29, minute: 10); // the file of 10..19 is missing: neither source landed those yet
        Assert.Equal(20, (await LandAsync()).Events);

        var live = await LiveOnceAsync();

        Assert.Equal(20, live.Events);
        await AssertOncePerEventAsync(("0", 40));
        var rows = await RowsAsync();
        Assert.Equal(Enumerable.Range(10, 10).Concat(Enumerable.Range(30, 10)).Select(i => (long)i), rows.Where(r => r.Kind == SourceKinds.EventHubs).Select(r => r.Sequence));

        // The missing file turns up later: everything in it is in bronze already.
        Capture("0", 5, 24, minute: 5);
        var late = await LandAsync();
        Assert.Equal((0L, 20L), (late.Events, late.EventsAlreadyHeld));
        await AssertOncePerEventAsync(("0", 40));
    }

    [Fact]
    public async Task Land_SameCaptureFileAgainUnderAnotherFolder_AddsNothing()
    {
        await ProduceAsync("1", 25);
        Capture("1", 0, 24, minute: 0);
        Assert.Equal(25, (await LandAsync()).Events);
        var again = await LandAsync();
        Assert.Equal((0L, 1L), (again.Events, again.FilesSkipped));

        // A copy of the same hub's file elsewhere (a second export, a restore): its records are held, none lands.
        var copies = _lake.Combine("copies");
        Capture("1", 0, 24, minute: 0, root: copies);
        var copy = await LandAsync(root: copies);

        Assert.Equal((1L, 0L, 25L), (copy.FilesIngested, copy.Events, copy.EventsAlreadyHeld));
        await AssertOncePerEventAsync(("1", 25));
    }

    [Fact]
    public async Task Land_TwoOverlappingFilesInOneLook_EachEventOnce()
    {
        await ProduceAsync("0", 30);
        Capture("0", 0, 19, minute: 0);
        Capture("0", 10, 29, minute: 1);

        var landed = await LandAsync();

        Assert.Equal((30L, 10L, 0L), (landed.Events, landed.EventsAlreadyHeld, landed.FilesFailed));
        await AssertOncePerEventAsync(("0", 30));
    }

    [Fact]
    public async Task Land_CaptureHubOptionNamesAnotherHub_FileRefusedNothingLanded()
    {
        await ProduceAsync("0", 10);
        Capture("0", 0, 9, minute: 0);

        var landed = await LandAsync(captureHub: "myns/orders");

        Assert.Equal((0L, 1L, 0L), (landed.Events, landed.FilesFailed, landed.FilesIngested));
        var problem = Assert.Single(landed.Problems);
        Assert.Contains("its path names event hub 'myns/weblogs', not 'myns/orders' as --capture-hub says", problem, StringComparison.Ordinal);
        Assert.False(await Table().Table.ExistsAsync()); // not even a commit
    }

    [Fact]
    public async Task Land_CaptureFileOfAnotherHubThanTheLiveOne_RefusedNamingBoth()
    {
        await ProduceAsync("0", 10);
        Assert.Equal(10, (await LiveOnceAsync()).Events);
        Capture("0", 0, 9, minute: 0, hub: "orders");

        var landed = await LandAsync();

        Assert.Equal((0L, 1L), (landed.Events, landed.FilesFailed));
        Assert.Contains("it is a Capture file of event hub 'orders' (partition 0, from its path), but bronze holds event hub 'weblogs' (read live or from Capture files)",
            Assert.Single(landed.Problems), StringComparison.Ordinal);
        await AssertOncePerEventAsync(("0", 10), ("1", 0));
    }

    [Fact]
    public async Task Land_CaptureFileOfAnotherHubThanEarlierCapture_RefusedUnlessTheOptionNamesIt()
    {
        await ProduceAsync("0", 10);
        Capture("0", 0, 9, minute: 0);
        Assert.Equal(10, (await LandAsync()).Events);
        var others = _lake.Combine("others");
        Capture("0", 0, 9, minute: 0, hub: "orders", root: others);

        var refused = await LandAsync(root: others);
        var meant = await LandAsync(captureHub: "orders", root: others);

        Assert.Equal((0L, 1L), (refused.Events, refused.FilesFailed));
        Assert.Contains("but bronze holds event hub 'weblogs'", Assert.Single(refused.Problems), StringComparison.Ordinal);
        Assert.Equal((10L, 0L, 0L), (meant.Events, meant.EventsAlreadyHeld, meant.FilesFailed));
    }

    [Fact]
    public async Task Land_RenamedFoldersWithCaptureHubOption_ReconciledWithTheLiveHub()
    {
        await ProduceAsync("1", 12);
        Assert.Equal(12, (await LiveOnceAsync()).Events);
        await ProduceAsync("1", 3);
        Capture("1", 0, 14, minute: 0, ns: "exports", hub: "2026-backfill");

        var landed = await LandAsync(captureHub: "weblogs");

        Assert.Equal((3L, 12L), (landed.Events, landed.EventsAlreadyHeld));
        await AssertOncePerEventAsync(("0", 0), ("1", 15));
    }

    /// <summary>Lands <paramref name="root"/>, again when a concurrent commit made it give up (Conflict after its re-plans), as a user would.</summary>
    private async Task<LandingIngestProgress> LandUntilDoneAsync(string? root = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LandAsync(root: root);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict && attempt < 20)
            {
                // Re-planned too often against a busy stream: run again.
            }
        }
    }

    [Fact]
    public async Task Land_WhileTheLiveStreamCommits_EachEventOnce()
    {
        await ProduceAsync("0", 200);
        using var stop = new CancellationTokenSource();
        var live = Task.Run(async () =>
        {
            var settings = new StreamSourceSettings
            {
                Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
                Lake = LakeStorage.Open(_lake.Combine("lake")),
                Dataset = "weblogs",
            };
            await using var source = BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/{_hub.HubName}", settings);
            var ingestor = new StreamIngestor(Table(), source, new StreamIngestOptions { MaxBatchEvents = 5, MaxBatchWait = TimeSpan.FromMilliseconds(20) });
            try
            {
                await ingestor.RunAsync(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // stopped
            }
        });

        long landed = 0, held = 0;
        for (var k = 0; k < 10; k++)
        {
            // Each file races the stream: some are below its position, some at it, some ahead of it.
            Capture("0", k * 20, k * 20 + 19, minute: k);
            var result = await LandUntilDoneAsync();
            (landed, held) = (landed + result.Events, held + result.EventsAlreadyHeld);
        }
        await stop.CancelAsync();
        await live;
        await LiveOnceAsync();

        Assert.Equal(200, held + landed);
        await AssertOncePerEventAsync(("0", 200), ("1", 0));
    }

    [Fact]
    public async Task Land_TwoLandingsOfCopiesAtOnce_EachEventOnce()
    {
        await ProduceAsync("0", 10);
        Assert.Equal(10, (await LiveOnceAsync()).Events);
        await ProduceAsync("0", 40);
        string a = _lake.Combine("a"), b = _lake.Combine("b");
        Capture("0", 0, 49, minute: 0, root: a);
        Capture("0", 0, 49, minute: 0, root: b);

        var results = await Task.WhenAll(Task.Run(() => LandUntilDoneAsync(a)), Task.Run(() => LandUntilDoneAsync(b)));

        Assert.Equal((40L, 60L), (results.Sum(r => r.Events), results.Sum(r => r.EventsAlreadyHeld)));
        await AssertOncePerEventAsync(("0", 50), ("1", 0));
    }
}
