using System.Globalization;
using System.Text.Json;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse table import|optimize|restore|vacuum</c>, run as a user runs them.</summary>
public sealed class TableWriteCommandTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("cli-write");

    public void Dispose() => _temp.Dispose();

    private string Ndjson(string name, params string[] lines)
    {
        var path = _temp.Combine(name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    private static async Task<List<JsonElement>> ReadRowsAsync(string table, params string[] extra)
    {
        var r = await CliRunner.RunAsync(["table", "read", table, "--format", "jsonl", .. extra]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
    }

    [Fact]
    public async Task Import_NdjsonCsvAndParquet_RowsReadBackWithTheirTypes()
    {
        var table = _temp.Combine("events");
        var json = Ndjson("a.ndjson",
            """{"id": 1, "page": "/a", "tti": 12.5, "day": "2024-05-01"}""",
            """{"id": 2, "page": "/b", "tti": null, "day": "2024-05-02"}""");
        var csv = _temp.Combine("b.csv");
        await File.WriteAllTextAsync(csv, "id,page,tti,day\n3,/c,7.25,2024-05-01\n");
        var parquet = _temp.Combine("c.parquet");
        using (var lease = fixture.Engine.Lease())
            lease.Connection.Execute($"COPY (SELECT 4 AS id, '/d' AS page, 1.5 AS tti, DATE '2024-05-03' AS day) TO {SqlText.Literal(parquet)} (FORMAT parquet)");

        var first = await CliRunner.RunAsync("table", "import", json, "--to", table, "--partition-by", "day");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.StartsWith($"imported 2 rows into {table}: version 0, 2 files, ", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", csv, "--to", table)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", parquet, "--to", table)).ExitCode);

        var rows = (await ReadRowsAsync(table)).OrderBy(r => r.GetProperty("id").GetInt64()).ToList();
        Assert.Equal([1L, 2, 3, 4], rows.Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal(["/a", "/b", "/c", "/d"], rows.Select(r => r.GetProperty("page").GetString()));
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("tti").ValueKind);
        Assert.Equal(7.25, rows[2].GetProperty("tti").GetDouble());
        Assert.Equal(["2024-05-01", "2024-05-02", "2024-05-01", "2024-05-03"], rows.Select(r => r.GetProperty("day").GetString()));

        var info = await CliRunner.RunAsync("table", "info", table, "--json");
        using var doc = JsonDocument.Parse(info.Stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(4, doc.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(["day"], doc.RootElement.GetProperty("partitionColumns").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("date", doc.RootElement.GetProperty("schema").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "day").GetProperty("type").GetString());
        Assert.True(Directory.Exists(Path.Combine(table, "day=2024-05-03")));
    }

    [Fact]
    public async Task Import_Overwrite_OnlyTheNewRowsRemainAndOlderVersionsStayReadable()
    {
        var table = _temp.Combine("t");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson("1.json", """{"id": 1}""", """{"id": 2}"""), "--to", table)).ExitCode);
        var r = await CliRunner.RunAsync("table", "import", Ndjson("2.json", """{"id": 3}"""), "--to", table, "--mode", "overwrite");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.EndsWith("1 files replaced\n", r.Stdout, StringComparison.Ordinal);
        Assert.Equal([3L], (await ReadRowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()));
        Assert.Equal([1L, 2], (await ReadRowsAsync(table, "--version", "0")).Select(x => x.GetProperty("id").GetInt64()).Order());
    }

    [Fact]
    public async Task Import_SameTxnTwice_SecondRunSkippedAndRowsOnce()
    {
        var table = _temp.Combine("t");
        var file = Ndjson("1.json", """{"id": 1}""");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", table, "--txn", "loader:7")).ExitCode);
        var again = await CliRunner.RunAsync("table", "import", file, "--to", table, "--txn", "loader:7");
        Assert.Equal(0, again.ExitCode);
        Assert.StartsWith("skipped:", again.Stdout, StringComparison.Ordinal);
        Assert.Single(await ReadRowsAsync(table));
        var next = await CliRunner.RunAsync("table", "import", file, "--to", table, "--txn", "loader:8");
        Assert.StartsWith("imported 1 rows", next.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_BadInput_ClearErrorAndTableUnchanged()
    {
        var table = _temp.Combine("t");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson("1.json", """{"id": 1}"""), "--to", table)).ExitCode);

        var missing = await CliRunner.RunAsync("table", "import", _temp.Combine("nope.json"), "--to", table);
        Assert.Equal((1, $"error: No file '{_temp.Combine("nope.json")}' to import.\n"), (missing.ExitCode, missing.Stderr));

        var mixed = await CliRunner.RunAsync("table", "import", Ndjson("2.json", "{}"), _temp.Combine("x.csv"), "--to", table);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("mix formats (ndjson, csv)", mixed.Stderr, StringComparison.Ordinal);

        var mode = await CliRunner.RunAsync("table", "import", Ndjson("3.json", """{"id": 2}"""), "--to", table, "--mode", "upsert");
        Assert.Equal((2, "error: --mode must be append or overwrite, not 'upsert'\n"), (mode.ExitCode, mode.Stderr));

        var extra = await CliRunner.RunAsync("table", "import", Ndjson("4.json", """{"id": 2, "surprise": "x"}"""), "--to", table);
        Assert.NotEqual(0, extra.ExitCode);
        Assert.Contains("surprise", extra.Stderr, StringComparison.Ordinal);

        var typo = await CliRunner.RunAsync("table", "import", Ndjson("5.json", """{"id": 2}"""), "--to", table, "--partition", "id");
        Assert.Equal((2, "error: unknown option '--partition' for 'lakehouse table import' (did you mean '--partition-by'?)\n"), (typo.ExitCode, typo.Stderr));

        Assert.Equal([1L], (await ReadRowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()));
        Assert.Single(Directory.GetFiles(Path.Combine(table, "_delta_log"), "*.json"));
        Assert.Single(Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories));
    }

    /// <summary>
    /// The table typed as the first argument, as a new user types it: a usage error that gives the command line to type, the
    /// table moved to --to and the rest kept (it said only "needs --to &lt;table&gt;"); nothing is created, and the line it gives
    /// imports. A lake name that is also a file here is a file, and the message stays the plain one.
    /// </summary>
    [Fact]
    public async Task Import_TableTypedAsTheFirstArgument_UsageErrorGivesTheCommandLineToType()
    {
        Ndjson("a.ndjson", """{"id": 1}""");
        Ndjson("bronze.json", """{"id": 2}""");
        const string Typed = "table import bronze.imp a.ndjson --lake 'my lake' --mode overwrite";
        const string Fixed = "lakehouse table import --to bronze.imp a.ndjson --lake 'my lake' --mode overwrite";

        var wrong = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE {Typed}");

        Assert.Equal((2, "", $"error: 'lakehouse table import' needs --to <table>; to import into bronze.imp, type: {Fixed}\n"), (wrong.ExitCode, wrong.Stdout, wrong.Stderr));
        Assert.False(Directory.Exists(_temp.Combine("my lake")));
        var right = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE {Fixed["lakehouse ".Length..]}");
        Assert.True(right.ExitCode == 0, right.Stderr);
        Assert.StartsWith($"imported 1 rows into {_temp.Combine("my lake", "bronze", "imp")}: version 0", right.Stdout, StringComparison.Ordinal);

        var alone = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE table import silver.x");
        Assert.Equal((2, "error: 'lakehouse table import' needs --to <table>; to import into silver.x, type: lakehouse table import --to silver.x <files>\n"), (alone.ExitCode, alone.Stderr));
        var file = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE table import bronze.json a.ndjson");
        Assert.Equal((2, "error: 'lakehouse table import' needs --to <table> (see lakehouse table import --help)\n"), (file.ExitCode, file.Stderr));
    }

    [Fact]
    public async Task Import_ToNewRelativeFolderAndToLakeName_BothResolveAsAUserMeansThem()
    {
        var file = Ndjson("1.json", """{"id": 1}""");
        var r = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE table import '{file}' --to mytable && $LAKEHOUSE table import '{file}' --to silver.things --lake ./lake");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(Directory.Exists(_temp.Combine("mytable", "_delta_log")));
        Assert.True(Directory.Exists(_temp.Combine("lake", "silver", "things", "_delta_log")));
        var missing = await CliRunner.RunAsync("table", "read", _temp.Combine("nothing-here"));
        Assert.Equal((1, $"error: '{_temp.Combine("nothing-here")}' is not a Delta table: no _delta_log folder with commits or checkpoints.\n"), (missing.ExitCode, missing.Stderr));
    }

    [Fact]
    public async Task Import_PartitionValueTooLongForAFolderName_RefusedSayingSoAndNothingCommitted()
    {
        var table = _temp.Combine("t");
        var r = await CliRunner.RunAsync("table", "import", Ndjson("1.json", $$"""{"id": 1, "p": "{{new string('x', 300)}}"}"""), "--to", table, "--partition-by", "p");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: A partition value is too long", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(table), $"{table} was left behind");
    }

    /// <summary>
    /// A refused first import leaves nothing behind: not the table's folder, nor the layer or lake folder it created (before: an
    /// empty <c>&lt;lake&gt;/bronze/x</c> without a log stayed). A folder that was there before the import is kept, empty or not.
    /// </summary>
    [Fact]
    public async Task Import_RefusedIntoANewTable_RemovesOnlyTheFoldersItCreated()
    {
        var lake = _temp.Combine("lake");
        var file = Ndjson("1.json", """{"id": 1, "p": ""}""");

        var refused = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.x", "--partition-by", "p", "--lake", lake);
        Assert.False(Directory.Exists(lake), "the new lake's folders were left behind");
        var deep = _temp.Combine("new", "deep", "t");
        var refusedFolder = await CliRunner.RunAsync("table", "import", file, "--to", deep, "--partition-by", "p");
        Directory.CreateDirectory(Path.Combine(lake, "bronze", "y"));
        Directory.CreateDirectory(Path.Combine(lake, "bronze", "z"));
        await File.WriteAllTextAsync(Path.Combine(lake, "bronze", "z", "notes.txt"), "mine");
        var refusedInEmpty = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.y", "--partition-by", "p", "--lake", lake);
        var refusedInFilled = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.z", "--partition-by", "p", "--lake", lake);

        Assert.Equal([1, 1, 1, 1], new[] { refused.ExitCode, refusedFolder.ExitCode, refusedInEmpty.ExitCode, refusedInFilled.ExitCode });
        Assert.Contains("its value is the empty string", refused.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("new")), "the folders of ./new/deep/t were left behind");
        Assert.Equal(["y", "z"], Directory.GetFileSystemEntries(Path.Combine(lake, "bronze")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(lake, "bronze", "y")));
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(Path.Combine(lake, "bronze", "z")).Select(Path.GetFileName));
        var ok = await CliRunner.RunAsync("table", "import", Ndjson("2.json", """{"id": 2, "p": "a"}"""), "--to", "bronze.x", "--partition-by", "p", "--lake", lake);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Equal([2L], (await ReadRowsAsync("bronze.x", "--lake", lake)).Select(r => r.GetProperty("id").GetInt64()));
    }

    /// <summary>
    /// A new table is not created inside another table's folder or log, nor in a lake or layer folder typed as a path: the outer
    /// table would take the inner one's files for its own unreferenced files, which VACUUM deletes (before: all were created, and a
    /// VACUUM of './lake/bronze' listed every bronze table's data files for deletion). The existing tables are untouched.
    /// </summary>
    [Fact]
    public async Task Import_NewTableInsideOrAroundAnotherTable_RefusedAndNothingWritten()
    {
        var lake = _temp.Combine("lake");
        var file = Ndjson("1.json", """{"id": 1}""");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", "bronze.t", "--lake", lake)).ExitCode);
        var before = Directory.GetFileSystemEntries(lake, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var table = Path.Combine(lake, "bronze", "t");
        var inside = $"it is inside the Delta table '{table}', whose VACUUM would delete the new table's files as files of its own that it no longer references. Give a folder outside it.";
        var around = $"the folder holds the Delta table '{table}', whose files the new table's VACUUM would delete as files it does not reference. " +
            "Give a new or empty folder (a table in the lake is written layer.name, e.g. bronze.events).";

        foreach (var (to, why) in new[]
        {
            (Path.Combine(table, "sub"), inside),
            (Path.Combine(table, "_delta_log"), inside),
            (Path.Combine(lake, "bronze"), around),
            (lake, around),
        })
        {
            var r = await CliRunner.RunAsync("table", "import", file, "--to", to);
            Assert.Equal((1, $"error: Cannot create a table at '{to}': {why}\n"), (r.ExitCode, r.Stderr));
        }

        Assert.Equal(before, Directory.GetFileSystemEntries(lake, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        var append = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.t", "--lake", lake);
        Assert.True(append.ExitCode == 0, append.Stderr);
        Assert.Equal([1L, 1], (await ReadRowsAsync(table)).Select(r => r.GetProperty("id").GetInt64()));
    }

    /// <summary>
    /// An empty string in a partition column is refused naming the file, line and column, and nothing is written: Delta reads an
    /// empty partition value back as null (PROTOCOL.md; Spark writes it as null too), so the row cannot be kept as it is (before:
    /// it was stored as null without a word). Null itself stays a null partition.
    /// </summary>
    [Fact]
    public async Task Import_EmptyStringInAPartitionColumn_RefusedNamingFileLineAndColumnNothingWritten()
    {
        var table = _temp.Combine("t");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson("0.json", """{"id": 0, "p": "a"}""", """{"id": 1, "p": null}"""), "--to", table, "--partition-by", "p")).ExitCode);
        var csv = _temp.Combine("2.csv");
        await File.WriteAllTextAsync(csv, "id,p\n3,b\n4,\n5,\"\"\n");
        var why = $"column 'p' is a partition column of '{table}', and its value is the empty string, which a partition column cannot hold: " +
            "Delta stores partition values as text and reads an empty one back as null, so the row would change. Nothing was imported; " +
            "give such rows null (or another value) there, or partition by another column.\n";

        var jsonFile = Ndjson("1.json", """{"id": 2, "p": "b"}""", "", """{"id": 3, "p": ""}""");
        var json = await CliRunner.RunAsync("table", "import", jsonFile, "--to", table);
        var fromCsv = await CliRunner.RunAsync("table", "import", csv, "--to", table);

        Assert.Equal((1, $"error: {jsonFile} line 3: " + why), (json.ExitCode, json.Stderr));
        Assert.Equal((1, $"error: {csv} line 4: " + why), (fromCsv.ExitCode, fromCsv.Stderr));
        var rows = await ReadRowsAsync(table);
        Assert.Equal(["0=a", "1=<null>"], rows.Select(r => $"{r.GetProperty("id").GetInt64()}={(r.GetProperty("p").ValueKind == JsonValueKind.Null ? "<null>" : r.GetProperty("p").GetString())}").Order());
        Assert.Equal(["p=__HIVE_DEFAULT_PARTITION__", "p=a"], Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories)
            .Select(f => Path.GetFileName(Path.GetDirectoryName(f)!)).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A blank --where is a usage error naming the option, and the table is not touched (before: exit 1 with .NET's "The value
    /// cannot be an empty string or composed entirely of whitespace.").
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Optimize_BlankWhere_UsageErrorNamingTheOption(string where)
    {
        var table = _temp.Combine("t");
        for (var i = 0; i < 2; i++)
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson($"{i}.json", $$"""{"id": {{i}}, "p": "a"}"""), "--to", table, "--partition-by", "p")).ExitCode);

        var r = await CliRunner.RunAsync("table", "optimize", table, "--where", where);

        Assert.Equal((2, "", "error: --where is blank: give a condition on partition columns (e.g. --where \"ingest_date = '2024-05-01'\"), or leave it out to optimize every partition\n"),
            (r.ExitCode, r.Stdout, r.Stderr));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(table, "_delta_log"), "*.json").Length);
    }

    /// <summary>
    /// --where on a column that is not a partition column says that --where may only name partition columns, listing them, and which
    /// it named (before: DuckDB's 'Binder Error: Referenced column "id" not found in FROM clause! Candidate bindings: "p"'); the table
    /// is not touched. A table without partition columns says it has none.
    /// </summary>
    [Fact]
    public async Task Optimize_WhereOnAColumnThatIsNotAPartitionColumn_SaysWhereNamesOnlyPartitionColumns()
    {
        var (partitioned, plain) = (_temp.Combine("t"), _temp.Combine("u"));
        for (var i = 0; i < 2; i++)
        {
            var file = Ndjson($"{i}.json", $$"""{"id": {{i}}, "p": "a"}""");
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", partitioned, "--partition-by", "p")).ExitCode);
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", plain)).ExitCode);
        }

        var r = await CliRunner.RunAsync("table", "optimize", partitioned, "--where", "id = 1");
        var none = await CliRunner.RunAsync("table", "optimize", plain, "--where", "p = 'a'");

        Assert.Equal((1, "", "error: The optimize predicate 'id = 1' must be a SQL condition on the partition columns (p) only: it names id, which is not a partition column.\n"),
            (r.ExitCode, r.Stdout, r.Stderr));
        Assert.Equal((1, "", "error: The optimize predicate 'p = 'a'' must be a SQL condition on partition columns, and the table has none: it names p, which is not a partition column; leave the predicate out to take the whole table.\n"),
            (none.ExitCode, none.Stdout, none.Stderr));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(partitioned, "_delta_log"), "*.json").Length);
    }

    [Fact]
    public async Task OptimizeRestoreVacuum_OnImportedTable_DoWhatTheySay()
    {
        var table = _temp.Combine("t");
        for (var i = 0; i < 3; i++)
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson($"{i}.json", $$"""{"id": {{i}}}"""), "--to", table)).ExitCode);

        var optimize = await CliRunner.RunAsync("table", "optimize", table);
        Assert.Equal($"optimized {table}: version 3, 3 files compacted into 1\n", optimize.Stdout);
        Assert.Equal([0L, 1, 2], (await ReadRowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()).Order());
        var again = await CliRunner.RunAsync("table", "optimize", table);
        Assert.Equal($"nothing to optimize in {table}: no partition has two or more files below the target size, and no file has more than 5% of its rows deleted (version 3)\n", again.Stdout);

        var restore = await CliRunner.RunAsync("table", "restore", table, "--version", "1");
        Assert.Equal($"restored {table} to version 1 as version 4: 2 files restored, 1 removed\n", restore.Stdout);
        Assert.Equal([0L, 1], (await ReadRowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()).Order());

        var refused = await CliRunner.RunAsync("table", "vacuum", table, "--retention-hours", "0");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("shorter than the table's 168 hours", refused.Stderr, StringComparison.Ordinal);

        var dry = await CliRunner.RunAsync("table", "vacuum", table, "--retention-hours", "0", "--force", "--dry-run");
        var listed = dry.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("would delete 2 files", string.Join(' ', listed[^1].Split(' ')[..4]));
        Assert.Equal(4, Directory.GetFiles(table, "*.parquet").Length); // 3 imports + 1 compacted, nothing deleted yet

        var vacuum = await CliRunner.RunAsync("table", "vacuum", table, "--retention-hours", "0", "--force");
        Assert.StartsWith("deleted 2 files", vacuum.Stdout, StringComparison.Ordinal);
        Assert.All(listed[..^1], f => Assert.False(File.Exists(Path.Combine(table, f)), f));
        Assert.Equal(2, Directory.GetFiles(table, "*.parquet").Length);
        Assert.Equal([0L, 1], (await ReadRowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()).Order());
    }

    [Fact]
    public async Task SetProperties_SetAgainUnsetAndRefused_EachCommitOrRefusalAsSaid()
    {
        var table = _temp.Combine("props");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", Ndjson("p.ndjson", """{"id": 1}"""), "--to", table)).ExitCode);

        var set = await CliRunner.RunAsync("table", "set-properties", table, "owner=ops=team a", "lakehouse.txnRetentionDuration.http/idempotency-=interval 1 day");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal($"2 properties set and 0 removed in {table} as version 1\n", set.Stdout);
        var info = await CliRunner.RunAsync("table", "info", table);
        Assert.Contains("  owner = ops=team a\n", info.Stdout, StringComparison.Ordinal);
        Assert.Contains("  lakehouse.txnRetentionDuration.http/idempotency- = interval 1 day\n", info.Stdout, StringComparison.Ordinal);

        // A value may hold anything; table info shows control characters escaped, so a property cannot drive the terminal.
        Assert.Equal(0, (await CliRunner.RunAsync("table", "set-properties", table, "note=red \u001b[31m\nbell\u0007")).ExitCode);
        Assert.Contains("  note = red \\u001B[31m\\u000Abell\\u0007\n", (await CliRunner.RunAsync("table", "info", table)).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRunner.RunAsync("table", "set-properties", table, "--unset", "note")).ExitCode);

        var again = await CliRunner.RunAsync("table", "set-properties", table, "owner=ops=team a", "--json");
        using (var doc = JsonDocument.Parse(again.Stdout))
        {
            Assert.Equal(("SET TBLPROPERTIES", false, 3L), (doc.RootElement.GetProperty("operation").GetString(), doc.RootElement.GetProperty("committed").GetBoolean(), doc.RootElement.GetProperty("version").GetInt64()));
        }
        var unset = await CliRunner.RunAsync("table", "set-properties", table, "--unset", "owner", "--unset", "never-set");
        Assert.Equal($"0 properties set and 1 removed in {table} as version 4\n", unset.Stdout);
        Assert.DoesNotContain("owner", (await CliRunner.RunAsync("table", "info", table)).Stdout, StringComparison.Ordinal);

        foreach (var (args, code, message) in new (string[] Args, int Code, string Message)[]
        {
            ([], 2, "give a property to set (key=value) or one to remove (--unset key)"),
            (["=x"], 2, "'=x' is not key=value"),
            (["a=1", "a=2"], 2, "property 'a' is given twice"),
            (["a=1", "--unset", "a"], 2, "property 'a' is both set and removed"),
            (["delta.logRetentionDuration=60 days please"], 1, "must be an interval such as 'interval 7 days'"),
            (["delta.enableDeletionVectors=true"], 1, "is not supported by this writer"),
            (["delta.appendOnly=yes"], 1, "Table property 'delta.appendOnly' must be true or false, not 'yes'."),
            (["bad\u001bname=1"], 1, "'bad\\u001Bname' holds a control character"),
        })
        {
            var refused = await CliRunner.RunAsync(["table", "set-properties", table, .. args]);
            Assert.True(refused.ExitCode == code, $"{string.Join(' ', args)}: exit {refused.ExitCode}: {refused.Stderr}");
            Assert.Contains(message, refused.Stderr, StringComparison.Ordinal);
        }
        var missing = await CliRunner.RunAsync("table", "set-properties", _temp.Combine("nothing-here"), "a=1");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("is not a Delta table", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal("4", (await CliRunner.RunAsync("table", "info", table)).Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    /// <summary>
    /// The log of an imported table, checked without this project's Delta code: JSON lines parsed by hand and the checkpoint
    /// read by plain DuckDB. Synapse serverless needs protocol (1, 2), stats on every file, a classic checkpoint and a small _last_checkpoint.
    /// </summary>
    [Fact]
    public async Task Import_TwelveTimes_LogWithinTheSynapseProfileByAnIndependentReading()
    {
        var table = _temp.Combine("t");
        for (var i = 0; i < 12; i++)
        {
            var file = Ndjson($"{i}.json", $$"""{"id": {{i}}, "name": "n{{i}}", "at": "2024-05-0{{1 + (i % 3)}}T10:00:00", "score": {{(i % 4 == 3 ? "null" : i.ToString(CultureInfo.InvariantCulture))}}}""");
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", table)).ExitCode);
        }
        var log = Path.Combine(table, "_delta_log");
        var adds = new List<JsonElement>();
        foreach (var commit in Directory.GetFiles(log, "*.json").Order(StringComparer.Ordinal))
        {
            foreach (var line in await File.ReadAllLinesAsync(commit))
            {
                var action = JsonDocument.Parse(line).RootElement;
                if (action.TryGetProperty("protocol", out var p))
                    Assert.Equal("""{"minReaderVersion":1,"minWriterVersion":2}""", p.GetRawText());
                if (action.TryGetProperty("add", out var add)) adds.Add(add.Clone());
            }
        }
        Assert.Equal(12, adds.Count);
        foreach (var add in adds)
        {
            using var stats = JsonDocument.Parse(add.GetProperty("stats").GetString()!);
            var s = stats.RootElement;
            Assert.Equal(1, s.GetProperty("numRecords").GetInt64());
            Assert.Equal(s.GetProperty("minValues").GetProperty("id").GetInt64(), s.GetProperty("maxValues").GetProperty("id").GetInt64());
            Assert.Equal(0, s.GetProperty("nullCount").GetProperty("id").GetInt64());
            var id = s.GetProperty("minValues").GetProperty("id").GetInt64();
            Assert.Equal(id % 4 == 3 ? 1 : 0, s.GetProperty("nullCount").GetProperty("score").GetInt64());
        }

        var lastCheckpoint = await File.ReadAllBytesAsync(Path.Combine(log, "_last_checkpoint"));
        Assert.True(lastCheckpoint.Length <= 200, $"{lastCheckpoint.Length} bytes");
        using var last = JsonDocument.Parse(lastCheckpoint);
        Assert.Equal(10, last.RootElement.GetProperty("version").GetInt64());
        var checkpoint = Path.Combine(log, "00000000000000000010.checkpoint.parquet");
        Assert.Single(Directory.GetFiles(log, "*.checkpoint*"));
        using var lease = fixture.Engine.Lease();
        var counts = lease.Connection.Scalar(
            $"SELECT count(add) || '|' || count(metaData) || '|' || count(protocol) || '|' || max(protocol.minReaderVersion) || max(protocol.minWriterVersion) FROM read_parquet({SqlText.Literal(checkpoint)})");
        Assert.Equal("11|1|1|12", counts);
        Assert.Equal(last.RootElement.GetProperty("size").GetInt64(),
            (long)lease.Connection.Scalar($"SELECT count(*) FROM read_parquet({SqlText.Literal(checkpoint)})")!);
        var statsInCheckpoint = lease.Connection.Scalar(
            $"SELECT count(*) FROM read_parquet({SqlText.Literal(checkpoint)}) WHERE add IS NOT NULL AND add.stats LIKE '%\"numRecords\":1%'");
        Assert.Equal(11L, statsInCheckpoint);
    }
}
