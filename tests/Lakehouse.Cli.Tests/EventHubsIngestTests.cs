using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;
using Xunit.Abstractions;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse bronze ingest --from eventhubs://…</c> as a child process against the Event Hubs stand-in, fed by the real
/// EventHubProducerClient: SIGKILL at any point loses and repeats nothing, two workers split the partitions and one takes
/// over when the other dies, and --once stops at the end found at start.
/// </summary>
public sealed class EventHubsIngestTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>, IDisposable
{
    private const string Hub = "weblogs";
    private readonly TempDirectory _temp = new("cli-eventhubs");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start(Hub, partitionCount: 4);

    public void Dispose()
    {
        _hub.Dispose();
        _temp.Dispose();
    }

    private string Lake => _temp.Combine("lake");

    private string From => $"eventhubs://{_hub.Namespace}/{Hub}";

    private Dictionary<string, string> Environment => new()
    {
        ["LAKEHOUSE_EVENTHUBS_CONNECTION_STRING"] = _hub.ConnectionString,
        ["LAKEHOUSE_EVENTHUBS_LEASE_SECONDS"] = "3",
    };

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes(
        $"{{\"event_id\":\"e{i:D8}\",\"timestamp\":\"2026-11-30T12:00:00Z\",\"page_url\":\"/shop/item/{i % 2000}?utm_source=x\",\"tti_ms\":{i % 3000},\"ttar_ms\":{i % 700},\"status\":200,\"session_id\":\"s{i % 500}\"}}");

