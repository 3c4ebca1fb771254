using System.Text.Json.Nodes;
using Lakehouse.Pipelines.State;
using Lakehouse.Pipelines.Tests.State;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Pipelines;

/// <summary><c>lakehouse pipeline run</c> and <c>pipeline runs</c> as a user runs them, on the repository's ADF files.</summary>
public sealed class PipelineRunCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("pipeline-run");

    private string Lake => _temp.Combine("lake");

    private static string Medallion => Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json");

    public void Dispose() => _temp.Dispose();

    internal static async Task<List<string>> SqlAsync(string lake, string query)
    {
        var result = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", query);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    internal static async Task ProduceAsync(string landing, int events)
    {
        var produce = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", events.ToString(System.Globalization.CultureInfo.InvariantCulture), "--to", Path.Combine(landing, "weblogs"));
        Assert.True(produce.ExitCode == 0, produce.Stderr);
    }

    /// <summary>
    /// A Custom activity whose lakehouse command ends with a usage error (exit 2) is not retried: the same command line fails the
    /// same way (the medallion's steps retried it twice, 60 s apart). Another failure still is.
    /// </summary>
    [Fact]
    public async Task PipelineRun_LakehouseUsageError_NotRetried()
    {
        var file = _temp.Combine("pipeline", "pl_usage.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """
            {"name": "pl_usage", "properties": {"activities": [
              {"name": "Typo", "type": "Custom", "policy": {"retry": 2, "retryIntervalInSeconds": 600}, "typeProperties": {"command": "lakehouse table lsit"}}
            ]}}
            """);

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake, "--json");

        Assert.Equal(1, run.ExitCode);
        var activity = JsonNode.Parse(run.Stdout)!["activities"]!.AsArray().Single()!;
        Assert.Equal(("Failed", 1), (activity["status"]!.GetValue<string>(), activity["attempt"]!.GetValue<int>()));
        Assert.Contains("The command exited with code 2: error: unknown command 'lsit'", activity["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipelineRun_MedallionOnLocalFolders_FillsGoldAndRunsShowsEveryActivity()
    {
        // A space in the path: the activities' command lines quote the parameters (the Bronze step got 'unexpected argument').
        var landing = _temp.Combine("land ing");
        await ProduceAsync(landing, 3000);

        var run = await CliRunner.RunAsync("pipeline", "run", Medallion, "--lake", Lake, "--json",
            "--param", $"lakeRoot={Lake}", "--param", $"landingRoot={landing}",
            "--param", "synapseViewsScript=SELECT count(*) AS days, sum(events) AS events FROM gold.page_performance_daily");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var result = JsonNode.Parse(run.Stdout)!;
        var runId = result["runId"]!.GetValue<string>();
        Assert.Equal(("pl_medallion", "Succeeded"), (result["pipeline"]!.GetValue<string>(), result["status"]!.GetValue<string>()));
        var goldRows = long.Parse((await SqlAsync(Lake, "SELECT count(*) FROM gold.page_performance_daily")).Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(goldRows > 0);
        var history = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--run", runId, "--json");
        Assert.True(history.ExitCode == 0, history.Stderr);
        var activities = JsonNode.Parse(history.Stdout)!["activities"]!.AsArray().ToDictionary(a => a!["name"]!.GetValue<string>(), a => a!);
        Assert.Equal(["Bronze", "FailRun", "Gold", "NotifyFailure", "RefreshSynapseViews", "Silver"], activities.Keys.Order(StringComparer.Ordinal));
        foreach (var name in new[] { "Bronze", "Silver", "Gold", "RefreshSynapseViews" })
        {
            Assert.Equal("Succeeded", activities[name]["status"]!.GetValue<string>());
            Assert.True(activities[name]["durationMs"]!.GetValue<long>() >= 0);
        }
        Assert.Equal(("Skipped", "Skipped"), (activities["NotifyFailure"]["status"]!.GetValue<string>(), activities["FailRun"]["status"]!.GetValue<string>()));
        Assert.Equal(0, activities["Gold"]["output"]!["exitcode"]!.GetValue<int>());
        var script = activities["RefreshSynapseViews"]["output"]!["resultSets"]![0]!["rows"]![0]!;
        Assert.Equal(goldRows, script["days"]!.GetValue<long>());
        Assert.True(File.Exists(Path.Combine(Lake, "_lakehouse", "runs", runId, "Bronze.log")));

        var list = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake);
        Assert.Contains($"{runId}  pl_medallion", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("Succeeded", list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipelineRun_UnknownActivityType_Exit1NamingFileActivityAndPathBeforeAnythingRuns()
    {
        var file = _temp.Combine("pl_bad.json");
        var marker = _temp.Combine("ran");
        await File.WriteAllTextAsync(file, $$$"""
            {"name": "pl_bad", "properties": {"activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}},
              {"name": "Copy1", "type": "Copy", "typeProperties": {}}
            ]}}
            """);

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{file}: $.properties.activities[1].type (activity 'Copy1'): the activity type 'Copy' is unknown to the local runner", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// A timeout over ADF's 7 days is refused before anything runs, naming file, activity and value (it passed the check,
    /// Bronze ran, then the run crashed with "Specified argument was out of the range of valid values." and stayed InProgress).
    /// </summary>
    [Theory]
    [InlineData("{\"timeout\": \"99999.00:00:00\"}", "$.properties.activities[1].policy.timeout (activity 'Second'): '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows")]
    [InlineData("{\"retry\": \"two\"}", "$.properties.activities[1].policy.retry (activity 'Second'): 'two' is not a retry count (a whole number from 0)")]
    [InlineData("{\"retryIntervalInSeconds\": 0}", "$.properties.activities[1].policy.retryIntervalInSeconds (activity 'Second'): 0 is not a retry interval (whole seconds from 30 to 86400)")]
    public async Task PipelineRun_BadPolicyOnALaterActivity_Exit1BeforeAnythingRunsNothingRecorded(string policy, string expected)
    {
        var file = _temp.Combine("pipeline", "pl_policy.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var marker = _temp.Combine("ran");
        await File.WriteAllTextAsync(file, $$$"""
            {"name": "pl_policy", "properties": {"activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}},
              {"name": "Second", "type": "Custom", "dependsOn": [{"activity": "First", "dependencyConditions": ["Succeeded"]}],
               "policy": {{{policy}}}, "typeProperties": {"command": "exit 0"}}
            ]}}
            """);

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {file}: the pipeline cannot run (1 problem, nothing was run):\n  {file}: {expected}\n", run.Stderr);
        Assert.False(File.Exists(marker));
        Assert.False(File.Exists(SqlitePipelineStateStore.PathUnderLake(Lake)), "nothing is recorded");
    }

    /// <summary>
    /// A --param value that is not of its parameter's type: exit 1, the error names the parameter, its declared type and the
    /// value, and nothing else (it also said the given parameter "has no default value: give it"), and nothing runs.
    /// </summary>
    [Fact]
    public async Task PipelineRun_ParamNotOfItsType_Exit1NamingParameterTypeAndValueOnly()
    {
        var file = _temp.Combine("pipeline", "pl_param.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var marker = _temp.Combine("ran");
        await File.WriteAllTextAsync(file, $$$"""
            {"name": "pl_param", "properties": {"parameters": {"days": {"type": "Int"}, "full": {"type": "Bool", "defaultValue": false}}, "activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}}
            ]}}
            """);

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake, "--param", "days=seven", "--param", "full=yes");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: {file}: the run's parameters are not valid: parameter 'days' of type Int: the value 'seven' is not an Int; "
            + "parameter 'full' of type Bool: the value 'yes' is not a Bool (true or false)\n", run.Stderr);
        Assert.False(File.Exists(marker));
        Assert.False(File.Exists(SqlitePipelineStateStore.PathUnderLake(Lake)), "nothing is recorded");
    }

    /// <summary>
    /// A pipeline's variable types are ADF's (String, Bool, Array): a Bool variable runs (exit 0; it was refused), a Boolean or
    /// Integer one, which ADF refuses, is refused with exit 1 naming file, path and the types (it ran).
    /// </summary>
    [Theory]
    [InlineData("Bool", 0, null)]
    [InlineData("Boolean", 1, "$.properties.variables.flag.type: 'Boolean' is not a variable type (String, Bool, Array, in any casing); ADF spells it Bool")]
    [InlineData("Integer", 1, "$.properties.variables.flag.type: 'Integer' is not a variable type (String, Bool, Array, in any casing)")]
    public async Task PipelineRun_VariableType_RunsOnlyAdfTypes(string type, int exitCode, string? expected)
    {
        var file = _temp.Combine("pipeline", "pl_var.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var marker = _temp.Combine("ran");
        await File.WriteAllTextAsync(file, $$$"""
            {"name": "pl_var", "properties": {"variables": {"flag": {"type": "{{{type}}}"}}, "activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}}
            ]}}
            """);

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake);

        Assert.True(run.ExitCode == exitCode, run.Stderr);
        if (expected is null) Assert.True(File.Exists(marker));
        else
        {
            Assert.Equal($"error: {file}: the pipeline cannot run (1 problem, nothing was run):\n  {file}: {expected}\n", run.Stderr);
            Assert.False(File.Exists(marker));
        }
    }

    /// <summary>
    /// A timeout of 99999 days that comes from a parameter is only known when the activity starts: the run ends with exit 1,
    /// an error naming the activity and the value, and is recorded Failed (it stayed InProgress, and the same command line
    /// resumed it and crashed again).
    /// </summary>
    [Fact]
    public async Task PipelineRun_TimeoutFromParameterOverSevenDays_Exit1NamingActivityAndRunRecordedFailed()
    {
        var file = _temp.Combine("pipeline", "pl_long.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """
            {"name": "pl_long", "properties": {"parameters": {"t": {"type": "String", "defaultValue": "0.01:00:00"}}, "activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "exit 0"}},
              {"name": "Second", "type": "Custom", "dependsOn": [{"activity": "First", "dependencyConditions": ["Succeeded"]}],
               "policy": {"timeout": "@pipeline().parameters.t"}, "typeProperties": {"command": "exit 0"}}
            ]}}
            """);
        string[] command = ["pipeline", "run", file, "--lake", Lake, "--param", "t=99999.00:00:00"];
        const string Reason = "activity Second: policy.timeout '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows";

        var run = await CliRunner.RunAsync(command);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"error: {Reason} (run ", run.Stderr, StringComparison.Ordinal);
        var runs = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--json");
        var recorded = Assert.Single(JsonNode.Parse(runs.Stdout)!.AsArray())!;
        Assert.Equal(("Failed", Reason), (recorded["status"]!.GetValue<string>(), recorded["error"]!.GetValue<string>()));
        var again = await CliRunner.RunAsync(command);
        Assert.Equal(1, again.ExitCode);
        Assert.DoesNotContain("resuming", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>--resume of a run that does not exist says only that (it said "resuming run nosuch" first).</summary>
    [Fact]
    public async Task PipelineRun_ResumeUnknownRun_Exit1SayingOnlyThatThereIsNoSuchRun()
    {
        var run = await CliRunner.RunAsync("pipeline", "run", "--resume", "nosuch", "--lake", Lake);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: There is no pipeline run 'nosuch' in the state store.\n", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    /// <summary>runs --pipeline naming a pipeline without runs says there are none of it (it said there were no runs at all).</summary>
    [Fact]
    public async Task PipelineRuns_PipelineWithoutRunsBesideOthers_SaysNoneOfThatPipeline()
    {
        var file = _temp.Combine("pipeline", "pl_one.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{"name": "pl_one", "properties": {"activities": [{"name": "A", "type": "Custom", "typeProperties": {"command": "exit 0"}}]}}""");
        Assert.Equal(0, (await CliRunner.RunAsync("pipeline", "run", file, "--lake", Lake)).ExitCode);

        var runs = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--pipeline", "nosuch");

        Assert.Equal(0, runs.ExitCode);
        Assert.Equal($"no runs of pipeline 'nosuch' in the state store of {Lake}\n", runs.Stderr);
        Assert.Equal("", runs.Stdout);
    }

    [Theory]
    [InlineData("--param", "noequals", "--param must be name=value, not 'noequals'")]
    [InlineData("--trigger-body", "[1]", "--trigger-body must be a JSON object")]
    public async Task PipelineRun_BadCommandLine_Exit2(string option, string value, string expected)
    {
        var run = await CliRunner.RunAsync("pipeline", "run", Medallion, "--lake", Lake, option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipelineRun_TriggerBodyAndFailure_WebhookGetsTheRunAndExitIs1()
    {
        using var listener = new Lakehouse.Pipelines.Tests.Runner.RequestRecorder();
        var file = _temp.Combine("pl_trigger.json");
        await File.WriteAllTextAsync(file, """
            {"name": "pl_trigger", "properties": {"activities": [
              {"name": "Land", "type": "Custom", "typeProperties": {"command": "@concat('echo ', triggerBody().fileName, '; exit 4')"}}
            ]}}
            """);

        var run = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_PIPELINE_WEBHOOK_URL"] = listener.Uri("/hook").ToString() },
            "pipeline", "run", file, "--lake", Lake, "--trigger-body", "{\"folderPath\":\"landing/weblogs\",\"fileName\":\"a.ndjson\"}", "--json");

        Assert.Equal(1, run.ExitCode);
        var result = JsonNode.Parse(run.Stdout)!;
        Assert.Equal("a.ndjson", result["activities"]![0]!["output"]!["stdout"]!.GetValue<string>());
        var hook = JsonNode.Parse(Assert.Single(listener.Requests).Body)!;
        Assert.Equal((result["runId"]!.GetValue<string>(), "Land"), (hook["runId"]!.GetValue<string>(), hook["failedActivity"]!.GetValue<string>()));
        Assert.StartsWith("The command exited with code 4", hook["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}

/// <summary>
/// SIGKILL of the runner (a child <c>lakehouse pipeline run</c>) in the middle of a bronze → silver → pause → gold pipeline,
/// then the same command line again: it resumes the run from the state store's checkpoints, and the layers that committed
/// before the kill are not run again (same activity attempts, same Delta versions).
/// </summary>
public abstract class PipelineCrashResumeTests : IAsyncLifetime
{
    protected TempDirectory Temp { get; } = new("pipeline-crash");

    protected string Lake => Temp.Combine("lake");

    protected abstract IDictionary<string, string> Environment { get; }

    protected abstract IPipelineStateStore OpenStore();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        Temp.Dispose();
        return Task.CompletedTask;
    }

    private int DeltaCommits(string layer) => Directory.GetFiles(Path.Combine(Lake, layer, "weblogs", "_delta_log"), "*.json").Length;

    [Fact]
    public async Task PipelineRun_RunnerKilledMidPipeline_SameCommandResumesWithoutRedoingCommittedLayers()
    {
        var landing = Temp.Combine("landing");
        await PipelineRunCommandTests.ProduceAsync(landing, 2000);
        var go = Temp.Combine("go");
        var file = Temp.Combine("pipeline", "pl_crash.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        JsonObject Step(string name, string command, string? after) => new()
        {
            ["name"] = name,
            ["type"] = "Custom",
            ["dependsOn"] = after is null ? new JsonArray() : new JsonArray(new JsonObject { ["activity"] = after, ["dependencyConditions"] = new JsonArray("Succeeded") }),
            ["typeProperties"] = new JsonObject { ["command"] = command },
        };
        await File.WriteAllTextAsync(file, new JsonObject
        {
            ["name"] = "pl_crash",
            ["properties"] = new JsonObject
            {
                ["activities"] = new JsonArray(
                    Step("Bronze", $"lakehouse bronze ingest --dataset weblogs --from {landing}/weblogs --once --lake {Lake}", null),
                    Step("Silver", $"lakehouse silver run --dataset weblogs --lake {Lake}", "Bronze"),
                    Step("Pause", $"[ -f {go} ] || sleep 600", "Silver"),
                    Step("Gold", $"lakehouse gold run --dataset weblogs --lake {Lake}", "Pause")),
            },
        }.ToJsonString());
        string[] command = ["pipeline", "run", file, "--lake", Lake];

        string runId;
        ActivityRunRecord bronze, silver;
        int pausePid;
        using (var runner = CliRunner.Start(command, environment: Environment))
        {
            ActivityRunRecord? pause = null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await using var store = OpenStore();
            await store.InitializeAsync();
            while (true)
            {
                Assert.False(runner.HasExited, "the runner ended before the pause: " + runner.Stderr);
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "the pause did not start: " + runner.Stderr);
                if ((await store.ListRunsAsync("pl_crash")) is [var r, ..]
                    && (await store.ListActivitiesAsync(r.RunId)).FirstOrDefault(a => a.ActivityName == "Pause") is { OutputJson: not null } p)
                {
                    pause = p;
                    break;
                }
                await Task.Delay(200);
            }
            runId = pause.RunId;
            pausePid = JsonNode.Parse(pause.OutputJson!)!["pid"]!.GetValue<int>();
            await runner.SignalAsync("KILL");
            await runner.WaitAsync();
            var activities = await store.ListActivitiesAsync(runId);
            bronze = activities.Single(a => a.ActivityName == "Bronze");
            silver = activities.Single(a => a.ActivityName == "Silver");
            Assert.Equal(RunStatus.InProgress, (await store.GetRunAsync(runId)).Status);
            Assert.Equal(RunStatus.InProgress, activities.Single(a => a.ActivityName == "Pause").Status);
            Assert.DoesNotContain(activities, a => a.ActivityName == "Gold");
        }
        var (bronzeCommits, silverCommits) = (DeltaCommits("bronze"), DeltaCommits("silver"));
        Assert.True(Directory.Exists($"/proc/{pausePid}"), "the pause's process should outlive the killed runner");
        await File.WriteAllTextAsync(go, "");

        var again = await CliRunner.RunAsync(Environment, command);

        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.Contains($"resuming run {runId}", again.Stderr, StringComparison.Ordinal);
        await using (var store = OpenStore())
        {
            await store.InitializeAsync();
            Assert.Equal(RunStatus.Succeeded, (await store.GetRunAsync(runId)).Status);
            Assert.Single(await store.ListRunsAsync("pl_crash"));
            var activities = (await store.ListActivitiesAsync(runId)).ToDictionary(a => a.ActivityName);
            Assert.Equal((RunStatus.Succeeded, 1, bronze.StartedAt, bronze.EndedAt), (activities["Bronze"].Status, activities["Bronze"].Attempt, activities["Bronze"].StartedAt, activities["Bronze"].EndedAt));
            Assert.Equal((RunStatus.Succeeded, 1, silver.StartedAt, silver.EndedAt), (activities["Silver"].Status, activities["Silver"].Attempt, activities["Silver"].StartedAt, activities["Silver"].EndedAt));
            Assert.Equal((RunStatus.Succeeded, 2), (activities["Pause"].Status, activities["Pause"].Attempt));
            Assert.Equal((RunStatus.Succeeded, 1), (activities["Gold"].Status, activities["Gold"].Attempt));
        }
        Assert.Equal((bronzeCommits, silverCommits), (DeltaCommits("bronze"), DeltaCommits("silver")));
        Assert.True(await Lakehouse.Pipelines.Tests.Runner.ProcessState.GoneAsync(pausePid), $"the interrupted pause (pid {pausePid}) still runs after the resume");
        var bronzeLog = await File.ReadAllTextAsync(Path.Combine(Lake, "_lakehouse", "runs", runId, "Bronze.log"));
        Assert.Single(bronzeLog.Split('\n'), l => l.StartsWith("--- exit code", StringComparison.Ordinal));
        var gold = await PipelineRunCommandTests.SqlAsync(Lake, "SELECT count(*) FROM gold.page_performance_daily");
        Assert.True(long.Parse(gold.Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}

/// <summary>The crash test on SQLite (the lake's _lakehouse/state.db).</summary>
public sealed class SqlitePipelineCrashResumeTests : PipelineCrashResumeTests
{
    protected override IDictionary<string, string> Environment { get; } = new Dictionary<string, string>();

    protected override IPipelineStateStore OpenStore() => new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
}

/// <summary>The crash test on Cosmos DB (cosmosdb-server; the child processes trust its certificate through SSL_CERT_FILE).</summary>
public sealed class CosmosPipelineCrashResumeTests(CosmosDbServer server) : PipelineCrashResumeTests, IClassFixture<CosmosDbServer>
{
    private readonly string _database = "crash" + Guid.NewGuid().ToString("N")[..10];

    protected override IDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["LAKEHOUSE_COSMOS_ENDPOINT"] = server.Endpoint.ToString(),
        ["LAKEHOUSE_COSMOS_KEY"] = CosmosDbServer.Key,
        ["LAKEHOUSE_COSMOS_DATABASE"] = _database,
        ["SSL_CERT_FILE"] = server.CertificatePath,
    };

    protected override IPipelineStateStore OpenStore() => server.CreateStore(_database);
}
