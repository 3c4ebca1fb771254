using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze.EventHubs;
using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>
/// The Event Hubs source under the stream ingestor, reading the stand-in with the real SDK: every event lands once with its
/// partition, sequence number, key, enqueued time and bytes; a second run resumes from bronze; --once stops at the end found
/// at start even while producers keep sending.
/// </summary>
public sealed class EventHubsSourceTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("eventhubs-source");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("weblogs", partitionCount: 4);

    public void Dispose()
    {
        _hub.Dispose();
        _lake.Dispose();
    }

    private BronzeTable Table() => BronzeTable.Open(LakeStorage.Open(_lake.Combine("bronze", "weblogs")), fixture.Engine);

    private StreamSourceSettings Settings() => new()
    {
        Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
        Lake = LakeStorage.Open(_lake.Path),
        Dataset = "weblogs",
    };

    private string From => $"eventhubs://{_hub.Namespace}/{_hub.HubName}";

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes($"{{\"event_id\":\"e{i}\",\"page_url\":\"/p/{i % 97}\",\"tti_ms\":{i % 1000}}}");

    private async Task ProduceAsync(int from, int count)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        var sent = from;
        while (sent < from + count)
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionKey = "s" + (sent % 13) });
            while (sent < from + count && batch.TryAdd(new EventData(Payload(sent)))) sent++;
            await producer.SendAsync(batch);
        }
    }

    private async Task<StreamIngestProgress> IngestOnceAsync(int maxBatchEvents = 250, DataLossPolicy onDataLoss = DataLossPolicy.Fail, CapturingLoggerFactory? log = null)
    {
        await using var source = BronzeSources.OpenStream(From, Settings() with { OnDataLoss = onDataLoss, LoggerFactory = log });
        var ingestor = new StreamIngestor(Table(), source, new StreamIngestOptions { Once = true, MaxBatchEvents = maxBatchEvents, MaxBatchWait = TimeSpan.FromMilliseconds(200) });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await ingestor.RunAsync(timeout.Token);
    }

    private List<(string Partition, long Sequence, byte[] Payload, string? Key, DateTimeOffset? Enqueued)> Rows()
    {
        using var lease = fixture.Engine.Lease();
        var snapshot = Table().Table.GetSnapshotAsync().GetAwaiter().GetResult();
        var files = string.Join(", ", snapshot.Files.Select(f => $"'{_lake.Combine("bronze", "weblogs", Uri.UnescapeDataString(f.Path))}'"));
        using var rows = lease.Connection.Query($"SELECT source_partition, source_offset, payload, source_key, epoch_ms(enqueued_time), source_kind, source FROM read_parquet([{files}]) ORDER BY 1, 2");
        var result = new List<(string, long, byte[], string?, DateTimeOffset?)>();
        while (rows.Read())
        {
            Assert.Equal(("eventhubs", "weblogs"), (rows.GetString(5), rows.GetString(6)));
            result.Add((rows.GetString(0), rows.GetInt64(1), (byte[])rows.GetValue(2)!, rows.IsNull(3) ? null : rows.GetString(3),
                rows.IsNull(4) ? null : DateTimeOffset.FromUnixTimeMilliseconds(rows.GetInt64(4))));
        }
        return result;
    }

    /// <summary>Bronze holds exactly the stand-in's events (each partition's sequence numbers from 0 on, once each) and their bytes.</summary>
    private void AssertBronzeHoldsExactly(IEnumerable<(string Partition, int Count)> expected)
    {
        var rows = Rows();
        foreach (var (partition, count) in expected)
        {
            var stored = _hub.Events(partition);
            var ofPartition = rows.Where(r => r.Partition == partition).ToList();
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), ofPartition.Select(r => r.Sequence));
            for (var i = 0; i < count; i++)
            {
                Assert.Equal(stored[i].Body, ofPartition[i].Payload);
                Assert.Equal(stored[i].PartitionKey, ofPartition[i].Key);
                Assert.Equal(new DateTimeOffset(stored[i].EnqueuedTime, TimeSpan.Zero), ofPartition[i].Enqueued);
            }
        }
    }

    [Fact]
    public async Task RunOnce_EventsInEveryPartition_EachLandsOnceWithPositionKeyTimeAndBytes()
    {
        await ProduceAsync(0, 3000);

        var result = await IngestOnceAsync();

        Assert.Equal(3000, result.Events);
        Assert.Equal(0, result.DroppedOnConflict);
        AssertBronzeHoldsExactly(_hub.PartitionIds.Select(p => (p, _hub.Events(p).Count)));
        var positions = await Table().PositionsAsync("eventhubs/weblogs/");
        Assert.Equal(_hub.PartitionIds.Where(p => _hub.Events(p).Count > 0).ToDictionary(p => "eventhubs/weblogs/" + p, p => (long)_hub.Events(p).Count), positions);
        Assert.Equal(3000, Rows().Select(r => Encoding.UTF8.GetString(r.Payload)).Distinct().Count());
    }

    [Fact]
    public async Task RunOnce_Again_ResumesFromBronzeAndAddsOnlyNewEvents()
    {
        await ProduceAsync(0, 1000);
        Assert.Equal(1000, (await IngestOnceAsync()).Events);
        Assert.Equal(0, (await IngestOnceAsync()).Events);
        await ProduceAsync(1000, 700);

        var second = await IngestOnceAsync();

        Assert.Equal(700, second.Events);
        AssertBronzeHoldsExactly(_hub.PartitionIds.Select(p => (p, _hub.Events(p).Count)));
        Assert.Equal(1700, Rows().Count);
    }

    [Fact]
    public async Task RunOnce_PositionDeletedByRetention_FailsNamingTheLossAndSkipReadsOnFromTheFirstEventLeft()
    {
        await ProduceAsync(0, 1000);
        Assert.Equal(1000, (await IngestOnceAsync()).Events);
        var held = _hub.PartitionIds.ToDictionary(p => p, p => _hub.Events(p).Count);
        await ProduceAsync(0, 1000); // the same partition keys again: the same partitions grow
        // Retention deletes five events of a partition bronze holds a position of, before bronze read them.
        var partition = _hub.PartitionIds.Where(p => held[p] > 0).OrderByDescending(p => _hub.Events(p).Count - held[p]).First();
        Assert.True(_hub.Events(partition).Count - held[partition] > 5);
        _hub.Expire(partition, held[partition] + 5);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => IngestOnceAsync());
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Equal($"Event hub 'weblogs' partition {partition}: sequence numbers {held[partition]} to {held[partition] + 4} (5 events) are gone from the hub before bronze " +
            $"ingested them: retention is shorter than the ingest's lag. Nothing past bronze's position was committed. To accept the loss and read on from sequence number {held[partition] + 5}, " +
            "run again with --on-data-loss skip.", e.Message);
        Assert.Equal(held[partition], Rows().Count(r => r.Partition == partition));

        using var log = new CapturingLoggerFactory();
        await IngestOnceAsync(onDataLoss: DataLossPolicy.Skip, log: log);

        var loss = Assert.Single(log.Events, x => x.Id.Id == 5209);
        Assert.Equal((long)held[partition], loss.Values["Position"]);
        Assert.Equal(held[partition] + 5L, loss.Values["Earliest"]);
        Assert.Equal(5L, loss.Values["Lost"]);
        var rows = Rows();
        Assert.Equal(1995, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Sequence)).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, held[partition]).Concat(Enumerable.Range(held[partition] + 5, _hub.Events(partition).Count - held[partition] - 5)).Select(i => (long)i),
            rows.Where(r => r.Partition == partition).Select(r => r.Sequence));
    }

    [Fact]
    public async Task RunOnce_ProducersKeepSending_StopsExactlyAtTheEndFoundAtStart()
    {
        await ProduceAsync(0, 2000);
        var endAtStart = _hub.PartitionIds.ToDictionary(p => p, p => _hub.Events(p).Count);
        using var stopProducing = new CancellationTokenSource();
        var readsBefore = _hub.PartitionReads;
        var producing = Task.Run(async () =>
        {
            // The run's end is what the hub answers when the run asks; sending before that would move the end it finds.
            while (_hub.PartitionReads < readsBefore + _hub.PartitionIds.Count && !stopProducing.IsCancellationRequested)
                await Task.Delay(1);
            var n = 2000;
            do
            {
                await ProduceAsync(n, 50);
                n += 50;
                await Task.Delay(5);
            }
            while (!stopProducing.IsCancellationRequested);
        });
        try
        {
            var result = await IngestOnceAsync(maxBatchEvents: 100);
            Assert.Equal(2000, result.Events);
        }
        finally
        {
            await stopProducing.CancelAsync();
            await producing;
        }
        Assert.True(_hub.TotalEvents > 2000, "the producer sent nothing while the ingest ran");
        var rows = Rows();
        foreach (var p in _hub.PartitionIds)
        {
            var sequences = rows.Where(r => r.Partition == p).Select(r => r.Sequence).ToList();
            Assert.Equal(Enumerable.Range(0, endAtStart[p]).Select(i => (long)i), sequences);
        }
    }

    [Fact]
    public async Task OpenStream_ConnectionStringForAnotherHub_RefusedNamingBothWithoutTheKey()
    {
        var settings = Settings() with { Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.NamespaceConnectionString + ";EntityPath=other" : null };
        var e = Assert.Throws<LakehouseException>(() => BronzeSources.OpenStream(From, settings).StartAsync((_, _) => Task.FromResult<long?>(null), once: false, default).GetAwaiter().GetResult());
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains("'other'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'weblogs'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(EventHubsStandIn.Key, e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eventhubs://ns.servicebus.windows.net")]
    [InlineData("eventhubs://ns.servicebus.windows.net/a/b")]
    [InlineData("eventhubs://ns.servicebus.windows.net/hub?key=secret")]
    public void OpenStream_BadAddress_InvalidInputWithTheExpectedForm(string from)
    {
        var e = Assert.Throws<LakehouseException>(() => BronzeSources.OpenStream(from, new StreamSourceSettings()));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains("eventhubs://", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownHub_NotFoundNamingIt()
    {
        var settings = Settings() with { Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.NamespaceConnectionString : null };
        await using var source = BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/nothere", settings);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => source.StartAsync((_, _) => Task.FromResult<long?>(null), once: false, default));
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Contains("'nothere'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sink_SendsKeyedAndUnkeyedEvents_AllStoredWithTheirKeysInOrder()
    {
        var settings = Settings();
        await using (var sink = EventSinks.Open(From, settings))
        {
            await sink.SendAsync([.. Enumerable.Range(0, 300).Select(i => new OutgoingEvent(Payload(i), i % 3 == 0 ? null : "k" + (i % 3)))], default);
        }
        Assert.Equal(300, _hub.TotalEvents);
        var all = _hub.PartitionIds.SelectMany(p => _hub.Events(p)).ToList();
        foreach (var key in new[] { "k1", "k2" })
        {
            var ofKey = all.Where(e => e.PartitionKey == key).ToList();
            Assert.Single(ofKey.Select(e => _hub.PartitionIds.First(p => _hub.Events(p).Contains(e))).Distinct());
            Assert.Equal(Enumerable.Range(0, 300).Where(i => i % 3 == (key == "k1" ? 1 : 2)).Select(i => Encoding.UTF8.GetString(Payload(i))),
                ofKey.OrderBy(e => e.SequenceNumber).Select(e => Encoding.UTF8.GetString(e.Body)));
        }
        Assert.Equal(100, all.Count(e => e.PartitionKey is null));
    }
}
