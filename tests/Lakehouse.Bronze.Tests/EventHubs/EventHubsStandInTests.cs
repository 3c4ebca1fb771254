using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>
/// The Event Hubs stand-in spoken to by the real Azure.Messaging.EventHubs 5.12.2 clients: what producers send is stored with
/// sequence numbers, read back from every kind of start position, and the management reads give the hub's true state.
/// </summary>
public sealed class EventHubsStandInTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("telemetry", partitionCount: 3);

    public void Dispose() => _hub.Dispose();

    private static byte[] Body(int i) => Encoding.UTF8.GetBytes($"{{\"n\":{i},\"pad\":\"{new string('x', i % 17)}\"}}");

    private async Task SendAsync(string partition, IEnumerable<int> numbers)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partition });
        foreach (var i in numbers) Assert.True(batch.TryAdd(new EventData(Body(i))));
        await producer.SendAsync(batch);
    }

    private async Task<List<ReceivedEventData>> ReceiveAsync(string partition, EventPosition position, int count)
    {
        await using var receiver = new PartitionReceiver(EventHubConsumerClient.DefaultConsumerGroupName, partition, position, _hub.ConnectionString);
        var received = new List<ReceivedEventData>();
        using var timeout = new CancellationTokenSource(Wait);
        while (received.Count < count)
        {
            var batch = await receiver.ReceiveBatchAsync(count - received.Count, TimeSpan.FromSeconds(1), timeout.Token);
            received.AddRange(batch.Select(e => new ReceivedEventData(e.SequenceNumber, e.EventBody.ToString())));
        }
        // Nothing beyond what was asked arrives.
        Assert.Empty(await receiver.ReceiveBatchAsync(10, TimeSpan.FromMilliseconds(300), timeout.Token));
        return received;
    }

    private sealed record ReceivedEventData(long SequenceNumber, string Body);

    [Fact]
    public async Task ProducerBatch_ToOnePartition_StoredInOrderWithSequenceNumbersAndEveryByte()
    {
        await SendAsync("1", Enumerable.Range(0, 500));
        await SendAsync("1", [500]); // one event: message format 0, not an envelope

        var stored = _hub.Events("1");
        Assert.Equal(501, stored.Count);
        Assert.Equal(Enumerable.Range(0, 501).Select(i => (long)i), stored.Select(e => e.SequenceNumber));
        Assert.All(stored, e => Assert.Equal(Body((int)e.SequenceNumber), e.Body));
        Assert.Equal(stored.Select(e => e.Offset).Order(), stored.Select(e => e.Offset));
        Assert.Equal(501, stored.Select(e => e.Offset).Distinct().Count());
        Assert.Empty(_hub.Events("0"));
        Assert.Empty(_hub.Events("2"));
    }

    [Fact]
    public async Task PartitionReceiver_EachStartPosition_ReadsFromTheRightEvent()
    {
        await SendAsync("0", Enumerable.Range(0, 20));
        var stored = _hub.Events("0");

        static IEnumerable<long> Seq(IEnumerable<ReceivedEventData> r) => r.Select(e => e.SequenceNumber);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), Seq(await ReceiveAsync("0", EventPosition.Earliest, 20)));
        Assert.Equal(Enumerable.Range(5, 15).Select(i => (long)i), Seq(await ReceiveAsync("0", EventPosition.FromSequenceNumber(5, isInclusive: true), 15)));
        Assert.Equal(Enumerable.Range(6, 14).Select(i => (long)i), Seq(await ReceiveAsync("0", EventPosition.FromSequenceNumber(5, isInclusive: false), 14)));
#pragma warning disable CS0618 // FromOffset(long) is the 5.12 spelling; the service's offsets are what the filter carries
        Assert.Equal(Enumerable.Range(3, 17).Select(i => (long)i), Seq(await ReceiveAsync("0", EventPosition.FromOffset(stored[3].Offset, isInclusive: true), 17)));
        Assert.Equal(Enumerable.Range(4, 16).Select(i => (long)i), Seq(await ReceiveAsync("0", EventPosition.FromOffset(stored[3].Offset, isInclusive: false), 16)));
