using Lakehouse.Core;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>Every table of ../shared/conformance/delta, read as Spark, Databricks and delta-rs wrote it.</summary>
public sealed class ConformanceTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    public static TheoryData<string, long, long> RowCountCases() => ToTheory<string, long, long>(ConformanceCorpus.RowCounts());

    public static TheoryData<string, long, string> ExpectedDataCases() => ToTheory<string, long, string>(ConformanceCorpus.ExpectedData());

    public static TheoryData<string, string> MustRefuseCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in ConformanceCorpus.MustRefuse()) data.Add((string)row[0], (string)row[1]);
        return data;
    }

    private static TheoryData<T1, T2, T3> ToTheory<T1, T2, T3>(IEnumerable<object[]> rows)
    {
        var data = new TheoryData<T1, T2, T3>();
        foreach (var r in rows) data.Add((T1)r[0], (T2)r[1], (T3)r[2]);
        return data;
    }

    private DeltaTable Open(string id) => DeltaTable.Open(LakeStorage.Open(ConformanceCorpus.Root(id)), _engine);

    private async Task<long> CountAsync(DeltaTable table, DeltaSnapshot snapshot)
    {
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        return (long)lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})")!;
    }

    [Theory]
    [MemberData(nameof(RowCountCases))]
    public async Task Read_ListedVersion_HasExpectedRowCount(string id, long version, long rows)
    {
        var table = Open(id);
        var snapshot = await table.GetSnapshotAsync(version);
        Assert.Equal(version, snapshot.Version);
        Assert.Equal(rows, await CountAsync(table, snapshot));
    }

    [Theory]
    [MemberData(nameof(ExpectedDataCases))]
    public async Task Read_Version_MatchesReferenceParquetAsMultiset(string id, long version, string expectedFolder)
    {
        var (ours, theirs, onlyOurs, onlyTheirs) = await CompareAsync(id, version, expectedFolder);
        Assert.Equal(theirs, ours);
        Assert.True(onlyOurs == 0 && onlyTheirs == 0, $"{id} v{version}: {onlyOurs} rows only in ours, {onlyTheirs} only in the reference");

        // DAT ships the version and protocol each expected folder shows.
        var metadata = Path.Combine(TestPaths.DeltaConformance, expectedFolder, "..", "table_version_metadata.json");
        if (File.Exists(metadata))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(metadata));
            var snapshot = await Open(id).GetSnapshotAsync(version);
            Assert.Equal(doc.RootElement.GetProperty("version").GetInt64(), snapshot.Version);
            Assert.Equal(doc.RootElement.GetProperty("min_reader_version").GetInt32(), snapshot.Protocol.MinReaderVersion);
            Assert.Equal(doc.RootElement.GetProperty("min_writer_version").GetInt32(), snapshot.Protocol.MinWriterVersion);
        }
    }

    [Fact]
    public async Task Compare_OtherVersionsReference_FindsTheDifference()
    {
        // The comparison itself must be able to fail: v0 of basic_append against v1's reference rows.
        var (ours, theirs, onlyOurs, onlyTheirs) = await CompareAsync("dat/v0.0.2/basic_append", 0, "dat/v0.0.2/basic_append/expected/v1/table_content");
        Assert.Equal(3, ours);
        Assert.Equal(5, theirs);
        Assert.Equal(0, onlyOurs);
        Assert.Equal(2, onlyTheirs);
    }

    private async Task<(long Ours, long Theirs, long OnlyOurs, long OnlyTheirs)> CompareAsync(string id, long version, string expectedFolder)
    {
        var table = Open(id);
        var snapshot = await table.GetSnapshotAsync(version);
        var expectedGlob = Path.Combine(TestPaths.DeltaConformance, expectedFolder, "*.parquet");
        // Caveat 1 of MANIFEST.md: Spark read the zone-less partition timestamp in a UTC-7 session; the protocol says UTC.
        var excluded = id == "golden/data-reader-partition-values" ? new HashSet<string> { "as_timestamp" } : [];
        using var lease = _engine.Lease();
        var c = lease.Connection;
        using var scan = await DeltaScan.CreateAsync(table, snapshot, c);
        var columns = snapshot.Schema.Fields.Where(f => !excluded.Contains(f.Name)).ToList();
        // Caveat 3: reference timestamps are zone-less; compare instants as UTC wall-clock microseconds.
        static string Ours(Schema.StructField f) => f.Type is Schema.PrimitiveType { Name: "timestamp" }
            ? $"CAST({SqlText.Identifier(f.Name)} AS TIMESTAMP) AS {SqlText.Identifier(f.Name)}"
            : SqlText.Identifier(f.Name);
        static string Theirs(Schema.StructField f) => f.Type is Schema.PrimitiveType { Name: "timestamp" }
            ? $"CAST({SqlText.Identifier(f.Name)} AS TIMESTAMP) AS {SqlText.Identifier(f.Name)}"
            : $"CAST({SqlText.Identifier(f.Name)} AS {f.Type.ToDuckDb()}) AS {SqlText.Identifier(f.Name)}";
        var ours = $"SELECT {string.Join(", ", columns.Select(Ours))} FROM ({scan.Sql})";
        var theirs = $"SELECT {string.Join(", ", columns.Select(Theirs))} FROM read_parquet({SqlText.Literal(expectedGlob)})";
        return ((long)c.Scalar($"SELECT count(*) FROM ({ours})")!,
            (long)c.Scalar($"SELECT count(*) FROM ({theirs})")!,
            (long)c.Scalar($"SELECT count(*) FROM (({ours}) EXCEPT ALL ({theirs}))")!,
            (long)c.Scalar($"SELECT count(*) FROM (({theirs}) EXCEPT ALL ({ours}))")!);
    }

    [Theory]
    [MemberData(nameof(MustRefuseCases))]
    public async Task Read_UnsupportedOrBrokenTable_IsRefusedWithReason(string id, string expectedError)
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(id).GetSnapshotAsync());
        var phrase = id switch
        {
            "golden/deltalog-invalid-protocol-version" => "unsupported reader version 99",
            "golden/deltalog-state-reconstruction-without-protocol" => "no protocol action found",
            "delta-rs/simple_table_features" => "'blahabl'",
            _ => expectedError,
        };
        Assert.Contains(phrase, e.Message, StringComparison.Ordinal);
        Assert.Contains(e.Reason, new[] { LakehouseErrorReason.UnsupportedFeature, LakehouseErrorReason.CorruptLog });
    }

    [Fact]
    public async Task Snapshot_CheckpointWithFakePaths_HasVersion14AndOneLiveFile()
    {
        var snapshot = await Open("golden/checkpoint").GetSnapshotAsync();
        Assert.Equal(14, snapshot.Version);
        Assert.Equal(10, snapshot.CheckpointVersion);
        Assert.Equal("15", Assert.Single(snapshot.Files).Path);
    }

    [Fact]
    public async Task Snapshot_CheckpointWithoutLastCheckpoint_FoundByListing()
    {
        // MANIFEST caveat 4: the log is dat/with_checkpoint's; copy that table's data files in to read rows.
        using var temp = new TempDirectory("nolast");
        TestFiles.CopyTree(ConformanceCorpus.Root("delta-rs/with_checkpoint_no_last_checkpoint"), temp.Path);
        foreach (var f in Directory.GetFiles(ConformanceCorpus.Root("dat/v0.0.2/with_checkpoint"), "*.parquet"))
            File.Copy(f, Path.Combine(temp.Path, Path.GetFileName(f)), overwrite: true);
        var table = DeltaTable.Open(LakeStorage.Open(temp.Path), _engine);
        var snapshot = await table.GetSnapshotAsync();
        Assert.Equal(3, snapshot.Version);
        Assert.Equal(2, snapshot.CheckpointVersion);
        Assert.Single(snapshot.Files);
        Assert.Equal(5, await CountAsync(table, snapshot));
    }

    [Fact]
    public async Task Snapshot_AppTransactions_CarriedThroughCheckpoint()
    {
        var snapshot = await Open("kernel-rs/app-txn-checkpoint").GetSnapshotAsync();
        Assert.Equal(3, snapshot.TransactionVersion("my-app"));
        Assert.Equal(2, snapshot.TransactionVersion("my-app2"));
        Assert.Null(snapshot.TransactionVersion("nonExistentAppId"));

        var changes = await Open("golden/deltalog-getChanges").GetSnapshotAsync();
        Assert.Equal(3, changes.TransactionVersion("fakeAppId"));
        Assert.Empty(changes.Files);
    }

    [Fact]
    public async Task Read_TypeWidening_CastsOldFilesToWidenedTypes()
    {
        var table = Open("kernel-rs/type-widening");
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var r = lease.Connection.Query($"SELECT byte_long, float_double, CAST(date_timestamp_ntz AS VARCHAR), typeof(byte_long) FROM ({scan.Sql}) ORDER BY byte_long");
        Assert.True(r.Read());
        Assert.Equal(1L, r.GetInt64(0));
        Assert.Equal(3.4000000953674316, r.GetDouble(1));
        Assert.Equal("2024-09-09 00:00:00", r.GetString(2));
        Assert.Equal("BIGINT", r.GetString(3));
        Assert.True(r.Read());
        Assert.Equal(long.MaxValue, r.GetInt64(0));
        Assert.Equal(1.234567890123, r.GetDouble(1));
        Assert.Equal("2024-09-09 12:34:56.123456", r.GetString(2));
    }

    [Fact]
    public async Task Read_TimestampPartitionInIsoForm_ParsesAsUtcInstant()
    {
        var table = Open("kernel-rs/timestamp-partitioned-table");
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var r = lease.Connection.Query($"SELECT id, x, s, epoch_us(time) FROM ({scan.Sql})");
        Assert.True(r.Read());
        Assert.Equal(1L, r.GetInt64(0));
        Assert.Equal(0.5, r.GetDouble(1));
        Assert.Equal("", r.GetString(2));
        Assert.Equal(new DateTimeOffset(1971, 7, 22, 3, 6, 40, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000, r.GetInt64(3));
    }

    [Fact]
    public async Task Read_DeletionVectorSmallTable_DropsFirstAndLastRow()
    {
        var table = Open("delta-rs/table-with-dv-small");
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var r = lease.Connection.Query($"SELECT list(value ORDER BY value)::VARCHAR FROM ({scan.Sql})");
        Assert.True(r.Read());
        Assert.Equal("[1, 2, 3, 4, 5, 6, 7, 8]", r.GetString(0));
    }

    [Fact]
    public async Task Snapshot_UncommittedTmpCommit_IsIgnored()
    {
        var table = Open("delta-rs/simple_table");
        var snapshot = await table.GetSnapshotAsync();
        Assert.Equal(4, snapshot.Version);
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        Assert.Equal("[5, 7, 9]", lease.Connection.Scalar($"SELECT list(id ORDER BY id)::VARCHAR FROM ({scan.Sql})"));
    }
}
