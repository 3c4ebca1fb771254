using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

public sealed class TableReadCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli");

    public void Dispose() => _temp.Dispose();

    private static string Table(string id) => Path.Combine(TestPaths.DeltaConformance, id, "delta");

    [Fact]
    public async Task Read_PartitionedTableWithEscapedValues_PrintsCsvRows()
    {
        var r = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/multi_partitioned"));
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("letter,date,data,number", lines[0]);
        Assert.Equal(["/%20%f,1970-01-01,hello,6", "b,1970-01-01,\\xF0\\x9F\\x98\\x88,7"], lines[1..].Order(StringComparer.Ordinal));
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task Read_JsonLinesAtVersion_OneObjectPerRow()
    {
        var r = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/basic_append"), "--version", "0", "--format", "jsonl");
        Assert.Equal(0, r.ExitCode);
        var rows = r.Stdout.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["a", "b", "c"], rows.Select(x => x.GetProperty("letter").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(6, rows.Sum(x => x.GetProperty("number").GetInt64()));
    }

    [Fact]
    public async Task Read_ByTimestamp_SelectsTheVersionCommittedThen()
    {
        var r = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/basic_append"), "--timestamp", "2023-01-25T01:50:20Z");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(4, r.Stdout.TrimEnd('\n').Split('\n').Length); // header + the 3 rows of version 0
    }

    [Fact]
    public async Task Read_DeletionVectorsAndColumnMapping_AppliesBoth()
    {
        var r = await CliRunner.RunAsync("table", "read", Table("golden/dv-with-columnmapping"), "--format", "jsonl");
        Assert.Equal(0, r.ExitCode);
        var rows = r.Stdout.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(35, rows.Count);
        Assert.DoesNotContain(rows, x => x.GetProperty("col1").GetInt32() is < 30 and var v && v % 2 == 0);
    }

    [Fact]
    public async Task Read_StdoutAppendedToFile_KeepsWhatWasThere()
    {
        var file = _temp.Combine("out.csv");
        var r = await CliRunner.ShellAsync($"echo first > '{file}' && $LAKEHOUSE table read '{Table("dat/v0.0.2/basic_append")}' >> '{file}' && echo last >> '{file}'");
        Assert.Equal(0, r.ExitCode);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal("first", lines[0]);
        Assert.Equal("letter,number,a_float", lines[1]);
        Assert.Equal(5, lines.Length - 3);
        Assert.Equal("last", lines[^1]);
    }

    /// <summary>A table of <paramref name="files"/> imports of <paramref name="rowsPerFile"/> rows each: id 0, 1, … in import order.</summary>
    private async Task<string> ImportedTableAsync(int files, int rowsPerFile)
    {
        var table = _temp.Combine("t");
        for (var f = 0; f < files; f++)
        {
            var csv = _temp.Combine($"part{f}.csv");
            await File.WriteAllLinesAsync(csv, ["id,label", .. Enumerable.Range(f * rowsPerFile, rowsPerFile).Select(i => $"{i},row-{i}")]);
            Assert.Equal(0, (await CliRunner.RunAsync("table", "import", csv, "--to", table)).ExitCode);
        }
        return table;
    }

    [Fact]
    public async Task Read_AtMostTheOrderedRows_FileOrderEveryRun()
    {
        var table = await ImportedTableAsync(files: 4, rowsPerFile: 25_000); // 100,000 rows: the most that keep file order
        var expected = string.Join('\n', ["id,label", .. Enumerable.Range(0, 100_000).Select(i => $"{i},row-{i}")]) + "\n";
        for (var run = 0; run < 2; run++)
        {
            var r = await CliRunner.RunAsync("table", "read", table);
            Assert.Equal((0, ""), (r.ExitCode, r.Stderr));
            Assert.True(expected == r.Stdout, $"run {run}: the rows are not in file order");
        }
    }

    [Fact]
    public async Task Read_MoreThanTheOrderedRows_EveryRowOnceAfterTheHeader()
    {
        var table = await ImportedTableAsync(files: 2, rowsPerFile: 150_000); // two files of two row groups each, read in any order
        var r = await CliRunner.RunAsync("table", "read", table);
        Assert.Equal((0, ""), (r.ExitCode, r.Stderr));
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("id,label", lines[0]);
        var ids = lines[1..].Select(l => l.Split(',')).Select(p => (Id: int.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), Label: p[1])).ToList();
        Assert.Equal(Enumerable.Range(0, 300_000), ids.Select(x => x.Id).Order());
        Assert.All(ids, x => Assert.Equal($"row-{x.Id}", x.Label));
        var limited = await CliRunner.RunAsync("table", "read", table, "--limit", "5");
        Assert.Equal("id,label\n0,row-0\n1,row-1\n2,row-2\n3,row-3\n4,row-4\n", limited.Stdout); // --limit: the first rows, in file order
    }

    [Fact]
    public async Task Read_Out_WritesTheFileReplacingItsContentAndPrintsNothing()
    {
        var file = _temp.Combine("rows.jsonl");
        await File.WriteAllTextAsync(file, new string('x', 10_000)); // longer than the rows: what it held must go
        var r = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/basic_append"), "--format", "jsonl", "--out", file);
        Assert.Equal((0, "", ""), (r.ExitCode, r.Stdout, r.Stderr));
        var viaStdout = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/basic_append"), "--format", "jsonl");
        Assert.Equal(viaStdout.Stdout, await File.ReadAllTextAsync(file));
        Assert.Equal(5, (await File.ReadAllLinesAsync(file)).Length);
    }

    [Fact]
    public async Task Read_OutAFolderAMissingFolderOrInsideTheTable_UsageErrorAndNothingWritten()
    {
        var source = Table("dat/v0.0.2/basic_append");
        var table = _temp.Combine("table");
        SilverRunCommandTests.CopyDirectory(source, table);
        var before = Directory.GetFiles(table, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        var folder = await CliRunner.RunAsync("table", "read", table, "--out", _temp.Path);
        Assert.Equal((2, $"error: --out '{_temp.Path}' is a folder; give a file\n"), (folder.ExitCode, folder.Stderr));
        var missing = await CliRunner.RunAsync("table", "read", table, "--out", _temp.Combine("nope/rows.csv"));
        Assert.Equal((2, $"error: --out '{_temp.Combine("nope/rows.csv")}': the folder '{_temp.Combine("nope")}' does not exist\n"), (missing.ExitCode, missing.Stderr));
        var blank = await CliRunner.RunAsync("table", "read", table, "--out", " ");
        Assert.Equal((2, "error: --out needs a file name\n"), (blank.ExitCode, blank.Stderr));
        var inside = await CliRunner.RunAsync("table", "read", table, "--out", Path.Combine(table, "_delta_log", "00000000000000000000.json"));
        Assert.Equal(2, inside.ExitCode);
        Assert.StartsWith("error: --out '", inside.Stderr, StringComparison.Ordinal);
        Assert.Contains("is inside the table it reads", inside.Stderr, StringComparison.Ordinal);

        Assert.Equal(before, Directory.GetFiles(table, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        var read = await CliRunner.RunAsync("table", "read", table);
        Assert.Equal((0, 6), (read.ExitCode, read.Stdout.TrimEnd('\n').Split('\n').Length));
    }

    /// <summary>
    /// An --out where no file can be written (/proc takes no new files) is refused before anything is read, naming the file, without
    /// DuckDB's text (before: 'DuckDB statement failed: IO Error: Cannot open file "/proc/x": No such file or directory'); the cause
    /// is shown with --verbose only. /dev/null, a device, is still written.
    /// </summary>
    [Fact]
    public async Task Read_OutWhereNoFileCanBeWritten_SaysTheOutputFileCannotBeWrittenWithoutEngineText()
    {
        var table = Table("dat/v0.0.2/basic_append");

        var r = await CliRunner.RunAsync("table", "read", table, "--out", "/proc/x");
        var verbose = await CliRunner.RunAsync("table", "read", table, "--out", "/proc/x", "--verbose");
        var devNull = await CliRunner.RunAsync("table", "read", table, "--out", "/dev/null");

        Assert.Equal((1, "", "error: --out '/proc/x': the output file cannot be written (it cannot be opened or created there)\n"), (r.ExitCode, r.Stdout, r.Stderr));
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains("error: --out '/proc/x': the output file cannot be written (it cannot be opened or created there)\ndetails: Lakehouse.Core.LakehouseException", verbose.Stderr,
            StringComparison.Ordinal);
        Assert.Contains("---> System.IO.", verbose.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("IO Error", verbose.Stderr, StringComparison.Ordinal);
        Assert.Equal((0, "", ""), (devNull.ExitCode, devNull.Stdout, devNull.Stderr));
        Assert.False(File.Exists("/proc/x"));
    }

    /// <summary>
    /// An --out that reaches the table's own files through a symbolic link (to the table, or to the lake above it) is refused
    /// like one written plainly: before, DuckDB emptied the data file it was about to read, and the table was left unreadable.
    /// </summary>
    [Fact]
    public async Task Read_OutInsideTheTableThroughALink_UsageErrorAndTableIntact()
    {
        var table = _temp.Combine("lake", "bronze", "t");
        SilverRunCommandTests.CopyDirectory(Table("dat/v0.0.2/basic_append"), table);
        var sizes = Directory.GetFiles(table, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (f, new FileInfo(f).Length)).ToList();
        var data = Path.GetRelativePath(table, Directory.GetFiles(table, "*.parquet")[0]);
        Directory.CreateSymbolicLink(_temp.Combine("table-link"), table);
        Directory.CreateSymbolicLink(_temp.Combine("lake-link"), _temp.Combine("lake"));

        var viaTableLink = await CliRunner.RunAsync("table", "read", table, "--out", _temp.Combine("table-link", data));
        var viaLakeLink = await CliRunner.RunAsync("table", "read", "bronze.t", "--lake", _temp.Combine("lake-link"), "--out", Path.Combine(table, data));
        var tableByLink = await CliRunner.RunAsync("table", "read", _temp.Combine("table-link"), "--out", Path.Combine(table, "_delta_log", "00000000000000000000.json"));

        foreach (var r in new[] { viaTableLink, viaLakeLink, tableByLink })
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("is inside the table it reads", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(sizes, Directory.GetFiles(table, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (f, new FileInfo(f).Length)));
        var read = await CliRunner.RunAsync("table", "read", table);
        Assert.Equal((0, 6), (read.ExitCode, read.Stdout.TrimEnd('\n').Split('\n').Length));
    }

    [Fact]
    public async Task Read_UnsupportedProtocol_ExitsNonZeroWithReasonOnStderr()
    {
        var r = await CliRunner.RunAsync("table", "read", Table("golden/deltalog-invalid-protocol-version"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("unsupported reader version 99", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_NotADeltaTable_SaysSo()
    {
        var r = await CliRunner.RunAsync("table", "read", _temp.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is not a Delta table", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--versoin", "1")]
    [InlineData("--format", "xml")]
    [InlineData("--version", "x")]
    public async Task Read_BadOption_IsAUsageError(string option, string value)
    {
        var r = await CliRunner.RunAsync("table", "read", Table("dat/v0.0.2/basic_append"), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_Json_ReportsVersionProtocolSchemaAndRows()
    {
        var r = await CliRunner.RunAsync("table", "info", Table("golden/dv-partitioned-with-checkpoint"), "--json");
        Assert.Equal(0, r.ExitCode);
        var info = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(15, info.GetProperty("version").GetInt64());
        Assert.Equal(3, info.GetProperty("protocol").GetProperty("minReaderVersion").GetInt32());
        Assert.Equal("deletionVectors", info.GetProperty("protocol").GetProperty("readerFeatures")[0].GetString());
        Assert.Equal(["part"], info.GetProperty("partitionColumns").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["part", "col1", "col2"], info.GetProperty("schema").EnumerateArray().Select(x => x.GetProperty("name").GetString()));
        Assert.Equal(35, info.GetProperty("rows").GetInt64());
        Assert.Equal(10, info.GetProperty("checkpointVersion").GetInt64());
        Assert.True(info.GetProperty("files").GetInt32() > 0);
    }

    [Fact]
    public async Task Info_TableWithoutStats_CountsRowsFromData()
    {
        var r = await CliRunner.RunAsync("table", "info", Table("dat/v0.0.2/no_stats"), "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(5, JsonDocument.Parse(r.Stdout).RootElement.GetProperty("rows").GetInt64());
    }

    [Theory]
    [InlineData("3.5")]
    [InlineData("\\\"three\\\"")]
    [InlineData("-3")]
    public async Task InfoAndRead_StatsNumRecordsUnreadable_CountsRowsFromData(string numRecords)
    {
        // Statistics are hints: a numRecords that is not a whole count is read as no statistics, not a crash (it was "One of the
        // identified items was in an invalid format", exit 1, for 3.5).
        var copy = _temp.Combine("basic_append");
        TestFiles.CopyTree(Table("dat/v0.0.2/basic_append"), copy);
        var commit = Path.Combine(copy, "_delta_log", "00000000000000000000.json");
        var text = await File.ReadAllTextAsync(commit);
        Assert.Contains("numRecords\\\":3,", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(commit, text.Replace("numRecords\\\":3,", $"numRecords\\\":{numRecords},", StringComparison.Ordinal));

        var info = await CliRunner.RunAsync("table", "info", copy, "--json", "--version", "0");
        Assert.Equal((0, ""), (info.ExitCode, info.Stderr));
        Assert.Equal(3, JsonDocument.Parse(info.Stdout).RootElement.GetProperty("rows").GetInt64());
        var read = await CliRunner.RunAsync("table", "read", copy);
        Assert.Equal((0, ""), (read.ExitCode, read.Stderr));
        Assert.Equal(6, read.Stdout.TrimEnd('\n').Split('\n').Length); // the header and the 5 rows of both versions
    }

    [Fact]
    public async Task Info_LiveDataFileMissing_ExitsOneNamingTheFileInsteadOfCountingIt()
    {
        var copy = _temp.Combine("basic_append");
        TestFiles.CopyTree(Table("dat/v0.0.2/basic_append"), copy);
        const string file = "part-00000-ef42f28f-e8e8-4d54-b51f-c3af96c72a44-c000.snappy.parquet";
        File.Delete(Path.Combine(copy, file));
        var r = await CliRunner.RunAsync("table", "info", copy, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"Data file '{file}' is live in version 1", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task History_ListsCommitsNewestFirst()
    {
        var r = await CliRunner.RunAsync("table", "history", Table("dat/v0.0.2/basic_append"), "--json");
        Assert.Equal(0, r.ExitCode);
        var entries = r.Stdout.TrimEnd('\n').Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1L, 0L], entries.Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal("WRITE", entries[0].GetProperty("operation").GetString());
        Assert.Equal("2", entries[0].GetProperty("operationMetrics").GetProperty("numOutputRows").GetString());
        Assert.Equal("2023-01-25 01:50:13.970Z", entries[1].GetProperty("timestamp").GetString());
    }

    /// <summary>
    /// A folder without a table (empty, or with an empty _delta_log) is described by one message whatever reads it: read and info
    /// said "no _delta_log folder with commits", history "_delta_log has no commit or checkpoint files".
    /// </summary>
    [Fact]
    public async Task ReadHistoryInfo_FolderWithoutATable_OneMessageExit1()
    {
        var (empty, emptyLog) = (_temp.Combine("empty"), _temp.Combine("empty-log"));
        Directory.CreateDirectory(empty);
        Directory.CreateDirectory(Path.Combine(emptyLog, "_delta_log"));

        foreach (var folder in new[] { empty, emptyLog })
        {
            var answers = new List<(int, string, string)>();
            foreach (var command in new[] { "read", "history", "info" })
            {
                var r = await CliRunner.RunAsync("table", command, folder);
                answers.Add((r.ExitCode, r.Stdout, r.Stderr));
            }
            var expected = (1, "", $"error: '{folder}' is not a Delta table: no _delta_log folder with commits or checkpoints.\n");
            Assert.Equal([expected, expected, expected], answers);
        }
    }

    /// <summary>The history of a table that does not exist is an error naming it, as info and read say; it was an empty history with exit 0.</summary>
    [Fact]
    public async Task History_TableThatDoesNotExist_Exit1NamingIt()
    {
        var lake = _temp.Combine("lake");
        Directory.CreateDirectory(lake);

        var r = await CliRunner.RunAsync("table", "history", "silver.nope", "--lake", lake, "--json");

        Assert.Equal((1, ""), (r.ExitCode, r.Stdout));
        Assert.Equal($"error: '{Path.Combine(lake, "silver", "nope")}' is not a Delta table: no _delta_log folder with commits or checkpoints.\n", r.Stderr);
    }

    [Fact]
    public async Task Sql_LakeTables_AreViewsByLayerAndName()
    {
        var lake = _temp.Combine("lake");
        TestFiles.CopyTree(Table("dat/v0.0.2/basic_partitioned"), Path.Combine(lake, "silver", "letters"));
        var r = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_LAKE"] = lake },
            "sql", "SELECT count(*) AS n, count(letter) AS with_letter FROM silver.letters", "--format", "csv");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("n,with_letter\n6,5\n", r.Stdout);
        var byName = await CliRunner.RunAsync("table", "read", "silver.letters", "--lake", lake, "--limit", "1");
        Assert.Equal(0, byName.ExitCode);
        Assert.Equal(2, byName.Stdout.TrimEnd('\n').Split('\n').Length);
    }
}
