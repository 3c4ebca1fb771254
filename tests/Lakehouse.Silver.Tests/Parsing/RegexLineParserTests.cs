using System.Diagnostics;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Silver.Parsing;
using static Lakehouse.Silver.Tests.Parsing.AccessLogRow;

namespace Lakehouse.Silver.Tests.Parsing;

public class RegexLineParserTests
{
    // A log line: "<timestamp> <level> code=<integer> ratio=<number> ok=<boolean> <message>"
    private const string Pattern = """^(?<at>\S+(?: \S+)?) \| (?<level>\w+) code=(?<code>\S*) ratio=(?<ratio>\S*)(?: ok=(?<ok>\S+))? (?<msg>.*)$""";

    private const string Columns = """
        { "name": "at", "type": "timestamp" }, { "name": "level", "type": "string" }, { "name": "code", "type": "integer" },
        { "name": "ratio", "type": "number" }, { "name": "ok", "type": "boolean" }, { "name": "msg", "type": "string" }
        """;

    [Fact]
    public void TryParse_MatchingLine_ConvertsEachGroupToItsType()
    {
        var (ok, values, error) = Parse(Pattern, null, "2024-05-01T12:00:00.250+02:00 | WARN code=-42 ratio=0.125 ok=TRUE disk almost full\r\n");
        Assert.True(ok, error);
        Assert.Equal(Utc("2024-05-01T10:00:00.250Z"), values[0]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)values[0]!).Kind);
        Assert.Equal("WARN", values[1]);
        Assert.Equal(-42L, values[2]);
        Assert.Equal(0.125, values[3]);
        Assert.Equal(true, values[4]);
        Assert.Equal("disk almost full", values[5]);
    }

    [Fact]
    public void TryParse_OptionalGroupAbsentAndEmptyTypedGroups_Null()
    {
        var (ok, values, error) = Parse(Pattern, null, "2024-05-01 12:00:00 | INFO code= ratio= started");
        Assert.True(ok, error);
        Assert.Equal(Utc("2024-05-01T12:00:00Z"), values[0]); // no zone: UTC
        Assert.Equal("INFO", values[1]);
        Assert.Null(values[2]);
        Assert.Null(values[3]);
        Assert.Null(values[4]);
        Assert.Equal("started", values[5]);
    }

    [Fact]
    public void TryParse_NegativeZeroAndExponent_KeptAsSent()
    {
        var (ok, values, error) = Parse(Pattern, null, "2024-05-01 | INFO code=+7 ratio=-0 ok=false x");
        Assert.True(ok, error);
        Assert.Equal(Utc("2024-05-01T00:00:00Z"), values[0]);
        Assert.Equal(7L, values[2]);
        Assert.True(double.IsNegative((double)values[3]!));
        Assert.Equal(0.0, values[3]);
        Assert.Equal(false, values[4]);
        (ok, values, error) = Parse(Pattern, null, "2024-05-01 | INFO code=0 ratio=1.5E3 x");
        Assert.True(ok, error);
        Assert.Equal(1500.0, values[3]);
    }

    [Theory]
    [InlineData("2024-05-01T12:00:00Z | INFO code=12x ratio=1 x", "regex: column 'code' (integer): '12x' is not an integer (byte 33)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1.0 ratio=1 x", "regex: column 'code' (integer): '1.0' is not an integer (byte 33)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=9223372036854775808 ratio=1 x",
        "regex: column 'code' (integer): '9223372036854775808' is out of range for a 64-bit integer (byte 33)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=1e999 x", "regex: column 'ratio' (number): '1e999' is too large for a 64-bit number (byte 41)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=NaN x", "regex: column 'ratio' (number): 'NaN' is not a number (byte 41)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=Infinity x", "regex: column 'ratio' (number): 'Infinity' is not a number (byte 41)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=0x1F x", "regex: column 'ratio' (number): '0x1F' is not a number (byte 41)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=1,5 x", "regex: column 'ratio' (number): '1,5' is not a number (byte 41)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=1 ok=yes x", "regex: column 'ok' (boolean): 'yes' is not true or false (byte 46)")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=1 ok=1 x", "regex: column 'ok' (boolean): '1' is not true or false (byte 46)")]
    [InlineData("2024-02-30T12:00:00Z | INFO code=1 ratio=1 x",
        "regex: column 'at' (timestamp): '2024-02-30T12:00:00Z' has day 30 of 2024-02, which does not exist (byte 0)")]
    [InlineData("yesterday | INFO code=1 ratio=1 x",
        "regex: column 'at' (timestamp): 'yesterday' does not match ISO-8601: expected YYYY-MM-DD at character 0, found 'yesterday' (byte 0)")]
    [InlineData("2024-05-01T12:00:00+25:00 | INFO code=1 ratio=1 x",
        "regex: column 'at' (timestamp): '2024-05-01T12:00:00+25:00' does not match ISO-8601: expected Z or an offset ±hh:mm at character 19, found '+25:00' (byte 0)")]
    [InlineData("not a log line", "regex: the line does not match parse.pattern")]
    [InlineData("2024-05-01T12:00:00Z | INFO code=1 ratio=1 Käse\u0000", "regex: a NUL byte at byte 48")]
    public void TryParse_BadValue_FalseNamingTheColumn(string line, string message)
    {
        var (ok, values, error) = Parse(Pattern, null, line);
        Assert.False(ok);
        Assert.Equal(message, error);
        Assert.All(values, Assert.Null);
    }

    [Fact]
    public void TryParse_ValueAfterMultibyteCharacters_OffsetInBytes()
    {
        var (ok, _, error) = Parse("""^(?<msg>\S+) (?<code>\S+) (?<at>\S+)$""", null, "Käse€ 12x 2024-05-01",
            """{ "name": "msg", "type": "string" }, { "name": "code", "type": "integer" }, { "name": "at", "type": "timestamp" }""");
        Assert.False(ok);
        Assert.Equal("regex: column 'code' (integer): '12x' is not an integer (byte 9)", error); // K ä(2) s e €(3) space
    }

    [Fact]
    public void TryParse_InvalidUtf8_FalseWithOffset()
    {
        byte[] line = [.. "2024-05-01 | INFO code=1 ratio=1 "u8, 0xC3, 0x28];
        var (ok, _, error) = Parse(Pattern, null, line);
        Assert.False(ok);
        Assert.Equal("regex: not valid UTF-8 at byte 33", error);
    }

    [Theory]
    [InlineData("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z")]
    [InlineData("%Y-%m-%d %H:%M:%S,%f", "2024-05-01 08:09:10,123", "2024-05-01T08:09:10.123Z")]
    [InlineData("%Y-%m-%dT%H:%M:%S.%f%z", "2024-05-01T08:09:10.123456789+05:30", "2024-05-01T02:39:10.1234567Z")]
    [InlineData("%b %e %H:%M:%S %Y", "May  1 08:09:10 2024", "2024-05-01T08:09:10Z")]
    [InlineData("%b %e %H:%M:%S %Y", "may 11 08:09:10 2024", "2024-05-11T08:09:10Z")]
    [InlineData("%a, %d %B %Y %T %Z", "Wed, 01 May 2024 08:09:10 GMT", "2024-05-01T08:09:10Z")]
    [InlineData("%A %d %b %y %H:%M", "Friday 31 Dec 99 23:59", "1999-12-31T23:59:00Z")]
    [InlineData("%d.%m.%y %H:%M", "1.2.03 4:05", "2003-02-01T04:05:00Z")]
    [InlineData("%F %T", "2024-02-29 23:59:59", "2024-02-29T23:59:59Z")]
    [InlineData("%s", "1714521600", "2024-05-01T00:00:00Z")]
    [InlineData("%s.%f", "1714521600.5", "2024-05-01T00:00:00.5Z")]
    [InlineData("%Y%m%d%H%M%S", "20240501080910", "2024-05-01T08:09:10Z")]
    [InlineData("[%d/%b/%Y:%H:%M:%S %z] 100%%", "[01/May/2024:00:30:00 +0100] 100%", "2024-04-30T23:30:00Z")]
    [InlineData("%Y-%m-%d %H:%M:%S%z", "2024-05-01 08:09:10Z", "2024-05-01T08:09:10Z")]
    public void TimestampFormat_Strptime_ParsesToUtc(string format, string text, string expected)
    {
        Assert.True(TimestampFormat.TryCompile(format, out var compiled, out var problem), problem);
        Assert.True(compiled!.TryParse(text, out var utc, out problem), problem);
        Assert.Equal(Utc(expected), utc);
        Assert.Equal(DateTimeKind.Utc, utc.Kind);
    }

    [Theory]
    [InlineData("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36", "'10/Oct/2000:13:55:36' does not match '%d/%b/%Y:%H:%M:%S %z': expected an offset such as +0200 or Z (%z) at character 20, found the end")]
    [InlineData("%d/%b/%Y", "10/Okt/2000", "'10/Okt/2000' does not match '%d/%b/%Y': expected an English month name (%b) at character 3, found 'Okt/2000'")]
    [InlineData("%Y-%m-%d", "2024-05-01x", "'2024-05-01x' does not match '%Y-%m-%d': expected the end of the timestamp at character 10, found 'x'")]
    [InlineData("%Y-%m-%d %Z", "2024-05-01 PST", "'2024-05-01 PST' does not match '%Y-%m-%d %Z': expected the zone name UTC, GMT or Z (%Z; for other zones log an offset and use %z) at character 11, found 'PST'")]
    [InlineData("%Y-%m-%d %H", "2024-05-01 24", "'2024-05-01 24' has hour 24, which does not exist")]
    [InlineData("%s", "999999999999", "'999999999999' is outside the years 1 to 9999")]
    public void TimestampFormat_TextNotInFormat_Problem(string format, string text, string expected)
    {
        Assert.True(TimestampFormat.TryCompile(format, out var compiled, out var problem), problem);
        Assert.False(compiled!.TryParse(text, out _, out problem));
        Assert.Equal(expected, problem);
    }

    [Theory]
    [InlineData("%Y-%m-%d %Q", "'%Y-%m-%d %Q' has the directive %Q, which is not supported (use %Y %y %m %d %e %H %M %S %f %z %Z %b %B %a %s %T %F %%)")]
    [InlineData("%H:%M:%S", "'%H:%M:%S' does not fix a date: it needs a year (%Y or %y), a month (%m or %b) and a day (%d or %e), or %s")]
    [InlineData("%Y-%m-%d %", "'%Y-%m-%d %' ends with a lone '%' (use %% for a percent sign)")]
    public void TimestampFormat_BadFormat_Refused(string format, string expected)
    {
        Assert.False(TimestampFormat.TryCompile(format, out _, out var problem));
        Assert.Equal(expected, problem);
    }

    [Theory]
    [InlineData("2024-05-01", "2024-05-01T00:00:00Z")]
    [InlineData("2024-05-01T12:34", "2024-05-01T12:34:00Z")]
    [InlineData("2024-05-01t12:34:56z", "2024-05-01T12:34:56Z")]
    [InlineData("2024-05-01 12:34:56.1234567891 +0100", "2024-05-01T11:34:56.1234567Z")]
    [InlineData("2024-05-01T12:34:56,5-03", "2024-05-01T15:34:56.5Z")]
    [InlineData("2024-05-01T00:00:00+14:00", "2024-04-30T10:00:00Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z")]
    public void TimestampFormat_Iso8601_ParsesToUtc(string text, string expected)
    {
        Assert.True(TimestampFormat.Iso8601.TryParse(text, out var utc, out var problem), problem);
        Assert.Equal(Utc(expected), utc);
        Assert.Equal(DateTimeKind.Utc, utc.Kind);
    }

    [Fact]
    public void TryParse_TimestampFormatOfTheDefinition_Used()
    {
        var (ok, values, error) = Parse("""^(?<at>\[[^\]]+\]) (?<msg>.*)$""", "[%d/%b/%Y:%H:%M:%S %z]", "[10/Oct/2000:13:55:36 -0700] hello",
            """{ "name": "at", "type": "timestamp" }, { "name": "msg", "type": "string" }""");
        Assert.True(ok, error);
        Assert.Equal(Utc("2000-10-10T20:55:36Z"), values[0]);
        Assert.Equal("hello", values[1]);
    }

    [Fact]
    public void For_UnknownTimestampDirective_RefusedNamingTheField()
    {
        var definition = Definition("""^(?<at>\S+)$""", "%Y-%q", """{ "name": "at", "type": "timestamp" }""");
        var e = Assert.Throws<LakehouseException>(() => TextLineParsers.For(definition));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Dataset 'logs': parse.timestamp_format '%Y-%q' has the directive %q, which is not supported (use %Y %y %m %d %e %H %M %S %f %z %Z %b %B %a %s %T %F %%).", e.Message);
    }

    [Fact]
    public void Constructor_ColumnWithoutGroup_Refused()
    {
        var columns = new[] { new DatasetColumn("at", DatasetColumnType.Timestamp), new DatasetColumn("msg", DatasetColumnType.String) };
        var e = Assert.Throws<LakehouseException>(() => new RegexLineParser("logs", columns, """^(?<at>\S+)$""", null));
        Assert.Equal("Dataset 'logs': column 'msg' has no named group (?<msg>…) in parse.pattern.", e.Message);
    }

    [Fact]
    public void TryParse_CatastrophicBacktracking_RegexTimedOut()
    {
        var columns = new[] { new DatasetColumn("at", DatasetColumnType.Timestamp), new DatasetColumn("msg", DatasetColumnType.String) };
        var parser = new RegexLineParser("logs", columns, """^(?<at>\S+) (?<msg>(\w|\w\w)+)$""", null, TimeSpan.FromMilliseconds(200));
        var line = Encoding.UTF8.GetBytes("2024-05-01 " + new string('a', 60) + "!");
        var values = new object?[2];
        var stopwatch = Stopwatch.StartNew();
        Assert.False(parser.TryParse(line, values, out var error));
        Assert.Equal("regex timed out: the pattern took more than 200 ms on this 72-byte line", error);
        Assert.All(values, Assert.Null);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"{stopwatch.Elapsed}"); // bounded, not exponential

        // The same parser goes on with the next line.
        Assert.True(parser.TryParse("2024-05-01 abc"u8, values, out error), error);
        Assert.Equal("abc", values[1]);
    }

    [Fact]
    public void RegexLineParser_DefaultTimeout_OneSecond()
    {
        var parser = TextLineParsers.For(Definition("""^(?<at>\S+)$""", null, """{ "name": "at", "type": "timestamp" }"""));
        Assert.Equal(TimeSpan.FromSeconds(1), Assert.IsType<RegexLineParser>(parser).MatchTimeout);
    }

    [Fact]
    public void TryParse_TenMegabyteLine_ParsedAndRefused()
    {
        var parser = TextLineParsers.For(Definition("""^(?<at>\S+) (?<msg>.*)$""", null,
            """{ "name": "at", "type": "timestamp" }, { "name": "msg", "type": "string" }"""));
        var values = new object?[2];
        var big = new string('m', 10 * 1024 * 1024);
        Assert.True(parser.TryParse(Encoding.UTF8.GetBytes("2024-05-01 " + big), values, out var error), error);
        Assert.Equal(big.Length, ((string)values[1]!).Length);
        Assert.False(parser.TryParse(Encoding.UTF8.GetBytes(big + " x"), values, out error));
        Assert.Equal($"regex: column 'at' (timestamp): '{new string('m', 64)}…' does not match ISO-8601: expected YYYY-MM-DD at character 0, found '{new string('m', 64)}…' (byte 0)", error);
    }

    [Theory]
    [InlineData("a, b ,c", new[] { "a", "b", "c" })]
    [InlineData("a,,b,", new[] { "a", "b" })]
    [InlineData(" ", new string[0])]
    [InlineData("10.0.0.1", new[] { "10.0.0.1" })]
    public void TryConvert_StringList_SplitAtCommasTrimmed(string text, string[] expected)
    {
        Assert.True(RegexLineParser.TryConvert(text, DatasetColumnType.StringList, TimestampFormat.Iso8601, out var value, out var problem), problem);
        Assert.Equal(expected, (string[])value!);
    }

    [Fact]
    public void TryConvert_Object_JsonKeptAsTextOrRefused()
    {
        Assert.True(RegexLineParser.TryConvert("""{"a":[1,2]}""", DatasetColumnType.Object, TimestampFormat.Iso8601, out var value, out _));
        Assert.Equal("""{"a":[1,2]}""", value);
        Assert.False(RegexLineParser.TryConvert("{a:1}", DatasetColumnType.Object, TimestampFormat.Iso8601, out value, out var problem));
        Assert.Null(value);
        Assert.StartsWith("'{a:1}' is not JSON: ", problem, StringComparison.Ordinal);
    }

    private static (bool Ok, object?[] Values, string? Error) Parse(string pattern, string? timestampFormat, string line, string columns = Columns) =>
        Parse(pattern, timestampFormat, Encoding.UTF8.GetBytes(line), columns);

    private static (bool Ok, object?[] Values, string? Error) Parse(string pattern, string? timestampFormat, byte[] line, string columns = Columns)
    {
        var definition = Definition(pattern, timestampFormat, columns);
        var parser = TextLineParsers.For(definition);
        var values = new object?[definition.Columns.Count];
        var ok = parser.TryParse(line, values, out var error);
        return (ok, values, error);
    }

    private static DatasetDefinition Definition(string pattern, string? timestampFormat, string columns)
    {
        var parse = new Dictionary<string, string> { ["format"] = "regex", ["pattern"] = pattern };
        if (timestampFormat is not null) parse["timestamp_format"] = timestampFormat;
        var json = $$"""
            {
              "name": "logs", "payload": "text", "parse": {{System.Text.Json.JsonSerializer.Serialize(parse)}},
              "columns": [ {{columns}} ],
              "event_time": "at", "id": "source_position"
            }
            """;
        return DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "test");
    }
}
