using System.Text;
using Lakehouse.Bronze.Landing;

namespace Lakehouse.Bronze.Tests.Landing;

public sealed class CutterTests
{
    private sealed record Cut(byte[] Payload, long Offset, long Number)
    {
        public string Text => Encoding.UTF8.GetString(Payload);
    }

    /// <summary>Feeds <paramref name="content"/> through a cutter as the ingest does (blocks of BlockReader.BlockSize).</summary>
    private static async Task<List<Cut>> CutAsync(byte[] content, Func<RawEventHandler, IRawCutter> create)
    {
        var cuts = new List<Cut>();
        var cutter = create((payload, offset, number) => cuts.Add(new Cut(payload.ToArray(), offset, number)));
        using var stream = new MemoryStream(content);
        Assert.Equal(content.Length, await BlockReader.FeedAsync(stream, cutter, CancellationToken.None));
        return cuts;
    }

    private static Task<List<Cut>> CutAsync(string content, Func<RawEventHandler, IRawCutter> create) => CutAsync(Encoding.UTF8.GetBytes(content), create);

    [Fact]
    public async Task LineCutter_CrlfBlankAndUnterminatedLines_EachLineOnceWithOffsetAndNumber()
    {
        var cuts = await CutAsync("{\"a\":1}\r\n\n \t\r\nnot json\n{\"b\":\"ü\"}", h => new LineCutter(h));
        Assert.Equal([("{\"a\":1}", 0L, 1L), ("not json", 14L, 4L), ("{\"b\":\"ü\"}", 23L, 5L)], cuts.Select(c => (c.Text, c.Offset, c.Number)));
    }

    [Fact]
    public async Task LineCutter_InvalidUtf8AndBom_BytesKeptExactlyBomNotPartOfFirstLine()
    {
        byte[] content = [0xEF, 0xBB, 0xBF, (byte)'a', (byte)'\n', 0xFF, 0xFE, 0x00, 0xC3, (byte)'\n'];
        var cuts = await CutAsync(content, h => new LineCutter(h));
        Assert.Equal(2, cuts.Count);
        Assert.Equal(new byte[] { (byte)'a' }, cuts[0].Payload);
        Assert.Equal((3L, 1L), (cuts[0].Offset, cuts[0].Number));
        Assert.Equal(new byte[] { 0xFF, 0xFE, 0x00, 0xC3 }, cuts[1].Payload);
        Assert.Equal((5L, 2L), (cuts[1].Offset, cuts[1].Number));
    }

    [Fact]
    public async Task LineCutter_LineLongerThanTheBlock_KeptWhole()
    {
        var longLine = new string('x', BlockReader.BlockSize * 3 + 17);
        var cuts = await CutAsync($"a\n{longLine}\nb\n", h => new LineCutter(h));
        Assert.Equal(["a", longLine, "b"], cuts.Select(c => c.Text));
        Assert.Equal([0L, 2L, 2L + longLine.Length + 1], cuts.Select(c => c.Offset));
    }

    [Fact]
    public async Task JsonArrayCutter_NestedStringsAndEscapes_ElementsAsWrittenWithOffsets()
    {
        const string content = " [ {\"a\":[1,{\"b\":\"],\\\"}\"}]} ,\n\"x,y\" , 42,[ ],null ]\n";
        var cuts = await CutAsync(content, h => new JsonArrayCutter(h));
        Assert.Equal(["{\"a\":[1,{\"b\":\"],\\\"}\"}]}", "\"x,y\"", "42", "[ ]", "null"], cuts.Select(c => c.Text));
        Assert.Equal([1L, 2, 3, 4, 5], cuts.Select(c => c.Number));
        Assert.All(cuts, c => Assert.Equal(c.Text, content.Substring((int)c.Offset, c.Text.Length)));
    }

