using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;

namespace Lakehouse.Cli.Tests.Kafka;

/// <summary>One librdkafka mock cluster (3 brokers) for the class; each test has its own topic, group and lake.</summary>
public sealed class KafkaClusterFixture : IDisposable
{
    public KafkaMockCluster Cluster { get; } = KafkaMockCluster.Start();

    public void Dispose() => Cluster.Dispose();
}

/// <summary>
/// <c>lakehouse bronze ingest --from kafka://…</c> as a user runs it: the real binary in child processes, kcat producing into
/// librdkafka's mock cluster, SIGKILL at arbitrary moments, and bronze checked afterwards by source position, count and payload.
/// </summary>
public sealed partial class KafkaIngestCliTests(EngineFixture engine, KafkaClusterFixture kafka) : IClassFixture<EngineFixture>, IClassFixture<KafkaClusterFixture>, IDisposable
{
    private readonly TempDirectory _lake = new("cli-kafka");
    private readonly string _topic = "weblogs" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _group = "bronze" + Guid.NewGuid().ToString("N")[..8];

    private KafkaMockCluster Cluster => kafka.Cluster;

    private string Table => _lake.Combine("bronze", "weblogs");

    private static readonly Dictionary<string, string> KafkaEnvironment = new() { ["LAKEHOUSE_KAFKA_PROPERTIES"] = KafkaMockCluster.FastGroupProperties };

    public void Dispose() => _lake.Dispose();

    /// <summary>A web-log event of about 200 bytes, unique by its number.</summary>
    internal static string WebLog(int i) =>
        $$"""{"event_id":"ev-{{i:D8}}","timestamp":"2026-11-30T10:{{i / 60 % 60:D2}}:{{i % 60:D2}}Z","page_url":"/products/{{i % 2000}}?utm_source=news&ref=x{{i % 13}}","tti_ms":{{(i * 37) % 4000}},"ttar_ms":{{(i * 11) % 900}},"status":{{(i % 50 == 0 ? 503 : 200)}},"session_id":"s{{i % 977}}","country":"DE"}""";

    private string[] Ingest(params string[] args) =>
        ["bronze", "ingest", "--lake", _lake.Path, "--dataset", "weblogs", "--from", Cluster.Uri(_topic), "--group", _group, .. args];

    private async Task<long> LandedAsync() => (await BronzeRows.PositionsAsync(engine.Engine, Table, $"kafka/{_topic}/")).Values.Sum();

