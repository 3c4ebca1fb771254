using System.Text;
using Lakehouse.Datasets;
using Lakehouse.Engine;
using Lakehouse.Silver.Parsing;
using Lakehouse.Testing;

namespace Lakehouse.Silver.Tests.Parsing;

/// <summary>
/// The JSON parse's fast path (C#) against its SQL path (DuckDB's JSON functions): every payload must give the same row, whichever
/// path takes it, since the fast path may only decline. Both run here over the same payloads, plain and hostile, and every column
/// of every row is compared.
/// </summary>
public sealed class JsonFastPathTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const string AllTypes = """
        {
          "name": "alltypes", "payload": "json",
          "columns": [
            { "name": "id", "type": "string" }, { "name": "t", "type": "timestamp" }, { "name": "i", "type": "integer" },
            { "name": "n", "type": "number" }, { "name": "b", "type": "boolean" }, { "name": "o", "type": "object" },
            { "name": "l", "type": "string[]" }, { "name": "release", "type": "string", "path": "attrs.release" },
            { "name": "c", "type": "integer", "path": "a.b.c" }, { "name": "a", "type": "object" }
          ],
          "event_time": "t", "id": ["id"]
        }
        """;

    private static readonly DatasetDefinition Definition = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(AllTypes), "alltypes.json");

    /// <summary>A plain payload of every column, with <paramref name="value"/> (raw JSON) written as the value of <paramref name="key"/>.</summary>
    private static string Plain(string key = "", string value = "") =>
        "{" + string.Join(",", new[]
        {
            ("id", "\"e1\""), ("t", "\"2024-05-03T07:54:52.023Z\""), ("i", "42"), ("n", "1377.7"), ("b", "true"), ("o", "{\"x\": [1, 2.50, \"y\"]}"),
            ("l", "null"), ("attrs", "{\"release\":\"r1\",\"other\":1}"), ("a", "{\"b\":{\"c\":7}}"),
        }.Select(kv => $"\"{kv.Item1}\":{(kv.Item1 == key ? value : kv.Item2)}")) + "}";

    /// <summary>Values each column is given in turn: plain ones and every form whose reading is in doubt.</summary>
    private static readonly (string Key, string[] Values)[] Variants =
    [
        ("id", ["\"\"", "\"a\\nb\\\"c\\\\d\\/e\\tf\"", "\"\\u00e9\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\u001f\"", "\"\\\\u0041\"", "\"été 😀\"", "5", "null", "true", "{}", "[\"x\"]"]),
        ("t", ["\"2024-05-03T07:54:52Z\"", "\"2024-05-03t07:54:52.5z\"", "\"2024-05-03 07:54:52.123456+05:30\"", "\"2024-05-03T07:54:52.1234567Z\"",
            "\"2024-05-03T07:54:52-23:59\"", "\"2024-05-03T07:54:52+24:00\"", "\"2024-05-03T07:54:52\"", "\"2024-05-03\"", "\"2024-02-30T00:00:00Z\"",
            "\"2024-02-29T23:59:59.999999Z\"", "\"2024-05-03T24:00:00Z\"", "\"2024-05-03T23:59:60Z\"", "\"0000-01-01T00:00:00Z\"", "\"0999-12-31T23:59:59Z\"",
            "\"9999-12-31T23:59:59+00:00\"", "\"2024-05-03T07:54:52+0530\"", "\"2024-05-03T07:54:52+05\"", "\"epoch\"", "\"2024-05-03T07:54:52.Z\"", "1714722892", "null"]),
        ("i", ["0", "-0", "-7", "200.0", "2e2", "1.5", "123456789012345678", "-123456789012345678", "1234567890123456789", "9223372036854775808",
            "9007199254740993.0", "\"42\"", "1e999", "null", "false"]),
        ("n", ["0", "-0", "0.0", "-0.0", "0e5", "5", "1E5", "-1.5e-3", "0.1", "1e308", "1.7976931348623157e308", "1e309", "1e999", "1e-400", "4.9e-324",
            "2.2250738585072014e-308", "9007199254740993", "12345678901234567890", "0.30000000000000004", "123.456789012345678901234567890123456789012",
            "\"1.5\"", "null", "[1]"]),
        ("b", ["false", "null", "\"true\"", "1"]),
        ("o", ["{}", "{ \"k\" : \"v\\/\\u00e9\" , \"d\": [1E2, 12345678901234567890, -0, 1e-400] }", "[]", "\"{}\"", "null", "{\"k\":1,\"k\":2}"]),
        ("l", ["[\"a\",\"b\"]", "[]", "[\"a\",null]", "[1]", "\"a\""]),
        ("attrs", ["{\"release\":\"r2\"}", "{\"release\":\"a\",\"release\":\"b\"}", "{\"other\":1}", "\"r1\"", "null", "{\"release\":5}", "{\"rel\\u0065ase\":\"x\"}"]),
        ("a", ["{\"b\":{\"c\":-3}}", "{\"b\":{\"c\":1,\"c\":2}}", "{\"b\":5}", "{\"b\":{\"c\":1.0}}", "{}", "null", "[{\"b\":1}]"]),
    ];

    private static readonly string[] WholePayloads =
    [
        "", " ", "{}", " \t\n{\"id\":\"w\"}\r\n", "[]", "\"x\"", "42", "null", "{\"id\":\"x\",}", "{\"id\":NaN}", "{\"id\":\"x\"} x", "{\"id\":\"x\"}{}",
        "{\"id\":\"x\",\"id\":\"y\"}", "{\"i\\u0064\":\"x\"}", "{\"id\":\"x\" // c\n}", "{'id':'x'}", "{\"id\":\"x\"", "\uFEFF{\"id\":\"x\"}",
        "{\"id\":\"x\",\"deep\":" + new string('[', 70) + new string(']', 70) + "}", "{\"id\":\"x\",\"deep\":" + new string('[', 40) + new string(']', 40) + "}",
        "{\"x\":1,\"x\":1,\"id\":\"d\"}", "{\"extra\":{\"k\":1,\"k\":2},\"id\":\"nested-dup-elsewhere\"}",
    ];

    private static IEnumerable<byte[]> Payloads()
    {
        yield return Encoding.UTF8.GetBytes(Plain());
        foreach (var (key, values) in Variants)
        {
            foreach (var v in values) yield return Encoding.UTF8.GetBytes(Plain(key, v));
        }
        foreach (var p in WholePayloads) yield return Encoding.UTF8.GetBytes(p);
        yield return [.. Encoding.UTF8.GetBytes("{\"id\":\"u"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}")];
        yield return [.. Encoding.UTF8.GetBytes("{\"id\":\"u"), 0xED, 0xA0, 0x80, .. Encoding.UTF8.GetBytes("\"}")];
        yield return [.. Encoding.UTF8.GetBytes("{\"id\":\"n"), 0x00, .. Encoding.UTF8.GetBytes("\"}")];
        yield return Encoding.UTF8.GetBytes("{\"id\":\"" + new string('x', SilverRules.MaxPayloadBytes) + "\"}");
    }

    [Fact]
    public void Select_EveryPayloadPlainOrHostile_TheFastPathGivesTheRowTheSqlPathGives()
    {
        var fast = JsonFastPath.Register(fixture.Engine, Definition);
        using var lease = fixture.Engine.Lease();
        var connection = lease.Connection;
        var source = "fast_src_" + Guid.NewGuid().ToString("N")[..8];
        connection.Execute($"CREATE TEMP TABLE {source}_raw (__row INTEGER, payload BLOB)");
        var payloads = Payloads().ToList();
        using (var appender = connection.CreateAppender(source + "_raw"))
        {
            for (var i = 0; i < payloads.Count; i++) appender.Append(i).AppendBlob(payloads[i]).EndRow();
            appender.Close();
        }
        connection.Execute($"CREATE TEMP TABLE {source} AS SELECT __row, payload FROM {source}_raw");

        string Rows(string? function) =>
            $"SELECT __row, CAST(to_json(r) AS VARCHAR) AS row FROM ({JsonPayloadSql.Select(Definition, source, function)}) AS r";
        var differences = new List<string>();
        using (var r = connection.Query(
            $"SELECT s.__row, s.row, f.row FROM ({Rows(null)}) AS s FULL JOIN ({Rows(fast.FunctionName)}) AS f USING (__row) WHERE s.row IS DISTINCT FROM f.row ORDER BY __row"))
        {
            while (r.Read())
            {
                var payload = Encoding.UTF8.GetString(payloads[(int)r.GetInt64(0)]);
                differences.Add($"{payload[..Math.Min(200, payload.Length)]}\n  sql:  {(r.IsNull(1) ? "-" : r.GetString(1))}\n  fast: {(r.IsNull(2) ? "-" : r.GetString(2))}");
            }
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));

        // Not a comparison of two SQL paths: the fast path took the plain payloads and declined the doubtful ones.
        var taken = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM {source} WHERE {SqlText.Identifier(fast.FunctionName)}(payload) IS NOT NULL"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(taken, 40, payloads.Count - 60);
        connection.Execute($"DROP TABLE {source}");
        connection.Execute($"DROP TABLE {source}_raw");
    }

    [Theory]
    [InlineData("", "", true)]
    [InlineData("t", "\"2024-05-03 07:54:52.123456+05:30\"", true)]
    [InlineData("n", "1E5", true)]
    [InlineData("id", "\"a\\nb\"", true)]
    [InlineData("o", "[]", false)]
    [InlineData("i", "200.0", false)]
    [InlineData("n", "-0", false)]
    [InlineData("n", "1e-400", false)]
    [InlineData("t", "\"2024-05-03T07:54:52\"", false)]
    [InlineData("t", "\"2024-05-03T07:54:52.1234567Z\"", false)]
    [InlineData("id", "\"\\u00e9\"", false)]
    [InlineData("l", "[\"a\"]", false)]
    [InlineData("attrs", "{\"release\":\"a\",\"release\":\"b\"}", false)]
    public void Function_Payload_TakenOnlyWhenItsReadingIsNotInDoubt(string key, string value, bool taken)
    {
        var fast = JsonFastPath.Register(fixture.Engine, Definition);

        var record = Record(fast, Plain(key, value));

        Assert.Equal(taken, record is not null);
    }

    [Fact]
    public void Function_PlainPayload_EachColumnInItsTypeAndNullWhereThePayloadHasNone()
    {
        var fast = JsonFastPath.Register(fixture.Engine, Definition);

        var record = Record(fast, Plain("id", "\"a\\tb\""));

        Assert.NotNull(record);
        Assert.Equal<string?>(["a\tb", "2024-05-03 07:54:52.023+00", "42", "1377.7", "true", "{\"x\":[1,2.5,\"y\"]}", null, "r1", "7", "{\"b\":{\"c\":7}}"], record.AsEnumerable());
    }

    /// <summary>The fast function's record of <paramref name="payload"/> as SQL reads it (each column as text), or null when it declines.</summary>
    private string?[]? Record(JsonFastPath fast, string payload)
    {
        using var lease = fixture.Engine.Lease();
        var record = $"{SqlText.Identifier(fast.FunctionName)}(encode({SqlText.Literal(payload)}))";
        var columns = Enumerable.Range(0, Definition.Columns.Count).Select(i => $"CAST({JsonFastPath.Value(Definition, i, "r")} AS VARCHAR)");
        using var r = lease.Connection.Query($"SELECT r IS NULL, {string.Join(", ", columns)} FROM (SELECT {record} AS r)");
        Assert.True(r.Read());
        if (r.GetBoolean(0)) return null;
        return [.. Enumerable.Range(1, Definition.Columns.Count).Select(i => r.IsNull(i) ? null : r.GetString(i))];
    }
}
