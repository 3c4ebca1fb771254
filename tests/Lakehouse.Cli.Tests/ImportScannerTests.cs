using System.Text;
using Lakehouse.Cli.Import;
using Lakehouse.Core;

namespace Lakehouse.Cli.Tests;

/// <summary>The byte scan that runs before DuckDB: strings, escapes, block and window boundaries, layouts, depth.</summary>
public sealed class ImportScannerTests : IDisposable
{
    private readonly ImportScope _s = new();

    public void Dispose() => _s.Dispose();

    private JsonFileScan Scan(string text, bool forceLines = false, long window = 1L << 30) =>
        JsonScanner.Scan(_s.File("in.json", text), "in.json", 0, 16L << 20, forceLines, window);

    private static string Summary(JsonShape shape, string path = "")
    {
        var parts = new List<string> { $"{path}:{shape.Kinds}@{string.Join(",", shape.KindsSeen().Select(k => k.At.Line))}" };
        parts.AddRange(shape.Children.Select(c => Summary(c, path + "." + c.Name)));
        if (shape.Element is not null) parts.Add(Summary(shape.Element, path + "[]"));
        return string.Join(" ", parts);
    }

    [Fact]
    public void Scan_StructuralBytesInsideStrings_Ignored()
    {
        var scan = Scan("{\"a\":\"}{[],:\\\"\",\"b\\\"k\":[1,{\"c\":true}],\"d\\\\\":\"\\\\\"}\n{\"a\":null}\n");

        Assert.Equal((JsonLayout.Lines, 2L), (scan.Layout, scan.Records));
        Assert.Equal([".a", ".b\"k", ".d\\"], scan.Record.Children.Select(c => "." + c.Name));
        Assert.Equal(JsonKinds.String | JsonKinds.Null, scan.Record.Children[0].Kinds);
        Assert.Equal(JsonKinds.Integer | JsonKinds.Object, scan.Record.Children[1].Element!.Kinds);
        Assert.Equal(JsonKinds.Boolean, scan.Record.Children[1].Element!.Children[0].Kinds);
        Assert.Equal(JsonKinds.String, scan.Record.Children[2].Kinds);
    }

    [Fact]
    public void Scan_BackslashesAcrossBlockBoundaries_StringsEndWhereTheyDo()
    {
        // Runs of 1 to 4 backslashes placed at every offset around the 64-byte block edge.
        var lines = new List<string>();
        for (var pad = 50; pad < 80; pad++)
            for (var run = 1; run <= 4; run++)
                lines.Add("{\"a\":\"" + new string('x', pad) + new string('\\', run * 2) + "\",\"b\":" + pad + "}");
        lines.Add("{\"a\":\"" + new string('x', 57) + "\\\"" + "\",\"b\":1}");
        var scan = Scan(string.Join("\n", lines) + "\n");

        Assert.Equal(lines.Count, scan.Records);
        Assert.Equal(["a", "b"], scan.Record.Children.Select(c => c.Name));
        Assert.Equal(JsonKinds.String, scan.Record.Children[0].Kinds);
        Assert.Equal(JsonKinds.Integer, scan.Record.Children[1].Kinds);
    }

    [Fact]
    public void Scan_SmallWindows_SameResultAsOneWindow()
    {
        var random = new Random(7);
        var lines = new List<string>();
        for (var i = 0; i < 3000; i++)
        {
            var s = new string('s', random.Next(0, 90));
            lines.Add(random.Next(4) switch
            {
                0 => $$$"""{"id":{{{i}}},"s":"{{{s}}}\"q\\","n":{"x":[1,2,{"y":"{{{s}}}"}]}}""",
                1 => $$"""{"id":{{i}}.5,"t":"2024-05-01T10:00:00Z"}""",
                2 => $$"""  {"id" : {{i}} , "arr" : [ [ ], [ "{{s}}" ] ] }  """,
                _ => "",
            });
        }
        var text = string.Join("\n", lines) + "\n";
        var whole = Scan(text);
        var windowed = Scan(text, window: 1000);

        Assert.Equal((whole.Records, whole.Lines), (windowed.Records, windowed.Lines));
        Assert.Equal(Summary(whole.Record), Summary(windowed.Record));
        Assert.Equal(3001, whole.Lines);
    }

