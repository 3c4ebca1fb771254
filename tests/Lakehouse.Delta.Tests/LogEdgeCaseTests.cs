using System.Buffers.Binary;
using Lakehouse.Core;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>Logs the corpus does not hold, made by editing copies of its tables the way real logs go wrong or grow.</summary>
public sealed class LogEdgeCaseTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private const string BasicAppendV0File = "part-00000-ef42f28f-e8e8-4d54-b51f-c3af96c72a44-c000.snappy.parquet";
    private readonly DuckEngine _engine = fixture.Engine;
    private readonly TempDirectory _temp = new("logedge");

    public void Dispose() => _temp.Dispose();

    private string Copy(string id)
    {
        var to = _temp.Combine(id.Replace('/', '_'));
        TestFiles.CopyTree(ConformanceCorpus.Root(id), to);
        return to;
    }

    private static string Log(string root, string name) => Path.Combine(root, "_delta_log", name);

    private static string Commit(long v) => v.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".json";

    private DeltaTable Open(string root) => DeltaTable.Open(LakeStorage.Open(root), _engine);

    private async Task<List<string>> LettersAsync(string root, long? version = null)
    {
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync(version);
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var r = lease.Connection.Query($"SELECT CAST(letter AS VARCHAR) FROM ({scan.Sql}) ORDER BY 1 NULLS LAST");
        var result = new List<string>();
        while (r.Read()) result.Add(r.IsNull(0) ? "<null>" : r.GetString(0));
        return result;
    }

    [Fact]
    public async Task Read_CommitMissingInTheMiddle_RefusedNamingTheFile()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        File.Copy(Log(root, Commit(1)), Log(root, Commit(3)));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(root).GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains("not contiguous", e.Message, StringComparison.Ordinal);
        Assert.Contains(Commit(2), e.Message, StringComparison.Ordinal);
        // Versions before the gap still read.
        Assert.Equal(["a", "b", "c", "d", "e"], await LettersAsync(root, 1));
    }

    [Fact]
    public async Task Read_VersionPastLatest_NotFoundNamingLatest()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(ConformanceCorpus.Root("dat/v0.0.2/basic_append")).GetSnapshotAsync(7));
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Contains("latest version is 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_EmptyOrStaleLastCheckpoint_IsOnlyAHint()
    {
        var root = Copy("dat/v0.0.2/with_checkpoint");
        await File.WriteAllTextAsync(Log(root, "_last_checkpoint"), "");
        Assert.Equal(5, (await LettersAsync(root)).Count);
        await File.WriteAllTextAsync(Log(root, "_last_checkpoint"), "{\"version\":99,\"size\":1}");
        var snapshot = await Open(root).GetSnapshotAsync();
        Assert.Equal(3, snapshot.Version);
        Assert.Equal(2, snapshot.CheckpointVersion);
        // A version of another JSON kind is a damaged hint too; it ended every read with .NET's "requires an element of type 'Number'".
        foreach (var damaged in new[] { "{\"version\":\"2\",\"size\":1}", "{\"version\":true}", "{\"version\":[2]}", "{\"version\":2.5}" })
        {
            await File.WriteAllTextAsync(Log(root, "_last_checkpoint"), damaged);
            Assert.Equal((3L, 2L), ((await Open(root).GetSnapshotAsync()).Version, (await Open(root).GetSnapshotAsync()).CheckpointVersion));
        }
    }

    [Fact]
    public async Task Read_LastCheckpoint_ListsTheLogFromThatCheckpointOnly()
    {
        var root = Copy("dat/v0.0.2/with_checkpoint");
        var storage = new ListingRecorder(LakeStorage.Open(root));
        var latest = await DeltaTable.Open(storage, _engine).GetSnapshotAsync();
        Assert.Equal((3L, 2L), (latest.Version, latest.CheckpointVersion));
        Assert.Equal(["_delta_log/00000000000000000002"], storage.StartsFrom);

        // A version before the checkpoint needs the whole log.
        storage.StartsFrom.Clear();
        Assert.Equal(1, (await DeltaTable.Open(storage, _engine).GetSnapshotAsync(1)).Version);
        Assert.Equal([""], storage.StartsFrom);

        // A pointer to a checkpoint that is gone is only a hint: the whole log is listed and the commits rebuild the table.
        File.Delete(Log(root, "00000000000000000002.checkpoint.parquet"));
        storage.StartsFrom.Clear();
        var rebuilt = await DeltaTable.Open(storage, _engine).GetSnapshotAsync();
        Assert.Equal((3L, -1L), (rebuilt.Version, rebuilt.CheckpointVersion));
        Assert.Equal(["_delta_log/00000000000000000002", ""], storage.StartsFrom);
        Assert.Equal(latest.Files.Select(f => f.Path).Order(StringComparer.Ordinal), rebuilt.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal(5, (await LettersAsync(root)).Count);
    }

    /// <summary>Storage that records where each listing starts.</summary>
    private sealed class ListingRecorder(ILakeStorage inner) : DelegatingStorage(inner)
    {
        internal List<string> StartsFrom { get; } = [];

        public override IAsyncEnumerable<LakeFile> ListAsync(string prefix, CancellationToken cancellationToken = default) => ListAsync(prefix, "", cancellationToken);

        public override IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, CancellationToken cancellationToken = default)
        {
            StartsFrom.Add(startFrom);
            return Inner.ListAsync(prefix, startFrom, cancellationToken);
        }
    }

    [Fact]
    public async Task Read_MultiPartCheckpoint_ReadsAllPartsAndIgnoresIncompleteOnes()
    {
        var root = Copy("dat/v0.0.2/with_checkpoint");
        var classic = Log(root, "00000000000000000002.checkpoint.parquet");
        var expected = await LettersAsync(root);
        using (var lease = _engine.Lease())
        {
            var src = SqlText.Literal(classic);
            lease.Connection.Execute($"COPY (SELECT * FROM read_parquet({src}) WHERE add IS NULL) TO {SqlText.Literal(Log(root, "00000000000000000002.checkpoint.0000000001.0000000002.parquet"))} (FORMAT parquet)");
            lease.Connection.Execute($"COPY (SELECT * FROM read_parquet({src}) WHERE add IS NOT NULL) TO {SqlText.Literal(Log(root, "00000000000000000002.checkpoint.0000000002.0000000002.parquet"))} (FORMAT parquet)");
        }
        File.Delete(classic);
        // Drop the commits the checkpoint replaces: only a complete two-part checkpoint can rebuild the table now.
        File.Delete(Log(root, Commit(0)));
        File.Delete(Log(root, Commit(1)));
        var snapshot = await Open(root).GetSnapshotAsync();
        Assert.Equal(2, snapshot.CheckpointVersion);
        Assert.Equal(expected, await LettersAsync(root));

        // With one part gone the checkpoint is incomplete, and without commits 0..1 nothing can rebuild version 3.
        File.Delete(Log(root, "00000000000000000002.checkpoint.0000000002.0000000002.parquet"));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(root).GetSnapshotAsync());
        Assert.Contains(Commit(2), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_LogCompactionFile_StandsInForTheCommitsItCovers()
    {
        var root = Copy("golden/snapshot-repartitioned");
        var expected = await CountAsync(root);
        var compacted = string.Concat(new[] { 1, 2, 3 }.Select(v => File.ReadAllText(Log(root, Commit(v)))));
        await File.WriteAllTextAsync(Log(root, "00000000000000000001.00000000000000000003.compacted.json"), compacted);
        File.Delete(Log(root, Commit(2)));
        File.Delete(Log(root, Commit(3)));
        Assert.Equal(expected, await CountAsync(root));
        Assert.Equal(20, expected);
    }

    private async Task<long> CountAsync(string root)
    {
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        return (long)lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})")!;
    }

    [Theory]
    [InlineData(false)] // partition values as literals, one read per run of files
    [InlineData(true)] // with the file path column: partition values joined from a table of the files
    public async Task Read_PartitionValueThatIsNotItsType_RefusedAsACorruptLog(bool includeFilePath)
    {
        var root = Copy("golden/data-reader-partition-values");
        var commit = Log(root, Commit(0));
        var text = await File.ReadAllTextAsync(commit);
        Assert.Contains("\"as_int\":\"1\"", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(commit, text.Replace("\"as_int\":\"1\"", "\"as_int\":\"one\"", StringComparison.Ordinal));
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DeltaScan.CreateAsync(table, snapshot, lease.Connection, new DeltaScanOptions { IncludeFilePath = includeFilePath }));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains("partition value in the log does not parse as its column type", e.Message, StringComparison.Ordinal);
        Assert.Contains("one", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// An empty partition value is null for every type (PROTOCOL.md: "An empty string for any type translates to a null partition
    /// value"), strings and binary included. Before, another writer's empty string partition value read as '' and an empty binary one
    /// as zero bytes, and a filter on IS NULL missed those rows.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Read_EmptyStringOrBinaryPartitionValueFromAnotherWriter_ReadAsNull(bool includeFilePath)
    {
        var strings = Copy("golden/data-reader-partition-values");
        var commit = Log(strings, Commit(0));
        var text = await File.ReadAllTextAsync(commit);
        Assert.Contains("\"as_string\":\"1\"", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(commit, text.Replace("\"as_string\":\"1\"", "\"as_string\":\"\"", StringComparison.Ordinal));
        var binary = Copy("dat/v0.0.2/multi_partitioned");
        var changed = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(binary, "_delta_log"), "*.json"))
        {
            var log = await File.ReadAllTextAsync(file);
            if (!log.Contains("\"data\":\"hello\"", StringComparison.Ordinal)) continue;
            await File.WriteAllTextAsync(file, log.Replace("\"data\":\"hello\"", "\"data\":\"\"", StringComparison.Ordinal));
            changed++;
        }
        Assert.True(changed > 0);
        using var lease = _engine.Lease();
        async Task<List<string>> RowsAsync(string root, string select)
        {
            var table = Open(root);
            using var scan = await DeltaScan.CreateAsync(table, await table.GetSnapshotAsync(), lease.Connection, new DeltaScanOptions { IncludeFilePath = includeFilePath });
            using var r = lease.Connection.Query($"SELECT {select} FROM ({scan.Sql}) ORDER BY 1");
            var rows = new List<string>();
            while (r.Read()) rows.Add(r.GetString(0));
            return rows;
        }

        Assert.Equal(["0|0", "1|<null>", "<null>|<null>"], await RowsAsync(strings, "coalesce(CAST(as_int AS VARCHAR), '<null>') || '|' || coalesce(as_string, '<null>')"));
        Assert.Equal(["/%20%f|<null>", "b|😈"], await RowsAsync(binary, "coalesce(letter, '<null>') || '|' || coalesce(decode(data), '<null>')"));
    }

    [Fact]
    public async Task Read_PartitionedFilesInRuns_PartitionColumnsTypedAndFilteredLikeTheJoin()
    {
        var root = Copy("golden/data-reader-partition-values");
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        const string Columns = "CAST(as_int AS VARCHAR) || '|' || CAST(as_date AS VARCHAR) || '|' || CAST(as_big_decimal AS VARCHAR) || '|' || as_string";
        async Task<List<string>> RowsAsync(bool includeFilePath, string where)
        {
            using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, new DeltaScanOptions { IncludeFilePath = includeFilePath });
            using var r = lease.Connection.Query($"SELECT coalesce({Columns}, '<null>'), typeof(as_int), typeof(as_date), typeof(as_timestamp) FROM ({scan.Sql}) WHERE {where} ORDER BY 1");
            var rows = new List<string>();
            while (r.Read()) rows.Add($"{r.GetString(0)} {r.GetString(1)} {r.GetString(2)} {r.GetString(3)}");
            return rows;
        }
        foreach (var where in new[] { "true", "as_int = 1", "as_int IS NULL" })
            Assert.Equal(await RowsAsync(true, where), await RowsAsync(false, where));
        Assert.Equal(["1|2021-09-08|1|1 INTEGER DATE TIMESTAMP WITH TIME ZONE"], await RowsAsync(false, "as_int = 1"));
    }

    [Fact]
    public async Task Read_AbsolutePathOutsideTable_IsRefused()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        await File.WriteAllTextAsync(Log(root, Commit(2)),
            "{\"add\":{\"path\":\"file:///etc/passwd\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n");
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DeltaScan.CreateAsync(table, snapshot, lease.Connection));
        Assert.Contains("outside the table", e.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(Log(root, Commit(2)),
            "{\"add\":{\"path\":\"../../escape.parquet\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true}}\n");
        snapshot = await table.GetSnapshotAsync();
        e = await Assert.ThrowsAsync<LakehouseException>(() => DeltaScan.CreateAsync(table, snapshot, lease.Connection));
        Assert.Contains("leave the lake root", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("variantType")]
    [InlineData("futureFeature")]
    public async Task Read_UnsupportedReaderFeature_RefusedNamingIt(string feature)
    {
        var root = Copy("dat/v0.0.2/basic_append");
        await File.WriteAllTextAsync(Log(root, Commit(2)),
            $"{{\"protocol\":{{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"{feature}\"],\"writerFeatures\":[\"{feature}\"]}}}}\n");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(root).GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.UnsupportedFeature, e.Reason);
        Assert.Contains($"'{feature}'", e.Message, StringComparison.Ordinal);
        // The version before the protocol upgrade is still readable.
        Assert.Equal(5, (await LettersAsync(root, 1)).Count);
    }

    /// <summary>
    /// A decimal type outside Delta's (precision 1 to 38, scale 0 to the precision) or malformed is a broken schema, named: decimal(39,0)
    /// and decimal(5,7) were read and handed on to DuckDB and to the Synapse script, and "decimal(10" crashed with an index error.
    /// </summary>
    [Theory]
    [InlineData("decimal(39,0)")]
    [InlineData("decimal(0,0)")]
    [InlineData("decimal(5,7)")]
    [InlineData("decimal(10")]
    [InlineData("decimal(x,1)")]
    [InlineData("decimal(10,2)x")]
    [InlineData("decimalx")]
    [InlineData("decimal(99999999999,1)")]
    public void ParseSchema_DecimalOutsideDeltasOrMalformed_RefusedAsACorruptLogNamingIt(string type)
    {
        var e = Assert.Throws<LakehouseException>(() => StructType.ParseSchema($$$"""{"type":"struct","fields":[{"name":"c","type":"{{{type}}}","nullable":true,"metadata":{}}]}"""));

        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Equal($"The table's schema has the type '{type}', which is not a Delta decimal: decimal(p,s) takes a precision p from 1 to 38 and a scale s from 0 to p.", e.Message);
    }

    [Theory]
    [InlineData("decimal", 10, 0)]
    [InlineData("decimal(38,38)", 38, 38)]
    [InlineData("decimal(1,0)", 1, 0)]
    [InlineData("decimal(12, 2)", 12, 2)]
    public void ParseSchema_DecimalsDeltaAllows_Read(string type, int precision, int scale) =>
        Assert.Equal(new DecimalType(precision, scale),
            StructType.ParseSchema($$$"""{"type":"struct","fields":[{"name":"c","type":"{{{type}}}","nullable":true,"metadata":{}}]}""").Fields[0].Type);

    /// <summary>
    /// An add action without its required partitionValues or size, or with another kind of value there, is a corrupt log naming
    /// the file, the line and the field. It was read as an empty map and 0 bytes: the file's rows read their partition columns as
    /// null (a silver table's event_date), and <c>table check</c> called the table whole. So is a txn without its version, which
    /// was read as 0 (an application resuming from it would start again), a protocol without its writer version or with feature
    /// lists of another kind (read as none: deletion vectors would be ignored), and a metaData without its partition columns (read
    /// as none) or with a configuration that is not a map (read as no properties: appendOnly ignored).
    /// </summary>
    [Theory]
    [InlineData("partitionValues", null, "add action's 'partitionValues' is missing or not a map")]
    [InlineData("partitionValues", "[1,2]", "add action's 'partitionValues' is missing or not a map")]
    [InlineData("partitionValues", "null", "add action's 'partitionValues' is missing or not a map")]
    [InlineData("size", null, "add action's 'size' is missing or not a whole number of bytes")]
    [InlineData("size", "\"abc\"", "add action's 'size' is missing or not a whole number of bytes")]
    [InlineData("size", "-1", "add action's 'size' is missing or not a whole number of bytes")]
    [InlineData("txn.version", null, "txn action's 'version' is missing or not a whole number")]
    [InlineData("txn.version", "\"x\"", "txn action's 'version' is missing or not a whole number")]
    [InlineData("protocol.minWriterVersion", null, "protocol action has no 'minWriterVersion'")]
    [InlineData("protocol.readerFeatures", "\"deletionVectors\"", "protocol action's 'readerFeatures' is not a list of feature names")]
    [InlineData("metaData.partitionColumns", null, "metaData action's 'partitionColumns' is missing or not a list of column names")]
    [InlineData("metaData.partitionColumns", "\"as_int\"", "metaData action's 'partitionColumns' is missing or not a list of column names")]
    [InlineData("metaData.configuration", "[1]", "metaData action's 'configuration' is not a map of table properties")]
    [InlineData("size", "12.5", "'size' is 12.5, not a whole number of the range a long holds")]
    [InlineData("txn.version", "1e30", "'version' is 1e30, not a whole number of the range a long holds")]
    [InlineData("protocol.minReaderVersion", "4294967297", "'minReaderVersion' is 4294967297, beyond the range an int holds")]
    [InlineData("deletionVector", "\"u:abc\"", "the action's 'deletionVector' is not an object")]
    [InlineData("deletionVector", "{\"storageType\":\"u\",\"pathOrInlineDv\":\"ab^-aqEH.-t@S}K{vb[*k^\",\"offset\":4,\"sizeInBytes\":40}", "deletionVector has no 'cardinality'")]
    public async Task Read_ActionWithoutARequiredFieldOrWithAnotherKindOfValue_CorruptLogNamingTheField(string field, string? value, string message)
    {
        var root = Copy("golden/data-reader-partition-values");
        var commit = Log(root, Commit(0));
        var lines = (await File.ReadAllLinesAsync(commit)).ToList();
        var kind = field.Contains('.', StringComparison.Ordinal) ? field.Split('.')[0] : "add";
        field = field.Split('.')[^1];
        if (kind == "txn") lines.Add("{\"txn\":{\"appId\":\"app\",\"version\":3}}");
        var line = lines.FindIndex(l => l.StartsWith($"{{\"{kind}\"", StringComparison.Ordinal));
        var action = System.Text.Json.Nodes.JsonNode.Parse(lines[line])!;
        var add = action[kind]!.AsObject();
        add.Remove(field);
        if (value is not null) add[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        lines[line] = action.ToJsonString();
        await File.WriteAllLinesAsync(commit, lines);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(root).GetSnapshotAsync());

        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"{Commit(0)}' line {line + 1} is not a valid action: {message}", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whole numbers some writers print with a fraction or an exponent (12009.0, 1.7e12) read as their value, as Spark's reader
    /// takes them; before, the table was refused with .NET's "One of the identified items was in an invalid format". A history whose
    /// commitInfo names its engine with a number shows that number: it failed with "requires an element of type 'String'".
    /// </summary>
    [Fact]
    public async Task Read_WholeNumbersWithAFractionOrExponentAndAnEngineThatIsANumber_ReadAsWritten()
    {
        var root = Copy("golden/data-reader-partition-values");
        var expected = await Open(root).GetSnapshotAsync();
        var commit = Log(root, Commit(0));
        var lines = (await File.ReadAllLinesAsync(commit)).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            var action = System.Text.Json.Nodes.JsonNode.Parse(lines[i])!.AsObject();
            if (action["add"] is System.Text.Json.Nodes.JsonObject add)
            {
                add["size"] = System.Text.Json.Nodes.JsonNode.Parse((long)add["size"]! + ".0");
                add["modificationTime"] = System.Text.Json.Nodes.JsonNode.Parse("1.7e12");
            }
            if (action["commitInfo"] is System.Text.Json.Nodes.JsonObject info) info["engineInfo"] = 5;
            else if (i == lines.Count - 1) lines.Add("{\"commitInfo\":{\"engineInfo\":5,\"operation\":\"WRITE\"}}");
            lines[i] = action.ToJsonString();
        }
        await File.WriteAllLinesAsync(commit, lines);

        var snapshot = await Open(root).GetSnapshotAsync();

        Assert.Equal(expected.Files.Select(f => (f.Path, f.Size)).Order(), snapshot.Files.Select(f => (f.Path, f.Size)).Order());
        Assert.All(snapshot.Files, f => Assert.Equal(1_700_000_000_000, f.ModificationTime));
        Assert.Equal("5", Assert.Single(await Open(root).GetHistoryAsync()).EngineInfo);
    }

    /// <summary>
    /// A data file that goes away between the snapshot and the read (a VACUUM with a short retention while a run reads, a file deleted
    /// by hand) fails the read with what happened and what to do; before, the message was DuckDB's alone ("IO Error: No files found that
    /// match the pattern …").
    /// </summary>
    [Fact]
    public async Task Read_DataFileGoneAfterTheSnapshot_ErrorSaysAFileIsGoneAndWhatToDo()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        var table = Open(root);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        File.Delete(Path.Combine(root, snapshot.Files[0].Path));

        var e = Assert.Throws<LakehouseException>(() => lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})"));

        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        Assert.Contains("No files found that match the pattern", e.Message, StringComparison.Ordinal);
        Assert.EndsWith(" (a data file the statement reads is gone: for a Delta table, a VACUUM with a retention shorter than the read, or a file deleted " +
            "by hand, removed a file that the version being read still names. Run again to read the newest version; if it stays, `lakehouse table check` " +
            "names the missing files.)", e.Message, StringComparison.Ordinal);

        // A file a query names itself that is not there is not a Delta table's data file: no word of VACUUM.
        var missing = Path.Combine(root, "missing.ndjson");
        var own = Assert.Throws<LakehouseException>(() => lease.Connection.Scalar($"SELECT count(*) FROM read_json({Lakehouse.Engine.SqlText.Literal(missing)})"));
        Assert.EndsWith($"No files found that match the pattern \"{missing}\"", own.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_GarbageCommitLine_RefusedNamingFileAndLine()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        await File.WriteAllTextAsync(Log(root, Commit(2)), "{\"commitInfo\":{}}\n{not json\n");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Open(root).GetSnapshotAsync());
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains(Commit(2), e.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MissingDataFile_RefusedNamingTheFile()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        File.Delete(Path.Combine(root, BasicAppendV0File));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Contains(BasicAppendV0File, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_ByTimestamp_PicksTheCommitInfoTimeThatHistoryShows()
    {
        var table = Open(ConformanceCorpus.Root("dat/v0.0.2/basic_append"));
        var history = await table.GetHistoryAsync();
        Assert.Equal([1L, 0L], history.Select(h => h.Version));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1674611413970), history[1].Timestamp);
        Assert.Equal(0, (await table.GetSnapshotAsync(history[1].Timestamp)).Version);
        Assert.Equal(0, (await table.GetSnapshotAsync(history[0].Timestamp.AddMilliseconds(-1))).Version);
        Assert.Equal(1, (await table.GetSnapshotAsync(history[0].Timestamp)).Version);
        Assert.Equal(1, (await table.GetSnapshotAsync(DateTimeOffset.UtcNow)).Version);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => table.GetSnapshotAsync(history[1].Timestamp.AddSeconds(-1)));
        Assert.Contains("before the earliest available commit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_InlineDeletionVector_DropsTheMarkedRows()
    {
        var root = Copy("dat/v0.0.2/basic_append");
        // A RoaringBitmapArray holding rows {0, 2}: magic, one 32-bit bitmap with key 0, an array container.
        var bitmap = new List<byte>();
        void I32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); bitmap.AddRange(b); }
        void U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); bitmap.AddRange(b); }
        I32(1681511377);
        var count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, 1);
        bitmap.AddRange(count);
        I32(0);
        I32(12346); // no-run cookie
        I32(1); // one container
        U16(0); // key
        U16(1); // cardinality - 1
        I32(4 + 4 + 4 + 4); // offset of the container inside the 32-bit bitmap
        U16(0);
        U16(2);
        var size = bitmap.Count;
        while (bitmap.Count % 4 != 0) bitmap.Add(0);
        var inline = Z85Encode([.. bitmap]);
        var add = File.ReadLines(Log(root, Commit(0))).Single(l => l.StartsWith("{\"add\"", StringComparison.Ordinal));
        var remove = add.Replace("{\"add\":", "{\"remove\":", StringComparison.Ordinal);
        var withDv = add.Replace("\"dataChange\":true", $"\"dataChange\":true,\"deletionVector\":{{\"storageType\":\"i\",\"pathOrInlineDv\":\"{inline}\",\"sizeInBytes\":{size},\"cardinality\":2}}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Log(root, Commit(2)),
            "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n" + remove + "\n" + withDv + "\n");
        Assert.Equal(["b", "d", "e"], await LettersAsync(root));
    }

    /// <summary>
    /// A V2 checkpoint's sidecar of another size than its <c>sidecar</c> action records (here replaced by its sibling, a valid Parquet
    /// file of 12,276 bytes where 12,285 are recorded) is refused naming it and both sizes, by readers and by <c>table check</c>. Before,
    /// without <c>_last_checkpoint</c> to compare against, the table read as 644 rows of its 1,233 and the check said it was healthy.
    /// </summary>
    [Fact]
    public async Task Read_SidecarOfAnotherSizeThanRecordedWithoutLastCheckpoint_RefusedNamingItAndBothSizesCheckReportsIt()
    {
        var root = Copy("kernel-rs/v2-checkpoints-json-with-sidecars");
        async Task<long> CountAsync(long? version = null) =>
            long.Parse((await Write.WriteTestKit.QueryAsync(Open(root), "SELECT count(*)::VARCHAR FROM t", version))[0]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1233, await CountAsync());
        var version5 = await CountAsync(5);
        const string sidecar = "_delta_log/_sidecars/00000000000000000006.checkpoint.0000000002.0000000002.5008b69f-aa8a-4a66-9299-0733a56a7e63.parquet";
        File.Copy(Path.Combine(root, "_delta_log/_sidecars/00000000000000000006.checkpoint.0000000001.0000000002.19af1366-a425-47f4-8fa6-8d6865625573.parquet"),
            Path.Combine(root, sidecar), overwrite: true);
        File.Delete(Log(root, "_last_checkpoint"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => CountAsync());

        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        var message = $"Delta log of '{root}' is damaged: sidecar '{sidecar}' of checkpoint '_delta_log/00000000000000000006.checkpoint.2a15d0c6-8b11-4a98-bab4-957905d62f7f.json' " +
            "has 12276 bytes, the checkpoint says 12285 (sizeInBytes): it was cut off, replaced or changed after the checkpoint was written, so the files it lists cannot be " +
            "trusted. Delete the damaged checkpoint and _delta_log/_last_checkpoint to read the table from its commit files (if they are still there).";
        Assert.Equal(message, e.Message);
        Assert.Equal(version5, await CountAsync(5)); // the versions before that checkpoint still read

        var report = await Open(root).CheckAsync();
        Assert.False(report.IsHealthy);
        var error = Assert.Single(report.Findings, f => f.Severity == DeltaCheckSeverity.Error);
        Assert.Equal("_delta_log/00000000000000000006.checkpoint.2a15d0c6-8b11-4a98-bab4-957905d62f7f.json", error.File);
        Assert.Equal(message, error.Problem);
    }

    private static string Z85Encode(byte[] data)
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < data.Length; i += 4)
        {
            var value = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(i));
            var chars = new char[5];
            for (var j = 4; j >= 0; j--)
            {
                chars[j] = alphabet[(int)(value % 85)];
                value /= 85;
            }
            sb.Append(chars);
        }
        return sb.ToString();
    }
}
