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
}
