using System.Diagnostics;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Datasets.Simulation;
using Lakehouse.Silver.Parsing;
using Xunit.Abstractions;
using static Lakehouse.Silver.Tests.Parsing.AccessLogRow;

namespace Lakehouse.Silver.Tests.Parsing;

public class AccessLogParserTests(ITestOutputHelper output)
{
    private const string Good = """127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.0" 200 2326 "-" "UA" """;

    [Theory]
    [InlineData("", "access log: the line is empty")]
    [InlineData("   ", "access log: the line is blank")]
    [InlineData("\r\n", "access log: the line is empty")]
    [InlineData("ERROR: connection reset by peer",
        "access log: expected the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm] after the client, ident and user, found 'peer' (byte 27)")]
    [InlineData("""{"event_id":"e1","tti_ms":12}""", "access log: the line ends at byte 29, before the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm]")]
    [InlineData("127.0.0.1 - frank", "access log: the line ends at byte 17, before the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm]")]
    [InlineData("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700", "access log: the timestamp '[10/Oct/2000:13:55:36 -0700' has no closing ']' (byte 18)")]
    [InlineData("""127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700 "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Oct/2000:13:55:36 -0700' has no closing ']' (byte 18)")]
    [InlineData("127.0.0.1 - frank [10/Oct/20", "access log: the timestamp '[10/Oct/20' has no closing ']' (byte 18)")]
    [InlineData("""127.0.0.1 [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: expected the client, ident and user before the timestamp (byte 10), found 1 field")]
    [InlineData("""127.0.0.1 - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: expected the client, ident and user before the timestamp (byte 12), found 2 fields")]
    [InlineData("""127.0.0.1 - - [10/Okt/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Okt/2000:13:55:36 -0700]' is not [dd/Mon/yyyy:HH:mm:ss ±hhmm] (byte 18)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000 13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Oct/2000 13:55:36 -0700]' is not [dd/Mon/yyyy:HH:mm:ss ±hhmm] (byte 26)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 PDT] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Oct/2000:13:55:36 PDT]' is not [dd/Mon/yyyy:HH:mm:ss ±hhmm] (byte 36)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 +0700x] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Oct/2000:13:55:36 +0700x]' is not [dd/Mon/yyyy:HH:mm:ss ±hhmm] (byte 41)")]
    [InlineData("""127.0.0.1 - - [30/Feb/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[30/Feb/2000:13:55:36 -0700]' has day 30 of 2000-02, which does not exist (byte 14)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:24:00:00 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[10/Oct/2000:24:00:00 -0700]' has hour 24, which does not exist (byte 14)")]
    [InlineData("""127.0.0.1 - - [01/Jan/0001:00:30:00 +0100] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[01/Jan/0001:00:30:00 +0100]' is outside the years 1 to 9999 in UTC (byte 14)")]
    [InlineData("""127.0.0.1 - - [2024-13-01T00:00:00Z] "GET / HTTP/1.0" 200 1""",
        "access log: the timestamp '[2024-13-01T00:00:00Z]' has month 13, which does not exist (byte 14)")]
    // Non-ASCII text in a timestamp is shown as written (before, a byte at a time: 'â\u0088\u0092' for U+2212), and U+2212 is no
    // offset's minus in an access log, as before.
    [InlineData("127.0.0.1 - - [2023-12-31T10:00:00\u221202:00] \"GET / HTTP/1.0\" 200 1",
        "access log: the timestamp '[2023-12-31T10:00:00\u221202:00]' does not match ISO-8601: expected Z or an offset ±hh:mm at character 19, found '\u221202:00' (byte 14)")]
    [InlineData("127.0.0.1 - - [2023-12-31T10:00:00 \U0001F600] \"GET / HTTP/1.0\" 200 1",
        "access log: the timestamp '[2023-12-31T10:00:00 \U0001F600]' does not match ISO-8601: expected Z or an offset ±hh:mm at character 20, found '\U0001F600' (byte 14)")]
    [InlineData("127.0.0.1 - - [2023-12-3\u00e9T10:00:00Z] \"GET / HTTP/1.0\" 200 1",
        "access log: the timestamp '[2023-12-3\u00e9T10:00:00Z]' does not match ISO-8601: expected YYYY-MM-DD at character 8, found '3\u00e9T10:00:00Z' (byte 14)")]
    [InlineData("127.0.0.1 - - [31/Dec/2023:10:00:00 \u22120200] \"GET / HTTP/1.0\" 200 1",
        "access log: the timestamp '[31/Dec/2023:10:00:00 \u22120200]' is not [dd/Mon/yyyy:HH:mm:ss ±hhmm] (byte 36)")]
    [InlineData("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700]", "access log: the line ends at byte 42, after the timestamp; expected the request in quotes")]
    [InlineData("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.0 200 1",
        "access log: expected '\"' opening the request after the timestamp, found 'GET' (byte 43)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0""",
        "access log: the request opened at byte 43 has no closing quote followed by the status")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" OK 1""",
        "access log: the request opened at byte 43 has no closing quote followed by the status")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 2000 1""",
        "access log: the status '2000' is not a 3-digit number (byte 60)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 20x 1""",
        "access log: the status '20x' is not a 3-digit number (byte 60)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200""",
        "access log: the line ends at byte 63, after the status; expected the response size (a number or -)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 12k""",
        "access log: the response size '12k' is not a number or '-' (byte 64)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 -1""",
        "access log: the response size '-1' is not a number or '-' (byte 64)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 99999999999999999999""",
        "access log: the response size '99999999999999999999' is out of range for a 64-bit integer (byte 64)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 9223372036854775808""",
        "access log: the response size '9223372036854775808' is out of range for a 64-bit integer (byte 64)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 99999999999999999999x""",
        "access log: the response size '99999999999999999999x' is not a number or '-' (byte 64)")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "http://a.example/""",
        "access log: the referrer opened at byte 66 has no closing quote")]
    [InlineData("""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "Mozilla/5.0 (""",
        "access log: the user agent opened at byte 70 has no closing quote")]
    [InlineData("""- - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""", "access log: the client address is '-' (byte 0)")]
    [InlineData(""", - - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""", "access log: the client address is '-' (byte 2)")]
    [InlineData("""1.2.3.4 ident john smith [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1""",
        "access log: four fields before the timestamp are vhost, client, ident and user, but the client 'ident' is not an IP address (byte 8)")]
    [InlineData("""<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>""",
        "access log: expected the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm] after the client, ident and user, found 'Gateway</h1></center></body></html>' (byte 75)")]
    public void TryParse_MalformedLine_FalseWithMessage(string line, string message)
    {
        var (ok, values, error) = Parse(line);
        Assert.False(ok);
        Assert.Equal(message, error);
        Assert.All(values, Assert.Null);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, 30, "access log: not valid UTF-8 at byte 30")]
    [InlineData(new byte[] { 0x80 }, 0, "access log: not valid UTF-8 at byte 0")]
    [InlineData(new byte[] { 0xC0, 0xAF }, 50, "access log: not valid UTF-8 at byte 50")] // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, 70, "access log: not valid UTF-8 at byte 70")] // a UTF-16 surrogate
    [InlineData(new byte[] { 0xE2, 0x82 }, 86, "access log: not valid UTF-8 at byte 86")] // a sequence cut short (the line ends)
    [InlineData(new byte[] { 0 }, 12, "access log: a NUL byte at byte 12")]
    [InlineData(new byte[] { 0, 0, 0, 0 }, 0, "access log: a NUL byte at byte 0")]
    public void TryParse_InvalidUtf8OrNul_FalseWithOffset(byte[] bad, int at, string message)
    {
        var clean = Encoding.UTF8.GetBytes(Good.TrimEnd());
        byte[] line = [.. clean[..at], .. bad, .. clean[at..]];
        var (ok, _, error) = Parse(line);
        Assert.False(ok);
        Assert.Equal(message, error);
    }

    [Fact]
    public void TryParse_InvalidUtf8AfterValidMultibyte_OffsetCountsBytes()
    {
        byte[] line = [.. Encoding.UTF8.GetBytes("ü€😀 - - ["), 0xFE];
        var (ok, _, error) = Parse(line);
        Assert.False(ok);
        Assert.Equal("access log: not valid UTF-8 at byte 15", error); // 2 + 3 + 4 + 6 bytes before it
    }

    [Fact]
    public void TryParse_MutatedGeneratorLines_NeverThrowsAndFillsTypedValues()
    {
        // Generator lines with random damage (bytes flipped, cut, spliced, quotes and brackets inserted): each parses to typed
        // values or is refused with a message; nothing throws.
        var definition = DatasetCatalog.BuiltIn.Get("accesslogs");
        var parser = TextLineParsers.For(definition);
        var values = new object?[definition.Columns.Count];
        var random = new Random(20240501);
        byte[] specials = [.. "\"[] -,:/?\\x0\r\n"u8, 0, 0x80, 0xC3, 0xFF];
        var (parsed, refused) = (0, 0);
        foreach (var e in EventSimulator.Generate("accesslogs", new SimulatorOptions { Seed = 77, Events = 50_000 }))
        {
            var line = e.Payload.ToList();
            for (var edits = random.Next(1, 4); edits > 0 && line.Count > 0; edits--)
            {
                var at = random.Next(line.Count);
                switch (random.Next(4))
                {
                    case 0: line[at] = specials[random.Next(specials.Length)]; break;
                    case 1: line.RemoveRange(at, line.Count - at); break;
                    case 2: line.Insert(at, specials[random.Next(specials.Length)]); break;
                    default: line.RemoveAt(at); break;
                }
            }
            if (parser.TryParse(line.ToArray(), values, out var error))
            {
                parsed++;
                Assert.Null(error);
                for (var i = 0; i < values.Length; i++)
                {
                    var expected = definition.Columns[i].Type switch
                    {
                        DatasetColumnType.Integer => typeof(long),
                        DatasetColumnType.Timestamp => typeof(DateTime),
                        DatasetColumnType.StringList => typeof(string[]),
                        _ => typeof(string),
                    };
                    if (values[i] is not null) Assert.IsType(expected, values[i]);
                    else Assert.True(definition.Columns[i].Nullable, $"{definition.Columns[i].Name} is null");
                }
            }
            else
            {
                refused++;
                Assert.StartsWith("access log: ", error, StringComparison.Ordinal);
                Assert.All(values, Assert.Null);
            }
        }
        output.WriteLine($"{parsed} parsed, {refused} refused");
        Assert.Equal(50_000, parsed + refused);
        Assert.True(parsed > 5_000 && refused > 5_000, $"{parsed} parsed, {refused} refused");
    }

    /// <summary>
    /// Every size that fits a long is taken, up to 9223372036854775807 and with leading zeros; before, a size of more than 18
    /// digits was refused as "not a number", though 19 digits fit.
    /// </summary>
    [Theory]
    [InlineData("999999999999999999", 999999999999999999L)]
    [InlineData("1000000000000000000", 1000000000000000000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("00000000000000000000000000042", 42L)]
    [InlineData("0", 0L)]
    public void TryParse_SizeThatFitsALong_Taken(string size, long expected)
    {
        var (ok, values, error) = Parse($"""127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 {size} "-" "UA" """);
        Assert.True(ok, error);
        var bytes = DatasetCatalog.BuiltIn.Get("accesslogs").Columns.Select(c => c.Name).ToList().IndexOf("bytes");
        Assert.Equal(expected, values[bytes]);
    }

    [Fact]
    public void TryParse_LineOfNulBytesOnly_Refused()
    {
        var (ok, _, error) = Parse(new byte[4096]);
        Assert.False(ok);
        Assert.Equal("access log: a NUL byte at byte 0", error);
    }

    [Fact]
    public void TryParse_ColumnSubsetInAnyOrder_FillsByName()
    {
        var definition = Definition("""
            { "name": "status", "type": "integer" }, { "name": "user_agent", "type": "string" }, { "name": "timestamp", "type": "timestamp" },
            { "name": "forwarded_for", "type": "string[]" }, { "name": "client_ip", "type": "string" }
            """);
        var parser = TextLineParsers.For(definition);
        var values = new object?[5];
        Assert.True(parser.TryParse("""203.0.113.1, 10.0.0.2 - - [01/May/2024:00:00:01 +0200] "GET / HTTP/2.0" 503 612 "-" "UA" 0.1"""u8, values, out var error), error);
        Assert.Equal(503L, values[0]);
        Assert.Equal("UA", values[1]);
        Assert.Equal(Utc("2024-04-30T22:00:01Z"), values[2]);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)values[2]!).Kind);
        Assert.Equal(["203.0.113.1", "10.0.0.2"], (string[])values[3]!);
        Assert.Equal("203.0.113.1", values[4]);
    }

    [Fact]
    public void TryParse_ColumnsDeclaredAsOtherTypes_Converted()
    {
        var definition = Definition("""
            { "name": "status", "type": "string" }, { "name": "bytes", "type": "number" }, { "name": "timestamp", "type": "timestamp" },
            { "name": "forwarded_for", "type": "string" }, { "name": "vhost", "type": "string" }
            """);
        var parser = TextLineParsers.For(definition);
        var values = new object?[5];
        Assert.True(parser.TryParse("""h:80 203.0.113.1, 10.0.0.2 - - [01/May/2024:00:00:01 +0000] "GET / HTTP/2.0" 200 4096 "-" "UA" """u8, values, out var error), error);
        Assert.Equal("200", values[0]);
        Assert.Equal(4096.0, values[1]);
        Assert.Equal("203.0.113.1, 10.0.0.2", values[3]);
        Assert.Equal("h:80", values[4]);
    }

    [Fact]
    public void For_ColumnTypeTheFieldCannotHave_Refused()
    {
        var definition = Definition("""{ "name": "status", "type": "boolean" }, { "name": "timestamp", "type": "timestamp" }""");
        var e = Assert.Throws<LakehouseException>(() => TextLineParsers.For(definition));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Dataset 'logs': column 'status' of the access_log format can be integer or number or string, not boolean.", e.Message);
    }

    [Fact]
    public void For_JsonDataset_Refused()
    {
        var e = Assert.Throws<LakehouseException>(() => TextLineParsers.For(DatasetCatalog.BuiltIn.Get("weblogs")));
        Assert.Equal("Dataset 'weblogs' has JSON events; only text datasets (payload text) have a line parser.", e.Message);
    }

    [Fact]
    public void TryParse_WrongNumberOfValueSlots_Throws()
    {
        var parser = TextLineParsers.For(DatasetCatalog.BuiltIn.Get("accesslogs"));
        Assert.Throws<ArgumentException>(() => parser.TryParse("x"u8, new object?[3], out _));
    }

    [Fact]
    public void TryParse_GeneratorLinesOfSeveralSeeds_AllParse()
    {
        var definition = DatasetCatalog.BuiltIn.Get("accesslogs");
        var parser = TextLineParsers.For(definition);
        var values = new object?[definition.Columns.Count];
        int Col(string name) => definition.Columns.Select((c, i) => (c, i)).Single(x => x.c.Name == name).i;
        var (ts, vhost, client, forwarded, method, url, ua, bytes) =
            (Col("timestamp"), Col("vhost"), Col("client_ip"), Col("forwarded_for"), Col("method"), Col("url"), Col("user_agent"), Col("bytes"));
        var seen = new Dictionary<string, int>();
        void Count(string what) => seen[what] = seen.GetValueOrDefault(what) + 1;
        var lines = 0;
        foreach (var seed in new long[] { 1, 7, 42, 2024, 99991 })
        {
            var options = new SimulatorOptions { Seed = seed, Events = 20_000, Late = 0.02 };
            foreach (var e in EventSimulator.Generate("accesslogs", options))
            {
                lines++;
                var text = Encoding.UTF8.GetString(e.Payload);
                Assert.True(parser.TryParse(e.Payload, values, out var error), $"seed {seed}: {text}: {error}");
                var time = (DateTime)values[ts]!;
                Assert.InRange(time, options.Start.UtcDateTime.AddHours(-25), options.Start.UtcDateTime.AddDays(3).AddMinutes(1));
                Assert.Equal(DateTimeKind.Utc, time.Kind);
                Assert.NotNull(values[client]);
                if (text.StartsWith("blog.example-shop.com:443 ", StringComparison.Ordinal))
                {
                    Assert.Equal("blog.example-shop.com:443", values[vhost]);
                    Count("vhost");
                }
                else Assert.Null(values[vhost]);
                var list = (string[])values[forwarded]!;
                if (text.Contains(", 10.", StringComparison.Ordinal) && text.IndexOf(", 10.", StringComparison.Ordinal) < text.IndexOf(" - ", StringComparison.Ordinal))
                {
                    Assert.Equal(2, list.Length);
                    Assert.Equal(list[0], values[client]);
                    Assert.StartsWith("10.", list[1], StringComparison.Ordinal);
                    Count("forwarded");
                }
                else Assert.Empty(list);
                if (((string)values[client]!).Contains(':', StringComparison.Ordinal)) Count("ipv6");
                if (text.Contains("\"-\" 4", StringComparison.Ordinal))
                {
                    Assert.Null(values[method]);
                    Assert.Null(values[url]);
                    Count("dash request");
                }
                if (values[ua] is string agent && agent.Contains("\"SiteAuditor\"", StringComparison.Ordinal)) Count("escaped quote");
                if (values[bytes] is null) Count("dash bytes");
                if (text.EndsWith('"') is false) Count("trailing fields or common");
            }
        }
        output.WriteLine($"{lines} lines; " + string.Join(", ", seen.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Equal(100_000, lines);
        // Every variant the generator writes showed up, so the loop above checked them.
        foreach (var variant in new[] { "vhost", "forwarded", "ipv6", "dash request", "escaped quote", "dash bytes", "trailing fields or common" })
            Assert.True(seen.GetValueOrDefault(variant) > 0, variant);
    }

    [Fact]
    public void TryParse_GeneratorWithFaults_CleanLinesParseMalformedOnesAreRefused()
    {
        var parser = TextLineParsers.For(DatasetCatalog.BuiltIn.Get("accesslogs"));
        var values = new object?[15];
        var (parsed, refused, malformed) = (0, 0, 0);
        var messages = new HashSet<string>();
        foreach (var e in EventSimulator.Generate("accesslogs", new SimulatorOptions { Seed = 5, Events = 20_000, Malformed = 0.05, Duplicates = 0.05, Late = 0.05 }))
        {
            var ok = parser.TryParse(e.Payload, values, out var error);
            if (e.Kind == SimulatedEventKind.Malformed)
            {
                malformed++;
                Assert.False(ok, Encoding.UTF8.GetString(e.Payload));
                Assert.StartsWith("access log: ", error, StringComparison.Ordinal);
                messages.Add(error![..Math.Min(error!.Length, 40)]);
            }
            else Assert.True(ok, error);
            if (ok) parsed++;
            else refused++;
        }
        Assert.Equal(20_000, parsed + refused);
        Assert.Equal(malformed, refused);
        Assert.True(malformed > 800, $"{malformed} malformed");
        output.WriteLine(string.Join("\n", messages.Order()));
    }

    [Fact(Timeout = 120_000)]
    public async Task TryParse_TenMegabyteFields_ParsedOrRefusedInLinearTime()
    {
        await Task.Run(() =>
        {
            const int Size = 10 * 1024 * 1024;
            var stopwatch = Stopwatch.StartNew();

            // A 10 MB user agent parses.
            var agent = new string('a', Size);
            var (ok, values, error) = Parse($"""1.2.3.4 - - [01/May/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "{agent}" """);
            Assert.True(ok, error);
            Assert.Equal(Size, ((string)values[12]!).Length);

            // A 10 MB target full of escaped quotes and backslashes parses, decoded.
            var target = string.Concat(Enumerable.Repeat("/\\\"\\\\", Size / 5));
            (ok, values, error) = Parse($"""1.2.3.4 - - [01/May/2024:00:00:00 +0000] "GET {target} HTTP/1.1" 200 1""");
            Assert.True(ok, error);
            Assert.Equal(Size / 5 * 3, ((string)values[5]!).Length);
            Assert.StartsWith("/\"\\/\"\\", (string)values[5]!, StringComparison.Ordinal);

            // 10 MB of quote-space pairs inside a request that never closes: refused, the message does not hold the line.
            (ok, _, error) = Parse("1.2.3.4 - - [01/May/2024:00:00:00 +0000] \"" + string.Concat(Enumerable.Repeat("\" ", Size / 2)));
            Assert.False(ok);
            Assert.Equal("access log: the request opened at byte 41 has no closing quote followed by the status", error);

            // 10 MB without a space or timestamp, and a 10 MB forwarded list that never ends: refused with short messages.
            (ok, _, error) = Parse(new string('x', Size));
            Assert.False(ok);
            Assert.Equal($"access log: the line ends at byte {Size}, before the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm]", error);
            (ok, _, error) = Parse(string.Concat(Enumerable.Repeat("10.0.0.1, ", Size / 10)));
            Assert.False(ok);
            Assert.Equal($"access log: the line ends at byte {Size}, before the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm]", error);
            (ok, _, error) = Parse(new string(' ', 9) + new string('y', Size));
            Assert.False(ok);
            Assert.Equal($"access log: the line ends at byte {Size + 9}, before the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm]", error);
            (ok, _, error) = Parse("a b c d " + new string('z', Size));
            Assert.False(ok);
            Assert.Equal($"access log: expected the timestamp [dd/Mon/yyyy:HH:mm:ss ±hhmm] after the client, ident and user, found '{new string('z', 64)}…' (byte 8)", error);

            // 10 MB of garbage after a valid line's size: ignored as trailing fields.
            (ok, values, error) = Parse("1.2.3.4 - - [01/May/2024:00:00:00 +0000] \"-\" 400 0 " + new string('#', Size));
            Assert.True(ok, error);
            Assert.Equal(400L, values[9]);
            output.WriteLine($"7 lines of 10 MB: {stopwatch.ElapsedMilliseconds} ms");
        });
    }

    [Fact]
    [Trait("Category", "Speed")]
    public void TryParse_MillionGeneratorLines_MeasuresLinesPerSecond()
    {
        // 100,000 distinct simulator lines parsed ten times over: 1M parses on one thread, all columns of the built-in definition.
        var lines = EventSimulator.Generate("accesslogs", new SimulatorOptions { Seed = 11, Events = 100_000 }).Select(e => e.Payload).ToArray();
        var parser = TextLineParsers.For(DatasetCatalog.BuiltIn.Get("accesslogs"));
        var values = new object?[15];
        for (var warmUp = 0; warmUp < 3; warmUp++) // until the JIT has compiled the parser fully (tier 1)
            foreach (var line in lines) Assert.True(parser.TryParse(line, values, out _));
        var totalBytes = lines.Sum(l => (long)l.Length) * 10;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        var parsed = 0;
        var bestRound = TimeSpan.MaxValue; // the round of 100,000 lines least disturbed by other processes
        for (var round = 0; round < 10; round++)
        {
            var roundStart = stopwatch.Elapsed;
            foreach (var line in lines)
                if (parser.TryParse(line, values, out _)) parsed++;
            if (stopwatch.Elapsed - roundStart < bestRound) bestRound = stopwatch.Elapsed - roundStart;
        }
        stopwatch.Stop();
        // CPU time of the process (this thread, plus GC and JIT threads): what "per core" means on a machine others share.
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(1_000_000, parsed);
        output.WriteLine($"access log: {parsed:N0} lines in {stopwatch.Elapsed.TotalSeconds:0.000} s wall = {parsed / stopwatch.Elapsed.TotalSeconds:N0} lines/s; " +
            $"{cpu.TotalSeconds:0.000} s CPU = {parsed / cpu.TotalSeconds:N0} lines/CPU-s, {totalBytes / cpu.TotalSeconds / 1e6:0} MB/CPU-s; " +
            $"{allocated / (double)parsed:0} bytes allocated per line; best round {lines.Length / bestRound.TotalSeconds:N0} lines/s");
    }

    private static DatasetDefinition Definition(string columns) => DatasetDefinition.Parse(Encoding.UTF8.GetBytes($$"""
        {
          "name": "logs", "payload": "text", "parse": { "format": "access_log" },
          "columns": [ {{columns}} ],
          "event_time": "timestamp", "id": "source_position"
        }
        """), "test");
}
