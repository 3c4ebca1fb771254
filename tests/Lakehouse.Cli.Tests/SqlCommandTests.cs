using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>The <c>sql</c> command through the real binary: the reproductions of issue 7 (hangs, escapes, one table breaking the lake).</summary>
public sealed class SqlCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-sql");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private Task<CliRunner.Result> SqlAsync(params string[] args) => CliRunner.RunAsync(["sql", "--lake", Lake, .. args]);

    /// <summary>A lake with a healthy silver.letters (6 rows, 5 letters) and a bronze table whose log is garbage.</summary>
    private void CreateLake()
    {
        TestFiles.CopyTree(Path.Combine(TestPaths.DeltaConformance, "dat/v0.0.2/basic_partitioned", "delta"), Path.Combine(Lake, "silver", "letters"));
        Directory.CreateDirectory(Path.Combine(Lake, "bronze", "bad", "_delta_log"));
        File.WriteAllText(Path.Combine(Lake, "bronze", "bad", "_delta_log", "00000000000000000000.json"), "{ not json");
    }

    // --unsafe opens DuckDB without the sandbox, so it writes standard output (a pipe here) directly; without it the rows go
    // through a named pipe the process copies: both must end the same way.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sql_ErrorBeforeAnyRow_ExitsOneWithTheMessageAndLeavesNoPipe(bool unsafeEngine)
    {
        var r = await SqlAsync(["select error('boom')", "--format", "csv", .. unsafeEngine ? new[] { "--unsafe" } : []]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: DuckDB statement failed: Invalid Input Error: boom\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sql_ErrorAfterManyRows_ExitsOneAfterTheRowsBeforeIt(bool unsafeEngine)
    {
        var r = await SqlAsync(["select case when i<300000 then i else error('x') end as v from range(400000) t(i)", "--format", "csv", .. unsafeEngine ? new[] { "--unsafe" } : []]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: DuckDB statement failed: Invalid Input Error: x\n", r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("v", lines[0]);
        Assert.Equal(Enumerable.Range(0, lines.Length - 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines[1..]);
    }

    /// <summary>
    /// A reader that leaves (<c>| head</c>) ends the query: a trillion rows would take hours to write. The sandboxed engine's rows go
    /// through a named pipe and a .NET stream, which ignored the closed pipe and ran the query to its end (`timeout` would
    /// end it with 124 here); DuckDB writing the pipe itself (--unsafe) always stopped.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sql_ReaderClosesThePipeEarly_EndsQuietlyWithExitZero(bool unsafeEngine)
    {
        var flag = unsafeEngine ? "--unsafe" : "";
        var r = await CliRunner.ShellAsync($"timeout 300 $LAKEHOUSE sql --lake '{Lake}' {flag} 'select i from range(1000000000000) t(i)' --format csv | head -c 6; echo \" exit ${{PIPESTATUS[0]}}\"");
        Assert.Equal("i\n0\n1\n exit 0\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("select 1); COPY (select 'x') TO 'x.csv'; select (1", "x.csv")]
    [InlineData("ATTACH 'attached.db'", "attached.db")]
    [InlineData("COPY (SELECT 1) TO 'copied.csv'", "copied.csv")]
    public async Task Sql_StatementsThatWouldWriteFiles_AreRefusedAndWriteNothing(string query, string file)
    {
        var work = _temp.Combine("work");
        Directory.CreateDirectory(work);
        var r = await CliRunner.ShellAsync($"cd '{work}' && $LAKEHOUSE sql --lake '{Lake}' \"{query}\"");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(work, file)));
        Assert.Empty(Directory.GetFileSystemEntries(work));
    }

    [Theory]
    [InlineData("INSTALL httpfs FROM 'http://127.0.0.1:9/'", "this is an INSTALL statement")]
    [InlineData("SET enable_external_access = true", "this is a SET statement")]
    [InlineData("SELECT 1; DROP VIEW x", "the SQL text holds 2 statements, and statement 2 is a DROP statement")]
    [InlineData("select * from read_csv('/etc/passwd')", "Permission Error")]
    [InlineData("select * from glob('/home/*')", "Permission Error")]
    public async Task Sql_OutsideTheLakeOrChangingSettings_IsRefused(string query, string message)
    {
        var r = await SqlAsync(query);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Sql_OneBrokenTableInTheLake_DoesNotBreakQueriesOfOthersAndIsNamedWhenQueried()
    {
        CreateLake();
        var good = await SqlAsync("select count(*) as n from silver.letters;", "--format", "csv");
        Assert.Equal((0, "n\n6\n", ""), (good.ExitCode, good.Stdout, good.Stderr));
        var plain = await SqlAsync("select 1 as one", "--format", "csv");
        Assert.Equal((0, "one\n1\n"), (plain.ExitCode, plain.Stdout));

        var bad = await SqlAsync("select count(*) from bronze.bad");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: Table bronze.bad cannot be read: ", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_TimeTravelNames_ReadOlderVersions()
    {
        var table = _temp.Combine("lake", "gold", "t");
        File.WriteAllText(_temp.Combine("1.json"), "{\"id\": 1}\n");
        File.WriteAllText(_temp.Combine("2.json"), "{\"id\": 2}\n");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", _temp.Combine("1.json"), "--to", table)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", _temp.Combine("2.json"), "--to", table)).ExitCode);
        var r = await SqlAsync("select (select count(*) from gold.\"t@v0\") as then, (select count(*) from gold.t) as now", "--format", "csv");
        Assert.Equal((0, "then,now\n1,2\n"), (r.ExitCode, r.Stdout));
    }

    [Fact]
    public async Task Sql_QueryFromStdinOrFile_Runs()
    {
        var file = _temp.Combine("q.sql");
        File.WriteAllText(file, "-- a query kept in a file\nSELECT 41 + 1 AS answer;\n");
        var fromFile = await SqlAsync("--file", file, "--format", "csv");
        Assert.Equal((0, "answer\n42\n"), (fromFile.ExitCode, fromFile.Stdout));
        var fromStdin = await CliRunner.ShellAsync($"echo 'SELECT 7 AS n' | $LAKEHOUSE sql --lake '{Lake}' - --format csv");
        Assert.Equal((0, "n\n7\n"), (fromStdin.ExitCode, fromStdin.Stdout));
    }

    /// <summary>A blank --file is a usage error naming the option (before: exit 1 with .NET's "The value cannot be an empty string.").</summary>
    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task Sql_BlankQueryFile_UsageErrorNamingTheOption(string file)
    {
        var r = await SqlAsync("--file", file);
        Assert.Equal((2, "", "error: --file is blank: give the query file (- for standard input)\n"), (r.ExitCode, r.Stdout, r.Stderr));
    }

    /// <summary>
    /// A query file or standard input is read up to 16 MiB: past that the command stops reading and refuses (before,
    /// <c>--file /dev/zero</c> took 4 GB in 20 s and never ended), and a folder is named as one (was "Access … is denied").
    /// A query of exactly the limit still runs.
    /// </summary>
    [Fact]
    public async Task Sql_QueryFileTooLongOrAFolder_RefusedSayingWhy()
    {
        const string Refusal = "it holds more than 16,777,216 bytes, the most a query may have.\n";
        var zero = await SqlAsync("--file", "/dev/zero");
        Assert.Equal((1, $"error: Cannot read the query file '/dev/zero': {Refusal}"), (zero.ExitCode, zero.Stderr));
        var endless = await CliRunner.ShellAsync($"yes 'select 1 union all' 2>/dev/null | $LAKEHOUSE sql --lake '{Lake}' -");
        Assert.Equal((1, $"error: Cannot read the query from standard input: {Refusal}"), (endless.ExitCode, endless.Stderr));
        var folder = await SqlAsync("--file", _temp.Path);
        Assert.Equal((1, $"error: Cannot read the query file '{_temp.Path}': it is a folder.\n"), (folder.ExitCode, folder.Stderr));
        var file = _temp.Combine("limit.sql");
        const string Select = "SELECT 42 AS n";
        File.WriteAllText(file, Select + new string(' ', Commands.SqlCommand.MaxQueryBytes - Select.Length));
        var atLimit = await SqlAsync("--file", file, "--format", "csv");
        Assert.Equal((0, "n\n42\n"), (atLimit.ExitCode, atLimit.Stdout));
    }

    [Fact]
    public async Task Sql_TableFormat_ShowsAtMostMaxRowsAndCountsTheRest()
    {
        var r = await SqlAsync("select i from range(5000) t(i)");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2 + 1000 + 1, lines.Length);
        Assert.Equal("(1,000 of 5,000 rows shown; --max-rows N shows more, --format csv|jsonl streams them all)", lines[^1]);
        var all = await SqlAsync("select i from range(5000) t(i)", "--max-rows", "10000");
        Assert.Equal("(5,000 rows)", all.Stdout.TrimEnd('\n').Split('\n')[^1]);
    }

    [Fact]
    public async Task Sql_JsonLines_NaNAndInfinityAreJsonStrings()
    {
        var r = await SqlAsync("select 'nan'::double as a, 'inf'::double as b, '-inf'::float as c, 1.5 as d", "--format", "jsonl");
        Assert.Equal(0, r.ExitCode);
        var row = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(("NaN", "Infinity", "-Infinity", 1.5), (row.GetProperty("a").GetString(), row.GetProperty("b").GetString(), row.GetProperty("c").GetString(), row.GetProperty("d").GetDouble()));
    }

    [Fact]
    public async Task Sql_Unsafe_AllowsCopyToAFile()
    {
        CreateLake();
        var target = _temp.Combine("export.csv");
        var r = await SqlAsync($"COPY (SELECT count(*) AS n FROM silver.letters) TO '{target}'", "--unsafe");
        Assert.Equal((0, "ok\n"), (r.ExitCode, r.Stdout));
        Assert.Equal("n\n6\n", File.ReadAllText(target));
    }
}

/// <summary>The <c>sql</c> command over a lake in Azure storage (Azurite): the sandbox allows the download cache, and only named tables are fetched.</summary>
public sealed class SqlOnAzureTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>, IDisposable
{
    private readonly TempDirectory _temp = new("cli-sql-azure");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Sql_AzureLake_ReadsTheNamedTableThroughTheSandboxAndIgnoresABrokenOne()
    {
        await using var container = await azurite.CreateContainerAsync("sql");
        var environment = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString,
            ["LAKEHOUSE_CACHE_DIR"] = _temp.Combine("cache"),
        };
        var data = _temp.Combine("rows.json");
        File.WriteAllText(data, "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n");
        var import = await CliRunner.RunAsync(environment, "table", "import", data, "--to", container.Location + "/gold/a");
        Assert.True(import.ExitCode == 0, import.Stderr);
        await container.Open().PutAsync("gold/b/_delta_log/00000000000000000000.json", "{ broken"u8.ToArray());

        var r = await CliRunner.RunAsync(environment, "sql", "--lake", container.Location, "select sum(id) as total from gold.a", "--format", "csv");
        Assert.Equal((0, "total\n6\n", ""), (r.ExitCode, r.Stdout, r.Stderr));
        var outside = await CliRunner.RunAsync(environment, "sql", "--lake", container.Location, "select * from read_text('/etc/hostname')");
        Assert.Equal(1, outside.ExitCode);
        Assert.Contains("Permission Error", outside.Stderr, StringComparison.Ordinal);
    }
}
