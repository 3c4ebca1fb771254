using System.Text;
using static Lakehouse.Cli.Tests.ImportScope;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// How <c>lakehouse table import</c> reads its inputs: JSON arrays and NDJSON, empty inputs, malformed and ragged lines, deep
/// nesting and large records refused before DuckDB sees them, FIFOs and standard input read exactly once.
/// </summary>
public sealed class ImportInputTests : IDisposable
{
    private readonly ImportScope _s = new();

    public void Dispose() => _s.Dispose();

    [Fact]
    public async Task Import_JsonArrayFile_OneRowPerElement()
    {
        var table = _s.Combine("t");
        var file = _s.File("a.json", "[\n  {\"id\": 1, \"tags\": [\"a\"]},\n  {\"id\": 2,\n   \"tags\": []}\n]\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"imported 2 rows into {table}", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(["""{"id":1,"tags":["a"]}""", """{"id":2,"tags":[]}"""], await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_JsonArrayWithAMisfitInAMultiLineElement_NamesTheLineOfTheValue()
    {
        var table = _s.Combine("t");
        var file = _s.File("a.json", "[\n  {\"id\": 1},\n  {\n    \"id\": \"two\"\n  }\n]\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 4: column 'id' has a string, but its first value ({file} line 2) is a whole number; a column holds one kind of value. " +
                         "Make the values agree, or send the column as a JSON string.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_NdjsonFileHoldingAnArray_RefusedAsNotAnObjectPerLine()
    {
        var table = _s.Combine("t");
        var file = _s.File("a.ndjson", "[{\"id\": 1}]\n");
        var r = await ImportAsync(file, "--to", table);
        AssertRefused(r, $"{file} line 1 is not a JSON object (an array); each line of NDJSON must be one object, a row of the table.");
        AssertNoTable(table);
    }

    public static TheoryData<string, string, string> EmptyInputs => new()
    {
        { "empty.json", "", "empty.json holds no JSON records (empty, blank lines only, or [])" },
        { "blank.ndjson", "\n  \n\n", "blank.ndjson holds no JSON records (empty, blank lines only, or [])" },
        { "none.json", " [ ]\n", "none.json holds no JSON records (empty, blank lines only, or [])" },
        { "header.csv", "id,x\n", "header.csv has no rows (empty, blank, or a header only)" },
        { "blank.csv", "\n\n", "blank.csv has no rows (empty, blank, or a header only)" },
    };

    [Theory]
    [MemberData(nameof(EmptyInputs))]
    public async Task Import_EmptyInput_NothingImportedNoTableCreatedAndLaterImportsWork(string name, string text, string reason)
    {
        var table = _s.Combine("t");
        var file = _s.File(name, text);

        var r = await ImportAsync(file, "--to", table);

        Assert.Equal((0, $"nothing to import: {_s.Combine(reason)}; {table} was not created\n", ""), (r.ExitCode, r.Stdout, r.Stderr));
        AssertNoTable(table);
        var real = await ImportAsync(_s.File("real.ndjson", """{"id": 1}""" + "\n"), "--to", table);
        Assert.True(real.ExitCode == 0, real.Stderr);
        Assert.Equal(["id:long"], await SchemaAsync(table));
    }

    [Fact]
    public async Task Import_EmptyFileIntoExistingTableWithOverwrite_TableUnchanged()
    {
        var table = _s.Combine("t");
        Assert.Equal(0, (await ImportAsync(_s.File("a.ndjson", """{"id": 1}""" + "\n"), "--to", table)).ExitCode);

        var r = await ImportAsync(_s.File("empty.ndjson", ""), "--to", table, "--mode", "overwrite");

        Assert.Equal((0, $"nothing to import: {_s.Combine("empty.ndjson")} holds no JSON records (empty, blank lines only, or []); {table} was not changed\n"), (r.ExitCode, r.Stdout));
        Assert.Equal(["""{"id":1}"""], await RowTextsAsync(table));
        Assert.Equal(0, await VersionAsync(table));
    }

    [Fact]
    public async Task Import_MalformedLine_ReportedWithItsRealLineNumberAndFile()
    {
        var table = _s.Combine("t");
        var file = _s.File("bad.ndjson", "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": 01}\n{\"a\": 3}\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 4: malformed JSON: number with leading zero is not allowed; nothing was imported.");
        AssertNoTable(table);
    }

    /// <summary>
    /// NaN, infinities and trailing commas are not JSON: DuckDB's reader took them, and the import stored NaN and ±inf (and dropped
    /// the comma) with exit 0, while silver calls the same lines malformed. Refused with the file and line; no table is made.
    /// </summary>
    [Theory]
    [InlineData("x.ndjson", "{\"a\":1}\n{\"a\":Infinity}\n{\"a\":-Infinity}\n", "line 2 is not valid JSON: Infinity is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("n.ndjson", "{\"a\":NaN}\n", "line 1 is not valid JSON: NaN is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("c.ndjson", "{\"a\":1,}\n", "line 1 is not valid JSON: a trailing comma before '}' is not JSON; nothing was imported.")]
    [InlineData("a.json", "[\n{\"a\":1},\n{\"a\":{\"b\":[1.5,NaN]}}\n]", "line 3 is not valid JSON: NaN is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("t.json", "[\n{\"a\":1},\n{\"a\":2},\n]", "line 4 is not valid JSON: a trailing comma before ']' is not JSON; nothing was imported.")]
    public async Task Import_NaNInfinityOrTrailingComma_RefusedNamingFileAndLine(string name, string text, string message)
    {
        var table = _s.Combine("t");
        var file = _s.File(name, text);

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} {message}");
        AssertNoTable(table);
    }

    /// <summary>The same words and a comma before a bracket inside quotes are strings, stored as written.</summary>
    [Fact]
    public async Task Import_NaNAndInfinityAsStrings_StoredAsStrings()
    {
        var table = _s.Combine("t");
        var file = _s.File("s.ndjson", "{\"a\":\"NaN\"}\n{\"a\":\"-Infinity\"}\n{\"a\":\"1,}\"}\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["a:string"], await SchemaAsync(table));
        Assert.Equal(["""{"a":"-Infinity"}""", """{"a":"1,}"}""", """{"a":"NaN"}"""], await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_UnclosedObject_ReportedWithItsLineBeforeDuckDb()
    {
        var table = _s.Combine("t");
        var file = _s.File("bad.ndjson", "{\"a\": 1}\n{\"a\": 2}\n{\"a\":\n{\"a\": 4}\n");
        var r = await ImportAsync(file, "--to", table);
        AssertRefused(r, $"{file} line 3 ends where a value was expected.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_RaggedCsv_RefusedNamingTheLine()
    {
        var table = _s.Combine("t");
        var file = _s.File("rag.csv", "id,x\n1,2\n3\n4,5,6\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 3: expected 2 fields, found 1; every row must have as many fields as the header. Nothing was imported.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_CsvRowWithTooManyFields_RefusedNamingTheLine()
    {
        var table = _s.Combine("t");
        var file = _s.File("rag.csv", "id,x\n1,2\n4,5,6\n");
        var r = await ImportAsync(file, "--to", table);
        AssertRefused(r, $"{file} line 3: expected 2 fields, found 3; every row must have as many fields as the header. Nothing was imported.");
        AssertNoTable(table);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1_000)]
    [InlineData(30_000)]
    [InlineData(100_000)]
    public async Task Import_DeepNesting_RefusedBeforeDuckDbSeesIt(int depth)
    {
        var table = _s.Combine("t");
        var file = _s.File("deep.ndjson", "{\"id\":1}\n{\"id\":1,\"x\":" + new string('[', depth) + new string(']', depth) + "}\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2 nests objects and arrays deeper than 16 levels (the record itself is level 1); the import refuses deeper nesting, " +
                         "which DuckDB cannot read reliably. Flatten the record, or send the deep part as a JSON string.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_NestingAtTheLimit_Imported()
    {
        var table = _s.Combine("t");
        var file = _s.File("deep.json", "[{\"id\":1,\"x\":" + new string('[', 14) + "{\"y\":1}" + new string(']', 14) + "}]");
        var r = await ImportAsync(file, "--to", table);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["""{"id":1,"x":[[[[[[[[[[[[[[{"y":1}]]]]]]]]]]]]]]}"""], await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_50MegabyteLine_RefusedSayingTheLimitAndTheOptionRaisesIt()
    {
        var table = _s.Combine("t");
        var file = _s.Combine("big.ndjson");
        await File.WriteAllTextAsync(file, "{\"id\":1,\"s\":\"" + new string('x', 50 << 20) + "\"}\n");

        var refused = await ImportAsync(file, "--to", table);

        AssertRefused(refused, $"{file} line 1 holds a record of 52,428,815 bytes, larger than the 16MiB the import reads at most; " +
                               "raise the limit with --max-object-size (for example --max-object-size 64MiB).");
        AssertNoTable(table);
        var raised = await ImportAsync(file, "--to", table, "--max-object-size", "64MiB");
        Assert.True(raised.ExitCode == 0, raised.Stderr);
        Assert.StartsWith($"imported 1 rows into {table}", raised.Stdout, StringComparison.Ordinal);
        var info = await CliRunner.RunAsync("table", "info", table, "--json");
        Assert.Contains("\"rows\": 1,", info.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lots", "--max-object-size must be a size between 1KiB and 1GiB (e.g. 64MiB), not 'lots'")]
    [InlineData("2GiB", "--max-object-size must be a size between 1KiB and 1GiB (e.g. 64MiB), not '2GiB'")]
    public async Task Import_BadMaxObjectSize_UsageError(string value, string message)
    {
        var r = await ImportAsync(_s.File("a.ndjson", "{}\n"), "--to", _s.Combine("t"), "--max-object-size", value);
        Assert.Equal((2, $"error: {message}\n"), (r.ExitCode, r.Stderr));
    }

    [Fact]
    public async Task Import_FifoWrittenTwice_ReadOnceToItsEndAndNoRowIsLost()
    {
        var table = _s.Combine("t");
        var temp = _s.Combine("tmp");
        Directory.CreateDirectory(temp);
        File.WriteAllText(_s.Combine("first.txt"), string.Concat(Enumerable.Range(0, 5000).Select(i => $$"""{"id":{{i}}}""" + "\n")));
        File.WriteAllText(_s.Combine("second.txt"), string.Concat(Enumerable.Range(5000, 3000).Select(i => $$"""{"id":{{i}}}""" + "\n")));

        // Two writings, each opening and closing the FIFO; the first stays open until the second has written, so the end of
        // the input comes after both. DuckDB alone opened the FIFO twice (to sniff, then to read) and lost the first writing.
        var r = await CliRunner.ShellAsync(
            $"set -e; cd '{_s.Root}'; mkfifo events.ndjson; " +
            "{ cat first.txt; sleep 2; } > events.ndjson & { sleep 1; cat second.txt; } > events.ndjson & " +
            $"$LAKEHOUSE table import events.ndjson --to '{table}'; wait",
            new Dictionary<string, string> { ["TMPDIR"] = temp });

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"imported 8000 rows into {table}: version 0", r.Stdout, StringComparison.Ordinal);
        var ids = (await RowsAsync(table)).Select(x => x.GetProperty("id").GetInt64()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 8000).Select(i => (long)i), ids);
        Assert.Empty(Directory.GetFiles(temp, "*.spool", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Import_StandardInput_ReadOnceWithTheGivenFormat()
    {
        var table = _s.Combine("t");
        var input = _s.File("in.txt", string.Concat(Enumerable.Range(0, 3000).Select(i => $$"""{"id":{{i}},"v":"{{i}}"}""" + "\n")));

        var r = await CliRunner.ShellAsync($"$LAKEHOUSE table import - --format ndjson --to '{table}' < '{input}'");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"imported 3000 rows into {table}", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(3000, (await RowsAsync(table)).Count);
    }

    /// <summary>
    /// A device that seeks (/dev/zero) is refused: before, it was read as an empty file ("nothing to import … holds no JSON
    /// records", exit 0), and copying it like a FIFO would never end.
    /// </summary>
    [Fact]
    public async Task Import_Device_RefusedAsNotAFile()
    {
        var table = _s.Combine("t");
        var r = await CliRunner.RunAsync("table", "import", "/dev/zero", "--format", "ndjson", "--to", table);
        AssertRefused(r, "'/dev/zero' is a device, not a file: nothing was imported.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_MalformedStandardInput_NamedAsStdin()
    {
        var table = _s.Combine("t");
        var r = await CliRunner.ShellAsync($"printf '{{\"id\":1}}\\n{{\"id\":\\n' | $LAKEHOUSE table import - --format ndjson --to '{table}'");
        AssertRefused(r, "stdin line 2 ends where a value was expected.");
        AssertNoTable(table);
    }

    /// <summary>
    /// A UTF-8 BOM before the first record is dropped, as bronze ingest drops it, whether the NDJSON comes as a file, gzipped or on
    /// standard input (told as JSON without --format); before, DuckDB refused the file ("malformed JSON: byte order mark (BOM)
    /// is not supported") although the scan had read it.
    /// </summary>
    [Theory]
    [InlineData("file")]
    [InlineData("gzip")]
    [InlineData("stdin")]
    public async Task Import_NdjsonWithUtf8Bom_ReadWithoutIt(string how)
    {
        var table = _s.Combine("t");
        var bytes = "\uFEFF{\"id\":1,\"s\":\"a\"}\r\n{\"id\":2,\"s\":\"b\"}\r\n"u8.ToArray();
        var file = _s.Combine(how == "gzip" ? "a.ndjson.gz" : "a.ndjson");
        if (how == "gzip")
        {
            using var gz = new System.IO.Compression.GZipStream(File.Create(file), System.IO.Compression.CompressionLevel.Fastest);
            gz.Write(bytes);
        }
        else
        {
            await File.WriteAllBytesAsync(file, bytes);
        }

        var r = how == "stdin"
            ? await CliRunner.ShellAsync($"$LAKEHOUSE table import - --to '{table}' < '{file}'")
            : await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"imported 2 rows into {table}", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(["""{"id":1,"s":"a"}""", """{"id":2,"s":"b"}"""], await RowTextsAsync(table));
        Assert.Equal(["id:long", "s:string"], await SchemaAsync(table));
    }

    [Fact]
    public async Task Import_GzipNdjson_ReadThroughItsDecompressedCopy()
    {
        var table = _s.Combine("t");
        var file = _s.Combine("a.ndjson.gz");
        using (var gz = new System.IO.Compression.GZipStream(File.Create(file), System.IO.Compression.CompressionLevel.Fastest))
            gz.Write(Encoding.UTF8.GetBytes("{\"id\":1}\n{\"id\":2,\"x\":" + new string('[', 40) + new string(']', 40) + "}\n"));

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2 nests objects and arrays deeper than 16 levels (the record itself is level 1); the import refuses deeper nesting, " +
                         "which DuckDB cannot read reliably. Flatten the record, or send the deep part as a JSON string.");
        AssertNoTable(table);
    }
}