#pragma warning restore CS0618
        var all = await ReceiveAsync("0", EventPosition.Earliest, 20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Encoding.UTF8.GetString(Body(i))), all.Select(e => e.Body));
    }

    [Fact]
    public async Task PartitionReceiver_FromEnqueuedTimeAndLatest_SkipWhatCameBefore()
    {
        await SendAsync("2", Enumerable.Range(0, 5));
        var before = _hub.Events("2")[^1].EnqueuedTime;
        await Task.Delay(20);
        await SendAsync("2", Enumerable.Range(5, 5));
        Assert.Equal(Enumerable.Range(5, 5).Select(i => (long)i),
            (await ReceiveAsync("2", EventPosition.FromEnqueuedTime(new DateTimeOffset(before, TimeSpan.Zero)), 5)).Select(e => e.SequenceNumber));

        await using var receiver = new PartitionReceiver(EventHubConsumerClient.DefaultConsumerGroupName, "2", EventPosition.Latest, _hub.ConnectionString);
        Assert.Empty(await receiver.ReceiveBatchAsync(10, TimeSpan.FromMilliseconds(500)));
        await SendAsync("2", [10, 11]);
        var late = new List<EventData>();
        using var timeout = new CancellationTokenSource(Wait);
        while (late.Count < 2) late.AddRange(await receiver.ReceiveBatchAsync(10, TimeSpan.FromSeconds(1), timeout.Token));
        Assert.Equal([10L, 11L], late.Select(e => e.SequenceNumber));
    }

    [Fact]
    public async Task ConsumerClient_PartitionKeyAndProperties_RoundTripAndOneKeyStaysInOnePartition()
    {
        await using (var producer = new EventHubProducerClient(_hub.ConnectionString))
        {
            foreach (var key in new[] { "sensor-a", "sensor-b" })
            {
                using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionKey = key });
                for (var i = 0; i < 3; i++)
                {
                    var e = new EventData(Encoding.UTF8.GetBytes($"{key}:{i}")) { ContentType = "application/json", MessageId = $"{key}-{i}" };
                    e.Properties["attempt"] = i;
                    Assert.True(batch.TryAdd(e));
                }
                await producer.SendAsync(batch);
            }
        }

        await using var consumer = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, _hub.ConnectionString);
        var received = new List<EventData>();
        using var timeout = new CancellationTokenSource(Wait);
        foreach (var partition in _hub.PartitionIds.Where(p => _hub.Events(p).Count > 0))
        {
            var expected = _hub.Events(partition).Count;
            await foreach (var e in consumer.ReadEventsFromPartitionAsync(partition, EventPosition.Earliest, timeout.Token))
            {
                received.Add(e.Data);
                if (--expected == 0) break;
            }
        }
        Assert.Equal(6, received.Count);
        foreach (var key in new[] { "sensor-a", "sensor-b" })
        {
            var ofKey = received.Where(e => e.PartitionKey == key).ToList();
            Assert.Equal([$"{key}:0", $"{key}:1", $"{key}:2"], ofKey.Select(e => e.EventBody.ToString()));
            Assert.Equal([0, 1, 2], ofKey.Select(e => (int)e.Properties["attempt"]));
            Assert.Equal([$"{key}-0", $"{key}-1", $"{key}-2"], ofKey.Select(e => e.MessageId));
            Assert.All(ofKey, e => Assert.Equal("application/json", e.ContentType));
            Assert.Single(_hub.PartitionIds, p => _hub.Events(p).Any(s => s.PartitionKey == key));
        }
    }

    [Fact]
    public async Task Management_HubAndPartitionProperties_TellTheStoredState()
    {
        await SendAsync("1", Enumerable.Range(0, 7));
        await using var consumer = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, _hub.ConnectionString);

        var hub = await consumer.GetEventHubPropertiesAsync();
        Assert.Equal("telemetry", hub.Name);
        Assert.Equal(["0", "1", "2"], hub.PartitionIds);
        Assert.Equal(["0", "1", "2"], await consumer.GetPartitionIdsAsync());

        var empty = await consumer.GetPartitionPropertiesAsync("0");
        Assert.True(empty.IsEmpty);
        Assert.Equal(-1, empty.LastEnqueuedSequenceNumber);

        var full = await consumer.GetPartitionPropertiesAsync("1");
        var last = _hub.Events("1")[^1];
        Assert.False(full.IsEmpty);
        Assert.Equal("1", full.Id);
        Assert.Equal("telemetry", full.EventHubName);
        Assert.Equal(0, full.BeginningSequenceNumber);
        Assert.Equal(6, full.LastEnqueuedSequenceNumber);
        Assert.Equal(last.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture), full.LastEnqueuedOffsetString);
        Assert.Equal(new DateTimeOffset(last.EnqueuedTime, TimeSpan.Zero), full.LastEnqueuedTime);
    }

    [Fact]
    public async Task Management_UnknownHubOrPartition_ResourceNotFound()
    {
        var otherHub = _hub.NamespaceConnectionString + ";EntityPath=nothere";
        await using var consumer = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, otherHub,
            new EventHubConsumerClientOptions { RetryOptions = new EventHubsRetryOptions { MaximumRetries = 0 } });
        var e = await Assert.ThrowsAsync<EventHubsException>(() => consumer.GetEventHubPropertiesAsync());
        Assert.Equal(EventHubsException.FailureReason.ResourceNotFound, e.Reason);

        await using var right = new EventHubConsumerClient(EventHubConsumerClient.DefaultConsumerGroupName, _hub.ConnectionString,
            new EventHubConsumerClientOptions { RetryOptions = new EventHubsRetryOptions { MaximumRetries = 0 } });
        var p = await Assert.ThrowsAsync<EventHubsException>(() => right.GetPartitionPropertiesAsync("7"));
        Assert.Equal(EventHubsException.FailureReason.ResourceNotFound, p.Reason);
    }

    [Fact]
    public async Task Receiver_UnknownConsumerGroup_ResourceNotFound()
    {
        using var strict = EventHubsStandIn.Start("orders", partitionCount: 1, consumerGroups: ["$Default"]);
        await using var receiver = new PartitionReceiver("nosuchgroup", "0", EventPosition.Earliest, strict.ConnectionString,
            new PartitionReceiverOptions { RetryOptions = new EventHubsRetryOptions { MaximumRetries = 0 } });
        var e = await Assert.ThrowsAsync<EventHubsException>(() => receiver.ReceiveBatchAsync(1, TimeSpan.FromSeconds(5)));
        Assert.Equal(EventHubsException.FailureReason.ResourceNotFound, e.Reason);
    }
}
