using System.Text;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Testing;

namespace Lakehouse.Silver.Tests;

public sealed class SilverJobTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-job");

    public void Dispose() => _lake.Dispose();

    private static string Web(string id, string ts = "2024-05-03T07:54:52.023Z", string tti = "1377.7", string ttar = "1019.8", string status = "200", string extra = "") =>
        $"{{\"event_id\":\"{id}\",\"timestamp\":\"{ts}\",\"page_url\":\"https://shop.example.com/a\",\"tti_ms\":{tti},\"ttar_ms\":{ttar},\"status\":{status},\"session_id\":\"s1\"{extra}}}";

    /// <summary>Lands <paramref name="payloads"/> in the bronze table of the dataset <paramref name="json"/> defines and runs silver with that definition.</summary>
    private async Task<SilverRunResult> RunDefinedAsync(string json, params string[] payloads)
    {
        var definition = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "test.json");
        await _lake.LandAsync(definition.Name, payloads);
        return await SilverJob.Open(_lake.Root, _lake.Engine).RunAsync(definition);
    }

    [Fact]
    public async Task RunAsync_CleanEvents_TypedRowsWithUtcTimesAndEventDates()
    {
        await _lake.LandAsync("weblogs",
            Web("e1", ts: "2024-05-03T23:30:00+02:00", tti: "12", status: "404", extra: ",\"country\":\"DE\",\"attrs\":{\"a\":[1,2]}"),
            Web("e2", ts: "2024-05-03T23:30:00", ttar: "null", extra: ",\"user_agent\":\"curl/8\""),
            Web("e3", ts: "2024-05-04T00:00:00.5-05:00", tti: "-0", ttar: "1e3"));

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((3L, 3L, 0L, 0L, -1L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates, result.BronzeFromVersion, result.BronzeToVersion));
        Assert.Equal(
        [
            "e1|2024-05-03 21:30:00+00|12|1019.8|404|DE|{\"a\":[1,2]}|2024-05-03|21",
            "e2|2024-05-03 23:30:00+00|1377.7|NULL|200|NULL|NULL|2024-05-03|23",
            "e3|2024-05-04 05:00:00.5+00|0|1000|200|NULL|NULL|2024-05-04|5",
        ], await _lake.RowsAsync("silver/weblogs", "event_id, CAST(\"timestamp\" AS VARCHAR), tti_ms, ttar_ms, status, country, attrs, CAST(event_date AS VARCHAR), event_hour", "event_id"));
        Assert.Equal("curl/8", (await _lake.RowsAsync("silver/weblogs", "user_agent", "event_id"))[1]);
    }

    [Fact]
    public async Task RunAsync_HostilePayloads_EachQuarantinedWithTheRuleAndAMessageNamingTheProblem()
    {
        byte[] invalidUtf8 = [.. Encoding.UTF8.GetBytes("{\"event_id\":\"u"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}")];
        var huge = Web("big", extra: ",\"attrs\":{\"pad\":\"" + new string('x', 10 * 1024 * 1024) + "\"}");
        var deep = Web("deep", extra: ",\"attrs\":" + string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000));
        await _lake.LandAsync("weblogs", new[]
        {
            Encoding.UTF8.GetBytes("{\"event_id\":\"m1\",\"tti_ms\":"),                       // malformed
            Encoding.UTF8.GetBytes(Web("nul").Replace("s1", "s\u00001", StringComparison.Ordinal)), // a raw NUL inside a string
            invalidUtf8,
            Encoding.UTF8.GetBytes(huge),
            Encoding.UTF8.GetBytes(Web("t1", tti: "\"12\"")),                                    // a string holding a number
            Encoding.UTF8.GetBytes(Web("t2", status: "200.5")),
            Encoding.UTF8.GetBytes(Web("r1", tti: "1e999")),
            Encoding.UTF8.GetBytes(Web("r2", ttar: "NaN")),
            Encoding.UTF8.GetBytes(Web("d1", extra: ",\"tti_ms\":5")),                          // duplicate key
            Encoding.UTF8.GetBytes("[1,2,3]"),
            Encoding.UTF8.GetBytes("{\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/x\",\"tti_ms\":1,\"status\":200,\"session_id\":\"s\"}"), // no id
            Encoding.UTF8.GetBytes(Web("x1", tti: "700000")),                                   // expectation: tti_in_range
            Encoding.UTF8.GetBytes(Web("x2", ts: "not a time")),
            Encoding.UTF8.GetBytes(Web("ok")),
            Encoding.UTF8.GetBytes(deep),
        });

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal(15, result.RowsIn);
        Assert.Equal(2, result.RowsOut); // ok, deep (nesting is data: attrs keeps it as JSON)
        Assert.Equal(13, result.Quarantined);
        var rows = await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, rule, message", "source_offset");
        Assert.Equal(13, rows.Count);
        string Row(int offset) => rows.Single(r => r.StartsWith(offset + "|", StringComparison.Ordinal));
        Assert.StartsWith("0|malformed_json|malformed JSON: ", Row(0), StringComparison.Ordinal);
        Assert.StartsWith("1|malformed_json|malformed JSON: '0x00' is invalid within a JSON string", Row(1), StringComparison.Ordinal);
        Assert.Equal("2|invalid_utf8|the payload is not valid UTF-8: byte 0xC3 at offset 14 does not start or continue a character", Row(2));
        Assert.StartsWith("3|too_large|the payload has 1048", Row(3), StringComparison.Ordinal);
        Assert.Equal("4|wrong_type|tti_ms: expected a number, got a string (\"12\")", Row(4));
        Assert.Equal("5|wrong_type|status: expected an integer, got a number (200.5)", Row(5));
        Assert.Equal("6|out_of_range|tti_ms: 1e999 is not a finite number", Row(6));
        Assert.Equal("7|malformed_json|malformed JSON: NaN is not JSON, which has no NaN or infinity (byte 122)", Row(7));
        Assert.Equal("8|duplicate_key|the key \"tti_ms\" appears more than once in the object", Row(8));
        Assert.StartsWith("9|not_an_object|the payload is JSON but not an object: [1,2,3]", Row(9), StringComparison.Ordinal);
        Assert.Equal("10|event_id_present|event_id is missing", Row(10));
        Assert.Equal("11|tti_in_range|tti_ms = 700000.0 is not at least 0 and below 600000", Row(11));
        Assert.Equal("12|wrong_type|timestamp: \"not a time\" is not an ISO-8601 timestamp (YYYY-MM-DDThh:mm:ss, optional fraction, Z or ±hh:mm)", Row(12));
        // Nothing lost: bronze = silver + quarantine + duplicates removed; the raw bytes are kept exactly.
        Assert.Equal(result.RowsIn, result.RowsOut + result.Quarantined + result.Duplicates);
        Assert.Equal(["2|C3"], await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, upper(hex(payload[15:15]))", "1").ContinueWith(t => t.Result.Where(r => r.StartsWith("2|", StringComparison.Ordinal)).ToList()));
        Assert.Contains(result.Rules, r => r is { Rule: "malformed_json", Failed: 3, Checked: 15 });
        Assert.Contains(result.Rules, r => r is { Rule: "tti_in_range", Action: "drop", Failed: 1 });
    }

    /// <summary>
    /// A page URL longer than 8,192 characters once normalized is quarantined by page_url_length: before, a 400 KB URL passed every
    /// rule, became a page key of gold, and made every dashboard answer that lists pages hundreds of kilobytes long. 8,192 are kept.
    /// </summary>
    [Fact]
    public async Task RunAsync_PageUrlLongerThan8192Characters_QuarantinedByItsLengthRule()
    {
        string WithUrl(string id, string url) => Web(id).Replace("https://shop.example.com/a", url, StringComparison.Ordinal);
        var prefix = "https://shop.example.com/";
        await _lake.LandAsync("weblogs", new[]
        {
            Encoding.UTF8.GetBytes(WithUrl("long", prefix + new string('p', 400_000))),
            Encoding.UTF8.GetBytes(WithUrl("edge", prefix + new string('p', 8192 - prefix.Length))),
            Encoding.UTF8.GetBytes(WithUrl("over", prefix + new string('p', 8193 - prefix.Length))),
        });

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((3L, 1L, 2L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(["edge|8192"], await _lake.RowsAsync("silver/weblogs", "event_id, length(page_url)", "event_id"));
        Assert.Equal(["0|page_url_length|page_url has 400025 characters, more than 8192", "2|page_url_length|page_url has 8193 characters, more than 8192"],
            await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, rule, message", "source_offset"));
        Assert.Contains(result.Rules, r => r is { Rule: "page_url_length", Action: "drop", Failed: 2 });
    }

    /// <summary>
    /// DuckDB's JSON reader takes NaN, infinities (any case, as nan or inf too) and trailing commas, which are not JSON (RFC 8259).
    /// Each is malformed_json naming what and where, also in a key the schema does not read or inside an object column; the same
    /// text inside a string (a value or a key) is data, and the row is kept. Before, all five were kept: attrs held {"v":NaN,…}.
    /// </summary>
    [Fact]
    public async Task RunAsync_NaNInfinityOrTrailingCommaOutsideStrings_MalformedJsonNamingIt()
    {
        await _lake.LandAsync("weblogs",
            Web("n1", extra: ""","attrs":{"v":NaN,"w":-Infinity}"""),
            Web("n2", extra: ""","zz":nan,"""),
            Web("n3", extra: ""","attrs":{"a":[1, 2 ,""" + "\n" + "]}"),
            Web("n4", extra: ""","zz":{"x":1,}"""),
            Web("n5", extra: ""","zz":[-inf]"""),
            Web("k1", extra: ""","attrs":{"note":"x: NaN, -Infinity ,} [1,]","nan":"inf","q":"q\",}"}"""),
            Web("k2", extra: ""","zz":[ "a,]" , {"inf,}":"-nan"} ]"""),
            "NaN", " -Infinity", "[nan]");

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((10L, 2L, 8L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(
        [
            "k1|{\"note\":\"x: NaN, -Infinity ,} [1,]\",\"nan\":\"inf\",\"q\":\"q\\\",}\"}",
            "k2|NULL",
        ], await _lake.RowsAsync("silver/weblogs", "event_id, attrs", "event_id"));
        Assert.Equal(
        [
            "0|malformed_json|malformed JSON: NaN is not JSON, which has no NaN or infinity (byte 173)",
            "1|malformed_json|malformed JSON: nan is not JSON, which has no NaN or infinity (byte 165)",
            "2|malformed_json|malformed JSON: a trailing comma before ']' is not JSON (byte 179)",
            "3|malformed_json|malformed JSON: a trailing comma before '}' is not JSON (byte 171)",
            "4|malformed_json|malformed JSON: -inf is not JSON, which has no NaN or infinity (byte 166)",
            // A payload that is only NaN was not_an_object ("JSON but not an object").
            "7|malformed_json|malformed JSON: NaN is not JSON, which has no NaN or infinity (byte 0)",
            "8|malformed_json|malformed JSON: -Infinity is not JSON, which has no NaN or infinity (byte 1)",
            "9|malformed_json|malformed JSON: nan is not JSON, which has no NaN or infinity (byte 1)",
        ], await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, rule, message", "source_offset"));
        Assert.Contains(result.Rules, r => r is { Rule: "malformed_json", Failed: 8, Checked: 10 });
    }

    /// <summary>
    /// A landed file that grew is ingested again whole (bronze takes a file with other bytes as a new file), so bronze holds its first
    /// lines twice at one position. The malformed one is quarantined once, the other copy counted as a duplicate, and a rerun of its
    /// date keeps one. Before, with both copies in one run the quarantine merge refused its source ("appear more than once"), and every
    /// later run failed the same way: silver of the dataset was stuck, exit 1.
    /// </summary>
    [Fact]
    public async Task RunAsync_GrownFileIngestedAgain_RepeatedMalformedLineQuarantinedOnceAndCountedAsDuplicate()
    {
        await _lake.LandFileAsync("weblogs", "landing/a.ndjson", "{bad");
        await _lake.LandFileAsync("weblogs", "landing/a.ndjson", "{bad", Web("e1"));

        var result = await _lake.RunAsync("weblogs");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var rerun = await _lake.RunAsync("weblogs", new SilverRunOptions { From = today.AddDays(-1), To = today.AddDays(1) });

        Assert.Equal((3L, 1L, 1L, 1L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates));
        Assert.Equal((2L, 0L, 1L, 1L), (rerun.RowsIn, rerun.RowsOut, rerun.Quarantined, rerun.Duplicates));
        Assert.Equal(["file|landing/a.ndjson|||1|malformed_json|{bad"], await _lake.RowsAsync("silver/weblogs_quarantine", "bronze_position, rule, payload_text", "1"));
        Assert.Equal(["e1"], await _lake.RowsAsync("silver/weblogs", "event_id", "1"));
    }

    /// <summary>
    /// The same, across two runs: the malformed line was quarantined by the first run, and its copy in the grown file is a duplicate
    /// in the second. Before, the second run counted it as quarantined although the merge inserted nothing, so bronze was one more
    /// than silver + quarantine + duplicates.
    /// </summary>
    [Fact]
    public async Task RunAsync_GrownFileAfterARun_RepeatedMalformedLineCountedAsDuplicate()
    {
        await _lake.LandFileAsync("weblogs", "landing/a.ndjson", "{bad");
        var first = await _lake.RunAsync("weblogs");
        await _lake.LandFileAsync("weblogs", "landing/a.ndjson", "{bad", Web("e1"));

        var second = await _lake.RunAsync("weblogs");

        Assert.Equal((1L, 0L, 1L, 0L), (first.RowsIn, first.RowsOut, first.Quarantined, first.Duplicates));
        Assert.Equal((2L, 1L, 0L, 1L), (second.RowsIn, second.RowsOut, second.Quarantined, second.Duplicates));
        Assert.Equal(1L, await _lake.CountAsync("silver/weblogs_quarantine"));
    }

    /// <summary>
    /// A lone surrogate escape (\ud800 without its pair, or the pair reversed) is malformed JSON to DuckDB; the message says which
    /// string and where. Before, System.Text.Json's reader, which leaves escapes alone, found nothing and the message was only
    /// "malformed JSON".
    /// </summary>
    [Fact]
    public async Task RunAsync_LoneSurrogateEscapes_MalformedJsonNamingTheStringAndByte()
    {
        await _lake.LandAsync("weblogs",
            Web("hi", extra: ",\"country\":\"a\\ud800b\""),
            Web("reversed", extra: ",\"country\":\"\\udc00\\ud800\""),
            Web("key", extra: ",\"x\\udc00\":1"),
            Web("pair", extra: ",\"country\":\"\\ud83d\\ude00\""));

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((4L, 1L, 3L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(
        [
            "0|malformed_json|malformed JSON: Cannot read incomplete UTF-16 JSON text as string with missing low surrogate. (the string at byte 170)",
            "1|malformed_json|malformed JSON: Cannot read invalid UTF-16 JSON text as string. Invalid surrogate value: '0xDC00'. (the string at byte 176)",
            "2|malformed_json|malformed JSON: Cannot read invalid UTF-16 JSON text as string. Invalid surrogate value: '0xDC00'. (the key at byte 161)",
        ], await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, rule, message", "source_offset"));
    }

    /// <summary>A temperature reading of 2024-05-03T07:00:00Z as a sensor sends it: <paramref name="value"/> is the JSON number's text.</summary>
    internal static string Reading(string id, string value, string unit) =>
        $"{{\"sensor_id\":\"{id}\",\"device_type\":\"temperature\",\"timestamp\":\"2024-05-03T07:00:00Z\",\"value\":{value},\"unit\":\"{unit}\",\"status\":\"normal\"}}";

    /// <summary>
    /// A reading finite as sent whose unit's conversion goes past the largest double (1e308 °C is 1.8e308 °F) is out_of_range, as
    /// 1e999 is: before, silver kept value = inf (value_plausible only warns), exit 0, and gold's averages of the sensor became inf.
    /// </summary>
    [Fact]
    public async Task RunAsync_UnitConversionPastTheLargestDouble_QuarantinedOutOfRange()
    {
        await _lake.LandAsync("sensors",
            Reading("c", "1e308", "C"), Reading("k", "-1.7e308", "K"), Reading("bar", "1e306", "bar"), Reading("f", "1e308", "F"), Reading("ok", "20", "C"));

        var result = await _lake.RunAsync("sensors");

        Assert.Equal((5L, 2L, 3L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(["f|1E+308|°F", "ok|68|°F"], await _lake.RowsAsync("silver/sensors", "sensor_id, value, unit", "sensor_id"));
        Assert.Equal(
        [
            "bar|out_of_range|value: 1e+306 bar is not a finite number in hPa",
            "c|out_of_range|value: 1e+308 C is not a finite number in °F",
            "k|out_of_range|value: -1.7e+308 K is not a finite number in °F",
        ], await _lake.RowsAsync("silver/sensors_quarantine", "json_extract_string(payload_text, '$.sensor_id'), rule, message", "1"));
        Assert.Contains(result.Rules, r => r is { Rule: "out_of_range", Failed: 3, Checked: 5 });
    }

    [Fact]
    public async Task RunAsync_TimestampForms_IsoOnesReadToUtcAndEpochOrImpossibleOffsetsQuarantined()
    {
        // DuckDB's cast alone read "epoch" as 1970 and +99:00 as a shift of four days, exit 0, into gold's days.
        await _lake.LandAsync("weblogs",
            Web("z", ts: "2026-01-05T10:00:00Z"),
            Web("lower", ts: "2026-01-05T10:00:00.5z"),
            Web("offset", ts: "2026-01-05T10:00:00+05:30"),
            Web("compact", ts: "2026-01-05T10:00:00-0230"),
            Web("space", ts: "2026-01-05 10:00:00"),
            Web("date", ts: "2026-01-05"),
            Web("epoch", ts: "epoch"),
            Web("h99", ts: "2026-01-05T10:00:00+99:00"),
            Web("h24", ts: "2026-01-05T10:00:00+24:00"),
            Web("m60", ts: "2026-01-05T10:00:00+01:60"),
            Web("inf", ts: "infinity"));

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((11L, 6L, 5L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(
            ["compact|2026-01-05 12:30:00", "date|2026-01-05 00:00:00", "lower|2026-01-05 10:00:00.5", "offset|2026-01-05 04:30:00", "space|2026-01-05 10:00:00", "z|2026-01-05 10:00:00"],
            await _lake.RowsAsync("silver/weblogs", "event_id, strftime(timezone('UTC', \"timestamp\"), '%Y-%m-%d %H:%M:%S.%g')", "event_id")
                .ContinueWith(t => t.Result.Select(r => r.Replace(".000", "", StringComparison.Ordinal).Replace(".500", ".5", StringComparison.Ordinal)).ToList()));
        Assert.All(await _lake.RowsAsync("silver/weblogs_quarantine", "rule, message", "source_offset"),
            r => Assert.StartsWith("wrong_type|timestamp: ", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_DuplicateKeysBesideKeysTheSchemaDoesNotRead_EachFoundAndNoneInvented()
    {
        // The exact count of distinct keys is made only when two keys are not schema keys found, or a schema key is written more
        // often than found: every way a key can be written twice takes one of the two, and distinct extra keys are no duplicate.
        await _lake.LandAsync("weblogs",
            Web("k0", extra: ",\"n\":1"),                                   // one extra key: the cheap test alone
            Web("k1", extra: ",\"n\":1,\"m\":2"),                             // two distinct extra keys: counted, no duplicate
            Web("k2", extra: ",\"n\":1,\"n\":2"),                             // an extra key twice
            Web("k3", extra: ",\"n\":1,\"status\":201"),                       // a schema key twice beside one extra key
            Web("k4", extra: ",\"status\":201"),                                // a schema key twice, nothing else
            Web("k5", extra: ",\"Status\":201,\"N\":1"),                         // keys differing in case are other keys
            Web("k6", extra: ",\"country\":\"DE\",\"x\":{\"n\":1,\"n\":2}"));      // a nested object's keys are not the payload's
        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((7L, 4L, 3L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(["k0", "k1", "k5", "k6"], await _lake.RowsAsync("silver/weblogs", "event_id", "event_id"));
        Assert.Equal(
        [
            "2|duplicate_key|the key \"n\" appears more than once in the object",
            "3|duplicate_key|the key \"status\" appears more than once in the object",
            "4|duplicate_key|the key \"status\" appears more than once in the object",
        ], await _lake.RowsAsync("silver/weblogs_quarantine", "source_offset, rule, message", "source_offset"));
    }

    [Fact]
    public async Task RunAsync_BetweenBoundsBeyondDoublePrecision_ComparedExactlyOnIntegerColumns()
    {
        // Read as doubles, 9007199254740993 was ...992 (the row at the bound was dropped) and 2^60 + 2 was 2^60, with the column
        // compared as a double too (2^60 - 1 passed a min of 2^60).
        const string Definition = """
            {
              "name": "big", "payload": "json",
              "columns": [ { "name": "eid", "type": "string" }, { "name": "t", "type": "timestamp" }, { "name": "i", "type": "integer" }, { "name": "j", "type": "integer" } ],
              "event_time": "t", "id": ["eid"],
              "expectations": [
                { "name": "i_max", "column": "i", "check": "between", "max": 9007199254740993, "action": "drop" },
                { "name": "j_range", "column": "j", "check": "between", "min": 1152921504606846976, "max": 1152921504606846978, "max_exclusive": true, "action": "drop" },
                { "name": "j_wide", "column": "j", "check": "between", "min": -2.5, "max": 1e19, "action": "warn" }
              ]
            }
            """;
        static string Row(string id, string i, string j) => $"{{\"eid\":\"{id}\",\"t\":\"2026-01-05T10:00:00Z\",\"i\":{i},\"j\":{j}}}";

        var result = await RunDefinedAsync(Definition,
            Row("at_max", "9007199254740993", "1152921504606846976"),
            Row("over_max", "9007199254740994", "1152921504606846977"),
            Row("below_min", "1", "1152921504606846975"),
            Row("at_max_exclusive", "1", "1152921504606846978"));

        Assert.Equal((4L, 1L, 3L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Warned));
        Assert.Equal(["at_max|9007199254740993|1152921504606846976"], await _lake.RowsAsync("silver/big", "eid, i, j", "eid"));
        Assert.Equal(
        [
            "1|i_max|i = 9007199254740994 is not at most 9007199254740993",
            "2|j_range|j = 1152921504606846975 is not at least 1152921504606846976 and below 1152921504606846978",
            "3|j_range|j = 1152921504606846978 is not at least 1152921504606846976 and below 1152921504606846978",
        ], await _lake.RowsAsync("silver/big_quarantine", "source_offset, rule, message", "source_offset"));
    }

    /// <summary>
    /// An integer column given a JSON number with a fraction or an exponent. yyjson keeps only a double, and the column was read
    /// through it: 9007199254740993.0 became …992 and 200.00000000000001 became 200, both kept, exit 0. The number is now taken from
    /// its written digits: a whole number exactly (also 2e2, 1.5e1, -0.0, 1.0E7), anything else wrong_type, beyond 64 bits out_of_range;
    /// the same in a nested path.
    /// </summary>
    [Fact]
    public async Task RunAsync_IntegerColumnWithAFractionOrExponent_ExactWholeNumberOrQuarantinedAsWritten()
    {
        const string Definition = """
            {
              "name": "ints", "payload": "json",
              "columns": [ { "name": "eid", "type": "string" }, { "name": "t", "type": "timestamp" }, { "name": "i", "type": "integer" },
                           { "name": "k", "type": "integer", "path": "attrs.k" } ],
              "event_time": "t", "id": ["eid"]
            }
            """;
        static string Row(string id, string i, string k = "1") => $"{{\"eid\":\"{id}\",\"t\":\"2026-01-05T10:00:00Z\",\"s\":\"2.5 \\\" 7\",\"i\":{i},\"attrs\":{{\"x\":[1.5],\"k\":{k}}}}}";

        var result = await RunDefinedAsync(Definition,
            Row("a", "9007199254740993.0"), Row("b", "200.00000000000001"), Row("c", "2e2"), Row("d", "1.5e1"), Row("e", "-0.0"),
            Row("f", "1.0E7"), Row("g", "-9223372036854775808.000"), Row("h", "9223372036854775808.0"), Row("i", "1.5"),
            Row("j", "25e-1"), Row("k", "1e999"), Row("l", "1", "12345678901234567.0"), Row("m", "1", "7.00000000000000001"),
            Row("n", "120000e-4"), Row("o", "0e5"));

        Assert.Equal((15L, 9L, 6L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(
        [
            "a|9007199254740993|1", "c|200|1", "d|15|1", "e|0|1", "f|10000000|1", "g|-9223372036854775808|1", "l|1|12345678901234567", "n|12|1", "o|0|1",
        ], await _lake.RowsAsync("silver/ints", "eid, i, k", "eid"));
        Assert.Equal(
        [
            "1|wrong_type|i: expected an integer, got a number (200.00000000000001)",
            "7|out_of_range|i: 9223372036854775808.0 does not fit a 64-bit integer",
            "8|wrong_type|i: expected an integer, got a number (1.5)",
            "9|wrong_type|i: expected an integer, got a number (25e-1)",
            "10|out_of_range|i: 1e999 does not fit a 64-bit integer",
            "12|wrong_type|attrs.k: expected an integer, got a number (7.00000000000000001)",
        ], await _lake.RowsAsync("silver/ints_quarantine", "source_offset, rule, message", "source_offset"));
    }

    [Fact]
    public async Task RunAsync_DuplicateKeysInObjectsAlongColumnPaths_QuarantinedNamingTheKeyAndTheObject()
    {
        // The value read at attrs.release was one of the two, silently; a duplicate in an object no path goes through stays data.
        const string Definition = """
            {
              "name": "nested", "payload": "json",
              "columns": [
                { "name": "eid", "type": "string" }, { "name": "t", "type": "timestamp" },
                { "name": "release", "type": "string", "path": "attrs.release" }, { "name": "c", "type": "integer", "path": "a.b.c" }
              ],
              "event_time": "t", "id": ["eid"]
            }
            """;
        static string Row(string id, string rest) => $"{{\"eid\":\"{id}\",\"t\":\"2026-01-05T10:00:00Z\",{rest}}}";
        var result = await RunDefinedAsync(Definition,
            Row("ok", "\"attrs\":{\"release\":\"a\",\"x\":1},\"a\":{\"b\":{\"c\":1}}"),
            Row("read_twice", "\"attrs\":{\"release\":\"a\",\"release\":\"b\"}"),
            Row("other_twice", "\"attrs\":{\"release\":\"a\",\"x\":1,\"x\":2}"),
            Row("deep", "\"a\":{\"b\":{\"c\":1,\"c\":2}}"),
            Row("middle", "\"a\":{\"b\":{\"c\":1},\"b\":{\"c\":2}}"),
            Row("unread", "\"attrs\":{\"release\":\"a\",\"list\":[{\"k\":1,\"k\":2}],\"more\":{\"k\":1,\"k\":2}},\"o\":{\"k\":1,\"k\":2}"));

        Assert.Equal((6L, 2L, 4L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(["ok|a|1", "unread|a|NULL"], await _lake.RowsAsync("silver/nested", "eid, release, c", "eid"));
        Assert.Equal(
        [
            "1|duplicate_key|the key \"release\" appears more than once in the object at attrs",
            "2|duplicate_key|the key \"x\" appears more than once in the object at attrs",
            "3|duplicate_key|the key \"c\" appears more than once in the object at a.b",
            "4|duplicate_key|the key \"b\" appears more than once in the object at a",
        ], await _lake.RowsAsync("silver/nested_quarantine", "source_offset, rule, message", "source_offset"));
    }

    [Fact]
    public async Task RunAsync_SameEventTwiceInABatchAndAcrossRuns_OneRowTheEarliestCopy()
    {
        await _lake.LandAsync("weblogs", Web("a"), Web("b"), Web("a", tti: "5"));
        var first = await _lake.RunAsync("weblogs");
        await _lake.LandAsync("weblogs", Web("a", tti: "7"), Web("c"));
        var second = await _lake.RunAsync("weblogs");

        Assert.Equal((3L, 2L, 1L), (first.RowsIn, first.RowsOut, first.Duplicates));
        Assert.Equal((2L, 1L, 1L, 0L, 1L), (second.RowsIn, second.RowsOut, second.Duplicates, second.BronzeFromVersion, second.BronzeToVersion));
        Assert.Equal(["a|1377.7|kafka|weblogs|0|0|", "b|1377.7|kafka|weblogs|0|1|", "c|1377.7|kafka|weblogs|0|4|"],
            await _lake.RowsAsync("silver/weblogs", "event_id, tti_ms, bronze_position", "event_id"));
    }

    [Fact]
    public async Task RunAsync_CopiesAtOffsetsTwoAndTen_TheEarlierOffsetWinsNotTheSmallerText()
    {
        // One batch, one ingest time: the copy at offset 2 is earlier than the one at offset 10, though "10" sorts before "2" as text.
        await _lake.LandAsync("weblogs", [.. Enumerable.Range(0, 11).Select(i => i is 2 or 10 ? Web("dup", tti: i + ".0") : Web("e" + i))]);
        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((11L, 10L, 1L), (result.RowsIn, result.RowsOut, result.Duplicates));
        Assert.Contains("dup|2|kafka|weblogs|0|2|", await _lake.RowsAsync("silver/weblogs", "event_id, tti_ms, bronze_position", "event_id"));
    }

    [Fact]
    public async Task RunAsync_SameEventByStreamAndByFile_OneRow()
    {
        await _lake.LandAsync("weblogs", Web("live-1"), Web("live-2"));
        await _lake.LandFileAsync("weblogs", "capture/2024/05/03/00.ndjson", Web("live-2"), Web("late-3"));
        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((4L, 3L, 1L), (result.RowsIn, result.RowsOut, result.Duplicates));
        Assert.Equal(["late-3|file|capture/2024/05/03/00.ndjson|||2", "live-1|kafka|weblogs|0|0|", "live-2|kafka|weblogs|0|1|"],
            await _lake.RowsAsync("silver/weblogs", "event_id, bronze_position", "event_id"));
    }

    [Fact]
    public async Task RunAsync_SilverTables_StayInTheSynapseProfile()
    {
        for (var i = 0; i < 12; i++)
        {
            await _lake.LandAsync("weblogs", Web("e" + i), "{broken");
            await _lake.RunAsync("weblogs");
        }
        foreach (var table in new[] { "silver/weblogs", "silver/weblogs_quarantine" })
        {
            var delta = Delta.DeltaTable.Open(_lake.Root.Scope(table), fixture.Engine);
            var snapshot = await delta.GetSnapshotAsync();
            Assert.Equal((1, 2), (snapshot.Protocol.MinReaderVersion, snapshot.Protocol.MinWriterVersion));
            Assert.Equal(["event_date"], snapshot.PartitionColumns);
            Assert.All(snapshot.Files, f => Assert.Contains("\"numRecords\"", f.Stats, StringComparison.Ordinal));
            var lastCheckpoint = Path.Combine(_lake.Path, table, "_delta_log", "_last_checkpoint");
            Assert.True(File.Exists(lastCheckpoint), table + " has no checkpoint after 12 commits");
            Assert.InRange(new FileInfo(lastCheckpoint).Length, 1, 200);
        }
    }

    [Fact]
    public async Task RunAsync_NothingNew_UpToDateAndNoCommit()
    {
        await _lake.LandAsync("weblogs", Web("a"));
        await _lake.RunAsync("weblogs");
        var again = await _lake.RunAsync("weblogs");
        Assert.True(again.NothingNew);
        Assert.Equal(0, again.Commits);
        Assert.Equal(1, await _lake.CountAsync("silver/weblogs"));
    }

    /// <summary>A table of imported rows under bronze's name (no payload column): refused naming what is missing, not the engine's binder error.</summary>
    [Fact]
    public async Task RunAsync_BronzeNameHoldsAnImportedTable_RefusedSayingItIsNoBronzeTable()
    {
        var imported = DeltaWriter.Create(DeltaTable.Open(_lake.Root.Scope("bronze/weblogs"), _lake.Engine));
        await imported.AppendAsync("SELECT 'a' AS event_id, 1.5 AS tti_ms");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("weblogs"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith(
            "bronze.weblogs is not a bronze table: it has no column payload, source_kind, source, source_partition, source_offset, source_line, ingest_time, ingest_date " +
            "(its columns: event_id, tti_ms).", e.Message, StringComparison.Ordinal);
        Assert.False(await DeltaTable.Open(_lake.Root.Scope("silver/weblogs"), _lake.Engine).ExistsAsync());

        // A payload of text is no bronze payload either.
        var text = DeltaWriter.Create(DeltaTable.Open(_lake.Root.Scope("bronze/sensors"), _lake.Engine));
        await text.AppendAsync("SELECT '{}' AS payload, 'file' AS source_kind, 'f' AS source, NULL::VARCHAR AS source_partition, NULL::BIGINT AS source_offset, " +
            "1::BIGINT AS source_line, now() AS ingest_time, current_date AS ingest_date");
        var payload = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors"));
        Assert.StartsWith("bronze.sensors is not a bronze table: its payload column is not binary", payload.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FailExpectationBroken_NothingCommittedAndTheMessageSaysWhy()
    {
        await _lake.LandAsync("sensors",
            "{\"sensor_id\":\"s1\",\"device_type\":\"temperature\",\"timestamp\":\"2024-05-03T07:00:00Z\",\"value\":20,\"unit\":\"C\",\"status\":\"normal\"}");
        var definition = Datasets.DatasetCatalog.BuiltIn.Get("sensors");
        var strict = Datasets.DatasetDefinition.Parse(Encoding.UTF8.GetBytes(definition.Json.Replace("\"action\": \"drop\"", "\"action\": \"fail\"", StringComparison.Ordinal)
            .Replace("\"normal\", \"warning\"", "\"warning\"", StringComparison.Ordinal)), "strict.json");

        var error = await Assert.ThrowsAsync<LakehouseException>(() => SilverJob.Open(_lake.Root, fixture.Engine).RunAsync(strict));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Equal("silver.sensors: expectation 'status_known' (fail) is broken by 1 row(s), e.g. status = 'normal' is not one of warning, error, critical (bronze kafka|sensors|0|0|); nothing was committed.", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_lake.Path, "silver", "sensors")));
    }

    [Fact]
    public async Task RunAsync_FailExpectationBrokenByAValueWithALineBreak_TheExampleEscapesIt()
    {
        // The example is data: a raw line break in it started a line of the attacker's choosing in the log and on the terminal.
        await _lake.LandAsync("sensors",
            "{\"sensor_id\":\"s1\",\"device_type\":\"temperature\",\"timestamp\":\"2024-05-03T07:00:00Z\",\"value\":20,\"unit\":\"C\",\"status\":\"x\\nerror: forged\"}");
        var definition = Datasets.DatasetCatalog.BuiltIn.Get("sensors");
        var strict = Datasets.DatasetDefinition.Parse(Encoding.UTF8.GetBytes(definition.Json.Replace("\"action\": \"drop\"", "\"action\": \"fail\"", StringComparison.Ordinal)), "strict.json");

        var error = await Assert.ThrowsAsync<LakehouseException>(() => SilverJob.Open(_lake.Root, fixture.Engine).RunAsync(strict));

        Assert.Contains("e.g. status = 'x\\u000aerror: forged' is not one of ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>
    /// A non-nullable column of a built-in dataset sent without a value, or as null, is quarantined by its own not_null rule and
    /// counted. Before, sensors' device_type, unit and status and weblogs' status reached silver as null (exit 0), and gold counted
    /// an event without a status as no error. session_id stays nullable: its rule only warns, as before.
    /// </summary>
    [Fact]
    public async Task RunAsync_BuiltInNonNullableColumnMissingOrNull_QuarantinedByItsPresentRule()
    {
        await _lake.LandAsync("sensors",
            """{"sensor_id":"n1","timestamp":"2024-05-01T10:00:00Z","value":20}""",
            """{"sensor_id":"n2","device_type":"humidity","timestamp":"2024-05-01T10:00:00Z","value":20,"unit":"%","status":null}""",
            Reading("n3", "20", "C"));
        await _lake.LandFileAsync("weblogs", "landing/w.ndjson",
            Web("w1", status: "null"),
            Web("w2").Replace(",\"status\":200", "", StringComparison.Ordinal),
            Web("w3").Replace(",\"session_id\":\"s1\"", "", StringComparison.Ordinal),
            Web("w4"));

        var sensors = await _lake.RunAsync("sensors");
        var weblogs = await _lake.RunAsync("weblogs");

        Assert.Equal((3L, 1L, 2L, 0L), (sensors.RowsIn, sensors.RowsOut, sensors.Quarantined, sensors.Warned));
        Assert.Equal(
        [
            "0|device_type_present, status_present, unit_present|device_type is missing; unit is missing; status is missing",
            "1|status_present|status is missing",
        ], await _lake.RowsAsync("silver/sensors_quarantine", "source_offset, rule, message", "source_offset"));
        Assert.Equal(["n3"], await _lake.RowsAsync("silver/sensors", "sensor_id", "1"));
        Assert.Equal(
            ["device_type_present|drop|3|1", "status_present|drop|3|2", "unit_present|drop|3|1"],
            sensors.Rules.Where(r => r.Rule is "device_type_present" or "unit_present" or "status_present").Select(r => $"{r.Rule}|{r.Action}|{r.Checked}|{r.Failed}").Order(StringComparer.Ordinal));

        Assert.Equal((4L, 2L, 2L, 1L), (weblogs.RowsIn, weblogs.RowsOut, weblogs.Quarantined, weblogs.Warned));
        Assert.Equal(
            ["1|status_present|status is missing", "2|status_present|status is missing"],
            await _lake.RowsAsync("silver/weblogs_quarantine", "source_line, rule, message", "source_line"));
        Assert.Equal(["w3|NULL|200", "w4|s1|200"], await _lake.RowsAsync("silver/weblogs", "event_id, session_id, status", "event_id"));
        Assert.Contains(weblogs.Rules, r => r is { Rule: "status_present", Action: "drop", Checked: 4, Failed: 2 });
        Assert.Contains(weblogs.Rules, r => r is { Rule: "session_present", Action: "warn", Checked: 4, Failed: 1 });
    }

    /// <summary>
    /// A definition's non-nullable column without a not_null rule that drops or fails gets one from silver, <c>&lt;column&gt;_present</c>
    /// (drop, counted in the quality metrics like the expectations), also beside a not_null rule that only warns; the definition's own
    /// rules, missing_id for an id column and nullable columns behave as before. Before, every row below reached silver.
    /// </summary>
    [Fact]
    public async Task RunAsync_NonNullableColumnsWithoutTheirOwnRule_DroppedBySilversPresentRules()
    {
        const string Definition = """
            {
              "name": "orders", "payload": "json",
              "columns": [
                { "name": "order_id", "type": "string", "nullable": false },
                { "name": "placed_at", "type": "timestamp", "nullable": false },
                { "name": "amount", "type": "number", "nullable": false },
                { "name": "channel", "type": "string", "nullable": false },
                { "name": "note", "type": "string" },
                { "name": "tags", "type": "string[]", "nullable": false }
              ],
              "event_time": "placed_at", "id": ["order_id"],
              "expectations": [
                { "name": "amount_required", "column": "amount", "check": "not_null", "action": "drop" },
                { "name": "channel_seen", "column": "channel", "check": "not_null", "action": "warn" }
              ],
              "gold_outputs": []
            }
            """;
        static string Order(string id, string placedAt = "\"2024-05-01T10:00:00Z\"", string amount = "1.5", string channel = "\"web\"", string tags = "[\"a\"]") =>
            $"{{\"order_id\":{id},\"placed_at\":{placedAt},\"amount\":{amount},\"channel\":{channel},\"tags\":{tags}}}";

        var definition = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(Definition), "orders.json");
        var result = await RunDefinedAsync(Definition,
            Order("\"o1\""), Order("\"o2\"", placedAt: "null"), Order("\"o3\"", amount: "null"), Order("\"o4\"", channel: "\" \\t \""),
            Order("\"o5\"", tags: "null"), Order("\"o6\"", tags: "[]"), Order("null"), Order("\"o8\"", channel: "null", tags: "null"));

        Assert.Equal((8L, 2L, 6L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Warned));
        Assert.Equal(["o1|web|[a]", "o6|web|[]"], await _lake.RowsAsync("silver/orders", "order_id, channel, CAST(tags AS VARCHAR)", "order_id"));
        Assert.Equal(
        [
            "1|placed_at_present|placed_at is missing",
            "2|amount_required|amount is missing",
            "3|channel_present|channel is missing",
            "4|tags_present|tags is missing",
            "6|missing_id|order_id (part of the id) is missing",
            "7|channel_present, tags_present|channel is missing; tags is missing",
        ], await _lake.RowsAsync("silver/orders_quarantine", "source_offset, rule, message", "source_offset"));
        Assert.Equal(
        [
            "amount_required|drop|8|1", "channel_seen|warn|8|2", "placed_at_present|drop|8|1", "channel_present|drop|8|2", "tags_present|drop|8|2", "missing_id|drop|8|1",
        ], result.Rules.Where(r => !SilverRules.For(definition).Contains(r.Rule) || r.Rule == SilverRules.MissingId).Select(r => $"{r.Rule}|{r.Action}|{r.Checked}|{r.Failed}"));
        Assert.True(SilverReplayOptions.IsKnownRule(definition, "tags_present"));
        Assert.False(SilverReplayOptions.IsKnownRule(definition, "amount_present"));
    }
}

public sealed class SilverRerunTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-rerun");

    public void Dispose() => _lake.Dispose();

    private static string Sensor(string id, string ts, string value, string unit = "C", string status = "normal") =>
        $"{{\"sensor_id\":\"{id}\",\"device_type\":\"temperature\",\"timestamp\":\"{ts}\",\"value\":{value},\"unit\":\"{unit}\",\"status\":\"{status}\"}}";

    private const string AllColumns = "sensor_id, CAST(\"timestamp\" AS VARCHAR), value, unit, status, event_date, event_hour, bronze_position";

    [Fact]
    public async Task Rerun_DateRange_ReplacesExactlyThosePartitionsWithIdenticalRows()
    {
        await _lake.LandAsync("sensors",
            Sensor("s1", "2024-05-01T10:00:00Z", "20"), Sensor("s1", "2024-05-02T10:00:00Z", "21"), Sensor("s2", "2024-05-02T11:00:00Z", "22"),
            Sensor("s1", "2024-05-02T10:00:00Z", "21"), Sensor("s3", "2024-05-03T10:00:00Z", "23", status: "broken"), "{oops");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-03T12:00:00Z", "24"));
        var incremental = await _lake.RunAsync("sensors");
        var silverBefore = await _lake.RowsAsync("silver/sensors", AllColumns, "sensor_id, \"timestamp\"");
        var quarantineBefore = await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position, rule, message, event_date", "bronze_position");

        var rerun = await _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 2), To = new DateOnly(2024, 5, 3) });
        var again = await _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 2), To = new DateOnly(2024, 5, 3) });

        Assert.Equal((7L, 4L, 2L, 1L), (incremental.RowsIn, incremental.RowsOut, incremental.Quarantined, incremental.Duplicates));
        Assert.Equal(("rerun", 5L, 3L, 1L, 1L), (rerun.Mode, rerun.RowsIn, rerun.RowsOut, rerun.Quarantined, rerun.Duplicates));
        Assert.Equal(silverBefore, await _lake.RowsAsync("silver/sensors", AllColumns, "sensor_id, \"timestamp\""));
        Assert.Equal(quarantineBefore, await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position, rule, message, event_date", "bronze_position"));
        Assert.Equal((3L, 1L), (again.RowsOut, again.Quarantined));
        Assert.Equal(4, await _lake.CountAsync("silver/sensors"));
        // The malformed row has no event time: it sits in the partition of its ingest date, outside the rebuilt range.
        Assert.Contains(quarantineBefore, r => r.StartsWith("kafka|sensors|0|5||malformed_json|", StringComparison.Ordinal));
    }

    /// <summary>
    /// The definition changes where the event time is read between a run and a rerun: a row held under a date inside the range and now
    /// read outside it (or the reverse) is refused, naming the row and a range holding both dates. Before, the rerun took the row out
    /// of its partition and wrote it nowhere, with exit 0 (bronze 3 = silver 1 + quarantine 1: one event lost).
    /// </summary>
    [Fact]
    public async Task Rerun_DefinitionNowReadsTheEventTimeElsewhere_RowsCrossingTheRangeRefusedAndTheWiderRangeMovesThem()
    {
        async Task<DatasetDefinition> DefineAsync(string? path)
        {
            var folder = System.IO.Path.Combine(_lake.Path, "_lakehouse", "datasets");
            Directory.CreateDirectory(folder);
            var at = path is null ? "" : $", \"path\": \"{path}\"";
            await File.WriteAllTextAsync(System.IO.Path.Combine(folder, "sn.json"),
                "{\"name\": \"sn\", \"payload\": \"json\", \"columns\": [{\"name\": \"sensor_id\", \"type\": \"string\"}, " +
                $"{{\"name\": \"timestamp\", \"type\": \"timestamp\"{at}}}, {{\"name\": \"value\", \"type\": \"number\"}}], " +
                "\"event_time\": \"timestamp\", \"id\": [\"sensor_id\", \"timestamp\"], \"gold_outputs\": []}");
            return (await DatasetCatalog.LoadAsync(_lake.Root)).Get("sn");
        }
        Task<SilverRunResult> Run(DatasetDefinition d, DateOnly? from = null, DateOnly? to = null) =>
            SilverJob.Open(_lake.Root, _lake.Engine).RunAsync(d, from is null ? null : new SilverRunOptions { From = from, To = to });
        var (may1, may2, may9) = (new DateOnly(2024, 5, 1), new DateOnly(2024, 5, 2), new DateOnly(2024, 5, 9));
        await _lake.LandAsync("sn",
            "{\"sensor_id\":\"a\",\"timestamp\":\"2024-05-01T10:00:00Z\",\"taken\":\"2024-05-09T10:00:00Z\",\"value\":1}",
            "{\"sensor_id\":\"b\",\"timestamp\":\"2024-05-02T10:00:00Z\",\"taken\":\"2024-05-02T10:00:00Z\",\"value\":2}",
            "{oops");
        await Run(await DefineAsync(null));
        const string Rows = "sensor_id, CAST(\"timestamp\" AS VARCHAR), CAST(event_date AS VARCHAR), bronze_position";
        var before = await _lake.RowsAsync("silver/sn", Rows, "sensor_id");
        Assert.Equal(["a|2024-05-01 10:00:00+00|2024-05-01|kafka|sn|0|0|", "b|2024-05-02 10:00:00+00|2024-05-02|kafka|sn|0|1|"], before);

        // Now the reading's time is "taken": a moves to 05-09, outside 05-01..05-02.
        var taken = await DefineAsync("taken");
        var refused = await Assert.ThrowsAsync<LakehouseException>(() => Run(taken, may1, may2));
        Assert.Equal(LakehouseErrorReason.InvalidInput, refused.Reason);
        Assert.Equal(
            "silver.sn: the rerun of 2024-05-01..2024-05-02 would move 1 row(s) across the range's edge, e.g. bronze kafka|sn|0|0| from event date 2024-05-01 to 2024-05-09 " +
            "(the definition now reads their event time differently, or a row that did not parse now does). Replacing only the range's partitions would lose such a row or " +
            "keep it twice, so nothing was committed. Rerun a range that holds both dates: lakehouse silver run --dataset sn --from 2024-05-01 --to 2024-05-09", refused.Message);
        Assert.Equal(before, await _lake.RowsAsync("silver/sn", Rows, "sensor_id"));

        var moved = await Run(taken, may1, may9);
        Assert.Equal((2L, 2L, 0L), (moved.RowsIn, moved.RowsOut, moved.Quarantined));
        Assert.Equal(["a|2024-05-09 10:00:00+00|2024-05-09|kafka|sn|0|0|", "b|2024-05-02 10:00:00+00|2024-05-02|kafka|sn|0|1|"],
            await _lake.RowsAsync("silver/sn", Rows, "sensor_id"));
        Assert.Equal(1, await _lake.CountAsync("silver/sn_quarantine"));

        // Back to "timestamp": a, held at 05-09 outside 05-01..05-01, would be read inside it and held twice.
        var back = await Assert.ThrowsAsync<LakehouseException>(async () => await Run(await DefineAsync(null), may1, may1));
        Assert.Contains("would move 1 row(s) across the range's edge, e.g. bronze kafka|sn|0|0| from event date 2024-05-09 to 2024-05-01", back.Message, StringComparison.Ordinal);
        Assert.Equal(2, await _lake.CountAsync("silver/sn"));
    }

    /// <summary>
    /// An incremental run commits while a rerun of the same dates is being built (from what silver had consumed when the rerun
    /// started). The rerun is refused with Conflict and replaces nothing; before, it replaced the partitions and removed the rows the
    /// incremental run had just committed, while silver's txn said they were consumed: lost for good, both runs with exit 0.
    /// </summary>
    [Fact]
    public async Task Rerun_IncrementalRunCommitsMeanwhile_RerunRefusedAndNothingLost()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"), "{oops");
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-01T11:00:00Z", "21"), Sensor("s3", "2024-05-01T12:00:00Z", "22", status: "broken"));
        var meanwhile = new List<SilverRunResult>();

        var error = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => _lake.RunAsync("sensors", new SilverRunOptions
        {
            From = new DateOnly(2024, 5, 1),
            To = new DateOnly(2024, 5, 1),
            BeforeCommits = async () => meanwhile.Add(await _lake.RunAsync("sensors")),
        }));

        Assert.Equal(Lakehouse.Core.LakehouseErrorReason.Conflict, error.Reason);
        Assert.StartsWith("silver.sensors: another silver run committed while this rerun of 2024-05-01..2024-05-01 was built from bronze version 0;", error.Message, StringComparison.Ordinal);
        Assert.Equal((2L, 1L, 1L), (meanwhile.Single().RowsIn, meanwhile.Single().RowsOut, meanwhile.Single().Quarantined));
        Assert.Equal(["s1", "s2"], (await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id")));
        Assert.Equal(2, await _lake.CountAsync("silver/sensors_quarantine"));
        // Run again, the rerun rebuilds the day from everything silver has consumed now.
        var rerun = await _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) });
        Assert.Equal((3L, 2L, 1L), (rerun.RowsIn, rerun.RowsOut, rerun.Quarantined));
        Assert.Equal(["s1", "s2"], (await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id")));
    }

    /// <summary>
    /// Silver restored to an earlier version while an incremental run prepared its batch: the run's commit conflicts, and the message
    /// says what happened and what to do, not only Delta's "holds application transaction … re-plan the batch". Run again, silver holds
    /// every row once.
    /// </summary>
    [Fact]
    public async Task Incremental_SilverRestoredWhileTheRunPrepared_ConflictSaysWhatHappenedAndTheNextRunTakesEverythingOnce()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"));
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-01T11:00:00Z", "21"));
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s3", "2024-05-01T12:00:00Z", "22"));
        var silver = DeltaTable.Open(_lake.Root.Scope("silver/sensors"), _lake.Engine);

        var error = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors", new SilverRunOptions
        {
            BeforeSilverAppend = async () => await DeltaWriter.Create(silver).RestoreAsync(0),
        }));

        Assert.Equal(LakehouseErrorReason.Conflict, error.Reason);
        Assert.StartsWith("silver.sensors: another writer changed silver.sensors or its quarantine (another silver run or replay, a restore) while this run prepared " +
            "bronze.sensors's versions 2–2; they were not committed, and nothing is lost. Run it again: lakehouse silver run --dataset sensors. (The commit's conflict: ",
            error.Message, StringComparison.Ordinal);
        Assert.Equal(["s1"], await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id"));
        // The failed attempt is recorded, so status shows it and why (before, the last row was the run the restore undid).
        var status = await SilverJob.Open(_lake.Root, _lake.Engine).StatusAsync(Datasets.DatasetCatalog.BuiltIn.Get("sensors"));
        Assert.Equal(("incremental", "failed", 0L), (status.LastRun!.Mode, status.LastRunStatus, status.LastRun.RowsIn));
        Assert.Contains($"failed|0|{error.Message}", await _lake.RowsAsync("silver/_quality", "status || '|' || rows_in || '|' || coalesce(message, '')", "1"));
        await _lake.RunAsync("sensors");
        Assert.Equal(["s1", "s2", "s3"], await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id"));
    }

    /// <summary>
    /// Bronze compacted and vacuumed with no retention before silver read its last commits: the files those commits added are gone.
    /// The run says which versions it still had to read, why the file is gone and how to rebuild, instead of calling a file of an
    /// old version "live" in the current one (which `table check` contradicts); nothing is committed.
    /// </summary>
    [Fact]
    public async Task Incremental_BronzeVacuumedBeforeSilverReadIt_RefusedNamingTheVersionsAndTheWayOut()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"));
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-01T11:00:00Z", "21"));
        var bronze = DeltaWriter.Create(DeltaTable.Open(_lake.Root.Scope("bronze/sensors"), _lake.Engine));
        Assert.True((await bronze.OptimizeAsync()).Committed);
        await bronze.VacuumAsync(TimeSpan.Zero, force: true);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith("silver.sensors still has to read bronze.sensors's versions 1–", e.Message, StringComparison.Ordinal);
        Assert.Contains("is missing from storage: it was added before version ", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("rebuild silver from them (delete silver.sensors and silver.sensors_quarantine, then run again), and vacuum bronze with a retention that outlasts the time silver takes to follow it.",
            e.Message, StringComparison.Ordinal);
        Assert.Equal(["s1"], await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id"));
        // The failed attempt is recorded, with its reason, so status shows that the last attempt failed (it showed the run before).
        var status = await SilverJob.Open(_lake.Root, _lake.Engine).StatusAsync(Datasets.DatasetCatalog.BuiltIn.Get("sensors"));
        Assert.Equal(("incremental", "failed", 0L), (status.LastRun!.Mode, status.LastRunStatus, status.LastRun.RowsIn));
        Assert.Contains($"failed|{e.Message}", await _lake.RowsAsync("silver/_quality", "status || '|' || coalesce(message, '')", "1"));
    }

    /// <summary>Two bronze commits, each of a clean reading and a malformed one, each followed by a silver run.</summary>
    private async Task TwoRunsEachWithAMalformedRowAsync()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"), "{oops");
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-01T11:00:00Z", "21"), "{oops again");
        await _lake.RunAsync("sensors");
    }

    /// <summary>
    /// The quarantine table restored to an earlier version (its progress marker with it): the next incremental run reads the bronze
    /// versions again and quarantine takes back its rows, once; silver, ahead, takes nothing twice. A rerun while the two stand at
    /// different bronze versions is refused: it would replace both with one version's rows.
    /// </summary>
    [Fact]
    public async Task Incremental_QuarantineRestoredToAnEarlierVersion_ItsRowsComeBackOnceAndARerunMeanwhileIsRefused()
    {
        await TwoRunsEachWithAMalformedRowAsync();
        var silver = await _lake.RowsAsync("silver/sensors", "*", "sensor_id");
        var quarantine = await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position, rule, payload", "bronze_position");
        Assert.Equal(2, quarantine.Count);
        var table = DeltaTable.Open(_lake.Root.Scope("silver/sensors_quarantine"), _lake.Engine);
        var version = (await table.GetSnapshotAsync()).Version;
        await DeltaWriter.Create(table).RestoreAsync(version - 1);
        Assert.Single(await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position", "bronze_position"));

        var refused = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) }));
        Assert.Equal("silver.sensors has consumed bronze.sensors up to version 1 and silver.sensors_quarantine up to version 0 (a run stopped between its two commits, " +
            "or one of them was restored): run silver incrementally first (lakehouse silver run --dataset sensors), then the rerun.", refused.Message);
        await _lake.RunAsync("sensors");

        Assert.Equal(quarantine, await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position, rule, payload", "bronze_position"));
        Assert.Equal(silver, await _lake.RowsAsync("silver/sensors", "*", "sensor_id"));
        var rerun = await _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) });
        Assert.Equal((2L, 2L, 0L), (rerun.RowsIn, rerun.RowsOut, rerun.Quarantined)); // the malformed rows are dated by their ingest day, outside the range
    }

    /// <summary>
    /// The run after the quarantine table was restored to an earlier version reads bronze version 1 again for quarantine only:
    /// its result and its silver._quality row say what it did — 2 rows in, none new to silver, the 1 row quarantine took back, the
    /// 1 clean row silver already held counted as a duplicate, and a message saying why — not 0 rows as if another run had done it.
    /// </summary>
    [Fact]
    public async Task Incremental_QuarantineBehindSilver_CountsTheRowsQuarantineTookBackAndNoNewSilverRows()
    {
        await TwoRunsEachWithAMalformedRowAsync();
        var table = DeltaTable.Open(_lake.Root.Scope("silver/sensors_quarantine"), _lake.Engine);
        await DeltaWriter.Create(table).RestoreAsync((await table.GetSnapshotAsync()).Version - 1);

        var result = await _lake.RunAsync("sensors", new SilverRunOptions { RunId = "catch-up" });
        var after = await _lake.RunAsync("sensors");

        Assert.Equal(("incremental", 0L, 1L), (result.Mode, result.BronzeFromVersion, result.BronzeToVersion));
        Assert.Equal((2L, 0L, 1L, 1L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates));
        Assert.Contains(result.Rules, r => r is { Rule: "malformed_json", Checked: 2, Failed: 1 });
        Assert.Equal(["kafka|sensors|0|1|", "kafka|sensors|0|3|"], await _lake.RowsAsync("silver/sensors_quarantine", "bronze_position", "bronze_position"));
        Assert.Equal(["s1|kafka|sensors|0|0|", "s2|kafka|sensors|0|2|"], await _lake.RowsAsync("silver/sensors", "sensor_id, bronze_position", "sensor_id"));
        Assert.True(after.NothingNew);
        const string message = "silver.sensors_quarantine was behind silver.sensors (restored to an earlier version?): bronze versions 1–1, which silver " +
            "already held, were read again for it; the rows it lacked are counted as quarantined, and their clean rows, already in silver, as duplicates removed.";
        Assert.Equal(message, result.Message);
        Assert.Equal([$"incremental|committed|0|1|2|0|1|1|{message}"], await _lake.QueryAsync(SilverTables.Quality,
            "SELECT DISTINCT mode, status, bronze_from_version, bronze_to_version, rows_in, rows_out, rows_quarantined, duplicates_removed, message FROM t WHERE run_id = 'catch-up'"));
    }

    /// <summary>
    /// A rerun commits while an incremental run prepares a chunk: the incremental run's checks ran before, its commits after, and
    /// each reads the table it commits to then, so its rows land beside the rebuilt ones, once.
    /// </summary>
    [Fact]
    public async Task Incremental_RerunCommitsMeanwhile_BothRunsRowsKeptOnce()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"), "{oops");
        await _lake.RunAsync("sensors");
        await _lake.LandAsync("sensors", Sensor("s2", "2024-05-01T11:00:00Z", "21"), Sensor("s1", "2024-05-01T10:00:00Z", "20"));
        var meanwhile = new List<SilverRunResult>();

        var incremental = await _lake.RunAsync("sensors", new SilverRunOptions
        {
            BeforeCommits = async () => meanwhile.Add(await _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) })),
        });

        Assert.Equal((1L, 1L), (meanwhile.Single().RowsIn, meanwhile.Single().RowsOut));
        Assert.Equal((2L, 1L, 1L), (incremental.RowsIn, incremental.RowsOut, incremental.Duplicates));
        Assert.Equal(["s1", "s2"], (await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id")));
    }

    /// <summary>
    /// Event times at the edges of the calendar are quarantined as out_of_range: gold computes the dates around each event's, which
    /// 0001-01-01 and 9999-12-31 do not have (gold failed with "Value to add was out of range." on every later run).
    /// </summary>
    [Fact]
    public async Task RunAsync_EventTimesAtTheEdgesOfTheCalendar_QuarantinedAsOutOfRange()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "9999-12-31T23:59:00Z", "20"), Sensor("s2", "0001-01-01T00:00:00Z", "21"),
            Sensor("s3", "0999-12-31T23:59:59Z", "22"), Sensor("s4", "1000-01-01T00:00:00Z", "23"), Sensor("s5", "8999-12-31T23:59:59Z", "24"));

        var result = await _lake.RunAsync("sensors");

        Assert.Equal((5L, 2L, 3L), (result.RowsIn, result.RowsOut, result.Quarantined));
        Assert.Equal(["s4", "s5"], await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id"));
        Assert.Equal(
            [
                "out_of_range|timestamp: 0001-01-01T00:00:00Z is outside 1000-01-01..8999-12-31, the event times the lake takes",
                "out_of_range|timestamp: 0999-12-31T23:59:59Z is outside 1000-01-01..8999-12-31, the event times the lake takes",
                "out_of_range|timestamp: 9999-12-31T23:59:00Z is outside 1000-01-01..8999-12-31, the event times the lake takes",
            ],
            await _lake.RowsAsync("silver/sensors_quarantine", "rule, message", "message"));
    }

    [Fact]
    public async Task RunAsync_BronzeCommitsNotConsumedAreGoneFromItsLog_RefusedWithWhatToDo_NothingCommitted()
    {
        await _lake.LandAsync("sensors", Sensor("a", "2024-05-01T10:00:00Z", "20"));
        await _lake.RunAsync("sensors"); // consumed bronze version 0
        for (var i = 0; i < 10; i++) await _lake.LandAsync("sensors", Sensor("b" + i, "2024-05-01T10:00:00Z", "20")); // versions 1-10, a checkpoint at 10
        // What log cleanup does to a log older than its retention: the commits before the checkpoint are gone.
        var log = System.IO.Path.Combine(_lake.Path, "bronze", "sensors", "_delta_log");
        for (var v = 0; v < 10; v++) File.Delete(System.IO.Path.Combine(log, $"{v:D20}.json"));

        var error = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.StartsWith("silver.sensors has consumed bronze.sensors up to version 0, but bronze's log no longer holds the commits after it", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Rebuild silver from bronze's current files (delete silver.sensors and silver.sensors_quarantine, then run again).", error.Message, StringComparison.Ordinal);
        Assert.Equal(["a"], await _lake.RowsAsync("silver/sensors", "sensor_id", "sensor_id"));
    }

    [Fact]
    public async Task Rerun_BeforeAnyIncrementalRun_RefusedWithWhatToDo()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"));
        var error = await Assert.ThrowsAsync<LakehouseException>(() => _lake.RunAsync("sensors", new SilverRunOptions { From = new DateOnly(2024, 5, 1), To = new DateOnly(2024, 5, 1) }));
        Assert.Contains("run it incrementally first", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_QualityMetrics_OneRowPerRuleWithTheRunTotals()
    {
        await _lake.LandAsync("sensors", Sensor("s1", "2024-05-01T10:00:00Z", "20"), Sensor("s1", "2024-05-01T11:00:00Z", "2e6"), "[]");
        var result = await _lake.RunAsync("sensors");
        var rows = await _lake.RowsAsync(SilverTables.Quality, "dataset, mode, status, rows_in, rows_out, rows_quarantined, duplicates_removed, rows_warned, rule, rule_action, rule_checked, rule_passed, rule_failed", "rule");
        Assert.Contains("sensors|incremental|committed|3|2|1|0|1|value_plausible|warn|2|1|1", rows);
        Assert.Contains("sensors|incremental|committed|3|2|1|0|1|not_an_object|drop|3|2|1", rows);
        Assert.Contains("sensors|incremental|committed|3|2|1|0|1|status_known|drop|2|2|0", rows);
        Assert.DoesNotContain(rows, r => r.Contains("timestamp_near_ingest", StringComparison.Ordinal)); // opt-in, not enabled
        Assert.Equal(result.Rules.Count, rows.Count);
    }
}

public sealed class SilverTextDatasetTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-text");

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task RunAsync_AccessLogLines_ParsedIdenticalLinesKeptUnparsableQuarantined()
    {
        const string line = "203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif?x=1 HTTP/1.0\" 200 2326 \"http://ex.com/\" \"Mozilla/4.08\"";
        await _lake.LandAsync("accesslogs", line, line, "shop.example.com:443 10.1.1.1, 192.0.2.7 - - [10/Oct/2000:23:00:00 +0000] \"-\" 400 - \"-\" \"-\"", "garbage line", "");

        var result = await _lake.RunAsync("accesslogs");

        Assert.Equal((5L, 3L, 2L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates));
        Assert.Equal(
        [
            "203.0.113.9|frank|2000-10-10 20:55:36+00|GET|/a.gif|x=1|HTTP/1.0|200|2326|http://ex.com/|Mozilla/4.08|NULL|[]|2000-10-10|kafka|accesslogs|0|0|",
            "203.0.113.9|frank|2000-10-10 20:55:36+00|GET|/a.gif|x=1|HTTP/1.0|200|2326|http://ex.com/|Mozilla/4.08|NULL|[]|2000-10-10|kafka|accesslogs|0|1|",
            "10.1.1.1|NULL|2000-10-10 23:00:00+00|NULL|NULL|NULL|NULL|400|NULL|NULL|NULL|shop.example.com:443|[10.1.1.1, 192.0.2.7]|2000-10-10|kafka|accesslogs|0|2|",
        ], await _lake.RowsAsync("silver/accesslogs",
            "client_ip, auth_user, CAST(\"timestamp\" AS VARCHAR), method, path, query, protocol, status, bytes, referrer, user_agent, vhost, CAST(forwarded_for AS VARCHAR), CAST(event_date AS VARCHAR), bronze_position",
            "bronze_position"));
        var quarantined = await _lake.RowsAsync("silver/accesslogs_quarantine", "rule, message", "bronze_position");
        Assert.Equal(2, quarantined.Count);
        Assert.All(quarantined, q => Assert.StartsWith("unparsable|access log: ", q, StringComparison.Ordinal));
    }
}

public sealed class SilverPreprocessingTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-preprocess");

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task RunAsync_WebLogs_UrlUserAgentCountryCleanedRawKeptSiteFromTheLakesReferenceTable()
    {
        Directory.CreateDirectory(Path.Combine(_lake.Path, "_lakehouse", "reference"));
        await File.WriteAllTextAsync(Path.Combine(_lake.Path, "_lakehouse", "reference", "pages.csv"), "host,path_prefix,site,section\nshop.example.com,/cart,shop,checkout\n*,/,web,other\n");
        await _lake.LandAsync("weblogs",
            "{\"event_id\":\" e1 \",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"HTTPS://Shop.Example.com:443/cart?utm_source=x&b=2&a=1#top\",\"tti_ms\":1,\"status\":200,\"session_id\":\"s\"," +
            "\"user_agent\":\"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1\",\"country\":\"usa\"}",
            "{\"event_id\":\"e2\",\"timestamp\":\"2024-05-03T07:54:52Z\",\"page_url\":\"/help\",\"tti_ms\":1,\"status\":200,\"session_id\":\"s\",\"user_agent\":\"Googlebot/2.1 (+http://www.google.com/bot.html)\",\"country\":\"Narnia\"}");

        await _lake.RunAsync("weblogs");

        Assert.Equal(
        [
            "e1|https://shop.example.com/cart?a=1&b=2|HTTPS://Shop.Example.com:443/cart?utm_source=x&b=2&a=1#top|shop.example.com|/cart|shop|checkout|Mobile Safari|mobile|False|US|usa",
            "e2|/help|/help|NULL|/help|web|other|Googlebot|bot|True|NULL|Narnia",
        ], await _lake.RowsAsync("silver/weblogs", "event_id, page_url, page_url_raw, page_url_host, page_url_path, site, section, browser_family, device_class, is_bot, country, country_raw", "event_id"));
    }

    /// <summary>
    /// Values holding NUL (sent escaped, as "\u0000"), U+0001, U+FFFF or U+10FFFF in the columns silver looks up (url, user_agent,
    /// country) reach silver intact, cleaned from their whole text. Before, each distinct value went through DuckDB.NET's appender
    /// into the lookup table as a C string, cut at its first NUL: the join missed, so the row was quarantined as page_url_present
    /// ("page_url is missing"), the user agent counted as "Other" and U.S.\u0000A. had no ISO code, and the cut key "Germany" was
    /// in the lookup twice, which joined the row of "Germany" twice.
    /// </summary>
    [Fact]
    public async Task RunAsync_NulAndOtherOddCharactersInLookupColumns_ValuesKeptAndLookedUpWhole()
    {
        const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        const string Iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        static string Event(string id, string url, string userAgent, string country) =>
            $"{{\"event_id\":\"{id}\",\"timestamp\":\"2026-01-05T10:00:00Z\",\"page_url\":{System.Text.Json.JsonSerializer.Serialize(url)},\"tti_ms\":100," +
            $"\"status\":200,\"session_id\":\"s\\u0000x\",\"user_agent\":{System.Text.Json.JsonSerializer.Serialize(userAgent)},\"country\":{System.Text.Json.JsonSerializer.Serialize(country)}}}";
        await _lake.LandAsync("weblogs",
            Event("u1", "https://shop.example.com/a\0b", Chrome + "\0x", "U.S.\0A."),
            Event("u2", "https://shop.example.com/a\u0001b", "curl/8.4.0 (\u0001)", "Ger\u0001many"),
            Event("u3", "https://shop.example.com/a\uFFFFb", "Googlebot/2.1 (+http://www.google.com/bot.html) \uFFFF", "Fr\uFFFFance"),
            Event("u4", "https://shop.example.com/a\U0010FFFFb", Iphone + " \U0010FFFF", "Ja\U0010FFFFpan"),
            Event("u5", "https://sh\0op.example.com/a", Chrome, "Germany"),
            Event("u6", "https://shop.example.com/b", "\0" + Chrome + "\0", "Germany\0x"));

        var result = await _lake.RunAsync("weblogs");

        Assert.Equal((6L, 6L, 0L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates));
        Assert.Equal(
        [
            "u1|https://shop.example.com/a%00b|https://shop.example.com/a\0b|shop.example.com|/a%00b|Chrome|desktop|False|US|U.S.\0A.|s\0x",
            "u2|https://shop.example.com/a%01b|https://shop.example.com/a\u0001b|shop.example.com|/a%01b|curl|bot|True|DE|Ger\u0001many|s\0x",
            "u3|https://shop.example.com/a%EF%BF%BFb|https://shop.example.com/a\uFFFFb|shop.example.com|/a%EF%BF%BFb|Googlebot|bot|True|FR|Fr\uFFFFance|s\0x",
            "u4|https://shop.example.com/a%F4%8F%BF%BFb|https://shop.example.com/a\U0010FFFFb|shop.example.com|/a%F4%8F%BF%BFb|Mobile Safari|mobile|False|JP|Ja\U0010FFFFpan|s\0x",
            "u5|https://sh\0op.example.com/a|https://sh\0op.example.com/a|NULL||Chrome|desktop|False|DE|Germany|s\0x",
            "u6|https://shop.example.com/b|https://shop.example.com/b|shop.example.com|/b|Chrome|desktop|False|NULL|Germany\0x|s\0x",
        ], await _lake.RowsAsync("silver/weblogs", "event_id, page_url, page_url_raw, page_url_host, page_url_path, browser_family, device_class, is_bot, country, country_raw, session_id", "event_id"));
        Assert.Equal(["u1|" + Chrome + "\0x", "u6|" + Chrome], await _lake.RowsAsync("silver/weblogs", "event_id, user_agent", "event_id").ContinueWith(t => t.Result.Where(r => r is ['u', '1' or '6', ..]).ToList()));
    }

    /// <summary>
    /// A unit holding NUL is looked up whole: "C\u0000x" is no unit and stays as sent, and the reading beside it in plain "C" is
    /// converted once. Before, the cut key "C" was in the lookup twice, beside the real "C".
    /// </summary>
    [Fact]
    public async Task RunAsync_UnitHoldingNul_LookedUpWholeAndTheOtherReadingsOnce()
    {
        await _lake.LandAsync("sensors", SilverJobTests.Reading("a", "100", "C"), SilverJobTests.Reading("b", "100", "C\\u0000x"), SilverJobTests.Reading("c", "10", "\\u0000K"));

        var result = await _lake.RunAsync("sensors");

        Assert.Equal((3L, 3L, 0L, 0L), (result.RowsIn, result.RowsOut, result.Quarantined, result.Duplicates));
        Assert.Equal(["a|212|°F|100|C", "b|100|C\0x|100|C\0x", "c|-441.67|°F|10|\0K"],
            await _lake.RowsAsync("silver/sensors", "sensor_id, round(value, 2), unit, value_raw, unit_raw", "sensor_id"));
    }

    [Fact]
    public async Task RunAsync_Sensors_TemperaturesToFahrenheitWithTheReadingAsSent()
    {
        await _lake.LandAsync("sensors", SilverJobTests.Reading("a", "100", "°C"), SilverJobTests.Reading("b", "-40", " C "), SilverJobTests.Reading("c", "98.6", "F"), SilverJobTests.Reading("d", "45", "%"), SilverJobTests.Reading("e", "7", "furlongs"));

        var result = await _lake.RunAsync("sensors");

        Assert.Equal(
        [
            "a|212|°F|100|°C", "b|-40|°F|-40| C ", "c|98.6|°F|98.6|F", "d|45|%|45|%", "e|7|furlongs|7|furlongs",
        ], await _lake.RowsAsync("silver/sensors", "sensor_id, value, unit, value_raw, unit_raw", "sensor_id"));
        Assert.Contains(result.Rules, r => r is { Rule: "unit_known", Action: "warn", Failed: 1 });
        Assert.Equal(1, result.Warned);
    }
}
