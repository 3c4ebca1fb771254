using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse adf validate</c> run as a user runs it (a child process): help, wrong arguments, valid and invalid files.</summary>
public sealed class AdfCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-adf");

    public void Dispose() => _temp.Dispose();

    private static string RepoAdf => Path.Combine(TestPaths.RepoRoot, "pipelines", "adf");

    private static Dictionary<string, string> Schemas => new() { ["LAKEHOUSE_ADF_SCHEMAS"] = Path.Combine(TestPaths.Shared, "schemas", "adf") };

    [Fact]
    public async Task Help_Validate_DescribesRulesAndExitCodes()
    {
        var r = await CliRunner.RunAsync("adf", "validate", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("lakehouse adf validate", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("<file>: <JSON path>: <rule>: <reason>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--json", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_UnknownOption_Usage2()
    {
        var r = await CliRunner.RunAsync("adf", "validate", "--strict");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: unknown option '--strict' for 'lakehouse adf validate'", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Validate_RepositoryFolder_AllValidExit0()
    {
        var r = await CliRunner.RunAsync(Schemas, "adf", "validate", RepoAdf);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("12 ADF files valid\n", r.Stdout);
    }

    [Fact]
    public async Task Validate_InvalidFiles_OneLinePerProblemExit1()
    {
        Directory.CreateDirectory(_temp.Combine("pipeline"));
        Directory.CreateDirectory(_temp.Combine("linkedService"));
        var pipeline = _temp.Combine("pipeline", "pl_x.json");
        await File.WriteAllTextAsync(pipeline, """
            { "name": "pl_x", "properties": { "activities": [
                { "name": "Silver", "type": "Custom", "policy": { "retry": "two", "timeout": "0.01:00:00" },
                  "linkedServiceName": { "referenceName": "ls_batch", "type": "LinkedServiceReference" },
                  "typeProperties": { "command": "lakehouse silver run" } } ] } }
            """);
        var linked = _temp.Combine("linkedService", "ls_x.json");
        await File.WriteAllTextAsync(linked, """
            { "name": "ls_x", "properties": { "type": "AzureBatch", "typeProperties": { "accountName": "a", "batchUri": "https://a.batch.azure.com",
              "poolName": "p", "accessKey": { "type": "SecureString", "value": "TOP-SECRET-KEY" },
              "linkedServiceName": { "referenceName": "ls_s", "type": "LinkedServiceReference" } } } }
            """);
        var empty = _temp.Combine("pipeline", "pl_empty.json");
        await File.WriteAllTextAsync(empty, "");

        var r = await CliRunner.RunAsync(Schemas, "adf", "validate", pipeline, linked, empty);
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"{pipeline}: $.properties.activities[0].policy.retry: overlay:NotOneOf: ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"{linked}: $.properties.typeProperties.accessKey: lakehouse:secret-in-keyvault: ", lines[1], StringComparison.Ordinal);
        Assert.Equal($"{empty}: $: lakehouse:json: the file is empty", lines[2]);
        Assert.Equal("3 problem(s) in 3 of 3 ADF files\n", r.Stderr);
        Assert.DoesNotContain("TOP-SECRET-KEY", r.Stdout + r.Stderr, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync(Schemas, "adf", "validate", "--json", pipeline);
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        var problem = Assert.Single(doc.RootElement.GetProperty("problems").EnumerateArray());
        Assert.Equal("$.properties.activities[0].policy.retry", problem.GetProperty("path").GetString());
        Assert.Equal("overlay:NotOneOf", problem.GetProperty("rule").GetString());
    }

    /// <summary>
    /// An expression <c>pipeline run</c> refuses before running is a problem for validate too, with the runner's own message
    /// (validate passed unknown functions, unclosed strings and undeclared parameters, and export-arm wrote them).
    /// </summary>
    [Theory]
    [InlineData("@frobnicate('x')", "ADF expression error at position 1: unknown function 'frobnicate'.")]
    [InlineData("@concat('abc", "ADF expression error at position 8: the string literal is not closed with a quote (write '' for a quote inside a string).")]
    [InlineData("@pipeline().parameters.nosuch", "ADF expression error at position 22: the pipeline has no parameter 'nosuch'.")]
    public async Task Validate_ExpressionPipelineRunRefuses_SameProblemExit1(string command, string reason)
    {
        Directory.CreateDirectory(_temp.Combine("pipeline"));
        var pipeline = _temp.Combine("pipeline", "pl_x.json");
        await File.WriteAllTextAsync(pipeline, $$"""
            { "name": "pl_x", "properties": { "activities": [
                { "name": "Silver", "type": "Custom", "linkedServiceName": { "referenceName": "ls_batch", "type": "LinkedServiceReference" },
                  "typeProperties": { "command": {{JsonSerializer.Serialize(command)}} } } ] } }
            """);

        var r = await CliRunner.RunAsync(Schemas, "adf", "validate", pipeline);
        var run = await CliRunner.RunAsync("pipeline", "run", pipeline, "--lake", _temp.Combine("lake"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"{pipeline}: $.properties.activities[0].typeProperties.command: lakehouse:expression: activity 'Silver': {reason}\n", r.Stdout);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{pipeline}: $.properties.activities[0].typeProperties.command (activity 'Silver'): {reason}", run.Stderr, StringComparison.Ordinal);
    }

    /// <summary>An Until's timeout over ADF's 90 days: validate and run refuse it alike, naming the activity (both let it through).</summary>
    [Fact]
    public async Task Validate_UntilTimeoutOverNinetyDays_PipelineRunRefusesTheSameExit1()
    {
        Directory.CreateDirectory(_temp.Combine("pipeline"));
        var pipeline = _temp.Combine("pipeline", "pl_x.json");
        await File.WriteAllTextAsync(pipeline, """
            { "name": "pl_x", "properties": { "activities": [
                { "name": "Loop", "type": "Until", "typeProperties": { "expression": { "value": "@equals(1, 1)", "type": "Expression" }, "timeout": "91.00:00:00",
                  "activities": [ { "name": "Pause", "type": "Wait", "typeProperties": { "waitTimeInSeconds": 1 } } ] } } ] } }
            """);
        const string Reason = "'91.00:00:00' is longer than 90 days (90.00:00:00), the longest timeout ADF allows an Until";

        var r = await CliRunner.RunAsync(Schemas, "adf", "validate", pipeline);
        var run = await CliRunner.RunAsync("pipeline", "run", pipeline, "--lake", _temp.Combine("lake"));

        Assert.Equal((1, $"{pipeline}: $.properties.activities[0].typeProperties.timeout: lakehouse:policy: activity 'Loop': {Reason}\n"), (r.ExitCode, r.Stdout));
        Assert.Equal((1, $"error: {pipeline}: the pipeline cannot run (1 problem, nothing was run):\n  {pipeline}: $.properties.activities[0].typeProperties.timeout (activity 'Loop'): {Reason}\n"),
            (run.ExitCode, run.Stderr));
    }

    [Fact]
    public async Task Validate_FolderWithoutAdfFiles_Usage2()
    {
        var r = await CliRunner.RunAsync(Schemas, "adf", "validate", _temp.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"error: no ADF files in {_temp.Path}", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SchemaFolderMissing_Error1()
    {
        var r = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_ADF_SCHEMAS"] = _temp.Combine("none") }, "adf", "validate", RepoAdf);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ADF schema file missing: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_NoArgumentsInsideRepository_ChecksPipelinesAdf()
    {
        var r = await CliRunner.ShellAsync($"cd '{TestPaths.RepoRoot}/pipelines' && $LAKEHOUSE adf validate", Schemas);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("12 ADF files valid\n", r.Stdout);
    }
}
