using System.Globalization;
using Lakehouse.Engine;
using Lakehouse.Testing;
using static Lakehouse.Cli.Tests.ImportScope;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse table import</c> never changes a value silently: into an existing table each value must fit its column, and a
/// new table's types come from every record, not a sample. Each test runs the real binary on the reproduction from issue 7.
/// </summary>
public sealed class ImportTypeTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly ImportScope _s = new();

    public void Dispose() => _s.Dispose();

    /// <summary>A table with id long, name string, at timestamp, score double, tags array&lt;string&gt;, made by a first import.</summary>
    private async Task<string> TableAsync()
    {
        var table = _s.Combine("t");
        var first = await ImportAsync(_s.File("base.ndjson", """{"id": 1, "name": "a", "at": "2024-05-01T10:00:00Z", "score": 1.5, "tags": ["x"]}""" + "\n"), "--to", table);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(["id:long", "name:string", "at:timestamp", "score:double", "tags:array<string>"], await SchemaAsync(table));
        return table;
    }

    private static async Task AssertUntouchedAsync(string table)
    {
        Assert.Equal(0, await VersionAsync(table));
        Assert.Equal(["""{"id":1,"name":"a","at":"2024-05-01 10:00:00+00","score":1.5,"tags":["x"]}"""], await RowTextsAsync(table));
        Assert.Single(Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Import_FractionIntoLongColumn_RefusedWithFileAndLineAndTableUntouched()
    {
        var table = await TableAsync();
        var file = _s.File("frac.ndjson", """{"id": 2, "name": "b"}""" + "\n\n" + """{"id": 1.75, "name": "c"}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 3: column 'id' of '{table}' is long (whole numbers), but the value there is a fraction; nothing was imported.");
        await AssertUntouchedAsync(table);
    }

    [Fact]
    public async Task Import_TextIntoNumberColumn_RefusedWithFileAndLineAndTableUntouched()
    {
        var table = await TableAsync();
        var file = _s.File("text.ndjson", """{"id": 2, "score": 2}""" + "\n" + """{"id": 3, "score": "2.5"}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: column 'score' of '{table}' is double (numbers), but the value there is a string; nothing was imported.");
        await AssertUntouchedAsync(table);
    }

    [Fact]
    public async Task Import_NumberBeyondLong_RefusedWithFileAndLineAndTableUntouched()
    {
        var table = await TableAsync();
        var file = _s.File("big.ndjson", """{"id": 2}""" + "\n" + """{"id": 9223372036854775808}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: column 'id' of '{table}' is long, but the whole number there is beyond its range (±9223372036854775807); nothing was imported.");
        await AssertUntouchedAsync(table);
    }

    [Theory]
    [InlineData("""{"nested": true}""", "an object")]
    [InlineData("""["a", "b"]""", "an array")]
    [InlineData("5", "a whole number")]
    public async Task Import_NonStringIntoStringColumn_RefusedWithFileAndLineAndTableUntouched(string value, string kind)
    {
        var table = await TableAsync();
        var file = _s.File("obj.ndjson", """{"id": 2, "name": "b"}""" + "\n" + $$"""{"id": 3, "name": {{value}}}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: column 'name' of '{table}' is string, but the value there is {kind}; nothing was imported.");
        await AssertUntouchedAsync(table);
    }

    [Fact]
    public async Task Import_ImpossibleTimestamp_RefusedWithFileAndLineAndTableUntouched()
    {
        var table = await TableAsync();
        var file = _s.Lines("at.ndjson", [.. Enumerable.Range(0, 5000).Select(i => $$"""{"id": {{i}}, "at": "2024-05-01T10:00:00Z"}"""), """{"id": 9, "at": "2024-02-30T10:00:00Z"}"""]);

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 5001: column 'at' of '{table}' is timestamp, and the value '2024-02-30T10:00:00Z' does not fit it without loss; nothing was imported.");
        await AssertUntouchedAsync(table);
    }

    [Fact]
    public async Task Import_KeyTheTableDoesNotHave_RefusedNamingItAndTableUntouched()
    {
        var table = await TableAsync();
        var file = _s.File("extra.ndjson", """{"id": 2}""" + "\n" + """{"id": 3, "surprise": "x"}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2 has column 'surprise' that '{table}' does not have (its columns: id, name, at, score, tags); nothing was imported. Drop or rename it.");
        await AssertUntouchedAsync(table);
    }

    [Fact]
    public async Task Import_ValuesThatFit_AppendedWithTheTableTypes()
    {
        var table = await TableAsync();
        var file = _s.File("ok.ndjson", """{"id": 2, "score": 7, "at": "2024-05-02 12:00:00+02:00", "tags": []}""" + "\n" + """{"id": 3, "name": null}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(
            [
                """{"id":1,"name":"a","at":"2024-05-01 10:00:00+00","score":1.5,"tags":["x"]}""",
                """{"id":2,"name":null,"at":"2024-05-02 10:00:00+00","score":7.0,"tags":[]}""",
                """{"id":3,"name":null,"at":null,"score":null,"tags":null}""",
            ],
            await RowTextsAsync(table));
    }

    // ---- new tables: types from every record ---------------------------------------------------------------------------

    [Fact]
    public async Task Import_NewKeyAfter30000Lines_KeptAsAColumn()
    {
        var table = _s.Combine("t");
        var file = _s.Lines("late.ndjson", [.. Enumerable.Range(0, 30_000).Select(i => $$"""{"id":{{i}}}"""), """{"id":30000,"extra":"x"}"""]);

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith($"imported 30001 rows into {table}", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(["id:long", "extra:string"], await SchemaAsync(table));
        var rows = await RowsAsync(table);
        Assert.Equal("x", Assert.Single(rows, x => x.GetProperty("extra").ValueKind == System.Text.Json.JsonValueKind.String).GetProperty("extra").GetString());
    }

    [Fact]
    public async Task Import_IntegersThenAFraction_StoredAsDoubleNotRounded()
    {
        var table = _s.Combine("t");
        var file = _s.Lines("frac.ndjson", [.. Enumerable.Range(0, 30_000).Select(i => $$"""{"id":{{i}}}"""), """{"id":1.75}"""]);

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["id:double"], await SchemaAsync(table));
        var values = (await RowsAsync(table)).Select(x => x.GetProperty("id").GetDouble()).ToList();
        Assert.Contains(1.75, values);
        Assert.Equal(30_001, values.Count);
    }

    [Fact]
    public async Task Import_IntegerAbove2Pow63NextToAFraction_RefusedNotTurnedIntoDouble()
    {
        var table = _s.Combine("t");
        var file = _s.File("big.ndjson", """{"v":1.5}""" + "\n" + """{"v":18446744073709551617}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: column 'v' mixes fractions with a whole number that a double cannot hold exactly (more than 15 digits), " +
                         "and no Delta type holds both exactly. Send the large numbers as strings, or write them all with a decimal point.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_IntegersAbove2Pow63Alone_StoredExactlyAsDecimal()
    {
        var table = _s.Combine("t");
        var file = _s.File("big.ndjson", """{"v":1}""" + "\n" + """{"v":18446744073709551617}""" + "\n" + """{"v":-5}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["v:decimal(38,0)"], await SchemaAsync(table));
        var read = await CliRunner.RunAsync("table", "read", table, "--format", "csv");
        Assert.Equal(["-5", "1", "18446744073709551617", "v"], read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"id":1,"":2}""", "", null)]
    [InlineData("""{"id":1,"c d":2}""", "c d", null)]
    [InlineData("""{"id":1,"a":{"x=y":2}}""", "x=y", "a")]
    public async Task Import_KeyADeltaTableCannotName_RefusedNamingKeyAndLine(string second, string key, string? column)
    {
        var table = _s.Combine("t");
        var file = _s.Lines("names.ndjson", ["""{"id":0}""", second]);

        var r = await ImportAsync(file, "--to", table);

        // Before: the empty key reached DuckDB as an identifier ("Parser Error: zero-length delimited identifier").
        AssertRefused(r, $"{file} line 2 has the key '{key}'{(column is null ? "" : $" in column '{column}'")}, which a Delta table cannot take as a column name " +
                         "(it is empty, or holds one of \" ,;{}()\\n\\t=\"); nothing was imported. Rename it.");
        AssertNoTable(table);
    }

    [Theory]
    [InlineData("""{"a":1}""", "an object", "a whole number")]
    [InlineData("\"s\"", "a string", "a whole number")]
    [InlineData("true", "a boolean", "a whole number")]
    public async Task Import_MixedKindsInAColumn_RefusedNamingColumnFileAndLineOfTheOtherKind(string other, string otherKind, string firstKind)
    {
        var table = _s.Combine("t");
        var file = _s.Lines("mixed.ndjson", [.. Enumerable.Range(0, 25_000).Select(i => $$"""{"v":{{i}}}"""), $$"""{"v":{{other}}}"""]);

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 25001: column 'v' has {otherKind}, but its first value ({file} line 1) is {firstKind}; a column holds one kind of value. " +
                         "Make the values agree, or send the column as a JSON string.");
        AssertNoTable(table);
    }

    [Fact]
    public async Task Import_DatesAndTimestampsInEveryRecord_TypedAsSuchOtherwiseString()
    {
        var table = _s.Combine("t");
        var file = _s.Lines("when.ndjson",
        [
            .. Enumerable.Range(1, 28).Select(d => $$"""{"day":"2024-02-{{d:00}}","at":"2024-02-{{d:00}}T10:00:00.123456Z","code":"2024-02-{{d:00}}"}"""),
            """{"day":"2024-02-29","at":"2024-02-29 23:59:59+01:00","code":"2024-02-30"}""",
        ]);

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["day:date", "at:timestamp", "code:string"], await SchemaAsync(table));
        Assert.Contains("""{"day":"2024-02-29","at":"2024-02-29 22:59:59+00","code":"2024-02-30"}""", await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_CsvTypes_InferredFromEveryRowAndLeadingZerosKept()
    {
        var table = _s.Combine("t");
        var file = _s.Lines("a.csv", ["id,x,code,flag,day", .. Enumerable.Range(1, 25_000).Select(i => $"{i},{i},{i:00000},true,2024-05-01"), "25001,1.75,007,false,2024-05-02"]);

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["id:long", "x:double", "code:string", "flag:boolean", "day:date"], await SchemaAsync(table));
        Assert.Contains("""{"id":25001,"x":1.75,"code":"007","flag":false,"day":"2024-05-02"}""", await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_CsvFractionIntoLongColumn_RefusedWithLineAndTableUntouched()
    {
        var table = _s.Combine("t");
        Assert.Equal(0, (await ImportAsync(_s.File("a.csv", "id,name\n1,a\n"), "--to", table)).ExitCode);
        var file = _s.File("b.csv", "id,name\n2,b\n\n\"3\",\"multi\nline\"\n1.75,c\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 6: column 'id' of '{table}' is long, and the value '1.75' does not fit it without loss; nothing was imported.");
        Assert.Equal(["""{"id":1,"name":"a"}"""], await RowTextsAsync(table));
        Assert.Equal(0, await VersionAsync(table));
    }

    [Fact]
    public async Task Import_ParquetDoubleIntoLongColumn_RefusedNamingColumnAndValue()
    {
        var table = _s.Combine("t");
        Assert.Equal(0, (await ImportAsync(_s.File("a.ndjson", """{"id": 1}""" + "\n"), "--to", table)).ExitCode);
        var parquet = _s.Combine("b.parquet");
        using (var lease = fixture.Engine.Lease())
            lease.Connection.Execute($"COPY (SELECT 22.7::DOUBLE AS id) TO {SqlText.Literal(parquet)} (FORMAT parquet)");

        var r = await ImportAsync(parquet, "--to", table);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {parquet} row 1: column 'id' of '{table}' is long, and the value '22.7' does not fit it without loss; nothing was imported.\n", r.Stderr);
        Assert.Equal(["""{"id":1}"""], await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_NumberBeyondAShortColumn_RefusedWithTheLineOfTheFirstSuchValue()
    {
        var table = _s.Combine("t");
        var parquet = _s.Combine("a.parquet");
        using (var lease = fixture.Engine.Lease())
            lease.Connection.Execute($"COPY (SELECT 1::SMALLINT AS qty) TO {SqlText.Literal(parquet)} (FORMAT parquet)");
        Assert.Equal(0, (await ImportAsync(parquet, "--to", table)).ExitCode);
        Assert.Equal(["qty:short"], await SchemaAsync(table));
        var file = _s.Lines("qty.ndjson", [.. Enumerable.Range(0, 4000).Select(i => $$"""{"qty": {{i}}}"""), """{"qty": 70000}""", """{"qty": 80000}"""]);

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 4001: column 'qty' of '{table}' is short, and the value '70000' does not fit it without loss; nothing was imported.");
        Assert.Equal(["""{"qty":1}"""], await RowTextsAsync(table));
    }

    [Fact]
    public async Task Import_WholeNumbersIntoDoubleColumn_Accepted()
    {
        var table = await TableAsync();
        var r = await ImportAsync(_s.File("n.ndjson", string.Create(CultureInfo.InvariantCulture, $$"""{"id": 2, "score": {{1L << 53}}}""") + "\n"), "--to", table);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(9007199254740992.0, (await RowsAsync(table)).Select(x => x.GetProperty("score").GetDouble()));
    }

    /// <summary>A table with part decimal(12,5) and col3 decimal(20,10), made from a Parquet file, holding one row (1, 1).</summary>
    private async Task<string> DecimalTableAsync()
    {
        var table = await ImportedAsync("d", "SELECT 1::DECIMAL(12,5) AS part, 1::DECIMAL(20,10) AS col3");
        Assert.Equal(["part:decimal(12,5)", "col3:decimal(20,10)"], await SchemaAsync(table));
        return table;
    }

    /// <summary>A table made by importing a Parquet file of <paramref name="select"/>'s rows, so that it has exactly their types.</summary>
    private async Task<string> ImportedAsync(string name, string select)
    {
        var table = _s.Combine(name);
        var parquet = _s.Combine(name + ".parquet");
        using (var lease = fixture.Engine.Lease())
            lease.Connection.Execute($"COPY ({select}) TO {SqlText.Literal(parquet)} (FORMAT parquet)");
        var r = await ImportAsync(parquet, "--to", table);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return table;
    }

    private static async Task<List<string>> CsvRowsAsync(string table) => [.. (await ReadLinesAsync(table, "csv")).Skip(1).Order(StringComparer.Ordinal)];

    private static async Task<List<string>> JsonRowsAsync(string table) => [.. (await ReadLinesAsync(table, "jsonl")).Order(StringComparer.Ordinal)];

    private static async Task<string[]> ReadLinesAsync(string table, string format)
    {
        var read = await CliRunner.RunAsync("table", "read", table, "--format", format);
        Assert.True(read.ExitCode == 0, read.Stderr);
        return read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Decimals inside a struct, list or map: DuckDB converts a JSON number there through a double and rounds it to the decimal's
    /// places, with no check. A number needing more places, or more digits at its scale than a double keeps (15), is refused naming
    /// the field and line (before: 0.125 stored as 0.13, 123456789.012345 as 123456789.0123450112, exit 0); one that fits is stored.
    /// </summary>
    [Theory]
    [InlineData("""{"g":{"x":0.125,"y":[1]}}""", "column 'g.x' of '{0}' is decimal(5,2), but the number there has 3 decimal places, which it cannot hold without rounding; nothing was imported.")]
    [InlineData("""{"g":{"x":1.5,"y":[1, 25e-11]}}""", "column 'g.y[]' of '{0}' is decimal(20,10), but the number there has 11 decimal places, which it cannot hold without rounding; nothing was imported.")]
    [InlineData("""{"g":{"x":1,"y":[3333333333.3333333333]}}""", "column 'g.y[]' of '{0}' is decimal(20,10) inside a struct, list or map, where the import reads a number through a double, and the number there has 20 digits at 10 decimal places, more than the 15 a double keeps; nothing was imported. Import such values from CSV or Parquet, or into a top-level column.")]
    [InlineData("""{"g":{"x":1,"y":[123456789.012345]}}""", "column 'g.y[]' of '{0}' is decimal(20,10) inside a struct, list or map, where the import reads a number through a double, and the number there has 19 digits at 10 decimal places, more than the 15 a double keeps; nothing was imported. Import such values from CSV or Parquet, or into a top-level column.")]
    [InlineData("""{"g":{"x":1,"y":[1]},"m":{"k":0.001}}""", "column 'm.k' of '{0}' is decimal(4,2), but the number there has 3 decimal places, which it cannot hold without rounding; nothing was imported.")]
    public async Task Import_NestedDecimalThatWouldBeRounded_RefusedNamingTheField(string line, string message)
    {
        var table = await NestedDecimalTableAsync();
        var file = _s.File("n.ndjson", """{"g":{"x":1.25,"y":[2]}}""" + "\n" + line + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, message, table));
        Assert.Equal(["{\"g\":{\"x\":0.0,\"y\":[0.0000000000]},\"m\":{}}"], await JsonRowsAsync(table));
    }

    [Fact]
    public async Task Import_NestedDecimalsThatFit_StoredExactly()
    {
        var table = await NestedDecimalTableAsync();
        var file = _s.File("n.ndjson", """{"g":{"x":123.4,"y":[0.1000, 25e-10, 12345.0123]},"m":{"k":-0.50}}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("""{"g":{"x":123.4,"y":[0.1000000000,0.0000000025,12345.0123000000]},"m":{"k":-0.5}}""", await JsonRowsAsync(table));
    }

    private Task<string> NestedDecimalTableAsync() =>
        ImportedAsync("nd", "SELECT {'x': 0::DECIMAL(5,2), 'y': [0::DECIMAL(20,10)]} AS g, MAP {}::MAP(VARCHAR, DECIMAL(4,2)) AS m");

    /// <summary>
    /// JSON numbers into a decimal column keep every digit the file holds: DuckDB's reader took them through a double, and
    /// 3333333333.3333333333 was stored as 3333333333.3333335000 (1234567890.1234567891 in a JSON array as 1234567890.1234567000).
    /// </summary>
    [Fact]
    public async Task Import_DecimalWithMoreDigitsThanADouble_StoredExactly()
    {
        var table = await DecimalTableAsync();
        var lines = _s.File("z.ndjson", """{"part":1,"col3":3333333333.3333333333}""" + "\n" + """{"part":3,"col3":-0.0000000001}""" + "\n");
        var array = _s.File("a.json", "[\n" + """ {"part":2, "col3": 1234567890.1234567891}""" + "\n]\n");

        var r = await ImportAsync(lines, array, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["1.00000,1.0000000000", "1.00000,3333333333.3333333333", "2.00000,1234567890.1234567891", "3.00000,-0.0000000001"], await CsvRowsAsync(table));
    }

    /// <summary>
    /// A number with an exponent that a decimal holds exactly is stored: 1e-05 (DuckDB's text of the double) and 1E-5 were refused as
    /// not fitting decimal(12,5).
    /// </summary>
    [Theory]
    [InlineData("0.00001", "0.00001")]
    [InlineData("1E-5", "0.00001")]
    [InlineData("0.5e-4", "0.00005")]
    [InlineData("100e-5", "0.00100")]
    [InlineData("-1.5E+3", "-1500.00000")]
    public async Task Import_DecimalInExponentForm_StoredWhenItFits(string number, string stored)
    {
        var table = await DecimalTableAsync();

        var r = await ImportAsync(_s.File("p.ndjson", $$"""{"part":{{number}},"col3":2}""" + "\n"), "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(new[] { "1.00000,1.0000000000", $"{stored},2.0000000000" }.Order(StringComparer.Ordinal), await CsvRowsAsync(table));
    }

    /// <summary>A number that needs more fraction digits than the column has is refused quoting the file's own text, at its line.</summary>
    [Theory]
    [InlineData("part", "0.000001", "decimal(12,5)")]
    [InlineData("part", "1E-6", "decimal(12,5)")]
    [InlineData("col3", "1.00000000001", "decimal(20,10)")]
    [InlineData("col3", "3333333333.33333333331", "decimal(20,10)")]
    public async Task Import_DecimalNeedingMoreDigits_RefusedQuotingTheFileText(string column, string number, string type)
    {
        var table = await DecimalTableAsync();
        var file = _s.File("q.ndjson", """{"part":2,"col3":2}""" + "\n" + $$"""{"part":2,"col3":2,"{{column}}":{{number}}}""".Replace($"\"{column}\":2,", "", StringComparison.Ordinal) + "\n");

        var r = await ImportAsync(file, "--to", table);

        AssertRefused(r, $"{file} line 2: column '{column}' of '{table}' is {type}, and the value '{number}' does not fit it without loss; nothing was imported.");
        Assert.Equal(["1.00000,1.0000000000"], await CsvRowsAsync(table));
    }

    /// <summary>Whole numbers beyond 2^53 stay exact in decimal(38,0) and long columns (DuckDB keeps whole numbers exact).</summary>
    [Fact]
    public async Task Import_WholeNumbersBeyond2Pow53_StoredExactlyInDecimalAndLong()
    {
        var table = _s.Combine("t");
        Assert.Equal(0, (await ImportAsync(_s.File("a.ndjson", """{"v":18446744073709551617,"b":1}""" + "\n"), "--to", table)).ExitCode);
        var file = _s.File("b.ndjson", """{"v":9007199254740993,"b":9007199254740993}""" + "\n" + """{"v":-99999999999999999999999999999999999999,"b":9223372036854775807}""" + "\n");

        var r = await ImportAsync(file, "--to", table);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["v:decimal(38,0)", "b:long"], await SchemaAsync(table));
        Assert.Equal(["-99999999999999999999999999999999999999,9223372036854775807", "18446744073709551617,1", "9007199254740993,9007199254740993"], await CsvRowsAsync(table));
    }
}
