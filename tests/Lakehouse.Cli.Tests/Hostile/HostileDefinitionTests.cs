using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Hostile;

/// <summary>
/// SQL and identifiers that arrive through data and configuration: dataset names that are paths or SQL, definition files whose
/// names, columns and expectations carry quotes, brackets and comment markers, and partition values that are paths. Each is
/// refused with a message naming the file and field, or quoted so that the tables hold exactly the values given.
/// </summary>
public sealed class HostileDefinitionTests : IDisposable
{
    private readonly TempDirectory _temp = new("hostile-definitions");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Definitions => Path.Combine(Lake, "_lakehouse", "datasets");

    private const string Orders = """
        {
          "name": "orders",
          "payload": "json",
          "columns": [
            { "name": "order_id", "type": "string", "nullable": false },
            { "name": "placed_at", "type": "timestamp" },
            { "name": "channel", "type": "string" },
            { "name": "note", "type": "string", "path": "q'uote.b\"r]*/--" }
          ],
          "event_time": "placed_at",
          "id": ["order_id"],
          "expectations": [
            { "name": "channel_known", "column": "channel", "check": "in", "values": ["web'); DROP TABLE silver.orders; --", "app]*/\"x"], "action": "drop" },
            { "name": "note_shape", "column": "note", "check": "matches", "pattern": "^[^']*'\\); --$", "action": "drop" }
          ]
        }
        """;

    private static async Task<List<string>> RowsAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "jsonl", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    [Fact]
    public async Task SilverRun_ExpectationValuesPatternsAndJsonPathsHoldingSql_TakenLiterallyEachRowOnce()
    {
        Directory.CreateDirectory(Definitions);
        await File.WriteAllTextAsync(Path.Combine(Definitions, "orders.json"), Orders);
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(landing);
        await File.WriteAllLinesAsync(Path.Combine(landing, "o.ndjson"),
        [
            """{"order_id":"o1","placed_at":"2026-11-30T10:00:00Z","channel":"web'); DROP TABLE silver.orders; --","q'uote":{"b\"r]*/--":"ok'); --"}}""",
            """{"order_id":"o2","placed_at":"2026-11-30T10:00:00Z","channel":"app]*/\"x","q'uote":{"b\"r]*/--":"x'); --"}}""",
            """{"order_id":"o3","placed_at":"2026-11-30T10:00:00Z","channel":"web","q'uote":{"b\"r]*/--":"ok'); --"}}""",
            """{"order_id":"o4","placed_at":"2026-11-30T10:00:00Z","channel":"web'); DROP TABLE silver.orders; --","q'uote":{"b\"r]*/--":"nope"}}""",
        ]);
        File.SetLastWriteTimeUtc(Path.Combine(landing, "o.ndjson"), DateTime.UtcNow.AddMinutes(-1));
        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "orders", "--from", landing);
        Assert.True(ingest.ExitCode == 0, ingest.Stderr);

