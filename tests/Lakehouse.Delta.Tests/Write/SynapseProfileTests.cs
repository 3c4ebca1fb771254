using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>
/// Design invariant: every table the writer touches stays readable by Synapse serverless — protocol (1, 2), no table
/// features, no column mapping, no deletion vectors, and a <c>_last_checkpoint</c> of at most 200 bytes.
/// </summary>
public sealed class SynapseProfileTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    [Fact]
    public async Task EveryWritePath_CreateToRestoreAndCheckpoints_StaysInProtocol12WithoutFeatures()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions
        {
            PartitionColumns = ["day"],
            TargetFileSizeBytes = 1 << 20,
            TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "2" },
        });
        await t.Writer.CreateTableAsync(new StructType([
            new StructField("id", PrimitiveType.Long, true), new StructField("day", PrimitiveType.Date, true),
            new StructField("at", PrimitiveType.Timestamp, true), new StructField("v", PrimitiveType.String, true)]));
        const string Rows = "SELECT i AS id, DATE '2024-01-01' + (i % 3)::INTEGER AS day, TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i) AS at, 'v' || i AS v FROM range({0}, {1}) AS r(i)";
        await t.Writer.AppendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Rows, 0, 30), [new DeltaAppTransaction("app", 1)]);
        await t.Writer.AppendAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Rows, 30, 60));
        await t.Writer.ReplacePartitionsAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Rows, 60, 61), "day = DATE '2024-01-01'");
        await t.Writer.MergeAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Rows, 0, 5), ["id"]);
        await t.Writer.DeleteAsync("id = 3");
        await t.Writer.OptimizeAsync();
        await t.Writer.RestoreAsync(2);
        await t.Writer.OverwriteAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Rows, 0, 3));
        await t.Writer.VacuumAsync(TimeSpan.Zero, force: true);
        await t.Writer.CheckpointAsync();

        var log = Path.Combine(t.Root, "_delta_log");
        var commits = Directory.GetFiles(log, "*.json").Order().ToList();
        var operations = (await t.Table.GetHistoryAsync()).Select(h => h.Operation).ToHashSet();
        Assert.Superset(new HashSet<string?> { "CREATE TABLE", "WRITE", "MERGE", "DELETE", "OPTIMIZE", "RESTORE", "VACUUM START", "VACUUM END" }, operations);
        Assert.Equal(11, commits.Count); // create, 2 appends, replace, merge, delete, optimize, restore, overwrite, vacuum start and end.
        foreach (var commit in commits)
        {
            foreach (var line in File.ReadAllLines(commit))
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.TryGetProperty("protocol", out var p))
                {
                    Assert.Equal(1, p.GetProperty("minReaderVersion").GetInt32());
                    Assert.Equal(2, p.GetProperty("minWriterVersion").GetInt32());
                    Assert.False(p.TryGetProperty("readerFeatures", out _));
                    Assert.False(p.TryGetProperty("writerFeatures", out _));
                }
                if (root.TryGetProperty("metaData", out var m))
                {
                    foreach (var c in m.GetProperty("configuration").EnumerateObject())
                        Assert.DoesNotContain(c.Name, new[] { "delta.columnMapping.mode", "delta.enableDeletionVectors", "delta.enableChangeDataFeed" });
                    Assert.DoesNotContain("delta.columnMapping", m.GetProperty("schemaString").GetString(), StringComparison.Ordinal);
                }
                if (root.TryGetProperty("add", out var a)) Assert.False(a.TryGetProperty("deletionVector", out _), commit);
            }
        }

        var checkpoints = Directory.GetFiles(log, "*.checkpoint.parquet");
        Assert.True(checkpoints.Length >= 5, $"{checkpoints.Length} checkpoints");
        using (var lease = _engine.Lease())
        {
            var protocols = WriteTestKit.Strings(lease.Connection,
                $"SELECT DISTINCT protocol.minReaderVersion || '|' || protocol.minWriterVersion || '|' || (protocol.readerFeatures IS NULL AND protocol.writerFeatures IS NULL) " +
                $"FROM read_parquet({SqlText.LiteralList(checkpoints)}) WHERE protocol IS NOT NULL");
            Assert.Equal(["1|2|true"], protocols);
            Assert.Equal(["0"], WriteTestKit.Strings(lease.Connection,
                $"SELECT count(*)::VARCHAR FROM read_parquet({SqlText.LiteralList(checkpoints)}) WHERE add.deletionVector IS NOT NULL"));
        }
        var last = File.ReadAllBytes(Path.Combine(log, "_last_checkpoint"));
        Assert.InRange(last.Length, 1, CheckpointWriter.LastCheckpointMaxBytes);

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal((1, 2), (snapshot.Protocol.MinReaderVersion, snapshot.Protocol.MinWriterVersion));
        Assert.Equal("none", snapshot.ColumnMappingMode);
        Assert.Equal(["0|v0", "1|v1", "2|v2"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || v FROM t ORDER BY id"));
    }

    [Fact]
    public void TableProperties_FeatureOutsideTheProfile_RefusedWhenSet()
    {
        var options = new DeltaWriteOptions();
        var ex = Assert.Throws<ArgumentException>(() => options.TableProperties = new Dictionary<string, string> { ["delta.enableDeletionVectors"] = "true" });
        Assert.Contains("protocol (1, 2)", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => options.TableProperties = new Dictionary<string, string> { ["delta.columnMapping.mode"] = "name" });
    }

    [Fact]
    public async Task CreateTableAsync_TimestampNtzColumn_RefusedBecauseItNeedsTableFeatures()
    {
        using var t = new LocalTable(_engine);
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.CreateTableAsync(new StructType([new StructField("at", PrimitiveType.TimestampNtz, true)])));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.False(await t.Table.ExistsAsync());
    }
}
