using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse table list</c>: every table of the lake's layers with its numbers; a broken one with its error.</summary>
public sealed class TableListTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-list");

    public void Dispose() => _temp.Dispose();

    private async Task ImportAsync(string lake, string table, params string[] lines)
    {
        var file = _temp.Combine(Guid.NewGuid().ToString("N") + ".ndjson");
        await File.WriteAllLinesAsync(file, lines);
        var r = await CliRunner.RunAsync("table", "import", file, "--to", table, "--lake", lake);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    /// <summary>Removes the stats of every add action of a commit, as some writers leave them out.</summary>
    private static async Task DropStatisticsAsync(string commit)
    {
        var lines = (await File.ReadAllLinesAsync(commit)).Select(line =>
        {
            var action = JsonNode.Parse(line)!.AsObject();
            if (action["add"] is JsonObject add) add.Remove("stats");
            return action.ToJsonString();
        });
        await File.WriteAllLinesAsync(commit, lines);
    }

    private static long ParquetBytes(string folder) => Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task List_LakeWithTables_VersionFilesRowsSizeAndLastCommitOfEach()
    {
        var lake = _temp.Combine("lake");
        await ImportAsync(lake, "bronze.events", """{"id": 1}""", """{"id": 2}""");
        await ImportAsync(lake, "bronze.events", """{"id": 3}""");
        await ImportAsync(lake, "gold.daily", """{"day": "2024-05-01", "n": 3}""");
        await ImportAsync(lake, "silver.nostats", """{"id": 1}""");
        await DropStatisticsAsync(Path.Combine(lake, "silver", "nostats", "_delta_log", "00000000000000000000.json"));
        Directory.CreateDirectory(Path.Combine(lake, "silver", "not_a_table")); // no _delta_log: not listed

        var json = await CliRunner.RunAsync("table", "list", "--lake", lake, "--json");
        Assert.Equal((0, ""), (json.ExitCode, json.Stderr));
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(lake, doc.RootElement.GetProperty("lake").GetString());
        var tables = doc.RootElement.GetProperty("tables").EnumerateArray().ToList();
        Assert.Equal(["bronze.events", "silver.nostats", "gold.daily"], tables.Select(t => t.GetProperty("name").GetString()));
        var events = tables[0];
        Assert.Equal(("bronze", Path.Combine(lake, "bronze", "events"), 1L, 2, 3L), (events.GetProperty("layer").GetString(), events.GetProperty("location").GetString(),
            events.GetProperty("version").GetInt64(), events.GetProperty("files").GetInt32(), events.GetProperty("rows").GetInt64()));
        Assert.Equal(ParquetBytes(Path.Combine(lake, "bronze", "events")), events.GetProperty("sizeBytes").GetInt64());
        var lastCommit = DateTimeOffset.Parse(events.GetProperty("lastCommit").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(lastCommit, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(JsonValueKind.Null, events.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, tables[1].GetProperty("rows").ValueKind); // no statistics in its log: rows unknown, not counted
        Assert.Equal(1, tables[1].GetProperty("files").GetInt32());
        Assert.Equal(1L, tables[2].GetProperty("rows").GetInt64());

        var text = await CliRunner.RunAsync("table", "list", "--lake", lake);
        Assert.Equal(0, text.ExitCode);
        var lines = text.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["table", "version", "files", "rows", "size", "last", "commit"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["bronze.events", "1", "2", "3"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);
        Assert.Equal(["silver.nostats", "?"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries).Where((_, i) => i is 0 or 3));
        Assert.Equal($"(3 tables in {lake})", lines[^1]);
    }

    [Fact]
    public async Task List_OneTableUnreadable_ListedWithItsErrorOthersShownExit1()
    {
        var lake = _temp.Combine("lake");
        await ImportAsync(lake, "silver.good", """{"id": 1}""");
        var bad = Path.Combine(lake, "bronze", "bad", "_delta_log");
        Directory.CreateDirectory(bad);
        await File.WriteAllTextAsync(Path.Combine(bad, "00000000000000000000.json"), "this is not a commit\n");

        var r = await CliRunner.RunAsync("table", "list", "--lake", lake, "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var tables = doc.RootElement.GetProperty("tables").EnumerateArray().ToList();
        Assert.Equal(["bronze.bad", "silver.good"], tables.Select(t => t.GetProperty("name").GetString()));
        var error = tables[0].GetProperty("error").GetString();
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Equal(JsonValueKind.Null, tables[0].GetProperty("version").ValueKind);
        Assert.Equal((0L, JsonValueKind.Null), (tables[1].GetProperty("version").GetInt64(), tables[1].GetProperty("error").ValueKind));
        Assert.Equal($"error: bronze.bad: {error}\n", r.Stderr);

        var text = await CliRunner.RunAsync("table", "list", "--lake", lake);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("silver.good", text.Stdout, StringComparison.Ordinal);
        Assert.Contains(text.Stdout.Split('\n'), l => l.StartsWith("bronze.bad", StringComparison.Ordinal) && l.Contains("error: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_TableNamedWithUnderscoreFromBefore_ShownWithAWarningHowToReachIt()
    {
        var lake = _temp.Combine("lake");
        await ImportAsync(lake, "silver.old", """{"id": 1}""");
        Directory.Move(Path.Combine(lake, "silver", "old"), Path.Combine(lake, "silver", "_old")); // as a lake written before such names were refused
        await ImportAsync(lake, "silver.good", """{"id": 2}""");

        var r = await CliRunner.RunAsync("table", "list", "--lake", lake);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Stdout.Split('\n'), l => l.StartsWith("silver._old ", StringComparison.Ordinal) && l.Contains(" 1 ", StringComparison.Ordinal));
        Assert.Equal($"warning: silver._old: {LakeNames.ReservedRule}, so this table cannot be read or written by name; " +
                     $"rename its folder ({Path.Combine(lake, "silver", "_old")}) to use it.\n", r.Stderr);
        var read = await CliRunner.RunAsync("table", "read", "silver._old", "--lake", lake);
        Assert.Equal(2, read.ExitCode);
    }

    [Fact]
    public async Task List_NoLakeFolder_Exit1SayingSo()
    {
        var r = await CliRunner.RunAsync("table", "list", "--lake", _temp.Combine("nowhere"));
        Assert.Equal((1, $"error: There is no lake at '{_temp.Combine("nowhere")}': the folder does not exist (give --lake or set LAKEHOUSE_LAKE).\n"), (r.ExitCode, r.Stderr));
        var empty = await CliRunner.RunAsync("table", "list", "--lake", _temp.Path);
        Assert.Equal((0, $"(0 tables in {_temp.Path})"), (empty.ExitCode, empty.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]));
    }
}
