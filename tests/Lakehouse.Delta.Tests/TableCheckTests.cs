using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Tests.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>
/// A corrupt lake: each kind of damage is refused by readers and writers with a message naming the file, and <see cref="DeltaTable.CheckAsync"/>
/// reports every damage at once; the conformance corpus (Spark, Databricks, delta-rs) checks clean.
/// </summary>
public sealed class TableCheckTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private static string LogFile(LocalTable t, string name) => Path.Combine(t.Root, "_delta_log", name);

    private static string Commit(long v) => v.ToString("D20", CultureInfo.InvariantCulture) + ".json";

    private const string Checkpoint10 = "00000000000000000010.checkpoint.parquet";

    /// <summary>Twelve appends of two rows each: versions 0..11, 24 rows, a checkpoint at version 10.</summary>
    private async Task<LocalTable> TwelveAppendsAsync()
    {
        var t = new LocalTable(_engine);
        for (var i = 0; i < 12; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 2, (i * 2) + 2));
        Assert.True(File.Exists(LogFile(t, Checkpoint10)));
        return t;
    }

    private static List<string> Errors(DeltaCheckReport report) =>
        [.. report.Findings.Where(f => f.Severity == DeltaCheckSeverity.Error).Select(f => f.File + ": " + f.Problem)];

    public static TheoryData<string> CorpusTables() => [.. ConformanceCorpus.Tables.Select(t => t.GetProperty("id").GetString()!)];

    [Theory]
    [MemberData(nameof(CorpusTables))]
    public async Task CheckAsync_ConformanceTable_CleanOrItsKnownRefusal(string id)
    {
        var expectedError = ConformanceCorpus.Entry(id).GetProperty("expected_error");
        var report = await DeltaTable.Open(LakeStorage.Open(ConformanceCorpus.Root(id)), _engine).CheckAsync(deep: true);

        if (expectedError.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            Assert.False(report.IsHealthy);
            Assert.Null(report.Version);
            return;
        }
        if (ConformanceCorpus.Entry(id).GetProperty("exercises").GetString()!.Contains("log-only", StringComparison.OrdinalIgnoreCase))
        {
            // Tables shipped without their data files (fake paths, or a copy of another table's log): exactly those are missing.
            Assert.NotEmpty(Errors(report));
            Assert.All(Errors(report), e => Assert.Contains("missing from storage", e, StringComparison.Ordinal));
        }
        else
        {
            Assert.True(report.IsHealthy, string.Join("\n", Errors(report)));
        }
        Assert.DoesNotContain(report.Findings, f => f.Severity == DeltaCheckSeverity.Warning);
        Assert.Equal(ConformanceCorpus.Entry(id).GetProperty("latest_version").GetInt64(), report.Version);
    }

    [Fact]
    public async Task CheckAsync_NoFolderOrALogWithOnlyTheLeftoverOfAnInterruptedFirstCommit_NotFoundNotADamagedTable()
    {
        using var temp = new TempDirectory("check-none");
        var missing = await Assert.ThrowsAsync<LakehouseException>(() => DeltaTable.Open(LakeStorage.Open(temp.Combine("none")), _engine).CheckAsync());
        Assert.Equal(LakehouseErrorReason.NotFound, missing.Reason);

        Directory.CreateDirectory(temp.Combine("t", "_delta_log"));
        await File.WriteAllTextAsync(temp.Combine("t", "_delta_log", ".00000000000000000000.json.5e1f.tmp"), "{\"protocol\":");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DeltaTable.Open(LakeStorage.Open(temp.Combine("t")), _engine).CheckAsync(deep: true));
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Equal($"'{temp.Combine("t")}' is not a Delta table: no _delta_log folder with commits or checkpoints. " +
            "Nothing to check: a table whose first commit was interrupted has none until the next write creates it.", e.Message);
    }

    [Fact]
    public async Task CheckAsync_HealthyTableWithHarmlessStrays_NoErrorsOrWarnings()
    {
        using var t = await TwelveAppendsAsync();
        await File.WriteAllTextAsync(LogFile(t, ".00000000000000000012.json.3f1c.tmp"), "{\"add\":");
        await File.WriteAllTextAsync(LogFile(t, "00000000000000000004.json.crc"), "x"); // Hadoop's checksum side file
        Directory.CreateDirectory(LogFile(t, ".tmp"));
        await File.WriteAllTextAsync(Path.Combine(LogFile(t, ".tmp"), Commit(12)), "{\"commitInfo\":{}}");
        await File.WriteAllTextAsync(LogFile(t, "_last_vacuum_info"), "{}");

        var report = await t.Table.CheckAsync(deep: true);

        Assert.True(report.IsHealthy, string.Join("\n", Errors(report)));
        Assert.Empty(report.Findings);
        Assert.Equal((11L, 12), (report.Version, report.LiveFiles));
        Assert.Equal(["24"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Read_TruncatedLastCommit_RefusedNamingTheFileAndWritesRefusedToo()
    {
        using var t = await TwelveAppendsAsync();
        var bytes = await File.ReadAllBytesAsync(LogFile(t, Commit(11)));
        await File.WriteAllBytesAsync(LogFile(t, Commit(11)), bytes[..(bytes.Length - 40)]); // cut inside its last action

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"Delta log file '{t.Table.Location.TrimEnd('/')}/_delta_log/{Commit(11)}' line", e.Message, StringComparison.Ordinal);
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(100, 102)));
        Assert.Contains(Commit(11), w.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(LogFile(t, Commit(12))));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    public async Task Read_BogusOrTruncatedCheckpoint_RefusedNamingItAndWritesRefusedToo(string damage)
    {
        using var t = await TwelveAppendsAsync();
        var path = LogFile(t, Checkpoint10);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, damage == "garbage" ? "PAR1 this is not a checkpoint PAR1"u8.ToArray() : bytes[..(bytes.Length / 2)]);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains(Checkpoint10, e.Message, StringComparison.Ordinal);
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(100, 102)));
        Assert.Contains(Checkpoint10, w.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(LogFile(t, Commit(12))));

        var report = await t.Table.CheckAsync();
        var finding = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Error);
        Assert.Equal("_delta_log/" + Checkpoint10, finding.File);
        Assert.Contains("Delete the damaged checkpoint", finding.Problem, StringComparison.Ordinal);

        // As the message says: without the checkpoint and its pointer, the commits rebuild the table.
        File.Delete(path);
        File.Delete(LogFile(t, "_last_checkpoint"));
        Assert.Equal(["24"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task Read_LastCheckpointPointsAtMissingCheckpoint_OnlyAHintThatCheckWarnsAbout()
    {
        using var t = await TwelveAppendsAsync();
        File.Delete(LogFile(t, Checkpoint10)); // PROTOCOL.md: _last_checkpoint is a hint; readers list the log and use the newest complete checkpoint

        Assert.Equal(["24"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        var report = await t.Table.CheckAsync();
        Assert.True(report.IsHealthy);
        var warning = Assert.Single(report.Findings);
        Assert.Equal((DeltaCheckSeverity.Warning, "_delta_log/_last_checkpoint"), (warning.Severity, warning.File));
        Assert.Contains("points at version 10, which has no checkpoint", warning.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MisnamedCommitInTheLog_RefusedNamingIt()
    {
        using var t = await TwelveAppendsAsync();
        File.Copy(LogFile(t, Commit(11)), LogFile(t, "12.json")); // a writer that does not pad: its actions would silently be missing

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Table.GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains("'_delta_log/12.json' is named like a log file, but its version is not 20 digits", e.Message, StringComparison.Ordinal);
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(WriteTestKit.Rows(100, 102)));
        Assert.Contains("_delta_log/12.json", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_SeveralLogDamages_ReportsEachWithItsFile()
    {
        using var t = await TwelveAppendsAsync();
        File.Delete(LogFile(t, Commit(4)));
        File.Delete(LogFile(t, Commit(5)));
        var eleven = await File.ReadAllBytesAsync(LogFile(t, Commit(11)));
        await File.WriteAllBytesAsync(LogFile(t, Commit(11)), eleven[..(eleven.Length - 40)]);
        await File.WriteAllBytesAsync(LogFile(t, Commit(8)), []);
        await File.WriteAllTextAsync(LogFile(t, Checkpoint10), "not parquet");
        await File.WriteAllTextAsync(LogFile(t, "7.json"), "{}");
        await File.WriteAllTextAsync(LogFile(t, "notes.txt"), "hello");

        var report = await t.Table.CheckAsync();

        Assert.False(report.IsHealthy);
        Assert.Null(report.Version);
        var errors = report.Findings.Where(f => f.Severity == DeltaCheckSeverity.Error).Select(f => f.File).ToList();
        Assert.Equal(new[] { "_delta_log/" + Commit(4), "_delta_log/" + Commit(8), "_delta_log/" + Checkpoint10, "_delta_log/" + Commit(11), "_delta_log/7.json" }.Order(StringComparer.Ordinal),
            errors.Order(StringComparer.Ordinal));
        Assert.Contains("commits 4 to 5 are missing", Errors(report).Single(e => e.StartsWith("_delta_log/" + Commit(4), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("is empty (0 bytes, no actions)", Errors(report).Single(e => e.StartsWith("_delta_log/" + Commit(8), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("line", Errors(report).Single(e => e.StartsWith("_delta_log/" + Commit(11), StringComparison.Ordinal)), StringComparison.Ordinal);
        var warning = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Warning);
        Assert.Equal(("_delta_log/notes.txt", "is not a Delta log file: readers ignore it."), (warning.File, warning.Problem));
    }

    /// <summary>Rewrites commit <paramref name="version"/>, replacing <paramref name="from"/> by <paramref name="to"/> in its add action.</summary>
    private static async Task EditCommitAsync(LocalTable t, long version, string from, string to)
    {
        var text = await File.ReadAllTextAsync(LogFile(t, Commit(version)));
        Assert.Contains(from, text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(LogFile(t, Commit(version)), text.Replace(from, to, StringComparison.Ordinal));
    }

    private static string OnlyAdd(LocalTable t, long version) =>
        File.ReadLines(LogFile(t, Commit(version))).Single(l => l.StartsWith("{\"add\"", StringComparison.Ordinal));

    private static string PathOf(string addLine) => System.Text.Json.JsonDocument.Parse(addLine).RootElement.GetProperty("add").GetProperty("path").GetString()!;

    private static long SizeOf(string addLine) => System.Text.Json.JsonDocument.Parse(addLine).RootElement.GetProperty("add").GetProperty("size").GetInt64();

    [Fact]
    public async Task CheckAsync_Deep_DataFileDamagesEachReported()
    {
        using var t = new LocalTable(_engine);
        for (var i = 0; i < 5; i++) await t.Writer.AppendAsync(WriteTestKit.Rows(i * 10, (i * 10) + 10));
        var files = Enumerable.Range(0, 5).Select(v => OnlyAdd(t, v)).ToList();

        // v0: deleted. v1: cut off. v2: another table's file (other columns), with the commit's size fixed to match it.
        // v3: a column stored as DOUBLE where the table says long. v4: 10 rows where the statistics claim 11.
        File.Delete(Path.Combine(t.Root, PathOf(files[0])));
        var one = Path.Combine(t.Root, PathOf(files[1]));
        await File.WriteAllBytesAsync(one, (await File.ReadAllBytesAsync(one))[..100]);
        using (var lease = _engine.Lease())
        {
            lease.Connection.Execute($"COPY (SELECT 1 AS x, 'y' AS z) TO {SqlText.Literal(Path.Combine(t.Root, PathOf(files[2])))} (FORMAT parquet)");
            lease.Connection.Execute($"COPY (SELECT i::DOUBLE + 0.5 AS id, 'a' AS part, 'v' AS v FROM range(10) r(i)) TO {SqlText.Literal(Path.Combine(t.Root, PathOf(files[3])))} (FORMAT parquet)");
        }
        foreach (var v in new[] { 2, 3 })
            await EditCommitAsync(t, v, $"\"size\":{SizeOf(files[v])},", $"\"size\":{new FileInfo(Path.Combine(t.Root, PathOf(files[v]))).Length},");
        await EditCommitAsync(t, 4, "\\\"numRecords\\\":10", "\\\"numRecords\\\":11"); // inside the stats string

        var shallow = await t.Table.CheckAsync();
        Assert.Equal(new[] { PathOf(files[0]), PathOf(files[1]) }.Order(StringComparer.Ordinal),
            shallow.Findings.Where(f => f.Severity == DeltaCheckSeverity.Error).Select(f => f.File).Order(StringComparer.Ordinal));

        var deep = await t.Table.CheckAsync(deep: true);
        var errors = Errors(deep);
        Assert.Equal(5, errors.Count);
        Assert.Contains($"{PathOf(files[0])}: is live in version 4 but missing from storage", errors.Single(e => e.StartsWith(PathOf(files[0]), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains($"has 100 bytes in storage, but version 4 records {SizeOf(files[1])}", errors.Single(e => e.StartsWith(PathOf(files[1]), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("has none of the table's columns (id, part, v); its columns are x, z", errors.Single(e => e.StartsWith(PathOf(files[2]), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("stores column 'id' as DOUBLE, but the table's schema says long", errors.Single(e => e.StartsWith(PathOf(files[3]), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("holds 10 rows, but its add action's statistics say 11 (numRecords)", errors.Single(e => e.StartsWith(PathOf(files[4]), StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal((4L, 5, true), (deep.Version, deep.LiveFiles, deep.Deep));
    }

    [Fact]
    public async Task Read_DataFileOfAnotherTable_RefusedNamingIt()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));
        var file = PathOf(OnlyAdd(t, 0));
        using (var lease = _engine.Lease())
            lease.Connection.Execute($"COPY (SELECT 1 AS x) TO {SqlText.Literal(Path.Combine(t.Root, file))} (FORMAT parquet)"); // read as 1 row of nulls before

        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"Data file '{file}' of '{t.Root}' has none of the table's columns", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_OrphanFilesAndChecksum_NoteAndChecksumMismatch()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));
        await t.Writer.OverwriteAsync(WriteTestKit.Rows(0, 5));
        await File.WriteAllTextAsync(Path.Combine(t.Root, "part-crashed.parquet"), "x"); // a data file a killed writer never committed
        var size = (await t.Table.GetSnapshotAsync()).Files.Sum(f => f.Size);
        await File.WriteAllTextAsync(LogFile(t, "00000000000000000001.crc"), $"{{\"numFiles\":2,\"tableSizeBytes\":{size}}}");

        var report = await t.Table.CheckAsync();

        var note = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Note);
        Assert.Contains("2 file(s) in the table folder are not part of version 1, such as this one (1 named by remove actions still in the log, 1 by no action in it", note.Problem, StringComparison.Ordinal);
        var error = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Error);
        Assert.Equal(("_delta_log/00000000000000000001.crc", "says version 1 has 2 live files, but its log adds up to 1: the log or the checksum was changed after the commit."),
            (error.File, error.Problem));
    }

    /// <summary>
    /// A checksum file that is JSON of another shape (a list, numbers as text) is a warning, as one that is not JSON is: readers do
    /// not need it. Before, it ended table check with .NET's "The requested operation requires an element of type 'Object'".
    /// </summary>
    [Theory]
    [InlineData("[1,2]")]
    [InlineData("{\"numFiles\":\"1\",\"tableSizeBytes\":\"x\"}")]
    public async Task CheckAsync_ChecksumOfAnotherShape_WarningNotACrash(string checksum)
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(WriteTestKit.Rows(0, 10));
        await File.WriteAllTextAsync(LogFile(t, "00000000000000000000.crc"), checksum);

        var report = await t.Table.CheckAsync();

        var warning = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Warning);
        Assert.Equal(("_delta_log/00000000000000000000.crc", "is not a checksum of numbers (numFiles, tableSizeBytes): readers do not need it."), (warning.File, warning.Problem));
        Assert.DoesNotContain(report.Findings, f => f.Severity == DeltaCheckSeverity.Error);
    }
}