    private async Task ProduceAsync(int from, int count, TimeSpan pause = default)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        var sent = from;
        while (sent < from + count)
        {
            using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionKey = "s" + (sent % 11) });
            while (sent < from + count && batch.Count < 200 && batch.TryAdd(new EventData(Payload(sent)))) sent++;
            await producer.SendAsync(batch);
            if (pause > TimeSpan.Zero) await Task.Delay(pause);
        }
    }

    private BronzeTable Table() => BronzeTable.Open(LakeStorage.Open(Path.Combine(Lake, "bronze", "weblogs")), fixture.Engine);

    private async Task<long> CommittedEventsAsync() => (await Table().PositionsAsync($"eventhubs/{Hub}/")).Values.Sum();

    private int DeltaCommits()
    {
        var log = Path.Combine(Lake, "bronze", "weblogs", "_delta_log");
        return Directory.Exists(log) ? Directory.GetFiles(log, "*.json").Length : 0;
    }

    private CliProcess StartIngest(params string[] extra) =>
        CliRunner.Start(["bronze", "ingest", "--dataset", "weblogs", "--from", From, "--lake", Lake, "--max-batch-events", "500", "--max-batch-ms", "200", .. extra],
            environment: Environment);

    /// <summary>Bronze holds every event the stand-in holds exactly once: by partition and sequence number, count and bytes.</summary>
    private void AssertExactlyOnce()
    {
        var snapshot = Table().Table.GetSnapshotAsync().GetAwaiter().GetResult();
        var files = string.Join(", ", snapshot.Files.Select(f => $"'{Path.Combine(Lake, "bronze", "weblogs", Uri.UnescapeDataString(f.Path))}'"));
        using var lease = fixture.Engine.Lease();
        using var rows = lease.Connection.Query($"SELECT source_partition, source_offset, payload FROM read_parquet([{files}]) ORDER BY 1, 2");
        var byPartition = _hub.PartitionIds.ToDictionary(p => p, _ => new List<(long, byte[])>());
        while (rows.Read()) byPartition[rows.GetString(0)].Add((rows.GetInt64(1), (byte[])rows.GetValue(2)!));
        foreach (var p in _hub.PartitionIds)
        {
            var stored = _hub.Events(p);
            Assert.Equal(stored.Select(e => e.SequenceNumber), byPartition[p].Select(r => r.Item1));
            for (var i = 0; i < stored.Count; i++) Assert.Equal(stored[i].Body, byPartition[p][i].Item2);
        }
        Assert.Equal(_hub.TotalEvents, byPartition.Values.Sum(l => l.Count));
    }

    /// <summary>The owner of each partition's newest lease.</summary>
    private Dictionary<string, string> Owners()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var root = Path.Combine(Lake, "_lakehouse", "ownership", "bronze.weblogs", "eventhubs");
        if (!Directory.Exists(root)) return result;
        var folder = Directory.GetDirectories(root).Single();
        foreach (var partition in Directory.GetDirectories(Path.Combine(folder, Hub, "$Default")))
        {
            var newest = Directory.GetFiles(partition, "*.json").Order(StringComparer.Ordinal).LastOrDefault();
            if (newest is null) continue;
            try
            {
                result[Path.GetFileName(partition)] = JsonDocument.Parse(File.ReadAllText(newest)).RootElement.GetProperty("Owner").GetString()!;
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                // Deleted or being written between the listing and the read: the next poll sees it.
            }
        }
        return result;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return await condition();
    }

    [Fact]
    public async Task IngestFollow_SigKilledMidStreamAndRestarted_EveryEventExactlyOnce()
    {
        const int total = 30_000;
        var producing = ProduceAsync(0, total, TimeSpan.FromMilliseconds(15));
        var random = new Random(8);
        var kills = 0;
        while (kills < 5)
        {
            using var ingest = StartIngest("--follow");
            var commitsBefore = DeltaCommits();
            var target = commitsBefore + 1 + random.Next(3);
            Assert.True(await ingest.WaitUntilAsync(() => DeltaCommits() >= target), "no commit before the kill: " + ingest.Stderr);
            await Task.Delay(random.Next(300));
            await ingest.SignalAsync("KILL");
            var killed = await ingest.WaitAsync();
            Assert.Equal(137, killed.ExitCode);
            kills++;
            output.WriteLine($"kill {kills}: {await CommittedEventsAsync()} events committed, {_hub.TotalEvents} sent");
        }
        await producing;
        Assert.True(await CommittedEventsAsync() < total, "everything landed before the last kill: the kills were not mid-stream");

        var last = await CliRunner.RunAsync(Environment, "bronze", "ingest", "--dataset", "weblogs", "--from", From, "--lake", Lake, "--once", "--json");
        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.Equal(total, _hub.TotalEvents);
        Assert.Equal(total, await CommittedEventsAsync());
        AssertExactlyOnce();
    }

    [Fact]
    public async Task IngestFollow_TwoWorkers_SplitThePartitionsAndTheSurvivorTakesOverAKilledOne()
    {
        await ProduceAsync(0, 4000);
        using var first = StartIngest("--follow");
        using var second = StartIngest("--follow");
        Assert.True(await EventuallyAsync(async () =>
        {
            var owners = Owners();
            return owners.Count == 4 && owners.Values.Distinct().Count() == 2 && owners.Values.GroupBy(o => o).All(g => g.Count() == 2)
                && await CommittedEventsAsync() == 4000 && _hub.ReceiversByPartition.Values.All(n => n == 1);
        }, TimeSpan.FromMinutes(2)), $"owners {string.Join(", ", Owners())}; receivers {string.Join(", ", _hub.ReceiversByPartition)}; committed {await CommittedEventsAsync()}\n{first.Stderr}\n{second.Stderr}");

        await first.SignalAsync("KILL");
        Assert.Equal(137, (await first.WaitAsync()).ExitCode);
        await ProduceAsync(4000, 4000);
        Assert.True(await EventuallyAsync(async () => await CommittedEventsAsync() == 8000 && Owners().Values.Distinct().Count() == 1, TimeSpan.FromMinutes(2)),
            $"owners {string.Join(", ", Owners())}; committed {await CommittedEventsAsync()}\n{second.Stderr}");

        await second.SignalAsync("INT");
        var stopped = await second.WaitAsync();
        Assert.Equal(130, stopped.ExitCode);
        AssertExactlyOnce();
        Assert.All(Owners().Values, o => Assert.Equal("", o)); // Ctrl+C released the survivor's leases
    }

    [Fact]
    public async Task IngestOnce_Twice_EachRunLandsWhatWasThereAtItsStartAndExits()
    {
        await ProduceAsync(0, 2500);
        var first = await CliRunner.RunAsync(Environment, "bronze", "ingest", "--dataset", "weblogs", "--from", From, "--lake", Lake, "--once", "--json");
        Assert.True(first.ExitCode == 0, first.Stderr);
        using (var json = JsonDocument.Parse(first.Stdout))
        {
            Assert.Equal(2500, json.RootElement.GetProperty("events").GetInt64());
            Assert.Equal(_hub.PartitionIds.Where(p => _hub.Events(p).Count > 0).ToDictionary(p => p, p => (long)_hub.Events(p).Count),
                json.RootElement.GetProperty("positions").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()));
        }
        await ProduceAsync(2500, 600);
        var second = await CliRunner.RunAsync(Environment, "bronze", "ingest", "--dataset", "weblogs", "--from", From, "--lake", Lake, "--once");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.StartsWith("bronze.weblogs: 600 events", second.Stdout, StringComparison.Ordinal);
        AssertExactlyOnce();
    }

    [Fact]
    public async Task Ingest_NoConnectionStringForAnotherNamespace_ExitOneNamingTheMismatchWithoutTheKey()
    {
        var env = Environment;
        env["LAKEHOUSE_EVENTHUBS_CONNECTION_STRING"] = $"Endpoint=sb://elsewhere.servicebus.windows.net;SharedAccessKeyName=k;SharedAccessKey={EventHubsStandIn.Key}";
        var result = await CliRunner.RunAsync(env, "bronze", "ingest", "--dataset", "weblogs", "--from", From, "--lake", Lake, "--once");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'elsewhere.servicebus.windows.net'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'{_hub.Namespace}'", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(EventHubsStandIn.Key, result.Stderr + result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Lake, "bronze", "weblogs", "_delta_log")));
    }
}
