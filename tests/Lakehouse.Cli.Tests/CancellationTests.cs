using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// Ctrl+C (SIGINT, sent with kill -INT to the real binary) stops a running import or query with exit code 130 and leaves
/// nothing half-written; a second Ctrl+C ends a process that cannot stop (its output blocked) at once.
/// </summary>
public sealed class CancellationTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-cancel");

    public void Dispose() => _temp.Dispose();

    private static string[] FilesUnder(string folder) =>
        [.. Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal)];

    /// <summary>An NDJSON file big enough that DuckDB writes data files for a few seconds.</summary>
    private async Task<string> BigNdjsonAsync()
    {
        var big = _temp.Combine("big.ndjson");
        await using var writer = new StreamWriter(big);
        for (var i = 0; i < 1_500_000; i++) await writer.WriteLineAsync($$"""{"id": {{i}}, "payload": "{{Guid.NewGuid():N}}{{Guid.NewGuid():N}}"}""");
        return big;
    }

    [Fact]
    public async Task Import_SigIntWhileDataFilesAreWritten_Exit130TableUnchangedAndNoFileLeft()
    {
        var table = _temp.Combine("table");
        var small = _temp.Combine("small.ndjson");
        await File.WriteAllTextAsync(small, "{\"id\": -1, \"payload\": \"x\"}\n");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", small, "--to", table)).ExitCode);
        var before = FilesUnder(table);
        var big = await BigNdjsonAsync();

        using var import = CliRunner.Start(["table", "import", big, "--to", table]);
        var staging = Path.Combine(table, "_lakehouse_staging");
        var sawStagedFile = await import.WaitUntilAsync(() => Directory.Exists(staging) && Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Any());
        Assert.True(sawStagedFile, "the import ended before it staged a data file: " + import.Stderr);
        await import.SignalAsync("INT");
        var result = await import.WaitAsync();

        Assert.Equal(130, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.EndsWith("cancelled\n", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Ctrl+C: stopping 'lakehouse table import'", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, FilesUnder(table)); // no commit, no data file, nothing staged left
        var rows = await CliRunner.RunAsync("table", "read", table, "--format", "jsonl");
        Assert.Equal("{\"id\":-1,\"payload\":\"x\"}\n", rows.Stdout);
        var history = await CliRunner.RunAsync("table", "history", table, "--json");
        Assert.Equal([0L], history.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("version").GetInt64()));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task Sql_SignalDuringALongQuery_QueryInterruptedAndExitCodeOfTheSignal(string signal, int exitCode)
    {
        // The text-table output: DuckDB's query is interrupted on its connection. (CSV output goes through the engine's FIFO
        // copy, which on this branch can still hang when DuckDB fails after opening the FIFO: the engine's rebase fixes that.)
        using var sql = CliRunner.Start(["sql", "SELECT sum(i) FROM range(1000000000000) t(i)", "--lake", _temp.Combine("lake"), "--verbose"]);
        Assert.True(await sql.WaitUntilAsync(() => sql.Stderr.Contains("Running 'lakehouse sql'", StringComparison.Ordinal)), sql.Stderr);
        await sql.SignalAsync(signal);
        var result = await sql.WaitAsync();
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.EndsWith("cancelled\n", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A query or definition file that never comes (a FIFO no one writes to): one Ctrl+C ends the wait for it, exit 130, nothing
    /// run.
    /// </summary>
    [Theory]
    [InlineData("sql")]
    [InlineData("dataset check")]
    public async Task FifoNobodyWrites_OneSigIntEndsTheWait130(string command)
    {
        var fifo = _temp.Combine("input.fifo");
        var (made, output) = await LocalServers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(30));
        Assert.True(made == 0, output);
        string[] args = command == "sql" ? ["sql", "--file", fifo, "--lake", _temp.Combine("lake"), "--verbose"] : ["dataset", "check", fifo, "--verbose"];
        using var run = CliRunner.Start(args);
        Assert.True(await run.WaitUntilAsync(() => run.Stderr.Contains($"Running 'lakehouse {command}'", StringComparison.Ordinal)), run.Stderr);
        await Task.Delay(TimeSpan.FromMilliseconds(300));

        await run.SignalAsync("INT");
        var result = await run.WaitAsync();

        Assert.Equal(130, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.EndsWith("cancelled\n", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// dataset check reads a definition from a pipe as from a file: standard input (<c>-</c>) and a FIFO its writer fills (as
    /// <c>&lt;(…)</c> gives); both were refused before ("not a regular file"; '-' "does not exist").
    /// </summary>
    [Fact]
    public async Task DatasetCheck_StandardInputOrAFifo_ReadAsAFile()
    {
        var fifo = _temp.Combine("clicks.json");
        var (made, output) = await LocalServers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(30));
        Assert.True(made == 0, output);
        const string rename = "sed 's/\"name\": \"weblogs\"/\"name\": \"clicks\"/'";

        var piped = await CliRunner.ShellAsync($"timeout -s KILL 60 $LAKEHOUSE dataset show weblogs | {rename} | timeout -s KILL 60 $LAKEHOUSE dataset check -");
        var definition = _temp.Combine("definition.txt");
        Assert.Equal(0, (await CliRunner.ShellAsync($"$LAKEHOUSE dataset show weblogs | {rename} > '{definition}'")).ExitCode);
        // The writer holds none of the shell's outputs and gives up after 30 s, so a check that never opens the FIFO cannot hang the test.
        var fromFifo = await CliRunner.ShellAsync($"(timeout -s KILL 30 cp '{definition}' '{fifo}' </dev/null >/dev/null 2>&1 &) ; timeout -s KILL 60 $LAKEHOUSE dataset check '{fifo}'");
        var broken = await CliRunner.ShellAsync("echo '{\"name\": \"clicks\"' | timeout -s KILL 60 $LAKEHOUSE dataset check -");

        Assert.Equal((0, "ok: clicks: json, 10 columns, id event_id, event time timestamp\n", "warning: in a lake this definition must be the file _lakehouse/datasets/clicks.json\n"),
            (piped.ExitCode, piped.Stdout, piped.Stderr));
        Assert.Equal((0, "ok: clicks: json, 10 columns, id event_id, event time timestamp\n", ""), (fromFifo.ExitCode, fromFifo.Stdout, fromFifo.Stderr));
        Assert.Equal(1, broken.ExitCode);
        Assert.StartsWith("error: Dataset definition '(standard input)'", broken.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_OutputNobodyReadsAndTwoSigInts_TheSecondEndsTheProcess()
    {
        // Standard output is a pipe nobody reads: once it is full the process cannot finish or stop by itself.
        using var sql = CliRunner.Start(["sql", "SELECT i, repeat('x', 100) FROM range(100000000) t(i)", "--format", "csv", "--lake", _temp.Combine("lake")], readStdout: false);
        Assert.True(await sql.WaitUntilAsync(sql.IsBlockedWritingToAPipe), "the query never blocked on its output: " + sql.Stderr);
        await sql.SignalAsync("INT");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(sql.HasExited, "the first Ctrl+C was expected to leave the blocked process running");
        await sql.SignalAsync("INT");
        var result = await sql.WaitAsync();
        Assert.Equal(130, result.ExitCode); // ended by the signal itself: 128 + SIGINT
    }
}
