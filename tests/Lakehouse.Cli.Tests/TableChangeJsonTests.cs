using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>--json</c> on the commands that change a table: one object of a stable shape (table, operation, committed, version,
/// metrics), and nothing on standard error when it is redirected (no progress drawn).
/// </summary>
public sealed class TableChangeJsonTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-json");

    public void Dispose() => _temp.Dispose();

    private string Ndjson(string name, string line)
    {
        var path = _temp.Combine(name);
        File.WriteAllText(path, line + "\n");
        return path;
    }

    private static async Task<JsonElement> RunJsonAsync(params string[] args)
    {
        var r = await CliRunner.RunAsync(args);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stderr); // redirected: no progress, no logging
        Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    private static void Shape(JsonElement change, string table, string operation, bool committed, long version)
    {
        Assert.Equal(["committed", "metrics", "operation", "table", "version"], change.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal((table, operation, committed, version),
            (change.GetProperty("table").GetString(), change.GetProperty("operation").GetString(), change.GetProperty("committed").GetBoolean(), change.GetProperty("version").GetInt64()));
    }

    private static long Metric(JsonElement change, string name) => change.GetProperty("metrics").GetProperty(name).GetInt64();

    [Fact]
    public async Task WriteCommands_Json_StableShapeWithTheCommitsMetrics()
    {
        var table = _temp.Combine("t");
        var first = await RunJsonAsync("table", "import", Ndjson("0.json", """{"id": 0}"""), "--to", table, "--json");
        Shape(first, table, "CREATE TABLE AS SELECT", true, 0);
        Assert.Equal(1, Metric(first, "numOutputRows"));
        for (var i = 1; i < 3; i++)
        {
            var next = await RunJsonAsync("table", "import", Ndjson($"{i}.json", $$"""{"id": {{i}}}"""), "--to", table, "--json", "--txn", $"loader:{i}");
            Shape(next, table, "WRITE", true, i);
            Assert.Equal(1, Metric(next, "numFiles"));
        }
        var skipped = await RunJsonAsync("table", "import", Ndjson("again.json", """{"id": 9}"""), "--to", table, "--json", "--txn", "loader:2");
        Shape(skipped, table, "WRITE", false, 2);

        var optimize = await RunJsonAsync("table", "optimize", table, "--json");
        Shape(optimize, table, "OPTIMIZE", true, 3);
        Assert.Equal((3L, 1L), (Metric(optimize, "numRemovedFiles"), Metric(optimize, "numAddedFiles")));
        var nothing = await RunJsonAsync("table", "optimize", table, "--json");
        Shape(nothing, table, "OPTIMIZE", false, 3);

        var restore = await RunJsonAsync("table", "restore", table, "--version", "1", "--json");
        Shape(restore, table, "RESTORE", true, 4);
        Assert.Equal(2, Metric(restore, "numRestoredFiles"));

        var dry = await RunJsonAsync("table", "vacuum", table, "--retention-hours", "0", "--force", "--dry-run", "--json");
        Assert.Equal(["committed", "files", "metrics", "operation", "table", "version"], dry.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("VACUUM", false), (dry.GetProperty("operation").GetString(), dry.GetProperty("committed").GetBoolean()));
        Assert.Equal(2, Metric(dry, "numFilesToDelete"));
        var vacuumed = dry.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.All(vacuumed, f => Assert.True(File.Exists(Path.Combine(table, f)), f));

        var vacuum = await RunJsonAsync("table", "vacuum", table, "--retention-hours", "0", "--force", "--json");
        Assert.Equal(["committed", "metrics", "operation", "table", "version"], vacuum.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("VACUUM", true, 2L, 0L), (vacuum.GetProperty("operation").GetString(), vacuum.GetProperty("committed").GetBoolean(),
            Metric(vacuum, "numDeletedFiles"), Metric(vacuum, "retentionMillis")));
        Assert.True(vacuum.GetProperty("version").GetInt64() >= 4);
        Assert.All(vacuumed, f => Assert.False(File.Exists(Path.Combine(table, f)), f));
    }

    [Fact]
    public async Task WriteCommands_WithoutJson_TextAndNothingOnStderr()
    {
        var table = _temp.Combine("t");
        foreach (var args in new[]
        {
            new[] { "table", "import", Ndjson("a.json", """{"id": 1}"""), "--to", table },
            ["table", "import", Ndjson("b.json", """{"id": 2}"""), "--to", table],
            ["table", "optimize", table],
            ["table", "vacuum", table],
            ["table", "restore", table, "--version", "0"],
        })
        {
            var r = await CliRunner.RunAsync(args);
            Assert.Equal((0, ""), (r.ExitCode, r.Stderr));
            Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
