using System.Text;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>
/// Txns under a <c>lakehouse.txnRetentionDuration.&lt;prefix&gt;</c> property expire by the table's own clock (the newest
/// <c>lastUpdated</c> of its txns), the same whichever way the version is read; <see cref="DeltaWriter.SetPropertiesAsync"/> puts the property on a table that exists.
/// </summary>
public sealed class TxnRetentionTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const long T0 = 1_700_000_000_000;
    private const long Hour = 3_600_000;
    private static readonly string Retention = DeltaWriteOptions.TxnRetentionProperty("http/idempotency-");

    private readonly DuckEngine _engine = fixture.Engine;

    private static string LogFile(LocalTable t, string name) => Path.Combine(t.Root, "_delta_log", name);

    /// <summary>Writes commit <paramref name="version"/> by hand: its commit time and txns (appId, lastUpdated or null).</summary>
    private static Task CommitAsync(LocalTable t, long version, long timestamp, params (string AppId, long? LastUpdated)[] txns)
    {
        var lines = new StringBuilder($"{{\"commitInfo\":{{\"timestamp\":{timestamp},\"operation\":\"WRITE\"}}}}\n");
        foreach (var (appId, updated) in txns)
            lines.Append($"{{\"txn\":{{\"appId\":{JsonSerializer.Serialize(appId)},\"version\":1{(updated is { } u ? $",\"lastUpdated\":{u}" : "")}}}}}\n");
        return File.WriteAllTextAsync(LogFile(t, $"{version:D20}.json"), lines.ToString());
    }

    private static List<string> Ids(DeltaSnapshot s) => [.. s.Transactions.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Snapshot_TxnsUnderTheProperty_ExpireOnceANewerTxnIsTheRetentionPastThem()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { [Retention] = "interval 1 hour" } });
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await CommitAsync(t, 1, T0,
            ("http/idempotency-key/a", T0), ("http/idempotency-version/a", T0), ("http/idempotency-key/no-time", null),
            ("kafka/events/0", T0), ("file/landing/x.json@1/2", T0), ("HTTP/idempotency-key/case", T0));
        await CommitAsync(t, 2, T0 + Hour - 1, ("http/idempotency-key/b", T0 + Hour - 1));
        await CommitAsync(t, 3, T0 + Hour, ("kafka/events/1", T0 + Hour));

        // Version 2's newest txn is 1 ms short of an hour after key a: nothing has expired.
        Assert.Equal(
            ["HTTP/idempotency-key/case", "file/landing/x.json@1/2", "http/idempotency-key/a", "http/idempotency-key/b", "http/idempotency-key/no-time", "http/idempotency-version/a", "kafka/events/0"],
            Ids(await t.Table.GetSnapshotAsync(2)));
        // Version 3's is an hour after: both txns of key a are gone; the key without a time, other prefixes (in another case too) stay.
        string[] atThree = ["HTTP/idempotency-key/case", "file/landing/x.json@1/2", "http/idempotency-key/b", "http/idempotency-key/no-time", "kafka/events/0", "kafka/events/1"];
        Assert.Equal(atThree, Ids(await t.Table.GetSnapshotAsync(3)));
        Assert.Equal(atThree, Ids(await t.Table.GetSnapshotAsync(3, withFiles: false, default)));

        // The checkpoint of version 3 holds what the snapshot holds, and reading from it gives the same txns (the commit files'
        // modification times, now, have no say: the clock is the txns' own).
        Assert.Equal(3, await t.Writer.CheckpointAsync());
        using (var lease = _engine.Lease())
        {
            using var r = lease.Connection.Query(
                $"SELECT count(*) FROM read_parquet({SqlText.Literal(LogFile(t, "00000000000000000003.checkpoint.parquet"))}) WHERE txn IS NOT NULL");
            r.Read();
            Assert.Equal(atThree.Length, r.GetInt64(0));
        }
        foreach (var v in Enumerable.Range(0, 3)) File.Delete(LogFile(t, $"{v:D20}.json"));
        Assert.Equal(atThree, Ids(await t.Table.GetSnapshotAsync()));
        Assert.Equal(atThree, Ids(await t.Table.GetSnapshotAsync(null, withFiles: false, default)));

        // Key a committed again is a new marker, held for another hour.
        await CommitAsync(t, 4, T0 + (2 * Hour), ("http/idempotency-key/a", T0 + (2 * Hour)));
        var four = await t.Table.GetSnapshotAsync();
        Assert.Equal(T0 + (2 * Hour), four.Transactions["http/idempotency-key/a"].LastUpdated);
        Assert.DoesNotContain("http/idempotency-key/b", four.Transactions.Keys); // b's hour ended at T0 + 2h - 1
        Assert.Single(four.Files);
    }

    [Theory]
    [InlineData("seven days")]
    [InlineData("")]
    [InlineData("interval -1 days")]
    public async Task Snapshot_ARetentionThatIsNoInterval_ExpiresNothing(string value)
    {
        // Another engine may write any text there: a marker kept is always safe, one dropped would let its data in again.
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        var metadata = File.ReadAllLines(LogFile(t, "00000000000000000000.json")).Single(l => l.StartsWith("{\"metaData\"", StringComparison.Ordinal));
        var edited = metadata.Replace("\"configuration\":{}", $"\"configuration\":{{{JsonSerializer.Serialize(Retention)}:{JsonSerializer.Serialize(value)}}}", StringComparison.Ordinal);
        Assert.NotEqual(metadata, edited);
        await File.WriteAllTextAsync(LogFile(t, "00000000000000000001.json"), $"{{\"commitInfo\":{{\"timestamp\":{T0},\"operation\":\"SET TBLPROPERTIES\"}}}}\n{edited}\n");
        await CommitAsync(t, 2, T0, ("http/idempotency-key/a", T0));
        await CommitAsync(t, 3, T0 + (1000 * Hour), ("kafka/events/0", T0 + (1000 * Hour)));

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(value, snapshot.Property(Retention));
        Assert.Equal(["http/idempotency-key/a", "kafka/events/0"], Ids(snapshot));
    }

    [Fact]
    public async Task SetPropertiesAsync_OnATableThatExists_CommitsTheMetadataAndTheRetentionApplies()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2), [new DeltaAppTransaction("http/idempotency-key/k", 7), new DeltaAppTransaction("stream/0", 3)]);

        var set = await t.Writer.SetPropertiesAsync(new Dictionary<string, string> { [Retention] = "interval 1 millisecond", ["owner"] = "ops" }, []);
        Assert.True(set.Committed);
        Assert.Equal((2L, 0L), (set.Metric("numChangedProperties"), set.Metric("numRemovedProperties")));
        Assert.Equal("SET TBLPROPERTIES", (await t.Table.GetHistoryAsync(1))[0].Operation);
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(("interval 1 millisecond", "ops"), (snapshot.Property(Retention), snapshot.Property("owner")));
        Assert.Single(snapshot.Files);

        // The same values again commit nothing.
        Assert.False((await t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["owner"] = "ops" }, [])).Committed);

        // A commit without txns moves no clock; one whose txn is at least a millisecond newer than the key makes it expire. The
        // stream position stays: its prefix has no retention.
        await Task.Delay(20);
        await t.Writer.AppendAsync(WriteTestKit.Rows(2, 3));
        Assert.Equal(["http/idempotency-key/k", "stream/0"], Ids(await t.Table.GetSnapshotAsync()));
        await t.Writer.AppendAsync(WriteTestKit.Rows(3, 4), [new DeltaAppTransaction("stream/0", 4)]);
        Assert.Equal(["stream/0"], Ids(await t.Table.GetSnapshotAsync()));

        var unset = await t.Writer.SetPropertiesAsync(new Dictionary<string, string>(), ["owner", "not-there"]);
        Assert.True(unset.Committed);
        Assert.Equal((0L, 1L), (unset.Metric("numChangedProperties"), unset.Metric("numRemovedProperties")));
        Assert.Null((await t.Table.GetSnapshotAsync()).Property("owner"));
        Assert.False((await t.Writer.SetPropertiesAsync(new Dictionary<string, string>(), ["owner"])).Committed);
    }

    [Theory]
    [InlineData("lakehouse.txnRetentionDuration.http/", "a week", "must be an interval")]
    [InlineData("lakehouse.txnRetentionDuration.", "interval 1 day", "names no application id prefix")]
    [InlineData("delta.logRetentionDuration", "30", "must be an interval")]
    [InlineData("delta.checkpointInterval", "0", "must be a positive integer")]
    [InlineData("delta.appendOnly", "yes", "must be true or false, not 'yes'")]
    [InlineData("delta.enableExpiredLogCleanup", "off", "must be true or false, not 'off'")]
    [InlineData("delta.checkpoint.writeStatsAsJson", "1", "must be true or false, not '1'")]
    [InlineData("delta.checkpoint.writeStatsAsStruct", "", "must be true or false, not ''")]
    [InlineData("delta.randomizeFilePrefixes", "true ", "must be true or false, not 'true '")]
    [InlineData("delta.compatibility.symlinkFormatManifest.enabled", "enabled", "must be true or false, not 'enabled'")]
    [InlineData("delta.enableFullRetentionRollback", "no", "must be true or false, not 'no'")]
    [InlineData("delta.enableDeletionVectors", "true", "is not supported by this writer")]
    [InlineData("delta.enableChangeDataCapture", "true", "is not supported by this writer")]
    [InlineData("owner\n", "ops", "holds a control character")]
    public async Task SetPropertiesAsync_AValueTheWriterCannotHonour_RefusedAndNothingCommitted(string key, string value, string message)
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 2));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.SetPropertiesAsync(new Dictionary<string, string> { [key] = value }, []));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains($"'{key.Replace("\n", "\\u000A", StringComparison.Ordinal)}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task SetPropertiesAsync_NoTable_NotFound()
    {
        using var t = new LocalTable(_engine);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["owner"] = "ops" }, []));
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        await Assert.ThrowsAsync<ArgumentException>(() => t.Writer.SetPropertiesAsync(new Dictionary<string, string> { ["a"] = "1" }, ["a"]));
        await Assert.ThrowsAsync<ArgumentException>(() => t.Writer.SetPropertiesAsync(new Dictionary<string, string> { [" "] = "1" }, []));
    }

    [Theory]
    [InlineData("delta.deletedFileRetentionDuration")]
    [InlineData("delta.logRetentionDuration")]
    public async Task Retention_LongerThanATimeSpanHolds_ReadAsForeverNotAnOverflow(string key)
    {
        // "interval 99999999 days" overflowed TimeSpan: the table could not even be created with it, nor written once another engine set it.
        using var t = new LocalTable(_engine, new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { [key] = "interval 99999999 days" } });
        for (var i = 0; i < 11; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i, i + 1));
        Assert.True(File.Exists(LogFile(t, "00000000000000000010.checkpoint.parquet")));
        var vacuum = await t.Writer.VacuumAsync(dryRun: true);
        Assert.Empty(vacuum.Files);
        Assert.Equal(["11"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.Equal(TimeSpan.FromDays(365_000), TableProperties.ParseInterval("interval 99999999 days"));
        Assert.Equal(TimeSpan.FromDays(14), TableProperties.ParseInterval("interval 2 weeks"));
    }
}
