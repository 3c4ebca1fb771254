using System.Text;
using Lakehouse.Delta.Write;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Lakehouse.Testing.Kafka;

namespace Lakehouse.Bronze.Tests;

/// <summary>
/// The ingestor's rules for a partition that changes hands while a batch is being buffered (a rebalance gives it away and back,
/// and the source asks for its position again). The real Kafka source cannot be made to hit these interleavings on cue, so a
/// scripted source replays them step by step against a real bronze table; the Kafka tests cover the same paths end to end.
/// </summary>
public sealed class StreamIngestorRebalanceTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private const string Topic = "clicks";
    private readonly TempDirectory _temp = new("ingestor-rebalance");

    public void Dispose() => _temp.Dispose();

    private string Folder => _temp.Combine("bronze", "weblogs");

    private BronzeTable Open() => BronzeTable.Open(LakeStorage.Open(Folder), fixture.Engine);

    private static BronzeEvent Event(long offset) =>
        new(Encoding.UTF8.GetBytes($"{{\"offset\":{offset}}}"), new SourcePosition(SourceKinds.Kafka, Topic, "0", offset, null));

    private static List<BronzeEvent> Events(long from, long to) => [.. Enumerable.Range((int)from, (int)(to - from)).Select(i => Event(i))];

    private async Task<StreamIngestProgress> RunAsync(ScriptedSource source, int maxBatchEvents = 1000) =>
        await new StreamIngestor(Open(), source, new StreamIngestOptions { Once = true, MaxBatchEvents = maxBatchEvents, MaxBatchWait = TimeSpan.FromMinutes(1) }).RunAsync();

    private async Task AssertOffsetsOnceAsync(long end)
    {
        var rows = await BronzeRows.ReadAsync(fixture.Engine, Folder);
        Assert.Equal(Enumerable.Range(0, (int)end).Select(i => (long)i), rows.Select(r => r.Offset!.Value).Order());
        Assert.All(rows, r => Assert.Equal($"{{\"offset\":{r.Offset}}}", Encoding.UTF8.GetString(r.Payload)));
        Assert.Equal(end, (await BronzeRows.PositionsAsync(fixture.Engine, Folder, $"kafka/{Topic}/"))[$"kafka/{Topic}/0"]);
    }

    [Fact]
    public async Task RunAsync_PartitionBackAfterAnotherWorkerAdvancedIt_StaleBatchRefusedThenResumedFromTheTable()
    {
        var table = Open();
        await table.CommitAsync(Events(0, 50), [new DeltaAppTransaction(StreamIngestor.AppId(SourceKinds.Kafka, Topic, "0"), 50) { Previous = -1 }]);
        var source = new ScriptedSource();
        source.Steps.Enqueue(async positionOf =>
        {
            Assert.Equal(50, await positionOf("0", CancellationToken.None));
            return Events(50, 60);
        });
        source.Steps.Enqueue(async positionOf =>
        {
            // Revoked; another worker lands 50..69; assigned back: the source asks for the position (70) and reads from there.
            await Open().CommitAsync(Events(50, 70), [new DeltaAppTransaction(StreamIngestor.AppId(SourceKinds.Kafka, Topic, "0"), 70) { Previous = 50 }]);
            Assert.Equal(70, await positionOf("0", CancellationToken.None));
            return Events(70, 80);
        });
        // After the refused commit the ingestor moves the source to the table's position: it reads 70..79 again.
        source.OnSeek = position => source.Steps.Enqueue(_ => Task.FromResult(Events(position!.Value, 80)));

        var result = await RunAsync(source);

        // The batch 50..59 + 70..79 started from 50, the table was at 70: refused whole, re-read from 70.
        Assert.Equal(20, result.DroppedOnConflict);
        Assert.Equal(10, result.Events);
        Assert.Equal([("0", (long?)70)], source.Seeks);
        await AssertOffsetsOnceAsync(80);
    }

    [Fact]
    public async Task RunAsync_PartitionBackWithNobodyInBetween_BufferedEventsReplacedByTheReRead()
    {
        var source = new ScriptedSource();
        source.Steps.Enqueue(async positionOf =>
        {
            Assert.Null(await positionOf("0", CancellationToken.None));
            return Events(0, 10);
        });
        source.Steps.Enqueue(async positionOf =>
        {
            Assert.Null(await positionOf("0", CancellationToken.None));
            return Events(0, 25); // the source starts again from the beginning
        });

        var result = await RunAsync(source);

        Assert.Equal(25, result.Events);
        Assert.Equal(0, result.DroppedOnConflict);
        await AssertOffsetsOnceAsync(25);
    }

    [Fact]
    public async Task RunAsync_ReReadOfEventsCommittedMeanwhile_SkippedNotLandedTwice()
    {
        var source = new ScriptedSource();
        long? askedAt = -1;
        source.Steps.Enqueue(async positionOf =>
        {
            // Assigned back while 0..9 were buffered: the position the source got was taken before they were committed.
            askedAt = await positionOf("0", CancellationToken.None);
            return Events(0, 10);
        });
        // The batch of 10 commits (max 10 events); then the source, restarted from the old position, sends 0..19.
        source.Steps.Enqueue(_ => Task.FromResult(Events(0, 20)));

        var result = await RunAsync(source, maxBatchEvents: 10);

        Assert.Null(askedAt);
        Assert.Equal(20, result.Events);
        await AssertOffsetsOnceAsync(20);
    }

    /// <summary>Plays its steps, one per <see cref="ReceiveAsync"/>; each step may call positionOf as a rebalance would.</summary>
    private sealed class ScriptedSource : IStreamSource
    {
        private Func<string, CancellationToken, Task<long?>>? _positionOf;

        public Queue<Func<Func<string, CancellationToken, Task<long?>>, Task<List<BronzeEvent>>>> Steps { get; } = new();

        public List<(string Partition, long? Position)> Seeks { get; } = [];

        public Action<long?>? OnSeek { get; set; }

        public string Kind => SourceKinds.Kafka;

        public string Name => Topic;

        public IReadOnlySet<string> OwnedPartitions { get; } = new HashSet<string> { "0" };

        public bool CaughtUp => Steps.Count == 0;

        public long? Lag => null;

        public Task StartAsync(Func<string, CancellationToken, Task<long?>> positionOf, bool once, CancellationToken cancellationToken)
        {
            _positionOf = positionOf;
            return Task.CompletedTask;
        }

        public async Task<IReadOnlyList<BronzeEvent>> ReceiveAsync(int maxEvents, TimeSpan maxWait, CancellationToken cancellationToken) =>
            Steps.Count == 0 ? [] : await Steps.Dequeue()(_positionOf!);

        public Task SeekAsync(string partition, long? position, CancellationToken cancellationToken)
        {
            Seeks.Add((partition, position));
            OnSeek?.Invoke(position);
            return Task.CompletedTask;
        }

        public Task AcknowledgeAsync(IReadOnlyDictionary<string, long> positions, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
