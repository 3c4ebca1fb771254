using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// Broker faults while one streaming ingest runs (no restart): a broker taken down and brought back, and partition leaders moved,
/// through librdkafka's mock-cluster C API (<see cref="KafkaMockCluster.Start"/>), while an idempotent Confluent
/// producer outside the ingestor keeps producing. Afterwards bronze must hold every produced message exactly once, by
/// partition/offset and by payload: the lost and duplicated counts are asserted to be 0 (and written to the test output).
/// </summary>
public sealed class KafkaBrokerFaultTests(EngineFixture engine, ITestOutputHelper output) : IClassFixture<EngineFixture>, IDisposable
{
    private const int Messages = 3000;

    private readonly TempDirectory _lake = new("kafka-faults");
    private readonly KafkaMockCluster _cluster = KafkaMockCluster.Start(brokers: 3);
    private readonly CapturingLoggerFactory _logs = new();
    private readonly string _topic = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _group = "g" + Guid.NewGuid().ToString("N")[..10];

    private string TableFolder => _lake.Combine("bronze", "clicks");

    public void Dispose()
    {
        _cluster.Dispose();
        _lake.Dispose();
    }

    private static string Payload(int i) => $$"""{"event_id":"e{{i:D6}}","n":{{i}}}""";

    [Fact]
    public async Task RunAsync_LeaderBrokerDownMidStreamAndBackUp_EveryMessageOnceWithoutRestart()
    {
        var partitions = _cluster.CreateTopic(_topic);
        // The broker that leads partition 0 goes down; it is also made the group's coordinator, so the member loses its
        // heartbeats and the group rebalances: the hardest case (assignment again from bronze's positions).
        var victim = _cluster.Leaders(_topic)[0];
        _cluster.SetGroupCoordinator(_group, victim);
        var led = _cluster.Leaders(_topic).Where(l => l.Value == victim).Select(l => l.Key).ToList();

        var faults = await RunWithFaultAsync(async (produced, clock) =>
        {
            await WaitUntilAsync(() => produced() >= Messages / 3, "a third of the messages produced");
            // Mid-stream: the member has its partitions and has committed some of them to bronze.
            await WaitUntilAsync(async () => (await BronzeRows.ReadAsync(engine.Engine, TableFolder)).Count > 0, "the first rows in bronze");
            _cluster.SetBrokerDown(victim);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: broker {victim} down (leads partitions {string.Join(",", led)}, coordinates group)");
            await Task.Delay(TimeSpan.FromSeconds(6)); // longer than the session timeout (4 s): the member loses the group
            _cluster.SetBrokerUp(victim);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: broker {victim} up");
        });

        Assert.Equal(4, partitions);
        Assert.NotEmpty(led);
        // What the user sees: librdkafka's complaint about the broker, as warnings of the source (event 5106 or 5108).
        Assert.Contains(faults, e => e.Level == LogLevel.Warning && e.Id.Id is 5106 or 5108 && e.Message.Contains("Connection refused", StringComparison.Ordinal));
        // The member lost its partitions with the coordinator and got them back at bronze's positions, in the same run: 5101, or
        // 5110 for a partition of which bronze held nothing yet when the broker went down (the first rows may all be of others).
        var lost = faults.ToList().FindIndex(e => e.Id.Id == 5102 && e.Message.Contains("were lost", StringComparison.Ordinal));
        Assert.True(lost >= 0, "no partitions were lost: the fault did not reach the group");
        var resumed = faults.Skip(lost).Where(e => e.Id.Id is 5101 or 5110).Select(e => (string)e.Values["Partition"]!).ToHashSet();
        Assert.Equal(Enumerable.Range(0, partitions).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToHashSet(), resumed);
    }

    [Fact]
    public async Task RunAsync_PartitionLeadersMoveMidStream_EveryMessageOnceWithoutRestart()
    {
        var partitions = _cluster.CreateTopic(_topic);
        var before = _cluster.Leaders(_topic);

        await RunWithFaultAsync(async (produced, clock) =>
        {
            await WaitUntilAsync(() => produced() >= Messages / 3, "a third of the messages produced");
            foreach (var (partition, leader) in before) _cluster.SetPartitionLeader(_topic, partition, leader % 3 + 1);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: leaders moved: {string.Join(", ", before.Select(b => $"{b.Key}: {b.Value}→{b.Value % 3 + 1}"))}");
            await WaitUntilAsync(() => produced() >= 2 * Messages / 3, "two thirds of the messages produced");
            foreach (var (partition, leader) in before) _cluster.SetPartitionLeader(_topic, partition, (leader + 1) % 3 + 1);
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: leaders moved again");
        });

        Assert.Equal(4, partitions);
        Assert.All(_cluster.Leaders(_topic), l => Assert.Equal((before[l.Key] + 1) % 3 + 1, l.Value));
    }

