using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze.EventHubs;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;
using Xunit.Abstractions;

namespace Lakehouse.Bronze.Tests.EventHubs;

/// <summary>
/// Event Hubs stand-in → bronze throughput, measured (not asserted): ~200-byte events over 4 partitions, read with the real SDK
/// and committed in micro-batches. Prints events/s; LAKEHOUSE_EVENTHUBS_BENCH_EVENTS sets the count (default 50,000):
/// <c>LAKEHOUSE_EVENTHUBS_BENCH_EVENTS=500000 dotnet test tests/Lakehouse.Bronze.Tests -c Release --filter EventHubsThroughput --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class EventHubsThroughputTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("eventhubs-bench");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("bench", partitionCount: 4);

    public void Dispose()
    {
        _hub.Dispose();
        _lake.Dispose();
    }

    [Fact]
    public async Task IngestOnce_ManySmallEvents_AllLandAndEventsPerSecondPrinted()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("LAKEHOUSE_EVENTHUBS_BENCH_EVENTS"), CultureInfo.InvariantCulture, out var n) ? n : 50_000;
        var produce = Stopwatch.StartNew();
        await using (var producer = new EventHubProducerClient(_hub.ConnectionString))
        {
            var sent = 0;
            while (sent < count)
            {
                using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = (sent / 1000 % 4).ToString(CultureInfo.InvariantCulture) });
                var start = sent;
                while (sent < count && sent - start < 1000 && batch.TryAdd(new EventData(Event(sent)))) sent++;
                await producer.SendAsync(batch);
            }
        }
        produce.Stop();

        var table = BronzeTable.Open(LakeStorage.Open(_lake.Combine("bronze", "bench")), fixture.Engine);
        await using var source = BronzeSources.OpenStream($"eventhubs://{_hub.Namespace}/bench", new StreamSourceSettings
        {
            Setting = name => name == EventHubsEndpoint.ConnectionStringVariable ? _hub.ConnectionString : null,
            Lake = LakeStorage.Open(_lake.Path),
            Dataset = "bench",
        });
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions { Once = true, CompactEveryCommits = 0 });
        var result = await ingestor.RunAsync();

        Assert.Equal(count, result.Events);
        Assert.Equal(count, (await table.PositionsAsync("eventhubs/bench/")).Values.Sum());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Event Hubs stand-in -> bronze: {result.Events:N0} events ({result.Bytes / (double)result.Events:N0} bytes each) in {result.Elapsed.TotalSeconds:N2} s = {result.EventsPerSecond:N0} events/s, {result.Commits} commits (producing them took {produce.Elapsed.TotalSeconds:N2} s)"));
    }

    private static byte[] Event(int i) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{{\"event_id\":\"{i:D10}\",\"timestamp\":\"2026-11-30T12:{i / 60 % 60:D2}:{i % 60:D2}Z\",\"page_url\":\"https://shop.example.com/p/{i % 2000}?q=a\",\"tti_ms\":{i % 3000},\"ttar_ms\":{i % 900},\"status\":200,\"session_id\":\"s{i % 5000:D6}\",\"country\":\"DE\"}}"));
}