    [Fact]
    public void Scan_PrettyPrintedArray_ValuesAtTheirOwnLines()
    {
        var scan = Scan("[\n  {\n    \"id\": 1,\n    \"v\":\n      \"x\"\n  },\n  {\"id\": 2, \"v\": 3}\n]\n");

        Assert.Equal((JsonLayout.Array, 2L), (scan.Layout, scan.Records));
        var v = scan.Record.Find("v")!;
        Assert.Equal([(JsonKinds.String, 5L), (JsonKinds.Integer, 7L)], v.KindsSeen().Select(k => (k.Kind, k.At.Line)));
    }

    [Theory]
    [InlineData("", "Empty")]
    [InlineData("\n \n\t\n", "Empty")]
    [InlineData(" [ ] ", "Empty")]
    [InlineData("\uFEFF{\"a\":1}", "Lines")]
    [InlineData("\n\n[{\"a\":1}]", "Array")]
    public void Scan_Layout_ToldByTheFirstByte(string text, string layout) => Assert.Equal(layout, Scan(text).Layout.ToString());

    [Fact]
    public void Scan_DepthAtTheLimit_AcceptedOneMoreRefused()
    {
        var ok = Scan("{\"x\":" + new string('[', JsonScanner.MaxDepth - 1) + new string(']', JsonScanner.MaxDepth - 1) + "}\n");
        Assert.Equal(1, ok.Records);
        var e = Assert.Throws<LakehouseException>(() => Scan("{\"a\":1}\n{\"x\":" + new string('[', JsonScanner.MaxDepth) + new string(']', JsonScanner.MaxDepth) + "}\n"));
        Assert.StartsWith("in.json line 2 nests objects and arrays deeper than 16 levels", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A number beyond a double's range is refused naming its line: DuckDB stored 1e400 as infinity with exit 0. The largest doubles,
    /// a tiny number that rounds to 0 and a malformed exponent (left to DuckDB's parser) pass the scan.
    /// </summary>
    [Theory]
    [InlineData("{\"a\":1}\n{\"a\":1e400}\n", "in.json line 2 holds the number 1e400, beyond the range of a double")]
    [InlineData("{\"a\":1}\n{\"a\":1}\n{\"b\":[-2.5E+309]}\n", "in.json line 3 holds the number -2.5E+309, beyond the range of a double")]
    [InlineData("{\"a\":1.5E+308}\n", null)]
    [InlineData("{\"a\":1.7976931348623157e308,\"b\":-1e-400,\"c\":1e}\n", null)]
    public void Scan_NumberBeyondADouble_RefusedNamingTheLine(string text, string? refused)
    {
        if (refused is null)
        {
            Assert.Equal(1, Scan(text).Records);
            return;
        }
        var e = Assert.Throws<LakehouseException>(() => Scan(text));
        Assert.StartsWith(refused, e.Message, StringComparison.Ordinal);
        Assert.EndsWith("which the import would store as infinity; nothing was imported. Send such a value as a string.", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// NaN, infinities and trailing commas are not JSON (RFC 8259), though DuckDB's reader takes them: it stored NaN and ±inf and
    /// dropped the comma, with exit 0. They are refused at their line, at any depth, in NDJSON and in JSON arrays.
    /// </summary>
    [Theory]
    [InlineData("{\"a\":1}\n{\"a\":NaN}\n", "in.json line 2 is not valid JSON: NaN is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("{\"a\":Infinity}\n", "in.json line 1 is not valid JSON: Infinity is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("{\"a\":1}\n{\"b\":{\"c\":[1,-Infinity]}}\n", "in.json line 2 is not valid JSON: -Infinity is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("{\"a\":-nan}\n", "in.json line 1 is not valid JSON: -nan is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("[{\"a\":1},\n {\"a\":\n   inf}]", "in.json line 3 is not valid JSON: inf is not JSON, which has no NaN or infinity; nothing was imported. Send such a value as a string, or null.")]
    [InlineData("{\"a\":nope}\n", "in.json line 1 is not valid JSON: nope is not a JSON value; nothing was imported.")]
    [InlineData("{\"a\":1}\n{\"a\":1,}\n", "in.json line 2 is not valid JSON: a trailing comma before '}' is not JSON; nothing was imported.")]
    [InlineData("{\"a\":[1,]}\n", "in.json line 1 is not valid JSON: a trailing comma before ']' is not JSON; nothing was imported.")]
    [InlineData("{\"a\":{\"b\":1 , }}\n", "in.json line 1 is not valid JSON: a trailing comma before '}' is not JSON; nothing was imported.")]
    [InlineData("[{\"a\":1},\n{\"a\":2},\n]", "in.json line 3 is not valid JSON: a trailing comma before ']' is not JSON; nothing was imported.")]
    [InlineData("[{\"a\":1},\n{\"a\":[2,\n]}]", "in.json line 3 is not valid JSON: a trailing comma before ']' is not JSON; nothing was imported.")]
    public void Scan_NaNInfinityOrTrailingComma_RefusedAsNotJson(string text, string message) =>
        Assert.Equal(message, Assert.Throws<LakehouseException>(() => Scan(text)).Message);

    /// <summary>The same words inside quotes are strings, and a comma inside a string before a bracket is text.</summary>
    [Fact]
    public void Scan_NaNInfinityAndCommasInsideStrings_Accepted()
    {
        var scan = Scan("{\"a\":\"NaN\",\"b\":[\"-Infinity\",\",]\"],\"c\":\"inf,}\"}\n{\"a\":\"Infinity\"}\n");
        Assert.Equal(2, scan.Records);
        Assert.Equal(JsonKinds.String, scan.Record.Find("a")!.Kinds);
        Assert.Equal(JsonKinds.String, scan.Record.Find("b")!.Element!.Kinds);
    }

    [Theory]
    [InlineData("{\"a\":1}\n{\"a\":tru}\n", "in.json line 2 is not valid JSON: a value starts with 't' but is not true.")]
    [InlineData("{\"a\":1}\n{\"a\":\"x}\n", "in.json line 2 has a string that is not closed before the end of the line.")]
    [InlineData("{\"a\":1}\n\"x\"\n", "in.json line 2 is not a JSON object (a string); each line of NDJSON must be one object, a row of the table.")]
    [InlineData("[{\"a\":1}, 5]", "in.json line 1 holds a number in its JSON array; each element must be an object, a row of the table.")]
    [InlineData("[{\"a\":1}", "in.json line 1 ends before the closing ']' of its JSON array.")]
    [InlineData("{\"a\" 1}\n", "in.json line 1 is not valid JSON: a ':' was expected after the key \"a\".")]
    public void Scan_BrokenInput_RefusedWithItsLine(string text, string message) =>
        Assert.Equal(message, Assert.Throws<LakehouseException>(() => Scan(text)).Message);

    [Fact]
    public void Scan_IntegerFacts_BeyondLongAndInexactInDouble()
    {
        var scan = Scan("{\"a\":9007199254740992,\"b\":9223372036854775807}\n{\"a\":9007199254740993,\"b\":9223372036854775808}\n");
        var a = scan.Record.Find("a")!;
        var b = scan.Record.Find("b")!;
        Assert.Equal((2L, false), (a.InexactDouble.Line, a.BeyondLong.IsSet));
        Assert.Equal(2L, b.BeyondLong.Line);
    }

    [Fact]
    public void Scan_ManyLines_CountsRecordsAndLines()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 20_000; i++) text.Append("{\"id\":").Append(i).Append(",\"s\":\"abc\"}\n");
        var scan = Scan(text.ToString());
        Assert.Equal((20_000L, 20_001L), (scan.Records, scan.Lines));
    }
}
