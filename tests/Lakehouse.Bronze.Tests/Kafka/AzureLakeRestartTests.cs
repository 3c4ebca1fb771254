using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;
using Xunit.Abstractions;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// A streaming bronze ingest from Kafka (librdkafka's mock cluster) into an Azure lake (Azurite on disk) while Azurite is stopped
/// and started again on the same port with the same data. Within the storage retry budget the same run waits and goes on; past
/// it the run fails with an error naming the storage, and a rerun completes. Afterwards the bronze table passes a deep check and
/// holds every produced message exactly once: lost and duplicated both 0.
/// </summary>
public sealed class AzureLakeRestartTests(EngineFixture engine, KafkaClusterFixture kafka, ITestOutputHelper output)
    : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>
{
    private readonly string _topic = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "g" + Guid.NewGuid().ToString("N")[..10];
    private readonly CapturingLoggerFactory _logs = new();

    private KafkaMockCluster Cluster => kafka.Cluster;

    private static string Payload(int i) => $$"""{"event_id":"e{{i:D6}}","n":{{i}}}""";

    private void Produce(int from, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = Cluster.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = from; i < from + count; i++) producer.Produce(_topic, new Message<Null, string> { Value = Payload(i) });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private ILakeStorage Lake(AzuriteServer azurite, AzuriteContainer container, int maxRetries)
    {
        var options = azurite.CreateOptions();
        options.MaxRetries = maxRetries;
        options.LoggerFactory = _logs;
        return container.Open("bronze/clicks", options);
    }

    private StreamIngestor Ingestor(IStreamSource source, ILakeStorage lake, bool once) =>
        new(BronzeTable.Open(lake, engine.Engine), source, new StreamIngestOptions { Once = once, MaxBatchWait = TimeSpan.FromMilliseconds(200) }, _logs);

    private IStreamSource Source() => BronzeSources.OpenStream(Cluster.Uri(_topic), new StreamSourceSettings
    {
        ConsumerGroup = _group,
        Setting = name => name == "LAKEHOUSE_KAFKA_PROPERTIES" ? KafkaMockCluster.FastGroupProperties : null,
        LoggerFactory = _logs,
    });

    [Fact]
    public async Task RunAsync_AzuriteStoppedAndRestartedMidStream_SameRunGoesOnEveryMessageOnce()
    {
        Cluster.CreateTopic(_topic);
        var azurite = await AzuriteServer.StartPersistentAsync();
        try
        {
            var container = await azurite.CreateContainerAsync("stream");
            var lake = Lake(azurite, container, maxRetries: 5);
            await using var source = Source();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var run = Ingestor(source, lake, once: false).RunAsync(stop.Token);
            Produce(0, 1000);
            await WaitForRowsAsync(lake, 1, run);

            var clock = Stopwatch.StartNew();
            await azurite.StopAsync();
            Produce(1000, 1000); // while the lake is gone
            await Task.Delay(TimeSpan.FromSeconds(1));
            await azurite.RestartAsync();
            output.WriteLine($"Azurite was down {clock.Elapsed.TotalSeconds:0.0} s");
            Produce(2000, 500);

            var rows = await WaitForRowsAsync(lake, 2500, run);
            Assert.False(run.IsCompleted, run.Exception?.ToString() ?? "the ingestor ended by itself");
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.True(_logs.Events.Any(e => e.Id.Id == LogEventIds.Storage), "no storage retry was logged: the stop did not hit the run");
            await AssertExactlyOnceAsync(Lake(azurite, container, maxRetries: 2), rows, 2500);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    [Fact]
    public async Task RunAsync_AzuriteDownPastTheRetryBudget_FailsNamingTheStorageAndRerunCompletes()
    {
        Cluster.CreateTopic(_topic);
        var azurite = await AzuriteServer.StartPersistentAsync();
        try
        {
            var container = await azurite.CreateContainerAsync("stream");
            Produce(0, 1000);
            LakehouseException error;
            await using (var source = Source())
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
                var run = Ingestor(source, Lake(azurite, container, maxRetries: 1), once: false).RunAsync(stop.Token);
                await WaitForRowsAsync(Lake(azurite, container, maxRetries: 1), 1, run);
                await azurite.StopAsync();
                Produce(1000, 1000);
                error = await Assert.ThrowsAsync<LakehouseException>(() => run);
            }
            output.WriteLine($"the run failed: {error.Message}");
            Assert.Equal(LakehouseErrorReason.Storage, error.Reason);
            Assert.Contains($"the blob endpoint http://127.0.0.1:{azurite.Port.ToString(CultureInfo.InvariantCulture)}/{AzuriteServer.AccountName} could not be reached", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(AzuriteServer.AccountKey, error.ToString(), StringComparison.Ordinal);

            await azurite.RestartAsync();
            var lake = Lake(azurite, container, maxRetries: 2);
            var before = (await BronzeRows.ReadAsync(engine.Engine, lake)).Count;
            output.WriteLine($"bronze held {before} rows when the run failed");
            await using (var source = Source())
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await Ingestor(source, lake, once: true).RunAsync(timeout.Token);
            }
            await AssertExactlyOnceAsync(lake, await BronzeRows.ReadAsync(engine.Engine, lake), 2000);
        }
        finally
        {
            await azurite.DisposeAsync();
        }
    }

    private async Task AssertExactlyOnceAsync(ILakeStorage lake, IReadOnlyList<BronzeRow> rows, int produced)
    {
        var check = await BronzeTable.Open(lake, engine.Engine).Table.CheckAsync(deep: true);
        Assert.True(check.IsHealthy, string.Join("\n", check.Findings));
        var ids = rows.Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();
        var lost = Enumerable.Range(0, produced).Select(Payload).Except(ids, StringComparer.Ordinal).Count();
        var duplicated = ids.Count - ids.Distinct(StringComparer.Ordinal).Count();
        var duplicatedPositions = rows.Count - rows.Select(r => (r.Partition, r.Offset)).Distinct().Count();
        output.WriteLine($"produced {produced}, bronze {rows.Count}, lost {lost}, duplicated {duplicated} (by position {duplicatedPositions}); check: {check.Findings.Count} finding(s)");
        Assert.Equal((0, 0, 0), (lost, duplicated, duplicatedPositions));
        Assert.Equal(produced, rows.Count);
        var ends = Cluster.EndOffsets(_topic);
        var positions = await BronzeTable.Open(lake, engine.Engine).PositionsAsync($"kafka/{_topic}/");
        Assert.Equal(ends.Where(e => e.Value > 0).ToDictionary(e => $"kafka/{_topic}/{e.Key}", e => e.Value).OrderBy(e => e.Key), positions.OrderBy(e => e.Key));
    }

    private async Task<IReadOnlyList<BronzeRow>> WaitForRowsAsync(ILakeStorage lake, int count, Task run)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var rows = await BronzeRows.ReadAsync(engine.Engine, lake);
            if (rows.Count >= count) return rows;
            if (run.IsCompleted) await run; // its failure, if any
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"bronze holds {rows.Count} rows, not {count}, after 45 s");
            await Task.Delay(200);
        }
    }
}
