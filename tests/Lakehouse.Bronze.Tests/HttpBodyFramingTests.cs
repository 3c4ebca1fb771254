using System.Text;
using Lakehouse.Core;

namespace Lakehouse.Bronze.Tests;

public sealed class HttpBodyFramingTests
{
    private static string[] Texts(byte[] body, IReadOnlyList<HttpBodyElement> elements) =>
        [.. elements.Select(e => $"{e.Line}@{e.Offset}:{Encoding.UTF8.GetString(body, e.Offset, e.Length)}")];

    [Fact]
    public void Lines_MalformedBlankCrlfAndUnterminatedLines_EveryNonBlankLineWithItsLineAndOffset()
    {
        var body = Encoding.UTF8.GetBytes("{\"id\": 1}\r\nnot json at all\n\n  \t \r\n{\"id\": \"ünï\"}\n{\"last\": true}");
        Assert.Equal(
            ["1@0:{\"id\": 1}", "2@11:not json at all", "5@34:{\"id\": \"ünï\"}", "6@50:{\"last\": true}"],
            Texts(body, HttpBodyFraming.Lines(body)));
    }

    [Fact]
    public void Lines_BytesThatAreNotUtf8_KeptAsTheyAre()
    {
        byte[] body = [0xff, 0xfe, (byte)'\n', 0x00, 0x41, 0xc3, (byte)'\r', (byte)'\n'];
        var elements = HttpBodyFraming.Lines(body);
        Assert.Equal([new HttpBodyElement(0, 2, 1), new HttpBodyElement(3, 3, 2)], elements);
    }

    [Fact]
    public void Lines_ByteOrderMark_NotPartOfTheFirstEvent()
    {
        var body = "\uFEFF{\"a\":1}\n"u8.ToArray();
        Assert.Equal([new HttpBodyElement(3, 7, 1)], HttpBodyFraming.Lines(body));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("  \r\n\t")]
    public void Lines_NothingButBlankLines_NoEvents(string body) => Assert.Empty(HttpBodyFraming.Lines(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Json_ArrayOfMixedValues_EachElementsRawBytesWithItsIndex()
    {
        var body = Encoding.UTF8.GetBytes("[ {\"a\" :  1, \"b\":[1, 2]},\n  2.50, \"s\\u0041\", null, [ ], {\"deep\": {\"x\": \"ü\"}} ]\n");
        Assert.Equal(
            ["1@2:{\"a\" :  1, \"b\":[1, 2]}", "2@28:2.50", "3@34:\"s\\u0041\"", "4@45:null", "5@51:[ ]", "6@56:{\"deep\": {\"x\": \"ü\"}}"],
            Texts(body, HttpBodyFraming.Json(body)));
    }

    [Fact]
    public void Json_OneObject_OneEvent()
    {
        var body = Encoding.UTF8.GetBytes("\n  {\"event_id\": \"e1\"}  \n");
        Assert.Equal(["1@3:{\"event_id\": \"e1\"}"], Texts(body, HttpBodyFraming.Json(body)));
    }

    [Fact]
    public void Json_EmptyArray_NoEvents() => Assert.Empty(HttpBodyFraming.Json("[]"u8));

    [Fact]
    public void Json_NestingDeeperThanSystemTextJsonsDefault_StillFramed()
    {
        var body = Encoding.UTF8.GetBytes("[" + new string('[', 500) + new string(']', 500) + "]");
        Assert.Equal([new HttpBodyElement(1, 1000, 1)], HttpBodyFraming.Json(body));
    }

    [Theory]
    [InlineData("", "The body is empty; a JSON body is an array of events (or one object).")]
    [InlineData(" \n ", "The body is empty; a JSON body is an array of events (or one object).")]
    [InlineData("[1] [2]", "More JSON follows the first value at byte 4 (one event per line is Content-Type application/x-ndjson).")]
    [InlineData("[{\"a\":1},", "The body is not valid JSON at line 1, byte 9 of that line: Expected start of a property name or value, but instead reached end of data.")]
    [InlineData("[{\"a\":1}\n {\"b\":2}]", "The body is not valid JSON at line 2, byte 2 of that line:")]
    [InlineData("{\"a\":1}\n{\"b\":2}\n", "More JSON follows the first value at byte 8 (one event per line is Content-Type application/x-ndjson).")]
    [InlineData("42", "The body is a single JSON number; a JSON body is an array of events (or one object).")]
    [InlineData("\"text\"", "The body is a single JSON string; a JSON body is an array of events (or one object).")]
    [InlineData("[1, 2] x", "The body is not valid JSON at line 1, byte 8 of that line:")]
    [InlineData("[1, // comment\n 2]", "The body is not valid JSON at line 1, byte 5 of that line:")]
    public void Json_NotAnArrayOfEvents_RefusedNamingWhere(string body, string message)
    {
        var error = Assert.Throws<LakehouseException>(() => HttpBodyFraming.Json(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("..", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_StringThatIsNotUtf8_FramedWithItsBytes()
    {
        byte[] body = [(byte)'[', (byte)'"', 0xff, (byte)'"', (byte)',', (byte)'1', (byte)']'];
        Assert.Equal([new HttpBodyElement(1, 3, 1), new HttpBodyElement(5, 1, 2)], HttpBodyFraming.Json(body));
    }

    [Fact]
    public void Fingerprint_SameBodyAndFormat_SameNonNegativeNumber_OtherwiseDifferent()
    {
        var a = HttpBodyFraming.Fingerprint("{\"a\":1}\n"u8, HttpBodyFormat.Lines);
        Assert.True(a >= 0);
        Assert.Equal(a, HttpBodyFraming.Fingerprint("{\"a\":1}\n"u8, HttpBodyFormat.Lines));
        Assert.NotEqual(a, HttpBodyFraming.Fingerprint("{\"a\":2}\n"u8, HttpBodyFormat.Lines));
        Assert.NotEqual(a, HttpBodyFraming.Fingerprint("{\"a\":1}\n"u8, HttpBodyFormat.Json));
    }
}
