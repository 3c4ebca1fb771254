using System.Text;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests;

public sealed class BronzeTableTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("bronze-table");

    public void Dispose() => _temp.Dispose();

    private BronzeTable Open() => BronzeTable.Open(LakeStorage.Open(_temp.Combine("bronze/weblogs")), fixture.Engine);

    private static BronzeEvent Kafka(string partition, long offset, byte[] payload) =>
        new(payload, new SourcePosition(SourceKinds.Kafka, "events", partition, offset, null), DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + offset), "k" + offset);

    private static DeltaAppTransaction Position(string partition, long next, long previous) =>
        new(StreamIngestor.AppId(SourceKinds.Kafka, "events", partition), next) { Previous = previous };

    [Fact]
    public async Task CommitAsync_BytesThatAreNotUtf8_KeptExactlyWithPositionAndPartitionedByIngestDate()
    {
        var table = Open();
        byte[] invalid = [0xff, 0xfe, 0x00, 0x41, 0xc3];
        var ingest = new DateTimeOffset(2026, 11, 30, 23, 59, 59, TimeSpan.Zero);
        var result = await table.CommitAsync([Kafka("0", 7, invalid), Kafka("0", 8, Encoding.UTF8.GetBytes("{\"a\":1}"))], [Position("0", 9, -1)], ingest);

        Assert.True(result.Committed);
        Assert.Equal(2, result.Metric("numOutputRows"));
        using var lease = fixture.Engine.Lease();
        var snapshot = await table.Table.GetSnapshotAsync();
        Assert.Equal(["ingest_date"], snapshot.PartitionColumns);
        Assert.All(snapshot.Files, f => Assert.Equal("2026-11-30", f.PartitionValues["ingest_date"]));
        using var rows = lease.Connection.Query($"""
            SELECT payload, source_kind, source, source_partition, source_offset, source_line, source_key, epoch_ms(enqueued_time), ingest_time = TIMESTAMPTZ '2026-11-30 23:59:59+00'
            FROM read_parquet([{string.Join(", ", snapshot.Files.Select(f => $"'{_temp.Combine("bronze/weblogs", Uri.UnescapeDataString(f.Path))}'"))}]) ORDER BY source_offset
            """);
        Assert.True(rows.Read());
        Assert.Equal(invalid, (byte[])rows.GetValue(0)!);
        Assert.Equal(("kafka", "events", "0", 7L, true, "k7"), (rows.GetString(1), rows.GetString(2), rows.GetString(3), rows.GetInt64(4), rows.IsNull(5), rows.GetString(6)));
        Assert.Equal(1_700_000_000_007L, rows.GetInt64(7));
        Assert.True(rows.GetBoolean(8));
        Assert.True(rows.Read());
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString((byte[])rows.GetValue(0)!));
        Assert.False(rows.Read());
        Assert.Equal(new Dictionary<string, long> { ["kafka/events/0"] = 9 }, await table.PositionsAsync("kafka/events/"));
    }

    [Fact]
    public async Task CommitAsync_SameBatchAgain_CommitsNothing()
    {
        var table = Open();
        var batch = new[] { Kafka("1", 0, [1]), Kafka("1", 1, [2]) };
        Assert.True((await table.CommitAsync(batch, [Position("1", 2, -1)])).Committed);
        var again = await table.CommitAsync(batch, [Position("1", 2, -1)]);
        Assert.False(again.Committed);
        Assert.Equal(0, again.Version);
    }

    [Fact]
    public async Task CommitAsync_BatchPlannedFromStalePosition_RefusedAsConflictAndNothingWritten()
    {
        var table = Open();
        Assert.True((await table.CommitAsync([Kafka("2", 0, [1]), Kafka("2", 1, [2])], [Position("2", 2, -1)])).Committed);
        // A second worker read from the beginning before the first committed: offsets 0..2, start -1, next 3.
        var error = await Assert.ThrowsAsync<LakehouseException>(() =>
            table.CommitAsync([Kafka("2", 0, [1]), Kafka("2", 1, [2]), Kafka("2", 2, [3])], [Position("2", 3, -1)]));
        Assert.Equal(LakehouseErrorReason.Conflict, error.Reason);
        Assert.Contains("'kafka/events/2' at 2, not at -1", error.Message, StringComparison.Ordinal);
        var snapshot = await table.Table.GetSnapshotAsync();
        Assert.Equal(0, snapshot.Version);
        Assert.Single(snapshot.Files);
        Assert.Single(Directory.GetFiles(_temp.Combine("bronze/weblogs"), "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task CommitAsync_PositionsWithoutEvents_RecordsProgressOnly()
    {
        var table = Open();
        var result = await table.CommitAsync([], [new DeltaAppTransaction("file/landing/a.json@12", 1)]);
        Assert.True(result.Committed);
        Assert.Equal(0, result.Metric("numOutputRows"));
        Assert.Equal(1, (await table.PositionsAsync("file/"))["file/landing/a.json@12"]);
        Assert.False((await table.CommitAsync([], [new DeltaAppTransaction("file/landing/a.json@12", 1)])).Committed);
    }

    [Fact]
    public async Task CommitAsync_HttpStreamAndKeylessEventsInOneBatch_EachRowItsOwnColumnsOneIngestTimeAndItsUtcDate()
    {
        var table = Open();
        var enqueued = new DateTimeOffset(2026, 11, 30, 20, 0, 0, 123, TimeSpan.FromHours(-5));
        // Two instances of the same request id: one source all the same.
        var request = new string("r1".AsSpan());
        BronzeEvent[] events =
        [
            new([], new SourcePosition(SourceKinds.Http, "r1", null, 0, 1)),
            new([0xff, 0x00], new SourcePosition(SourceKinds.Http, request, null, 1, 2)),
            new([7], new SourcePosition(SourceKinds.Kafka, "events", "3", 41, null), enqueued, Key: "k"),
            new([8], new SourcePosition(SourceKinds.Kafka, "events", "3", 42, null), EnqueuedTime: enqueued),
            new([9], new SourcePosition(SourceKinds.EventHubs, "hub", "0", 5, null), Key: "only-a-key"),
        ];
        // 01:30 at +03:00 is 22:30 UTC the day before: ingest_date is the UTC date.
        var ingest = new DateTimeOffset(2026, 12, 1, 1, 30, 0, 456, TimeSpan.FromHours(3)).AddTicks(7_891);

        Assert.True((await table.CommitAsync(events, [Position("3", 43, -1)], ingest)).Committed);

        var snapshot = await table.Table.GetSnapshotAsync();
        Assert.Equal(["2026-11-30"], snapshot.Files.Select(f => f.PartitionValues["ingest_date"]).Distinct());
        var rows = await Landing.BronzeRows.QueryAsync(table, fixture.Engine, """
            SELECT hex(payload), source_kind, source, source_partition, source_offset, source_line, source_key, epoch_ms(enqueued_time), epoch_us(ingest_time)
            FROM bronze ORDER BY source_kind, source_offset
            """);
        long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();
        Assert.Equal(
            [
                ["09", "eventhubs", "hub", "0", 5L, null, "only-a-key", null],
                ["", "http", "r1", null, 0L, 1L, null, null],
                ["FF00", "http", "r1", null, 1L, 2L, null, null],
                ["07", "kafka", "events", "3", 41L, null, "k", Ms(enqueued)],
                ["08", "kafka", "events", "3", 42L, null, null, Ms(enqueued)],
            ],
            rows.Select(r => r[..8]).ToList());
        Assert.All(rows, r => Assert.Equal((ingest.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, r[8]));
    }

    [Fact]
    public async Task Stage_SourceRemoved_OnlyItsRowsLeaveAndTheOthersCommit()
    {
        var table = Open();
        using var stage = table.CreateStage();
        var a = stage.AddSource(SourceKinds.File, "landing/a.ndjson", null);
        var b = stage.AddSource(SourceKinds.Capture, "landing/b.avro", "1");
        Assert.Equal(a, stage.AddSource(SourceKinds.File, "landing/a.ndjson", null));
        stage.Add(a, "x"u8, 0, 1);
        stage.Add(b, "y"u8, 17, 1, "key", DateTimeOffset.UnixEpoch);
        stage.Add(b, "z"u8, 18, 2, null, null);
        stage.RemoveSource(b);
        stage.Add(a, "w"u8, 2, 2);
        stage.Seal();

        Assert.True((await table.CommitAsync(stage, [new DeltaAppTransaction("file/landing/a.ndjson", 1)])).Committed);

        var rows = await Landing.BronzeRows.QueryAsync(table, fixture.Engine, "SELECT decode(payload), source_kind, source, source_line FROM bronze ORDER BY source_line");
        Assert.Equal([["x", "file", "landing/a.ndjson", 1L], ["w", "file", "landing/a.ndjson", 2L]], rows);
    }
}
