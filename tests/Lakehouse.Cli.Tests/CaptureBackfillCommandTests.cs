using System.Text;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Producer;
using Lakehouse.Bronze;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.EventHubs;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse bronze ingest</c> of an event hub's Capture files after its live stream, as child processes against the Event
/// Hubs stand-in: each event lands once, also when the Capture landing is SIGKILLed at the write path's crash points and run again.
/// </summary>
public sealed class CaptureBackfillCommandTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("cli-capture");
    private readonly EventHubsStandIn _hub = EventHubsStandIn.Start("weblogs", partitionCount: 2);

    public void Dispose()
    {
        _hub.Dispose();
        _temp.Dispose();
    }

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("capture");

    private Dictionary<string, string> Environment => new() { ["LAKEHOUSE_EVENTHUBS_CONNECTION_STRING"] = _hub.ConnectionString };

    private async Task ProduceAsync(string partition, int count)
    {
        await using var producer = new EventHubProducerClient(_hub.ConnectionString);
        using var batch = await producer.CreateBatchAsync(new CreateBatchOptions { PartitionId = partition });
        for (var i = 0; i < count; i++) Assert.True(batch.TryAdd(new EventData(Encoding.UTF8.GetBytes($"{{\"event_id\":\"{partition}-{Guid.NewGuid():N}\"}}"))));
        await producer.SendAsync(batch);
    }

    private void Capture(string partition, int first, int last, int minute) =>
        CaptureFiles.Write(CaptureFiles.PathOf(Landing, "myns", "weblogs", partition, new DateTime(2026, 11, 30, 9, minute, 0, DateTimeKind.Utc)),
            _hub.Events(partition).Skip(first).Take(last - first + 1));

    private string[] LandArgs => ["bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing, "--settle-ms", "0"];

    private async Task<List<(string Partition, long Sequence, string Kind, byte[] Payload)>> RowsAsync()
    {
        var table = BronzeTable.Open(LakeStorage.Open(Path.Combine(Lake, "bronze", "weblogs")), fixture.Engine);
        var snapshot = await table.Table.GetSnapshotAsync();
        var files = string.Join(", ", snapshot.Files.Select(f => $"'{Path.Combine(Lake, "bronze", "weblogs", Uri.UnescapeDataString(f.Path))}'"));
        using var lease = fixture.Engine.Lease();
        using var rows = lease.Connection.Query($"SELECT source_partition, source_offset, source_kind, payload FROM read_parquet([{files}]) ORDER BY 1, 2, 3");
        var result = new List<(string, long, string, byte[])>();
        while (rows.Read()) result.Add((rows.GetString(0), rows.GetInt64(1), rows.GetString(2), (byte[])rows.GetValue(3)!));
        return result;
    }

    [Fact]
    public async Task Ingest_CaptureKilledAtCrashPointsThenRerun_EachEventOnce()
    {
        await ProduceAsync("0", 30);
        await ProduceAsync("1", 20);
        var live = await CliRunner.RunAsync(Environment, "bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", $"eventhubs://{_hub.Namespace}/weblogs", "--once");
        Assert.True(live.ExitCode == 0, live.Stderr);
        await ProduceAsync("0", 10);
        Capture("0", 0, 19, minute: 0);
        Capture("0", 20, 39, minute: 5);
        Capture("1", 0, 19, minute: 0);

        var kills = 0;
        foreach (var point in new[] { "before-data-files:1", "after-data-files:1", "after-commit:1" })
        {
            var run = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_FAULT_POINT"] = point }, LandArgs);
            if (run.ExitCode == 137) kills++;
            else Assert.True(run.ExitCode == 0, $"{point}: exit {run.ExitCode}: {run.Stderr}");
        }
        var last = await CliRunner.RunAsync(LandArgs);

        Assert.Equal(3, kills);
        Assert.True(last.ExitCode == 0, last.Stderr);
        Assert.StartsWith("bronze.weblogs: 0 files ingested (0 events, 0 bytes) in 0 commits, 3 skipped as already ingested", last.Stdout, StringComparison.Ordinal);
        var rows = await RowsAsync();
        foreach (var (partition, count) in new[] { ("0", 40), ("1", 20) })
        {
            var of = rows.Where(r => r.Partition == partition).ToList();
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), of.Select(r => r.Sequence));
            Assert.Equal(_hub.Events(partition).Select(e => e.Body), of.Select(r => r.Payload));
        }
        Assert.Equal(Enumerable.Range(30, 10).Select(i => (long)i), rows.Where(r => r.Kind == "capture").Select(r => r.Sequence));
    }

    [Fact]
    public async Task Ingest_CaptureAfterLive_SummarySaysWhatWasHeldAndTheStreamResumesAfterIt()
    {
        await ProduceAsync("0", 12);
        var env = Environment;
        string[] liveArgs = ["bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", $"eventhubs://{_hub.Namespace}/weblogs", "--once"];
        Assert.Equal(0, (await CliRunner.RunAsync(env, liveArgs)).ExitCode);
        await ProduceAsync("0", 8);
        Capture("0", 0, 19, minute: 0);

        var landed = await CliRunner.RunAsync(LandArgs);
        var resumed = await CliRunner.RunAsync(env, liveArgs);

        Assert.True(landed.ExitCode == 0, landed.Stderr);
        Assert.Contains("1 files ingested (8 events,", landed.Stdout, StringComparison.Ordinal);
        Assert.Contains("; 12 Capture records skipped as already in bronze (from the live stream or other Capture files)", landed.Stdout, StringComparison.Ordinal);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.StartsWith("bronze.weblogs: 0 events", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(20, (await RowsAsync()).Count);
    }

    [Theory]
    [InlineData("my ns/weblogs", "--capture-hub: 'my ns/weblogs' is not an event hub: expected <hub> or <namespace>/<hub>")]
    [InlineData("a/b/c", "--capture-hub: 'a/b/c' is not an event hub")]
    public async Task Ingest_CaptureHubNotAHubName_UsageErrorSayingWhatIsExpected(string value, string message)
    {
        Directory.CreateDirectory(Landing);

        var run = await CliRunner.RunAsync([.. LandArgs, "--capture-hub", value]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_CaptureHubWithAStream_UsageError()
    {
        var run = await CliRunner.RunAsync(Environment, "bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", $"eventhubs://{_hub.Namespace}/weblogs", "--capture-hub", "weblogs");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--capture-hub are for files, not for streams", run.Stderr, StringComparison.Ordinal);
    }
}
