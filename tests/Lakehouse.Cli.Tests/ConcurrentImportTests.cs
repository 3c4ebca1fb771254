using System.Diagnostics;
using System.Text.Json;
using Lakehouse.CrashHarness;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// Separate <c>lakehouse</c> processes writing one table: 4 processes × 50 imports, on local disk and on Azurite; and a
/// process killed after writing data files but before committing.
/// </summary>
public sealed class ConcurrentImportTests(AzuriteServer azurite, ITestOutputHelper output) : IClassFixture<AzuriteServer>, IDisposable
{
    private const int Processes = 4;
    private const int ImportsEach = 50;
    private const int RowsEach = 3;

    private readonly TempDirectory _temp = new("cli-concurrent");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public Task Import_FourProcessesFiftyEachOnLocalDisk_TwoHundredCommitsAndEveryRow() =>
        FourProcessesAsync(_temp.Combine("table"), new Dictionary<string, string>());

    [Fact]
    public async Task Import_FourProcessesFiftyEachOnAzurite_TwoHundredCommitsAndEveryRow()
    {
        await using var container = await azurite.CreateContainerAsync("cli");
        await FourProcessesAsync(container.Location + "/weblogs", new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = azurite.ConnectionString });
    }

    /// <summary>Each process is a bash loop of 50 <c>lakehouse table import</c> runs, each import its own process.</summary>
    private async Task FourProcessesAsync(string table, Dictionary<string, string> environment)
    {
        for (var w = 0; w < Processes; w++)
        {
            for (var i = 0; i < ImportsEach; i++)
            {
                var lines = Enumerable.Range(0, RowsEach).Select(r => $$"""{"writer": {{w}}, "seq": {{i}}, "row": {{r}}, "page_url": "/p/{{w}}"}""");
                await File.WriteAllLinesAsync(_temp.Combine($"w{w}-{i:D2}.ndjson"), lines);
            }
        }
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, Processes).Select(w => CliRunner.ShellAsync(
            $"for f in '{_temp.Path}'/w{w}-*.ndjson; do $LAKEHOUSE table import \"$f\" --to '{table}' >/dev/null || exit 1; done", environment)).ToList();
        var results = await Task.WhenAll(loops);
        clock.Stop();
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Stderr));
        output.WriteLine($"{Processes} processes x {ImportsEach} imports into {table}: {clock.Elapsed.TotalSeconds:0.0} s");

        var history = await CliRunner.RunAsync(environment, "table", "history", table, "--json");
        Assert.True(history.ExitCode == 0, history.Stderr);
        var commits = history.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(0, Processes * ImportsEach).Reverse().Select(v => (long)v), commits.Select(c => c.GetProperty("version").GetInt64()));
        Assert.Equal(1, commits.Count(c => c.GetProperty("operation").GetString() == "CREATE TABLE AS SELECT"));
        Assert.Equal((Processes * ImportsEach) - 1, commits.Count(c => c.GetProperty("operation").GetString() == "WRITE"));

        var read = await CliRunner.RunAsync(environment, "table", "read", table, "--format", "jsonl");
        Assert.True(read.ExitCode == 0, read.Stderr);
        var rows = read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => (r.GetProperty("writer").GetInt64(), r.GetProperty("seq").GetInt64(), r.GetProperty("row").GetInt64()))
            .Order()
            .ToList();
        var expected = from w in Enumerable.Range(0, Processes)
                       from i in Enumerable.Range(0, ImportsEach)
                       from r in Enumerable.Range(0, RowsEach)
                       select ((long)w, (long)i, (long)r);
        Assert.Equal(expected, rows);

        var info = await CliRunner.RunAsync(environment, "table", "info", table, "--json");
        using var doc = JsonDocument.Parse(info.Stdout);
        Assert.Equal(190, doc.RootElement.GetProperty("checkpointVersion").GetInt64());
    }

    /// <summary>
    /// A big import is killed (SIGKILL) once its data files are on disk but before its commit: the table keeps its
    /// content and version, a later import commits normally, and VACUUM (forced to a zero retention) removes the orphans.
    /// </summary>
    [Fact]
    public async Task Import_KilledBetweenDataFilesAndCommit_TableUnchangedAndVacuumRemovesOrphans()
    {
        var table = _temp.Combine("table");
        var small = _temp.Combine("small.ndjson");
        await File.WriteAllTextAsync(small, "{\"id\": -1, \"payload\": \"x\"}\n");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", small, "--to", table)).ExitCode);
        var committed = Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories).Single();

        // Enough rows that DuckDB writes several data files.
        var big = _temp.Combine("big.ndjson");
        await using (var writer = new StreamWriter(big))
        {
            for (var i = 0; i < 600_000; i++) await writer.WriteLineAsync($$"""{"id": {{i}}, "payload": "{{Guid.NewGuid():N}}{{Guid.NewGuid():N}}"}""");
        }
        // SIGKILL at the write path's crash point between the data files and the commit (LAKEHOUSE_FAULT_POINT, see
        // Lakehouse.Delta.Write.FaultPoint), not when a poll first sees a file: a fast import can commit between two polls.
        var killed = await LakehouseChild.RunAsync(["table", "import", big, "--to", table], new Dictionary<string, string> { ["LAKEHOUSE_FAULT_POINT"] = "after-data-files:1" });
        Assert.True(killed.WasKilled, $"the import was not killed at its commit (exit {killed.ExitCode}): {killed.Stderr}");
        Assert.Single(Directory.GetFiles(Path.Combine(table, "_delta_log"), "*.json")); // no commit beyond version 0
        var orphans = Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories).Where(f => f != committed).ToList();
        Assert.NotEmpty(orphans);

        var rows = await CliRunner.RunAsync("table", "read", table, "--format", "jsonl");
        Assert.Equal("{\"id\":-1,\"payload\":\"x\"}\n", rows.Stdout);

        // The table is still writable, and the orphans go once VACUUM's retention has passed them.
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", small, "--to", table)).ExitCode);
        var vacuum = await CliRunner.RunAsync("table", "vacuum", table, "--retention-hours", "0", "--force");
        Assert.True(vacuum.ExitCode == 0, vacuum.Stderr);
        Assert.All(orphans, o => Assert.False(File.Exists(o), o));
        Assert.Equal(2, Directory.GetFiles(table, "*.parquet", SearchOption.AllDirectories).Length);
        var after = await CliRunner.RunAsync("table", "read", table, "--format", "jsonl");
        Assert.Equal(["{\"id\":-1,\"payload\":\"x\"}", "{\"id\":-1,\"payload\":\"x\"}"], after.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