    private async Task AssertEveryMessageOnceAsync(IReadOnlyCollection<string> produced)
    {
        var rows = await BronzeRows.ReadAsync(engine.Engine, Table);
        Assert.Equal(produced.Count, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => (r.Partition, r.Offset)).Distinct().Count());
        Assert.Equal(produced.Order(StringComparer.Ordinal), rows.Select(r => Encoding.UTF8.GetString(r.Payload)).Order(StringComparer.Ordinal));
        var ends = Cluster.EndOffsets(_topic);
        var positions = await BronzeRows.PositionsAsync(engine.Engine, Table, $"kafka/{_topic}/");
        foreach (var (partition, end) in ends.Where(e => e.Value > 0))
        {
            Assert.Equal(end, positions[$"kafka/{_topic}/{partition}"]);
            var p = partition.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), rows.Where(r => r.Partition == p).Select(r => r.Offset!.Value).Order());
        }
    }

    private async Task WaitForAsync(Func<Task<bool>> condition, string what, params CliProcess[] processes)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
                Assert.Fail($"Timed out waiting for {what}; landed {await LandedAsync()}. " + string.Join("\n---\n", processes.Select(p => p.Stderr)));
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task BronzeIngestFollow_SigKilledMidStreamAndRestarted_EveryMessageExactlyOnce()
    {
        Cluster.CreateTopic(_topic);
        var lines = Enumerable.Range(0, 30_000).Select(WebLog).ToList();
        var next = 0;
        List<string> Take(int count)
        {
            var taken = lines.GetRange(next, Math.Min(count, lines.Count - next));
            next += taken.Count;
            return taken;
        }

        var unsent = new List<string>();
        var random = new Random(8);
        var killedWithWorkLeft = 0;
        for (var run = 0; run < 4; run++)
        {
            // Each run starts with a backlog, and kcat keeps producing while it runs and when it is killed.
            await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, Take(3_000));
            var trickle = Take(3_000);
            using var stopTrickle = new CancellationTokenSource();
            var producing = Task.Run(async () =>
            {
                await using var producer = Kcat.StartProducer(Cluster.BootstrapServers, _topic);
                var sent = 0;
                foreach (var chunk in trickle.Chunk(50))
                {
                    if (stopTrickle.IsCancellationRequested) break;
                    foreach (var line in chunk) await producer.WriteLineAsync(line);
                    await producer.FlushAsync();
                    sent += chunk.Length;
                    await Task.Delay(200);
                }
                await producer.CompleteAsync();
                return sent;
            });
            var before = await LandedAsync();
            using var ingest = CliRunner.Start(Ingest("--follow", "--max-batch-ms", "150", "--max-batch-events", "500"), environment: KafkaEnvironment);
            await WaitForAsync(async () => await LandedAsync() > before, $"run {run} to commit", ingest);
            await Task.Delay(random.Next(0, 300));
            // A burst just before the kill, so the kill finds events waiting even when the ingest has caught up with the trickle.
            await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, Take(500));
            var onBroker = Cluster.EndOffsets(_topic).Values.Sum();
            await ingest.SignalAsync("KILL");
            Assert.Equal(137, (await ingest.WaitAsync()).ExitCode);
            if (await LandedAsync() < onBroker) killedWithWorkLeft++;
            await stopTrickle.CancelAsync();
            // What the trickle did not send is sent after the last kill.
            unsent.AddRange(trickle[await producing..]);
        }
        Assert.True(killedWithWorkLeft >= 3, $"only {killedWithWorkLeft} of 4 kills came while events were waiting to be ingested");
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, [.. unsent, .. Take(lines.Count)]);

        using (var last = CliRunner.Start(Ingest("--follow", "--max-batch-ms", "150"), environment: KafkaEnvironment))
        {
            await WaitForAsync(async () => await LandedAsync() >= lines.Count, "the last run to catch up", last);
            await last.SignalAsync("INT");
            var result = await last.WaitAsync();
            Assert.Equal(130, result.ExitCode);
        }

        await AssertEveryMessageOnceAsync(lines);
    }

    [Fact]
    public async Task BronzeIngest_TwoWorkersOfOneGroup_SplitThePartitionsAndTogetherLandEveryMessageOnceAcrossAKill()
    {
        var partitions = Cluster.CreateTopic(_topic);
        var lines = Enumerable.Range(0, 24_000).Select(WebLog).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, lines[..8_000]);

        using var a = CliRunner.Start(["--verbose", .. Ingest("--follow", "--max-batch-ms", "150", "--max-batch-events", "1000")], environment: KafkaEnvironment);
        using var b = CliRunner.Start(["--verbose", .. Ingest("--follow", "--max-batch-ms", "150", "--max-batch-events", "1000")], environment: KafkaEnvironment);
        // Both members own partitions at the same time, and none twice.
        await WaitForAsync(() => Task.FromResult(Owned(a.Stderr).Count > 0 && Owned(b.Stderr).Count > 0 && Owned(a.Stderr).Count + Owned(b.Stderr).Count == partitions),
            "both workers to own partitions", a, b);
        Assert.Empty(Owned(a.Stderr).Intersect(Owned(b.Stderr)));
        var ownedByA = Owned(a.Stderr);

        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, lines[8_000..16_000]);
        await WaitForAsync(async () => await LandedAsync() >= 12_000, "the two workers to land events", a, b);
        await a.SignalAsync("KILL");
        // The rest goes into a's partitions only (unkeyed, kcat could put all of it into b's and prove nothing).
        var aPartitions = ownedByA.Select(int.Parse).Order().ToArray();
        var rest = lines[16_000..];
        for (var i = 0; i < aPartitions.Length; i++)
            await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, rest.Where((_, n) => n % aPartitions.Length == i), aPartitions[i]);

        // After the group drops the dead member, b takes its partitions over from bronze's positions.
        await WaitForAsync(async () => await LandedAsync() >= lines.Count, "b to land everything", b);
        await WaitForAsync(() => Task.FromResult(ownedByA.IsSubsetOf(Owned(b.Stderr))), $"b to own a's partitions [{string.Join(",", ownedByA)}]", b);
        await b.SignalAsync("INT");
        Assert.Equal(130, (await b.WaitAsync()).ExitCode);
        await AssertEveryMessageOnceAsync(lines);
    }

    [Fact]
    public async Task BronzeIngestOnce_WhileKcatKeepsProducing_StopsAtTheEndOffsetsFoundAtStart()
    {
        Cluster.CreateTopic(_topic);
        var lines = Enumerable.Range(0, 50_000).Select(WebLog).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, lines[..5_000]);
        using var stop = new CancellationTokenSource();
        var produced = 5_000;
        var producing = Task.Run(async () =>
        {
            await using var producer = Kcat.StartProducer(Cluster.BootstrapServers, _topic);
            foreach (var chunk in lines[5_000..].Chunk(100))
            {
                if (stop.IsCancellationRequested) break;
                foreach (var line in chunk) await producer.WriteLineAsync(line);
                await producer.FlushAsync();
                Interlocked.Add(ref produced, chunk.Length);
                await Task.Delay(50);
            }
            await producer.CompleteAsync();
        });

        var result = await CliRunner.RunAsync(KafkaEnvironment, Ingest("--once", "--json"));
        var stillProducing = !producing.IsCompleted;
        await stop.CancelAsync();
        await producing;

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(stillProducing, "kcat had finished before --once ended: the test proves nothing");
        using var summary = JsonDocument.Parse(result.Stdout);
        var positions = summary.RootElement.GetProperty("positions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var events = summary.RootElement.GetProperty("events").GetInt64();
        Assert.Equal(positions.Values.Sum(), events);
        Assert.InRange(events, 5_000, Volatile.Read(ref produced) - 1);
        // What bronze holds is exactly what the summary says: each partition from 0 to its end at start.
        var rows = await BronzeRows.ReadAsync(engine.Engine, Table);
        Assert.Equal(events, rows.Count);
        foreach (var (partition, end) in positions)
            Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), rows.Where(r => r.Partition == partition).Select(r => r.Offset!.Value).Order());
    }

    [Fact]
    public async Task BronzeIngest_GroupOffsetsCommittedElsewhere_RestartResumesAtBronzesPosition()
    {
        Cluster.CreateTopic(_topic);
        var lines = Enumerable.Range(0, 3_000).Select(WebLog).ToList();
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, lines[..2_000]);
        var first = await CliRunner.RunAsync(KafkaEnvironment, Ingest("--once", "--json"));
        Assert.True(first.ExitCode == 0, first.Stderr);

        // A wrong offset in the group: back to 0 for half the partitions, past the end for the others.
        var ends = Cluster.EndOffsets(_topic);
        Cluster.CommitGroupOffsets(_group, _topic, ends.ToDictionary(e => e.Key, e => e.Key % 2 == 0 ? 0 : e.Value + 500));
        await Kcat.ProduceLinesAsync(Cluster.BootstrapServers, _topic, lines[2_000..]);
        var second = await CliRunner.RunAsync(KafkaEnvironment, Ingest("--once", "--json"));

        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal(1_000, JsonDocument.Parse(second.Stdout).RootElement.GetProperty("events").GetInt64());
        await AssertEveryMessageOnceAsync(lines);
    }

    [Fact]
    public async Task BronzeIngest_ValueThatIsNotUtf8_LandsByteExact()
    {
        Cluster.CreateTopic(_topic);
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        bytes[0] = 0xff;
        var file = _lake.Combine("value.bin");
        await File.WriteAllBytesAsync(file, bytes);
        await Kcat.ProduceFileAsync(Cluster.BootstrapServers, _topic, file, partition: 3, key: "device-9");

        var result = await CliRunner.RunAsync(KafkaEnvironment, Ingest("--once"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        var row = Assert.Single(await BronzeRows.ReadAsync(engine.Engine, Table));
        Assert.Equal(bytes, row.Payload);
        Assert.Equal(("3", 0L, "device-9"), (row.Partition, row.Offset!.Value, row.Key));
    }

    [Fact]
    public async Task BronzeIngest_TopicThatDoesNotExist_FailsNamingIt()
    {
        var result = await CliRunner.RunAsync(KafkaEnvironment, Ingest("--once"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Kafka topic '{_topic}' does not exist at {Cluster.BootstrapServers}", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Table));
    }

    [Fact]
    public async Task BronzeIngest_EventHubsConnectionStringForAnotherNamespace_RefusedWithoutPrintingTheSecret()
    {
        var secret = "Sec" + Guid.NewGuid().ToString("N") + "=";
        var environment = new Dictionary<string, string>
        {
            ["LAKEHOUSE_KAFKA_CONNECTION_STRING"] = $"Endpoint=sb://lake-ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={secret}",
        };

        var result = await CliRunner.RunAsync(environment, "--verbose", "bronze", "ingest", "--lake", _lake.Path, "--dataset", "weblogs", "--from", "kafka://127.0.0.1:9093/weblogs", "--once");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("LAKEHOUSE_KAFKA_CONNECTION_STRING is for the Event Hubs namespace 'lake-ns.servicebus.windows.net', but the URI names the broker '127.0.0.1'", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, result.Stderr + result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The partitions a worker owns now, from its --verbose log: assignments (5101, 5110) minus revocations (5102).</summary>
    private static HashSet<string> Owned(string stderr)
    {
        var owned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in stderr.Split('\n'))
        {
            if (AssignedLine().Match(line) is { Success: true } assigned) owned.Add(assigned.Groups[1].Value);
            else if (RevokedLine().Match(line) is { Success: true } revoked)
                foreach (var p in revoked.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) owned.Remove(p);
        }
        return owned;
    }

    [GeneratedRegex(@"\[51(?:01|10) [^\]]*\] Assigned partition (\d+) of")]
    private static partial Regex AssignedLine();

    [GeneratedRegex(@"\[5102 [^\]]*\] Partitions (.*?) of '")]
    private static partial Regex RevokedLine();
}
