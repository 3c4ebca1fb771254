using System.Text.Json.Nodes;
using Lakehouse.Pipelines.State;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse watch</c> run as a user runs it (a child process), starting the real <c>lakehouse pipeline run</c>.</summary>
public sealed class WatchCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-watch");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("landing");

    [Fact]
    public async Task Watch_NeitherTriggerNorPipeline_Usage2()
    {
        Directory.CreateDirectory(Landing);
        var r = await CliRunner.RunAsync("watch", Landing, "--once", "--lake", Lake);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: 'lakehouse watch' needs --trigger <file> or --pipeline <file> (see lakehouse watch --help)\n", r.Stderr);
    }

    [Fact]
    public async Task Watch_BadParam_Usage2()
    {
        Directory.CreateDirectory(Landing);
        var r = await CliRunner.RunAsync("watch", Landing, "--trigger", TriggerOfRepository, "--param", "lakeRoot", "--once", "--lake", Lake);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: --param must be name=value, not 'lakeRoot'\n", r.Stderr);
    }

    /// <summary>A --param-env whose variable is not set is refused before any file is claimed: a usage error naming the variable.</summary>
    [Fact]
    public async Task Watch_ParamEnvVariableNotSet_Usage2NamingIt()
    {
        Directory.CreateDirectory(Path.Combine(Landing, "weblogs"));
        await File.WriteAllTextAsync(Path.Combine(Landing, "weblogs", "a.ndjson"), "{}\n");
        var unset = "LAKEHOUSE_TEST_UNSET_" + Guid.NewGuid().ToString("N");

        var r = await CliRunner.RunAsync("watch", Landing, "--trigger", TriggerOfRepository, "--param-env", $"lakeRoot={unset}", "--settle-seconds", "0", "--once", "--lake", Lake);

        Assert.Equal((2, $"error: --param-env lakeRoot={unset}: the environment variable {unset} is not set\n"), (r.ExitCode, r.Stderr));
        Assert.False(File.Exists(Path.Combine(Lake, "_lakehouse", "state.db")), "the watch opened its state store before refusing the command line");
    }

    [Fact]
    public async Task Watch_MissingLanding_Exit1()
    {
        var r = await CliRunner.RunAsync("watch", _temp.Combine("nowhere"), "--trigger", TriggerOfRepository, "--once", "--lake", Lake);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: the landing folder {_temp.Combine("nowhere")} does not exist\n", r.Stderr);
    }

    [Fact]
    public async Task Watch_OnceOnEmptyLanding_StartsNothingExit0()
    {
        Directory.CreateDirectory(Landing);

        var r = await CliRunner.RunAsync("watch", Landing, "--trigger", TriggerOfRepository, "--settle-seconds", "0", "--once", "--lake", Lake);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("watching " + Landing + " for pl_medallion.json (settle 0 s), once\n", r.Stderr);
        Assert.True(File.Exists(Path.Combine(Lake, "_lakehouse", "state.db")));
    }

    [Fact]
    public async Task Watch_CtrlC_StopsCleanlyExit130()
    {
        Directory.CreateDirectory(Landing);
        using var watch = CliRunner.Start(["watch", Landing, "--trigger", TriggerOfRepository, "--lake", Lake]);
        Assert.True(await watch.WaitUntilAsync(() => watch.Stderr.Contains("Ctrl+C stops", StringComparison.Ordinal)), watch.Stderr);

        await watch.SignalAsync("INT");
        var r = await watch.WaitAsync();

        Assert.Equal(130, r.ExitCode);
        Assert.EndsWith("cancelled\n", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// End to end: the watch starts the real <c>lakehouse pipeline run</c> (the local runner, built on another branch: this test passes
    /// once both are merged) for a settled file, the run is in the state store with the trigger's parameters, and a second watch over
    /// the same landing folder starts nothing.
    /// </summary>
    [Fact]
    public async Task Watch_OnceWithLandedFile_RunsPipelineOnceAcrossRestarts()
    {
        var adf = _temp.Combine("adf");
        Directory.CreateDirectory(Path.Combine(adf, "pipeline"));
        Directory.CreateDirectory(Path.Combine(adf, "trigger"));
        await File.WriteAllTextAsync(Path.Combine(adf, "pipeline", "pl_seen.json"), """
            { "name": "pl_seen", "properties": {
                "parameters": { "folderPath": { "type": "String" }, "fileName": { "type": "String" } },
                "variables": { "seen": { "type": "String" } },
                "activities": [ { "name": "Remember", "type": "SetVariable",
                    "typeProperties": { "variableName": "seen", "value": { "value": "@concat(pipeline().parameters.folderPath, '/', pipeline().parameters.fileName)", "type": "Expression" } } } ] } }
            """);
        var trigger = JsonNode.Parse(await File.ReadAllTextAsync(TriggerOfRepository))!;
        trigger["name"] = "tr_seen";
        trigger["properties"]!["pipelines"]![0]!["pipelineReference"]!["referenceName"] = "pl_seen";
        await File.WriteAllTextAsync(Path.Combine(adf, "trigger", "tr_seen.json"), trigger.ToJsonString());
        Directory.CreateDirectory(Path.Combine(Landing, "weblogs"));
        await File.WriteAllTextAsync(Path.Combine(Landing, "weblogs", "part-1.ndjson"), "{\"event_id\":\"e1\"}\n");
        string[] args = ["watch", Landing, "--trigger", Path.Combine(adf, "trigger", "tr_seen.json"), "--settle-seconds", "1", "--once", "--lake", Lake];

        var first = await CliRunner.RunAsync(args);
        var second = await CliRunner.RunAsync(args);

        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stdout + second.Stderr);
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        var run = Assert.Single(await store.ListRunsAsync());
        Assert.Equal("pl_seen", run.Pipeline);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        // The runner records {file, parameters, triggerBody, runner} for the run.
        var parameters = JsonNode.Parse(run.ParametersJson)!["parameters"]!;
        Assert.Equal("landing/weblogs", (string?)parameters["folderPath"]);
        Assert.Equal("part-1.ndjson", (string?)parameters["fileName"]);
    }

    private static string TriggerOfRepository => Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "trigger", "tr_landing_blob_created.json");
}
