using System.Diagnostics;
using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze.EventHubs;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;
using Lakehouse.Testing.Kafka;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>
/// The Event Hubs stand-in drops the consumer's receiver links, or its whole AMQP connection, while one streaming ingest runs
/// (no restart) and a producer keeps sending: the source reconnects and resumes each partition from the right sequence
/// number; bronze holds every event exactly once (lost and duplicated both 0, asserted and written to the test output); the
/// log says what happened and carries no secret.
/// </summary>
public sealed class EventHubsLinkFaultTests(EngineFixture engine, ITestOutputHelper output) : IClassFixture<EngineFixture>, IDisposable
{
    private const int Events = 3000;

    private readonly TempDirectory _lake = new("eventhubs-faults");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("clicks", partitionCount: 4);
    private readonly CapturingLoggerFactory _logs = new();

    private string TableFolder => _lake.Combine("bronze", "clicks");

    public void Dispose()
    {
        _hub.Dispose();
        _lake.Dispose();
    }

    private static string Payload(int i) => $$"""{"event_id":"e{{i:D6}}","n":{{i}}}""";

    [Fact]
    public async Task RunAsync_ReceiverLinksDetachedMidStream_ResumesEveryPartitionNothingLostOrDuplicated()
    {
        var attachesBefore = 0;
        var logs = await RunWithFaultAsync(async clock =>
        {
            attachesBefore = _hub.ReceiverAttachesByPartition.Values.Sum();
            var detached = _hub.DetachReceivers();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: detached {detached} receiver links");
            Assert.Equal(4, detached);
            await Task.Delay(1500);
            detached = _hub.DetachReceivers();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: detached {detached} receiver links again");
        });

        // Each partition's receiver attached again (after each detach), and reads on.
        Assert.True(_hub.ReceiverAttachesByPartition.Values.Sum() >= attachesBefore + 8, $"attaches: {string.Join(", ", _hub.ReceiverAttachesByPartition)}");
        // The SDK re-attaches a detached link inside the receiver, without an error reaching the source: nothing to log, and
        // the source's own readers never restarted (one "Reading partition" per partition).
        Assert.Equal(4, logs.Count(e => e.Id.Id == 5201));
        Assert.DoesNotContain(logs, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task RunAsync_ConnectionDroppedMidStream_ReconnectsNothingLostOrDuplicated()
    {
        var logs = await RunWithFaultAsync(async clock =>
        {
            var aborted = _hub.AbortReceiverConnections();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: aborted {aborted} consumer connection(s)");
            Assert.Equal(1, aborted);
            await Task.Delay(1500);
            aborted = _hub.AbortReceiverConnections();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: aborted {aborted} consumer connection(s) again");
        });

        // What the user sees: a warning per partition reader that lost the connection, naming the partition and where it resumes.
        var failures = logs.Where(e => e.Id.Id == 5205).ToList();
        Assert.NotEmpty(failures);
        Assert.All(failures, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.All(failures, e => Assert.Matches("^Receiving from partition [0-3] failed; retrying from sequence number [0-9]+", e.Message));
    }

    /// <summary>
    /// Runs one ingestor (not --once) while a producer sends <see cref="Events"/> events (about 600/s); <paramref name="fault"/>
    /// runs once bronze holds some; waits until bronze holds them all; asserts exactly-once; returns the captured log.
    /// </summary>
    private async Task<IReadOnlyList<CapturedEvent>> RunWithFaultAsync(Func<Stopwatch, Task> fault)
    {
        var clock = Stopwatch.StartNew();
        await using var source = BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/{_hub.HubName}", new StreamSourceSettings
        {
            Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
            Lake = LakeStorage.Open(_lake.Path),
            Dataset = "clicks",
            LoggerFactory = _logs,
        });
        var table = BronzeTable.Open(LakeStorage.Open(TableFolder), engine.Engine);
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions { MaxBatchWait = TimeSpan.FromMilliseconds(200) }, _logs);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var run = ingestor.RunAsync(stop.Token);

        var producing = Task.Run(async () =>
        {
            await using var producer = new EventHubProducerClient(_hub.ConnectionString);
            for (var i = 0; i < Events; i += 50)
            {
                using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionKey = "s" + (i / 50 % 7) });
                for (var j = i; j < i + 50; j++) Assert.True(batch.TryAdd(new EventData(Encoding.UTF8.GetBytes(Payload(j)))));
                await producer.SendAsync(batch);
                await Task.Delay(80);
            }
        });
        await WaitUntilAsync(async () => (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Count >= Events / 4, "a quarter of the events in bronze");
        await fault(clock);
        await producing;
        Assert.Equal(Events, _hub.TotalEvents);

        // The same ingestor run, never restarted, catches up by itself.
        IReadOnlyList<BronzeRow> rows = [];
        await WaitUntilAsync(async () => (rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Count >= Events || run.IsCompleted, "every event in bronze");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: bronze holds {rows.Count} rows");
        Assert.False(run.IsCompleted, run.Exception?.ToString() ?? "the ingestor ended by itself");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        var ids = rows.Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();
        var sent = Enumerable.Range(0, Events).Select(Payload).ToHashSet(StringComparer.Ordinal);
        var lost = sent.Count(p => !ids.Contains(p));
        var duplicated = ids.Count - ids.Distinct(StringComparer.Ordinal).Count();
        var duplicatedPositions = rows.Count - rows.Select(r => (r.Partition, r.Offset)).Distinct().Count();
        output.WriteLine($"produced {Events}, bronze {rows.Count}, lost {lost}, duplicated {duplicated} (by position {duplicatedPositions})");
        Assert.Equal((0, 0, 0), (lost, duplicated, duplicatedPositions));
        foreach (var partition in _hub.PartitionIds)
        {
            var stored = _hub.Events(partition);
            var landed = rows.Where(r => r.Partition == partition).OrderBy(r => r.Offset).ToList();
            Assert.Equal(Enumerable.Range(0, stored.Count).Select(i => (long)i), landed.Select(r => r.Offset!.Value));
            Assert.Equal(stored.Select(e => Convert.ToHexString(e.Body)), landed.Select(r => Convert.ToHexString(r.Payload)));
        }
        var positions = await BronzeRows.PositionsAsync(engine.Engine, TableFolder, "eventhubs/clicks/");
        Assert.Equal(_hub.PartitionIds.Where(p => _hub.Events(p).Count > 0).ToDictionary(p => "eventhubs/clicks/" + p, p => (long)_hub.Events(p).Count).OrderBy(p => p.Key),
            positions.OrderBy(p => p.Key));

        var events = _logs.Events;
        foreach (var e in events.Where(e => e.Level >= LogLevel.Warning || e.Id.Id is 5201 or 5202)) output.WriteLine($"[{e.Id.Id}] {e.Level}: {e.Message.Split('\n')[0]}");
        // No secret in any log event, message or exception text.
        Assert.DoesNotContain(events, e => e.Message.Contains(EventHubsStandIn.Key, StringComparison.Ordinal) || e.Message.Contains("SharedAccessKey=", StringComparison.Ordinal));
        return events;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 45 s for {what}.");
            await Task.Delay(100);
        }
    }
}
