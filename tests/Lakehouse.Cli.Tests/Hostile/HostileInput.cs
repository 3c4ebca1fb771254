using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Lakehouse.Cli.Tests.Hostile;

/// <summary>A hostile web-log payload and what silver must make of it: "silver" (a clean row) or the quarantine rule.</summary>
/// <param name="Name">What it is, for failure messages.</param>
/// <param name="Payload">The bytes sent.</param>
/// <param name="Fate">"silver", or the rule its quarantine row names.</param>
internal sealed record HostilePayload(string Name, byte[] Payload, string Fate);

/// <summary>
/// The hostile payloads every entry point is fed (files, Kafka, Event Hubs, HTTP), and the check that follows each feed: every
/// event bronze holds is in silver or the quarantine exactly once (lost 0, duplicated 0), with the fate it must have.
/// </summary>
internal static class HostileInput
{
    internal const string EventIdWithSql = "x'); DROP TABLE silver.weblogs; --\"]*/";

    internal static string Web(string id, string extra = "") =>
        $"{{\"event_id\":\"{id}\",\"timestamp\":\"2026-11-30T10:00:00Z\",\"page_url\":\"/a\",\"tti_ms\":1,\"ttar_ms\":2,\"status\":200,\"session_id\":\"s1\"{extra}}}";

    /// <summary>
    /// The payloads, none with a line break of its own (files and text bodies cut events at '\n'). <paramref name="largeBytes"/> is
    /// the size of the one over silver's 1 MiB limit (10 MB for files, 1 MB+ for brokers).
    /// </summary>
    internal static IReadOnlyList<HostilePayload> Payloads(int largeBytes) =>
    [
        new("clean", Utf8(Web("ok")), "silver"),
        new("5,000 nested objects", Utf8(Web("deep", ",\"attrs\":" + string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000))), "silver"),
        new("100,000 nested arrays", Utf8(Web("deeper", ",\"attrs\":" + new string('[', 100_000) + new string(']', 100_000))), "wrong_type"),
        new("over 1 MiB", Utf8(Web("big", ",\"attrs\":{\"pad\":\"" + new string('x', largeBytes) + "\"}")), "too_large"),
        new("invalid UTF-8", [.. Utf8("{\"event_id\":\"u"), 0xC3, 0x28, 0xFF, .. Utf8("\"}")], "invalid_utf8"),
        new("raw control character", Utf8(Web("ctl\u0001\u001b[31m")), "malformed_json"),
        new("NUL bytes", [0, 0, 0], "malformed_json"),
        new("escaped control characters", Utf8(Web("esc\\u001b[2J\\u0000\\u0007")), "silver"),
        new("SQL in the data", Utf8(Web(EventIdWithSql.Replace("\"", "\\\"", StringComparison.Ordinal), ",\"country\":\"'; --\"")), "silver"),
        new("line and paragraph separators", Utf8(Web("sep\u2028\u2029\u0085")), "silver"),
        new("not an object", Utf8("[\"" + new string('[', 3) + "\"]"), "not_an_object"),
    ];

    internal static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Runs <c>lakehouse silver run --json</c> and returns its answer; asserts exit 0.</summary>
    internal static async Task<JsonElement> SilverRunAsync(string lake)
    {
        var run = await CliRunner.RunAsync("silver", "run", "--lake", lake, "--dataset", "weblogs", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }

    /// <summary>
    /// One line per bronze row in <paramref name="order"/> (bronze's columns): its payload's length, then where it went ("silver" or
    /// the quarantine rule; several joined by '+' if it went to more than one place, "" if nowhere) — through <c>lakehouse sql</c>.
    /// </summary>
    internal static async Task<List<(long Bytes, string Fate)>> FatesAsync(string lake, string order)
    {
        const string position = "source_kind || '|' || source || '|' || coalesce(source_partition, '') || '|' || coalesce(CAST(source_offset AS VARCHAR), '') || '|' || coalesce(CAST(source_line AS VARCHAR), '')";
        var query = $"WITH b AS (SELECT {position} AS pos, octet_length(payload) AS n, row_number() OVER (ORDER BY {order}) AS o FROM bronze.weblogs), " +
                    "s AS (SELECT bronze_position AS pos, 'silver' AS fate FROM silver.weblogs UNION ALL SELECT bronze_position, rule FROM silver.weblogs_quarantine) " +
                    "SELECT b.n, coalesce(string_agg(s.fate, '+' ORDER BY s.fate), '') FROM b LEFT JOIN s USING (pos) GROUP BY b.pos, b.n, b.o ORDER BY b.o";
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l =>
        {
            var comma = l.IndexOf(',', StringComparison.Ordinal);
            return (long.Parse(l[..comma], CultureInfo.InvariantCulture), l[(comma + 1)..]);
        })];
    }

    /// <summary>
    /// Asserts that bronze holds exactly <paramref name="sent"/>, byte counts included, in order, and that each went where it must,
    /// once: nothing lost, nothing duplicated. <paramref name="silver"/> is the run's answer, whose counts must reconcile too.
    /// </summary>
    internal static void AssertEachOnce(IReadOnlyList<HostilePayload> sent, IReadOnlyList<(long Bytes, string Fate)> fates, JsonElement silver)
    {
        Assert.Equal(sent.Select(p => $"{p.Name}: {p.Payload.Length} bytes → {p.Fate}"), fates.Select((f, i) => $"{(i < sent.Count ? sent[i].Name : "?")}: {f.Bytes} bytes → {f.Fate}"));
        var rowsIn = silver.GetProperty("rowsIn").GetInt64();
        Assert.Equal(sent.Count, rowsIn);
        Assert.Equal(rowsIn, silver.GetProperty("rowsOut").GetInt64() + silver.GetProperty("quarantined").GetInt64() + silver.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, silver.GetProperty("duplicates").GetInt64());
    }
}
