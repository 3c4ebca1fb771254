using System.Text;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>A temporary folder for import tests: input files, tables, and reading results back through the CLI.</summary>
internal sealed class ImportScope : IDisposable
{
    private readonly TempDirectory _temp = new("cli-import");

    internal string Root => _temp.Path;

    internal string Combine(params string[] parts) => _temp.Combine(parts);

    /// <summary>Writes <paramref name="text"/> exactly (no newline added) and returns the file's path.</summary>
    internal string File(string name, string text)
    {
        var path = _temp.Combine(name);
        System.IO.File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>Writes one line per item (each ended by \n).</summary>
    internal string Lines(string name, IEnumerable<string> lines)
    {
        var path = _temp.Combine(name);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        foreach (var l in lines) w.WriteLine(l);
        return path;
    }

    internal static async Task<CliRunner.Result> ImportAsync(params string[] args) => await CliRunner.RunAsync(["table", "import", .. args]);

    /// <summary>Every row of <paramref name="table"/> as parsed JSON, ordered by the text of the row.</summary>
    internal static async Task<List<JsonElement>> RowsAsync(string table)
    {
        var r = await CliRunner.RunAsync("table", "read", table, "--format", "jsonl");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).Select(l => JsonDocument.Parse(l).RootElement)];
    }

    /// <summary>The rows as their JSON text, sorted.</summary>
    internal static async Task<List<string>> RowTextsAsync(string table)
    {
        var r = await CliRunner.RunAsync("table", "read", table, "--format", "jsonl");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    /// <summary>The table's columns as name:type (nested types as struct/array/map).</summary>
    internal static async Task<List<string>> SchemaAsync(string table)
    {
        var r = await CliRunner.RunAsync("table", "info", table, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        return [.. doc.RootElement.GetProperty("schema").EnumerateArray().Select(f =>
        {
            var t = f.GetProperty("type");
            return f.GetProperty("name").GetString() + ":" + (t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetProperty("type").GetString());
        })];
    }

    internal static async Task<long> VersionAsync(string table)
    {
        var r = await CliRunner.RunAsync("table", "info", table, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("version").GetInt64();
    }

    /// <summary>Asserts that nothing was created at <paramref name="table"/>: no log, no data file.</summary>
    internal static void AssertNoTable(string table)
    {
        Assert.False(Directory.Exists(Path.Combine(table, "_delta_log")), $"{table} has a _delta_log");
        Assert.True(!Directory.Exists(table) || Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories).Length == 0, $"{table} has data files");
    }

    /// <summary>Asserts a refusal: exit code 1 and exactly <paramref name="message"/> on stderr, without any SQL.</summary>
    internal static void AssertRefused(CliRunner.Result r, string message)
    {
        Assert.Equal((1, "error: " + message + "\n"), (r.ExitCode, r.Stderr));
        Assert.Empty(r.Stdout);
    }

    public void Dispose() => _temp.Dispose();
}