        var run = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "orders", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var result = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal((4L, 2L, 2L), (result.GetProperty("rowsIn").GetInt64(), result.GetProperty("rowsOut").GetInt64(), result.GetProperty("quarantined").GetInt64()));
        Assert.Equal(
        [
            """{"order_id":"o1","channel":"web'); DROP TABLE silver.orders; --","note":"ok'); --"}""",
            """{"order_id":"o2","channel":"app]*/\"x","note":"x'); --"}""",
            """{"source_line":3,"rule":"channel_known","message":"channel = 'web' is not one of web'); DROP TABLE silver.orders; --, app]*/\"x"}""",
            """{"source_line":4,"rule":"note_shape","message":"note = 'nope' does not match ^[^']*'\\); --$"}""",
        ], [.. await RowsAsync(Lake, "SELECT order_id, channel, note FROM silver.orders ORDER BY order_id"),
            .. await RowsAsync(Lake, "SELECT source_line, rule, message FROM silver.orders_quarantine ORDER BY source_line")]);
    }

    [Fact]
    public async Task Commands_DatasetNamesThatArePathsOrSqlAndDefinitionsNamingThem_RefusedNamingFileAndFieldNothingWritten()
    {
        Directory.CreateDirectory(Definitions);
        var results = await Task.WhenAll(new[] { "../../etc", "x'; DROP TABLE bronze.weblogs; --", "a]b*/" }.Select(name =>
            CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", name)));
        foreach (var r in results)
        {
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith("error: Unknown dataset '", r.Stderr, StringComparison.Ordinal);
        }

        foreach (var (file, field, value, message) in new[]
        {
            ("etc.json", "\"name\": \"orders\"", "\"name\": \"../../etc\"", "field 'name': '../../etc' is not a dataset name: 1 to 63 lower-case letters, digits and '_', starting with a letter."),
            ("x'; drop.json", "\"name\": \"orders\"", "\"name\": \"x'; drop\"", "field 'name': 'x'; drop' is not a dataset name"),
            ("orders.json", "\"name\": \"channel\"", "\"name\": \"ch]an\\\"nel--\"", "field 'columns[2].name': 'ch]an\"nel--' is not a column name"),
            ("orders.json", "\"name\": \"note_shape\"", "\"name\": \"x'); --\"", "field 'expectations[1].name': 'x'); --' is not a rule name"),
        })
        {
            foreach (var old in Directory.GetFiles(Definitions)) File.Delete(old);
            await File.WriteAllTextAsync(Path.Combine(Definitions, file), Orders.Replace(field, value, StringComparison.Ordinal));
            var r = await CliRunner.RunAsync("silver", "run", "--lake", Lake, "--dataset", "weblogs");
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"error: Dataset definition '{Path.Combine(Definitions, file)}', {message}", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(["_lakehouse"], Directory.GetFileSystemEntries(Lake).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Import_PartitionValuesThatArePaths_EscapedFoldersInsideTheTableAndReadBackIntactOneWithNulRefused()
    {
        string[] values = ["../../etc", "..", ".", "a/b\\c", "%2e%2e%2f", "x=y; DROP TABLE t; --", "new\nline", "]*/"];
        var input = _temp.Combine("in.ndjson");
        await File.WriteAllLinesAsync(input, values.Select((v, i) => JsonSerializer.Serialize(new { id = i, c = v })).Append("{\"id\":99,\"c\":null}"));

        var import = await CliRunner.RunAsync("table", "import", input, "--to", "silver.parts", "--partition-by", "c", "--lake", Lake);

        Assert.True(import.ExitCode == 0, import.Stderr);
        var table = Path.Combine(Lake, "silver", "parts");
        Assert.All(Directory.GetDirectories(_temp.Path, "*", SearchOption.AllDirectories).Where(d => d != Lake && d != Path.Combine(Lake, "silver")),
            d => Assert.StartsWith(table, d, StringComparison.Ordinal));
        Assert.Equal(values.Length + 2, Directory.GetDirectories(table).Length); // one per value, the null folder, and _delta_log
        var expected = values.Select((v, i) => (i, (string?)v)).Append((99, null)).ToList();
        Assert.Equal(expected, await PartsAsync());

        // NUL cannot be in a folder name: the write is refused naming the path, and the table keeps what it held, without a
        // folder for the good row that came with it.
        var nul = _temp.Combine("nul.ndjson");
        await File.WriteAllTextAsync(nul, "{\"id\":100,\"c\":\"\\u0000nul\"}\n{\"id\":101,\"c\":\"fresh\"}\n");
        var refused = await CliRunner.RunAsync("table", "import", nul, "--to", "silver.parts", "--lake", Lake);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: Lake path 'c=\\u0000nul/part-", refused.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("' contains a backslash or NUL.\n", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(expected, await PartsAsync());
        Assert.Equal(values.Length + 2, Directory.GetDirectories(table).Length);
        Assert.False(Directory.Exists(Path.Combine(table, "c=fresh")));
    }

    private async Task<List<(int, string?)>> PartsAsync() =>
        [.. (await RowsAsync(Lake, "SELECT id, c FROM silver.parts ORDER BY id")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => (r.GetProperty("id").GetInt32(), r.GetProperty("c").GetString()))];
}
