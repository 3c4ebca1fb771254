using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

public sealed class DeltaWriterRoundTripTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    private const string AllTypes = """
        SELECT * FROM (VALUES
          (1::BIGINT, 'héllo wörld', 7::INTEGER, 1.5::DOUBLE, true, DATE '2024-02-29', TIMESTAMPTZ '2024-01-02 03:04:05.123456+00',
           12.34::DECIMAL(10,2), 123456789012345678901234.5::DECIMAL(38,1), '\x01\x02'::BLOB, {'x': 1, 'y': 'z'}, [1, 2, 3], MAP {'k': 'v'}, 1.25::FLOAT, 7::SMALLINT, 3::TINYINT),
          (2::BIGINT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (3::BIGINT, '', -2147483648, -0.25, false, DATE '1970-01-01', TIMESTAMPTZ '1999-12-31 23:59:59+00',
           -0.01::DECIMAL(10,2), 0::DECIMAL(38,1), ''::BLOB, {'x': NULL, 'y': NULL}, [], MAP {}, -3.5::FLOAT, (-32768)::SMALLINT, (-128)::TINYINT)
        ) AS v(l, s, i, d, b, dt, ts, dec, bigdec, bin, st, li, mp, f, sh, tn)
        """;

    [Fact]
    public async Task AppendAsync_CompressionLevel_WritesZstdAtThatLevelWithTheSameRows()
    {
        // Compressible but not trivial text: level 19 must come out smaller than level 1, and both hold the same rows.
        const string rows = "SELECT i, 'event ' || (i % 977) || ' from host-' || (i % 13) || ' path /p/' || hash(i % 5003) AS line FROM range(200000) t(i)";
        using var fast = new LocalTable(_engine, new DeltaWriteOptions { CompressionLevel = 1 });
        using var small = new LocalTable(_engine, new DeltaWriteOptions { CompressionLevel = 19 });
        var fastResult = await fast.Writer.AppendAsync(rows);
        var smallResult = await small.Writer.AppendAsync(rows);
        Assert.Equal(200000, fastResult.Metric("numOutputRows"));
        Assert.Equal(200000, smallResult.Metric("numOutputRows"));
        Assert.True(smallResult.Metric("numOutputBytes") < fastResult.Metric("numOutputBytes"),
            $"level 19: {smallResult.Metric("numOutputBytes")} bytes, level 1: {fastResult.Metric("numOutputBytes")} bytes");
        Assert.Equal(["200000 19999900000"], await WriteTestKit.QueryAsync(fast.Table, "SELECT count(*) || ' ' || sum(i) FROM t"));
        Assert.Equal(["200000 19999900000"], await WriteTestKit.QueryAsync(small.Table, "SELECT count(*) || ' ' || sum(i) FROM t"));
        using var lease = _engine.Lease();
        var file = Directory.GetFiles(fast.Root, "*.parquet").Single();
        Assert.Equal(["ZSTD"], WriteTestKit.Strings(lease.Connection, $"SELECT DISTINCT compression FROM parquet_metadata({SqlText.Literal(file)})"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(23)]
    public void CompressionLevel_OutsideOneTo22_IsRefused(int level) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DeltaWriteOptions { CompressionLevel = level });

    [Fact]
    public async Task AppendAsync_EveryColumnType_SnapshotAndReadParquetReturnTheSameValues()
    {
        using var t = new LocalTable(_engine);
        var result = await t.Writer.AppendAsync(AllTypes);
        Assert.True(result.Committed);
        Assert.Equal(0, result.Version);
        Assert.Equal(3, result.Metric("numOutputRows"));

        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.Equal(
            ["long", "string", "integer", "double", "boolean", "date", "timestamp", "decimal(10,2)", "decimal(38,1)", "binary", "struct", "array", "map", "float", "short", "byte"],
            snapshot.Schema.Fields.Select(f => f.Type switch
            {
                Delta.Schema.PrimitiveType p => p.Name,
                Delta.Schema.DecimalType d => $"decimal({d.Precision},{d.Scale})",
                Delta.Schema.StructType => "struct",
                Delta.Schema.ArrayType => "array",
                Delta.Schema.MapType => "map",
                _ => "?",
            }));

        using var lease = _engine.Lease();
        var expected = WriteTestKit.Strings(lease.Connection, $"SELECT to_json(v)::VARCHAR FROM ({AllTypes}) AS v ORDER BY l");
        var viaSnapshot = await WriteTestKit.QueryAsync(t.Table, "SELECT to_json(t)::VARCHAR FROM t ORDER BY l");
        var viaParquet = WriteTestKit.Strings(lease.Connection,
            $"SELECT to_json(p)::VARCHAR FROM read_parquet({SqlText.LiteralList(WriteTestKit.LiveFiles(t, snapshot))}) AS p ORDER BY l");
        Assert.Equal(expected, viaSnapshot);
        Assert.Equal(expected, viaParquet);

        // Spot-check the values themselves, not just agreement.
        Assert.Equal(["héllo wörld", null, ""], await WriteTestKit.QueryAsync(t.Table, "SELECT s FROM t ORDER BY l"));
        Assert.Equal(["2024-01-02 03:04:05.123456+00", null, "1999-12-31 23:59:59+00"], await WriteTestKit.QueryAsync(t.Table, "SELECT ts::VARCHAR FROM t ORDER BY l"));
        Assert.Equal(["123456789012345678901234.5", null, "0.0"], await WriteTestKit.QueryAsync(t.Table, "SELECT bigdec::VARCHAR FROM t ORDER BY l"));
        Assert.Equal(["{'x': 1, 'y': z}", null, "{'x': NULL, 'y': NULL}"], await WriteTestKit.QueryAsync(t.Table, "SELECT st::VARCHAR FROM t ORDER BY l"));
        Assert.Equal(["\\x01\\x02", null, ""], await WriteTestKit.QueryAsync(t.Table, "SELECT bin::VARCHAR FROM t ORDER BY l"));

        // The files are ZSTD parquet, named like Spark's, and the timestamp column is adjusted to UTC.
        var file = Assert.Single(snapshot.Files);
        Assert.Matches("^part-00000-[0-9a-f-]{36}\\.c000\\.zstd\\.parquet$", file.Path);
        var files = SqlText.LiteralList(WriteTestKit.LiveFiles(t, snapshot));
        Assert.Equal(["ZSTD"], WriteTestKit.Strings(lease.Connection, $"SELECT DISTINCT compression FROM parquet_metadata({files})"));
        Assert.Equal(["TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))"],
            WriteTestKit.Strings(lease.Connection, $"SELECT logical_type::VARCHAR FROM parquet_schema({files}) WHERE name = 'ts'"));
    }

    [Fact]
    public async Task AppendAsync_EveryColumnType_StatsHoldMinMaxAndNullCounts()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync(AllTypes);
        var snapshot = await t.Table.GetSnapshotAsync();
        using var stats = JsonDocument.Parse(Assert.Single(snapshot.Files).Stats!);
        var root = stats.RootElement;
        Assert.Equal(3, root.GetProperty("numRecords").GetInt64());
        var min = root.GetProperty("minValues");
        var max = root.GetProperty("maxValues");
        var nulls = root.GetProperty("nullCount");
        Assert.Equal(1, min.GetProperty("l").GetInt64());
        Assert.Equal(3, max.GetProperty("l").GetInt64());
        Assert.Equal("", min.GetProperty("s").GetString());
        Assert.Equal("héllo wörld", max.GetProperty("s").GetString());
        Assert.Equal(-2147483648, min.GetProperty("i").GetInt64());
        Assert.Equal(-0.25, min.GetProperty("d").GetDouble());
        Assert.Equal("1970-01-01", min.GetProperty("dt").GetString());
        Assert.Equal("2024-02-29", max.GetProperty("dt").GetString());
        Assert.Equal("1999-12-31T23:59:59.000Z", min.GetProperty("ts").GetString());
        Assert.Equal("2024-01-02T03:04:05.124Z", max.GetProperty("ts").GetString()); // Millisecond precision, maximum rounded up.
        Assert.Equal(-0.01m, min.GetProperty("dec").GetDecimal());
        Assert.Equal(12.34m, max.GetProperty("dec").GetDecimal());
        Assert.Equal(1, max.GetProperty("st").GetProperty("x").GetInt64());
        Assert.Equal(-32768, min.GetProperty("sh").GetInt64());
        Assert.False(min.TryGetProperty("b", out _)); // No min/max for booleans, binary, arrays, maps.
        Assert.False(min.TryGetProperty("bin", out _));
        Assert.False(min.TryGetProperty("li", out _));
        Assert.Equal(0, nulls.GetProperty("l").GetInt64());
        Assert.Equal(1, nulls.GetProperty("s").GetInt64());
        Assert.Equal(1, nulls.GetProperty("b").GetInt64());
        Assert.Equal(2, nulls.GetProperty("st").GetProperty("x").GetInt64());
    }

    [Fact]
    public async Task AppendAsync_LongStrings_StatsAreCutTo32CharactersAndStillBoundTheValues()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT repeat('a', 40) || i::VARCHAR AS s FROM range(3) AS r(i)");
        var snapshot = await t.Table.GetSnapshotAsync();
        using var stats = JsonDocument.Parse(Assert.Single(snapshot.Files).Stats!);
        var min = stats.RootElement.GetProperty("minValues").GetProperty("s").GetString()!;
        var max = stats.RootElement.GetProperty("maxValues").GetProperty("s").GetString()!;
        Assert.Equal(new string('a', 32), min);
        Assert.Equal(new string('a', 32) + char.ConvertFromUtf32(0x10FFFF), max);
        Assert.True(FileStatistics.CompareUtf8(max, new string('a', 40) + "2") > 0);
    }

    /// <summary>
    /// An empty string in a string partition column is refused and nothing is committed: Delta reads an empty partition value
    /// back as null (PROTOCOL.md), so writing it would change the row (before: it was written as null without a word).
    /// </summary>
    [Theory]
    [InlineData(false, "SELECT id, p FROM (VALUES (2, 'b'), (3, ''), (4, NULL)) AS v(id, p)")]
    [InlineData(true, "SELECT id, p FROM (VALUES (2, 'b'), (3, ''), (4, NULL)) AS v(id, p)")]
    [InlineData(true, "SELECT id, p FROM (VALUES (2, ''), (3, '')) AS v(id, p)")]
    public async Task AppendAsync_EmptyStringPartitionValue_RefusedNamingTheColumnNothingCommitted(bool stagedSource, string rows)
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p"], StagedSource = stagedSource });
        await t.Writer.AppendAsync("SELECT 1 AS id, 'a' AS p");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync(rows));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Column 'p' is a partition column, and a row holds the empty string in it: Delta stores partition values as text and reads an empty one back as null, " +
            "so the row would change. Nothing was written; give such rows null (or another value) there, or partition by another column.", e.Message);
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Equal(["1=a"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR || '=' || coalesce(p, '<null>') FROM t ORDER BY id"));
    }

    /// <summary>
    /// A binary partition value is written as the text its bytes encode as UTF-8, as Spark wrote "😈" in this very table (its row 7),
    /// and read back as the same bytes; a replaceWhere on that value finds the partitions of both writers. Before, the value was DuckDB's
    /// escaped text ("\xF0\x9F\x98\x88", read back as 16 ASCII bytes), and the replaceWhere failed on Spark's value.
    /// </summary>
    [Fact]
    public async Task AppendAsync_BinaryPartitionValueOfSparkTable_WrittenAsUtf8TextAndReadBackAsTheSameBytes()
    {
        using var temp = new TempDirectory("binary-partition");
        var root = temp.Combine("t");
        TestFiles.CopyTree(ConformanceCorpus.Root("dat/v0.0.2/multi_partitioned"), root);
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        const string rowsSql = "SELECT number::VARCHAR || '=' || coalesce(hex(data), '<null>') FROM t ORDER BY number";
        var before = await WriteTestKit.QueryAsync(table, rowsSql);
        Assert.Contains("7=F09F9888", before); // Spark's "😈"
        var sparkFiles = (await table.GetSnapshotAsync()).Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);

        await DeltaWriter.Create(table).AppendAsync(
            "SELECT * FROM (VALUES ('b', DATE '1970-01-01', '\\xF0\\x9F\\x98\\x88'::BLOB, 100::BIGINT), ('c', DATE '1970-01-01', 'h\\xC3\\xA9/'::BLOB, 101::BIGINT)) " +
            "AS v(letter, date, data, number)");

        var added = (await table.GetSnapshotAsync()).Files.Where(f => !sparkFiles.Contains(f.Path))
            .ToDictionary(f => f.PartitionValues["data"]!, f => DeltaPaths.ToTableRelative(f.Path, table.Storage), StringComparer.Ordinal);
        Assert.Equal(["hé/", "😈"], added.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("letter=b/date=1970-01-01/data=😈/", added["😈"]);
        Assert.StartsWith("letter=c/date=1970-01-01/data=hé%2F/", added["hé/"]);
        Assert.Equal([.. before, "100=F09F9888", "101=68C3A92F"], await WriteTestKit.QueryAsync(table, rowsSql));

        // replaceWhere reads the partition values back as their type: both writers' "😈" partitions are replaced.
        await DeltaWriter.Create(table).ReplacePartitionsAsync("SELECT 'b' AS letter, DATE '1970-01-01' AS date, '\\xF0\\x9F\\x98\\x88'::BLOB AS data, 200::BIGINT AS number",
            "data = '\\xF0\\x9F\\x98\\x88'::BLOB");
        Assert.Equal([.. before.Where(r => r != "7=F09F9888"), "101=68C3A92F", "200=F09F9888"], await WriteTestKit.QueryAsync(table, rowsSql));
    }

    /// <summary>
    /// A binary partition value that no partition text can hold is refused naming the column, and nothing is committed: the empty
    /// value (read back as null, as the empty string is) and bytes that are not UTF-8 (before, both were written: as null, and as
    /// DuckDB's escaped text).
    /// </summary>
    [Theory]
    [InlineData("''::BLOB", "Column 'data' is a partition column, and a row holds an empty binary value (no bytes) in it: Delta stores partition values as text and reads " +
        "an empty one back as null, so the row would change. Nothing was written; give such rows null (or another value) there, or partition by another column.")]
    [InlineData("'\\xF0\\x9F'::BLOB", "Column 'data' is a binary partition column, and a row holds bytes in it that are not valid UTF-8: Delta stores a binary partition value " +
        "as the text its bytes encode, and these encode none. Nothing was written; partition by another column, or keep such bytes out of this one.")]
    public async Task AppendAsync_BinaryPartitionValueNoTextHolds_RefusedNamingTheColumnNothingCommitted(string value, string message)
    {
        using var temp = new TempDirectory("binary-partition");
        var root = temp.Combine("t");
        TestFiles.CopyTree(ConformanceCorpus.Root("dat/v0.0.2/multi_partitioned"), root);
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        var version = (await table.GetSnapshotAsync()).Version;

        var e = await Assert.ThrowsAsync<LakehouseException>(() => DeltaWriter.Create(table).AppendAsync(
            $"SELECT * FROM (VALUES ('b', DATE '1970-01-01', 'ok'::BLOB, 100::BIGINT), ('c', DATE '1970-01-01', {value}, 101::BIGINT)) AS v(letter, date, data, number)"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal(message, e.Message);
        Assert.Equal(version, (await table.GetSnapshotAsync()).Version);
    }

    [Fact]
    public async Task AppendAsync_AwkwardPartitionValues_HiveFoldersAndValuesRoundTrip()
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p"] });
        string[] values = ["plain", "with space", "a/b", "100%", "k=v", "日本語", "quote'\"", "colon:star*"];
        var rows = string.Join(", ", values.Select((v, i) => $"({i}, {SqlText.Literal(v)})")) + ", (99, NULL)";
        await t.Writer.AppendAsync($"SELECT id, p FROM (VALUES {rows}) AS v(id, p)");

        var snapshot = await t.Table.GetSnapshotAsync();
        var byValue = snapshot.Files.ToDictionary(f => f.PartitionValues["p"] ?? "<null>", f => DeltaPaths.ToTableRelative(f.Path, t.Storage));
        Assert.StartsWith("p=plain/", byValue["plain"]);
        Assert.StartsWith("p=with space/", byValue["with space"]);
        Assert.StartsWith("p=a%2Fb/", byValue["a/b"]);
        Assert.StartsWith("p=100%25/", byValue["100%"]);
        Assert.StartsWith("p=k%3Dv/", byValue["k=v"]);
        Assert.StartsWith("p=日本語/", byValue["日本語"]);
        Assert.StartsWith("p=quote%27%22/", byValue["quote'\""]);
        Assert.StartsWith("p=colon%3Astar%2A/", byValue["colon:star*"]);
        Assert.StartsWith("p=__HIVE_DEFAULT_PARTITION__/", byValue["<null>"]);
        Assert.Equal(9, snapshot.Files.Count);
        foreach (var f in snapshot.Files) Assert.True(File.Exists(t.Storage.LocalPathOrNull(DeltaPaths.ToTableRelative(f.Path, t.Storage))), f.Path);

        // The log path is URL-encoded once more (a literal '%' in the folder becomes %25 in the log).
        Assert.Contains(snapshot.Files, f => f.Path.StartsWith("p=100%2525/", StringComparison.Ordinal));

        var read = await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR || '=' || coalesce(p, '<null>') FROM t ORDER BY id");
        var expected = values.Select(string? (v, i) => $"{i}={v}").Append("99=<null>").ToList();
        Assert.Equal(expected, read);

        // Partition columns are not stored in the data files.
        using var lease = _engine.Lease();
        var columns = WriteTestKit.Strings(lease.Connection, $"SELECT DISTINCT name FROM parquet_schema({SqlText.LiteralList(WriteTestKit.LiveFiles(t, snapshot))}) WHERE name <> 'duckdb_schema'");
        Assert.Equal(["id"], columns);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AppendAsync_TypedPartitionColumns_SerializedPerProtocol(bool stagedSource)
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["d", "ts", "b", "n", "dec"], StagedSource = stagedSource });
        await t.Writer.AppendAsync(
            "SELECT 1 AS id, DATE '2024-03-01' AS d, TIMESTAMPTZ '2024-03-01 12:30:00.5+02' AS ts, true AS b, 42 AS n, 1.50::DECIMAL(5,2) AS dec");
        var snapshot = await t.Table.GetSnapshotAsync();
        var file = Assert.Single(snapshot.Files);
        Assert.Equal("2024-03-01", file.PartitionValues["d"]);
        Assert.Equal("2024-03-01 10:30:00.500000", file.PartitionValues["ts"]); // UTC, microseconds.
        Assert.Equal("true", file.PartitionValues["b"]);
        Assert.Equal("42", file.PartitionValues["n"]);
        Assert.Equal("1.50", file.PartitionValues["dec"]);
        Assert.StartsWith("d=2024-03-01/ts=2024-03-01 10%3A30%3A00.500000/b=true/n=42/dec=1.50/", DeltaPaths.ToTableRelative(file.Path, t.Storage));
        Assert.Equal(["2024-03-01|2024-03-01 10:30:00.5+00|true|42|1.50"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT concat_ws('|', d, ts, b, n, dec) FROM t"));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    [InlineData(true, 1)]
    public async Task AppendAsync_ManyRowsSmallTarget_SplitsIntoSeveralFilesWithStats(bool stagedSource, int partitions)
    {
        using var t = new LocalTable(_engine, new DeltaWriteOptions { TargetFileSizeBytes = 256 * 1024, PartitionColumns = ["p"], StagedSource = stagedSource });
        await t.Writer.AppendAsync($"SELECT i AS id, md5(i::VARCHAR) AS h, (i % {partitions})::VARCHAR AS p FROM range(600000) AS r(i)");
        var snapshot = await t.Table.GetSnapshotAsync();
        Assert.True(snapshot.Files.Count > 2, $"expected the partitions to be split, got {snapshot.Files.Count} files");
        Assert.Equal(Enumerable.Range(0, partitions).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            snapshot.Files.Select(f => f.PartitionValues["p"]).Distinct().Order());
        Assert.All(snapshot.Files, f => Assert.StartsWith("p=" + f.PartitionValues["p"] + "/", DeltaPaths.ToTableRelative(f.Path, t.Storage)));
        Assert.All(snapshot.Files, f => Assert.Contains("\"numRecords\":", f.Stats, StringComparison.Ordinal));
        var total = snapshot.Files.Sum(f => JsonDocument.Parse(f.Stats!).RootElement.GetProperty("numRecords").GetInt64());
        Assert.Equal(600000, total);
        Assert.Equal(["600000|179999700000"], await WriteTestKit.QueryAsync(t.Table, "SELECT count(*) || '|' || sum(id) FROM t"));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("a/b")]
    [InlineData("100%")]
    [InlineData("k=v_x")]
    [InlineData("日本語")]
    [InlineData(null)]
    public async Task AppendAsync_StagedSourceInOnePartition_SameFolderValuesAndRowsAsAPartitionedWrite(string? value)
    {
        var rows = $"SELECT i AS id, {(value is null ? "CAST(NULL AS VARCHAR)" : SqlText.Literal(value))} AS p, DATE '2024-05-01' AS d FROM range(1000) AS r(i)";
        using var plain = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p", "d"] });
        using var staged = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p", "d"], StagedSource = true });
        await plain.Writer.AppendAsync(rows);
        await staged.Writer.AppendAsync(rows);

        var expected = Assert.Single((await plain.Table.GetSnapshotAsync()).Files);
        var actual = Assert.Single((await staged.Table.GetSnapshotAsync()).Files);
        Assert.Equal(expected.PartitionValues, actual.PartitionValues);
        Assert.Equal(Path.GetDirectoryName(DeltaPaths.ToTableRelative(expected.Path, plain.Storage)), Path.GetDirectoryName(DeltaPaths.ToTableRelative(actual.Path, staged.Storage)));
        Assert.Equal(value, actual.PartitionValues["p"]);
        Assert.Equal(await WriteTestKit.QueryAsync(plain.Table, "SELECT concat_ws('|', id, p, d) FROM t ORDER BY id"),
            await WriteTestKit.QueryAsync(staged.Table, "SELECT concat_ws('|', id, p, d) FROM t ORDER BY id"));
        using var lease = _engine.Lease();
        Assert.Equal(["id"], WriteTestKit.Strings(lease.Connection,
            $"SELECT DISTINCT name FROM parquet_schema({SqlText.LiteralList(WriteTestKit.LiveFiles(staged, await staged.Table.GetSnapshotAsync()))}) WHERE name <> 'duckdb_schema'"));
    }

    [Fact]
    public async Task AppendAsync_StagedSourceThatReadsDifferentlyTwice_RefusedNothingCommitted()
    {
        // A source is read twice when it is staged: once for its partitions, once to write it. One that changes in between (here a
        // sequence, the first read in partition 1, the second in 2) must not be written under the partition the first read saw.
        using var t = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p"], StagedSource = true });
        await t.Writer.AppendAsync("SELECT 0 AS id, 0 AS p");
        var sequence = "seq_" + Guid.NewGuid().ToString("N");
        using (var lease = _engine.Lease()) lease.Connection.Execute($"CREATE SEQUENCE {sequence}");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync($"SELECT 1 AS id, CAST(nextval('{sequence}') AS INTEGER) AS p"));

        Assert.Contains("The source of the write read differently the second time (its partition values changed): nothing was written.", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Equal(["0|0"], await WriteTestKit.QueryAsync(t.Table, "SELECT concat_ws('|', id, p) FROM t"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(12)]
    public async Task AppendAsync_StagedSourceInSeveralPartitions_SameValuesAndRowsAsAPartitionedWrite(int partitions)
    {
        // More than one partition: DuckDB's partitioned COPY, as without the option (one plain COPY per date, filtered from the
        // staged rows, made silver's 1M-row commit in three dates slower: 2.1-2.2 s against 1.3-1.6 s). A column named k among them.
        var rows = $"SELECT i AS id, md5(i::VARCHAR) AS h, i % 7 AS k, CASE WHEN i % {partitions} = 0 THEN NULL ELSE 'p/' || (i % {partitions}) END AS p FROM range(5000) AS r(i)";
        using var plain = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p"] });
        using var staged = new LocalTable(_engine, new DeltaWriteOptions { PartitionColumns = ["p"], StagedSource = true });
        await plain.Writer.AppendAsync(rows);
        await staged.Writer.AppendAsync(rows);

        string[] Folders(LocalTable t, DeltaSnapshot snapshot) =>
            [.. snapshot.Files.Select(f => Path.GetDirectoryName(DeltaPaths.ToTableRelative(f.Path, t.Storage))! + "=" + f.PartitionValues["p"]).Distinct().Order()];
        var expected = Folders(plain, await plain.Table.GetSnapshotAsync());
        Assert.Equal(partitions, expected.Length);
        Assert.Equal(expected, Folders(staged, await staged.Table.GetSnapshotAsync()));
        const string Rows = "SELECT concat_ws('|', id, h, k, coalesce(p, '<null>')) FROM t ORDER BY id";
        Assert.Equal(await WriteTestKit.QueryAsync(plain.Table, Rows), await WriteTestKit.QueryAsync(staged.Table, Rows));
    }
}
