using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>Progress is drawn on standard error only when it is a terminal (here a pseudo-terminal from script(1)); redirected, nothing.</summary>
public sealed class ProgressTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-progress");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Import_StderrATerminal_ProgressThere_StdoutKeepsOnlyTheResult()
    {
        var file = _temp.Combine("rows.ndjson");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 200_000).Select(i => $$"""{"id": {{i}}, "page": "/p/{{i % 97}}"}"""));
        var output = _temp.Combine("out.txt");
        var table = _temp.Combine("t");
        var terminal = await CliRunner.ShellAsync($"script -qec \"$LAKEHOUSE table import '{file}' --to '{table}' > '{output}'\" /dev/null",
            new Dictionary<string, string> { ["TERM"] = "xterm-256color" });
        Assert.True(terminal.ExitCode == 0, terminal.Stdout + terminal.Stderr);
        Assert.Contains("importing 1 file(s) into", terminal.Stdout, StringComparison.Ordinal); // what the terminal showed (wrapped to its width)
        Assert.StartsWith($"imported 200000 rows into {table}: version 0, ", await File.ReadAllTextAsync(output), StringComparison.Ordinal);

        var redirected = await CliRunner.RunAsync("table", "import", file, "--to", table);
        Assert.Equal((0, ""), (redirected.ExitCode, redirected.Stderr));
        Assert.StartsWith($"imported 200000 rows into {table}: version 1, ", redirected.Stdout, StringComparison.Ordinal);
    }
}