    [Fact]
    public async Task JsonArrayCutter_BytesAfterTheArrayAndTruncatedElement_KeptAsEvents()
    {
        var trailing = await CutAsync("[1,2] oops, more", h => new JsonArrayCutter(h));
        Assert.Equal(["1", "2", "oops, more"], trailing.Select(c => c.Text));
        var truncated = await CutAsync("[{\"a\":1},{\"b\":", h => new JsonArrayCutter(h));
        Assert.Equal(["{\"a\":1}", "{\"b\":"], truncated.Select(c => c.Text));
    }

    [Fact]
    public async Task JsonArrayCutter_NotAnArray_RefusedNamingTheByte()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => CutAsync("  {\"a\":1}", h => new JsonArrayCutter(h)));
        Assert.Equal("it is not a JSON array: byte 2 is '{', not '['", error.Message);
    }

    [Fact]
    public async Task JsonAutoCutter_ArrayLinesAndDocument_EachLaidOutByItsFirstBytes()
    {
        Assert.Equal(["1", "2"], (await CutAsync("\n [1, 2]", h => new JsonAutoCutter(h))).Select(c => c.Text));
        Assert.Equal(["{\"a\":1}", "{\"a\":2}"], (await CutAsync("{\"a\":1}\n{\"a\":2}\n", h => new JsonAutoCutter(h))).Select(c => c.Text));
        Assert.Equal(["{\n  \"a\": 1\n}"], (await CutAsync("\n{\n  \"a\": 1\n}\n\n", h => new JsonAutoCutter(h))).Select(c => c.Text));
        Assert.Equal(["not json", "{\"a\":2}"], (await CutAsync("not json\n{\"a\":2}", h => new JsonAutoCutter(h))).Select(c => c.Text));
    }

    [Fact]
    public async Task CsvCutter_QuotesNewlinesAndRaggedRecords_JsonObjectsOrRawBytes()
    {
        const string content = "id,name,note\r\n1,\"Ann, Jr.\",\"say \"\"hi\"\"\"\r\n2,Bob,\"two\nlines\"\r\n\r\n3,only two\r\n4,,\"\"\r\n5,\"open,x\n";
        var cuts = await CutAsync(content, h => new CsvCutter((byte)',', h));
        Assert.Equal(
            [
                ("{\"id\":\"1\",\"name\":\"Ann, Jr.\",\"note\":\"say \\\"hi\\\"\"}", 2L),
                ("{\"id\":\"2\",\"name\":\"Bob\",\"note\":\"two\\nlines\"}", 3L),
                ("3,only two", 6L),
                ("{\"id\":\"4\",\"name\":\"\",\"note\":\"\"}", 7L),
                ("5,\"open,x\n", 8L),
            ],
            cuts.Select(c => (c.Text, c.Number)));
        Assert.Equal(content.IndexOf("1,\"Ann", StringComparison.Ordinal), cuts[0].Offset);
        Assert.Equal(content.IndexOf("3,only", StringComparison.Ordinal), cuts[2].Offset);
    }

    [Fact]
    public async Task CsvCutter_InvalidUtf8FieldDuplicateAndEmptyHeaders_RawRecordAndUniqueNames()
    {
        var content = new List<byte>(Encoding.UTF8.GetBytes("a\ta\t\nx\ty\tz\n1\t"));
        content.AddRange([0xFF, (byte)'\t', (byte)'3', (byte)'\n']);
        var records = new List<Cut>();
        var cutter = new CsvCutter((byte)'\t', (payload, offset, number) => records.Add(new Cut(payload.ToArray(), offset, number)));
        using var stream = new MemoryStream([.. content]);
        await BlockReader.FeedAsync(stream, cutter, CancellationToken.None);
        Assert.Equal(["a", "a_2", "column_3"], cutter.Columns);
        Assert.Equal("{\"a\":\"x\",\"a_2\":\"y\",\"column_3\":\"z\"}", records[0].Text);
        Assert.Equal(new byte[] { (byte)'1', (byte)'\t', 0xFF, (byte)'\t', (byte)'3' }, records[1].Payload);
    }
}