    /// <summary>
    /// Runs one ingestor (not --once) and a producer of <see cref="Messages"/> messages at about 500/s while <paramref name="fault"/>
    /// runs; waits until bronze holds as many rows as the topic has messages; asserts exactly-once; returns the captured log.
    /// </summary>
    private async Task<IReadOnlyList<CapturedEvent>> RunWithFaultAsync(Func<Func<int>, Stopwatch, Task> fault)
    {
        var clock = Stopwatch.StartNew();
        await using var source = BronzeSources.OpenStream(_cluster.Uri(_topic), new StreamSourceSettings
        {
            ConsumerGroup = _group,
            Setting = name => name == "LAKEHOUSE_KAFKA_PROPERTIES" ? KafkaMockCluster.FastGroupProperties : null,
            LoggerFactory = _logs,
        });
        var table = BronzeTable.Open(LakeStorage.Open(TableFolder), engine.Engine);
        var ingestor = new StreamIngestor(table, source, new StreamIngestOptions { MaxBatchWait = TimeSpan.FromMilliseconds(200) }, _logs);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var run = ingestor.RunAsync(stop.Token);

        var produced = 0;
        var producing = Task.Run(async () =>
        {
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = _cluster.BootstrapServers,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 5,
            }).Build();
            for (var i = 0; i < Messages; i++)
            {
                producer.Produce(_topic, new Message<Null, string> { Value = Payload(i) }, r =>
                {
                    if (r.Error.IsError) throw new InvalidOperationException($"Producing failed: {r.Error.Reason}");
                });
                Interlocked.Increment(ref produced);
                if (i % 50 == 49) await Task.Delay(100);
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        });
        await fault(() => Volatile.Read(ref produced), clock);
        await producing;
        var total = _cluster.EndOffsets(_topic).Values.Sum();
        Assert.Equal(Messages, total); // the idempotent producer wrote each message once

        // The same ingestor run, never restarted, catches up by itself.
        var rows = await WaitForRowsAsync(total, run);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: bronze holds {rows.Count} rows");
        Assert.False(run.IsCompleted, run.Exception?.ToString() ?? "the ingestor ended by itself");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        // Lost and duplicated, by payload (what the producer sent) and by partition/offset (what the broker holds).
        var ids = rows.Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();
        var sent = Enumerable.Range(0, Messages).Select(Payload).ToHashSet(StringComparer.Ordinal);
        var lost = sent.Count(p => !ids.Contains(p));
        var duplicated = ids.Count - ids.Distinct(StringComparer.Ordinal).Count();
        var duplicatedPositions = rows.Count - rows.Select(r => (r.Partition, r.Offset)).Distinct().Count();
        output.WriteLine($"produced {Messages}, bronze {rows.Count}, lost {lost}, duplicated {duplicated} (by position {duplicatedPositions})");
        Assert.Equal((0, 0, 0), (lost, duplicated, duplicatedPositions));
        Assert.All(ids, p => Assert.Contains(p, sent));
        var ends = _cluster.EndOffsets(_topic);
        foreach (var (partition, end) in ends)
        {
            var name = partition.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), rows.Where(r => r.Partition == name).Select(r => r.Offset!.Value).Order());
        }
        var positions = await BronzeRows.PositionsAsync(engine.Engine, TableFolder, $"kafka/{_topic}/");
        Assert.Equal(ends.Where(e => e.Value > 0).ToDictionary(e => $"kafka/{_topic}/{e.Key}", e => e.Value).OrderBy(e => e.Key), positions.OrderBy(e => e.Key));

        var events = _logs.Events;
        foreach (var e in events.Where(e => e.Level >= LogLevel.Warning || e.Id.Id is 5101 or 5102 or 5110)) output.WriteLine($"[{e.Id.Id}] {e.Level}: {e.Message}");
        return events;
    }

    private async Task<IReadOnlyList<BronzeRow>> WaitForRowsAsync(long count, Task run)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var rows = await BronzeRows.ReadAsync(engine.Engine, TableFolder);
            if (rows.Count >= count || DateTime.UtcNow > deadline || run.IsCompleted) return rows;
            await Task.Delay(250);
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 30 s for {what}.");
            await Task.Delay(20);
        }
    }
}
