using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse table check</c> as a user runs it: a clean table, a damaged one (every problem listed, exit 1), a Spark table.</summary>
public sealed class TableCheckCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-check");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private async Task<string> ImportAsync(params string[] contents)
    {
        for (var i = 0; i < contents.Length; i++)
        {
            var file = _temp.Combine($"in{i}.ndjson");
            await File.WriteAllTextAsync(file, contents[i]);
            var r = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.events", "--lake", Lake);
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        return Path.Combine(Lake, "bronze", "events");
    }

    [Fact]
    public async Task Check_HealthyTable_ExitZeroAndOk()
    {
        await ImportAsync("{\"id\":1}\n{\"id\":2}\n", "{\"id\":3}\n");

        var r = await CliRunner.RunAsync("table", "check", "bronze.events", "--deep", "--lake", Lake);

        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("version: 1\nfiles:   2 live, each opened\nok: the table reads correctly.\n", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_DamagedTable_EveryProblemWithItsFileAndExitOne()
    {
        var root = await ImportAsync("{\"id\":1}\n", "{\"id\":2}\n", "{\"id\":3}\n");
        var files = Directory.GetFiles(root, "*.parquet", SearchOption.AllDirectories).Where(f => !f.Contains("/_", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(3, files.Count);
        File.Delete(Path.Combine(root, files[0]));
        await File.WriteAllBytesAsync(Path.Combine(root, files[1]), (await File.ReadAllBytesAsync(Path.Combine(root, files[1])))[..50]);
        await File.WriteAllTextAsync(Path.Combine(root, "_delta_log", "2.json"), "{}");

        var read = await CliRunner.RunAsync("table", "read", "bronze.events", "--lake", Lake);
        var check = await CliRunner.RunAsync("table", "check", "bronze.events", "--json", "--lake", Lake);

        Assert.Equal(1, read.ExitCode);
        Assert.Contains("'_delta_log/2.json' is named like a log file", read.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, check.ExitCode);
        var report = JsonDocument.Parse(check.Stdout).RootElement;
        Assert.False(report.GetProperty("healthy").GetBoolean());
        var findings = report.GetProperty("findings").EnumerateArray()
            .Select(f => (f.GetProperty("severity").GetString(), f.GetProperty("file").GetString())).ToList();
        Assert.Equal([("error", "_delta_log/2.json")], findings);

        // With the stray commit gone, the data files' problems show, both at once.
        File.Delete(Path.Combine(root, "_delta_log", "2.json"));
        check = await CliRunner.RunAsync("table", "check", "bronze.events", "--lake", Lake);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"error    {files[0]}: is live in version 2 but missing from storage", check.Stdout, StringComparison.Ordinal);
        Assert.Contains($"error    {files[1]}: has 50 bytes in storage, but version 2 records", check.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("2 error(s): the table cannot be read correctly until they are repaired.\n", check.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_SparkTableWithCheckpoint_Clean()
    {
        var r = await CliRunner.RunAsync("table", "check", Path.Combine(TestPaths.DeltaConformance, "golden", "dv-partitioned-with-checkpoint", "delta"), "--deep", "--json");

        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var report = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal((15L, true), (report.GetProperty("version").GetInt64(), report.GetProperty("healthy").GetBoolean()));
        // Only a note: deletion vectors and data files that earlier DELETEs replaced, which VACUUM would remove.
        var note = Assert.Single(report.GetProperty("findings").EnumerateArray());
        Assert.Equal("note", note.GetProperty("severity").GetString());
        Assert.Contains("18 file(s) in the table folder are not part of version 15", note.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }
}
