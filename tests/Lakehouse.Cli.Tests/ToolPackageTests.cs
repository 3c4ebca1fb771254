using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// The README's way to get a <c>lakehouse</c> command: pack the CLI as a .NET tool, install it into a tool path, and run it from a
/// folder that is not the repository. Packs the Release build the tests run on (--no-build).
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-tool");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task PackAndInstall_LakehouseOnAToolPath_RunsFromAnotherFolder()
    {
        var packages = _temp.Combine("packages");
        var tools = _temp.Combine("tools");
        var project = Path.Combine(TestPaths.RepoRoot, "pipelines", "Lakehouse.Cli");
        var pack = await CliRunner.ShellAsync($"dotnet pack '{project}' -c Release --no-build -o '{packages}' -nologo -v quiet");
        Assert.True(pack.ExitCode == 0, pack.Stdout + pack.Stderr);
        Assert.Equal(["Lakehouse.Cli.1.0.0.nupkg"], Directory.GetFiles(packages).Select(Path.GetFileName));

        var install = await CliRunner.ShellAsync($"dotnet tool install --tool-path '{tools}' --add-source '{packages}' Lakehouse.Cli");
        Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);

        var work = _temp.Combine("somewhere", "else");
        Directory.CreateDirectory(work);
        var help = await CliRunner.ShellAsync($"cd '{work}' && PATH='{tools}':$PATH && lakehouse --help && echo '{{\"id\": 1}}' > one.json " +
            "&& lakehouse table import one.json --to bronze.one --lake ./lake --json && lakehouse sql 'SELECT count(*) AS n FROM bronze.one' --format csv");
        Assert.True(help.ExitCode == 0, help.Stderr);
        Assert.StartsWith("Description:\n  lakehouse: a medallion lakehouse on Delta tables", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("Usage:\n  lakehouse [command] [options]", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"operation\":\"CREATE TABLE AS SELECT\",\"committed\":true,\"version\":0", help.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("n\n1\n", help.Stdout, StringComparison.Ordinal);
    }
}
