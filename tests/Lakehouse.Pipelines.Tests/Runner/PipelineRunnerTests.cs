using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Tests.Runner;

public sealed class PipelineRunnerTests : RunnerTestKit
{
    /// <summary>A shell command that fails until it has been run <paramref name="succeedOn"/> times (a counter in a file).</summary>
    private string FailUntil(int succeedOn, string counter = "count") =>
        $"n=$(cat {Path.Combine(Work, counter)} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {Path.Combine(Work, counter)}; echo attempt $n; [ $n -ge {succeedOn} ] || {{ echo failing >&2; exit 7; }}";

    private int Counter(string counter = "count") => int.Parse(File.ReadAllText(Path.Combine(Work, counter)).Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task RunAsync_FailsTwiceThenSucceedsWithRetry2_Succeeds()
    {
        var file = Pipeline("pl_retry", [Custom("Flaky", FailUntil(3), Retry(2))]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(3, Counter());
        var flaky = result.Activities.Single();
        Assert.Equal((RunStatus.Succeeded, 3), (flaky.Status, flaky.Attempt));
        Assert.Equal(0, JsonNode.Parse(flaky.OutputJson!)!["exitcode"]!.GetValue<int>());
        Assert.Equal("attempt 3", JsonNode.Parse(flaky.OutputJson!)!["stdout"]!.GetValue<string>());
        var log = await File.ReadAllTextAsync(Path.Combine(result.LogDirectory, "Flaky.log"));
        Assert.Equal(3, log.Split('\n').Count(l => l.StartsWith("--- exit code", StringComparison.Ordinal)));
        Assert.Contains("[stderr] failing", log, StringComparison.Ordinal);
    }

    /// <summary>The attempts are retryIntervalInSeconds apart on the runner's clock (it waited on the system's, so a test could only use 0, which ADF refuses).</summary>
    [Fact]
    public async Task RunAsync_RetryInterval_WaitedOnTheRunnersClockBetweenAttempts()
    {
        var file = Pipeline("pl_interval", [Custom("Flaky", FailUntil(3), Retry(2, intervalSeconds: 45))]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Succeeded, 3), (result.Status, result.Activities.Single().Attempt));
        Assert.Equal([TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(45)], Clock.Waits);
    }

    [Fact]
    public async Task RunAsync_FailsTwiceWithRetry1_FailurePathRunsAndWebhookGetsExactlyOneNotification()
    {
        using var listener = new RequestRecorder();
        Webhook = new WebhookOptions { Uri = listener.Uri("/hook/token-in-path"), Secret = "s3cret", BaseDelay = TimeSpan.FromMilliseconds(10) };
        var file = Pipeline("pl_notify",
        [
            Custom("Flaky", FailUntil(3), Retry(1)),
            Activity("NotifyFailure", "WebActivity", new JsonObject
            {
                ["method"] = "POST",
                ["url"] = listener.Uri("/adf").ToString(),
                ["body"] = new JsonObject { ["value"] = "{\"run\":\"@{pipeline().RunId}\",\"error\":\"@{activity('Flaky').error.errorCode}\"}", ["type"] = "Expression" },
            }, null, On("Flaky", "Failed")),
            Activity("FailRun", "Fail", new JsonObject { ["message"] = "medallion failed", ["errorCode"] = "E42" }, null, On("NotifyFailure", "Completed")),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(2, Counter());
        Assert.Equal((RunStatus.Failed, 2), (StatusOf(result, "Flaky"), result.Activities.Single(a => a.ActivityName == "Flaky").Attempt));
        Assert.Equal(RunStatus.Succeeded, StatusOf(result, "NotifyFailure"));
        Assert.Equal(RunStatus.Failed, StatusOf(result, "FailRun"));
        Assert.Equal("medallion failed", result.Error);
        Assert.Equal("Flaky", result.FailedActivity);
        var adf = Assert.Single(listener.Requests, r => r.Path == "/adf");
        Assert.Equal($"{{\"run\":\"{result.RunId}\",\"error\":\"CustomCommandFailed\"}}", adf.Body);
        var hook = Assert.Single(listener.Requests, r => r.Path.StartsWith("/hook", StringComparison.Ordinal));
        Assert.Equal("POST", hook.Method);
        Assert.Equal("s3cret", hook.Headers[WebhookOptions.DefaultSecretHeaderName]);
        Assert.Equal(result.RunId, hook.Headers["Idempotency-Key"]);
        var body = JsonNode.Parse(hook.Body)!;
        Assert.Equal(("pl_notify", result.RunId, "Flaky", result.LogDirectory), (body["pipeline"]!.GetValue<string>(), body["runId"]!.GetValue<string>(),
            body["failedActivity"]!.GetValue<string>(), body["logs"]!.GetValue<string>()));
        Assert.StartsWith("The command exited with code 7: failing", body["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WebhookDown_RunStillFailedWithItsOwnError()
    {
        Webhook = new WebhookOptions { Uri = new Uri($"http://127.0.0.1:{Lakehouse.Testing.LocalServers.FreePort()}/hook"), MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(5) };
        var file = Pipeline("pl_down", [Activity("Stop", "Fail", new JsonObject { ["message"] = "stop here", ["errorCode"] = "E1" })]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Failed, "stop here"), (result.Status, result.Error));
    }

    [Fact]
    public async Task RunAsync_ActivityTimesOut_ProcessTreeIsKilledAndActivityFails()
    {
        var pidFile = Path.Combine(Work, "sleep.pid");
        var file = Pipeline("pl_timeout", [Custom("Slow", $"sleep 60 & echo $! > {pidFile}; wait", Retry(0, "0.00:00:02"))]);
        var clock = Stopwatch.StartNew();

        var result = await CreateRunner().RunAsync(file);

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("timed out after 00:00:02", result.Error, StringComparison.Ordinal);
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
        Assert.True(await ProcessState.GoneAsync(pid), $"the sleep process {pid} still runs after the timeout");
    }

    public static TheoryData<string, string, RunStatus> Matrix() => new()
    {
        // upstream outcome, condition, status of the dependent
        { "Succeeded", "Succeeded", RunStatus.Succeeded },
        { "Succeeded", "Failed", RunStatus.Skipped },
        { "Succeeded", "Skipped", RunStatus.Skipped },
        { "Succeeded", "Completed", RunStatus.Succeeded },
        { "Failed", "Succeeded", RunStatus.Skipped },
        { "Failed", "Failed", RunStatus.Succeeded },
        { "Failed", "Skipped", RunStatus.Skipped },
        { "Failed", "Completed", RunStatus.Succeeded },
        { "Skipped", "Succeeded", RunStatus.Skipped },
        { "Skipped", "Failed", RunStatus.Skipped },
        { "Skipped", "Skipped", RunStatus.Succeeded },
        { "Skipped", "Completed", RunStatus.Skipped },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task RunAsync_DependencyCondition_DependentRunsOnlyWhenConditionMatchesFinalStatus(string upstream, string condition, RunStatus expected)
    {
        // Upstream succeeds (exit 0), fails (exit 1), or is skipped (it waits for Gate's failure, and Gate succeeds).
        var file = Pipeline("pl_matrix",
        [
            Custom("Gate", "exit 0"),
            upstream == "Skipped" ? Custom("Upstream", "exit 0", null, On("Gate", "Failed")) : Custom("Upstream", upstream == "Succeeded" ? "exit 0" : "exit 1"),
            Custom("Dependent", "exit 0", null, On("Upstream", condition)),
        ]);

        var result = await CreateRunner().RunAsync(file);

        var trace = string.Join("; ", result.Activities.Select(a => $"{a.ActivityName} {a.Status} {a.Error}"));
        Assert.True(upstream == StatusOf(result, "Upstream").ToString(), trace);
        Assert.True(expected == StatusOf(result, "Dependent"), trace);
    }

    [Fact]
    public async Task RunAsync_TwoDependencies_BothMustBeMetAndConditionsOfOneEntryAreAlternatives()
    {
        var file = Pipeline("pl_and",
        [
            Custom("Ok", "exit 0"),
            Custom("Bad", "exit 1"),
            Custom("Both", "exit 0", null, On("Ok", "Succeeded"), On("Bad", "Succeeded")),
            Custom("Either", "exit 0", null, On("Ok", "Succeeded"), On("Bad", "Failed", "Skipped")),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Skipped, RunStatus.Succeeded), (StatusOf(result, "Both"), StatusOf(result, "Either")));
    }

    [Theory]
    [InlineData("try-catch, step fails", "exit 1", false, false, RunStatus.Succeeded)]
    [InlineData("try-catch, step succeeds", "exit 0", false, false, RunStatus.Succeeded)]
    [InlineData("do-if-else, step fails", "exit 1", true, false, RunStatus.Failed)]
    [InlineData("do-if-else, step succeeds", "exit 0", true, false, RunStatus.Succeeded)]
    [InlineData("do-if-skip-else, step fails", "exit 1", true, true, RunStatus.Succeeded)]
    [InlineData("generic failure at the end, step fails", "exit 1", false, false, RunStatus.Succeeded)]
    public async Task RunAsync_ErrorHandlingPattern_StatusFollowsAdfLeafRule(string pattern, string step, bool onSuccess, bool skipAfterSuccess, RunStatus expected)
    {
        // The patterns of ADF's "Errors and conditional execution": the pipeline's status is decided by its leaves, a
        // skipped leaf standing for its parent.
        var activities = new JsonArray { Custom("Step", step), Custom("OnFailure", "exit 0", null, On("Step", "Failed")) };
        if (onSuccess) activities.Add(Custom("OnSuccess", "exit 0", null, On("Step", "Succeeded")));
        if (skipAfterSuccess) activities.Add(Custom("DummyOnSkip", "exit 0", null, On("OnSuccess", "Skipped")));
        var file = Pipeline("pl_pattern", activities);

        var result = await CreateRunner().RunAsync(file);

        Assert.True(expected == result.Status, $"{pattern}: {result.Status}: " + string.Join("; ", result.Activities.Select(a => $"{a.ActivityName} {a.Status} {a.Error}")));
    }

    [Fact]
    public async Task RunAsync_FailedStepWhoseOnlyDependentIsSkipped_RunFails()
    {
        var file = Pipeline("pl_chain", [Custom("Step", "exit 1"), Custom("Next", "exit 0", null, On("Step", "Succeeded"))]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Failed, RunStatus.Skipped), (result.Status, StatusOf(result, "Next")));
        Assert.StartsWith("The command exited with code 1", result.Error, StringComparison.Ordinal);
    }

    /// <summary>isSequential and batchCount as JSON (literals, or expressions, which the runner took as false and 20: the loop ran 20 at once).</summary>
    [Theory]
    [InlineData("false", "2", 2)]
    [InlineData("true", "4", 1)]
    [InlineData("""{"value": "@equals(1, 1)", "type": "Expression"}""", "4", 1)]
    [InlineData("false", "\"@add(1, 2)\"", 3)]
    public async Task RunAsync_ForEach_RunsEveryItemWithAtMostBatchCountAtOnce(string sequential, string batchCount, int expectedMax)
    {
        var running = Path.Combine(Work, "running");
        Directory.CreateDirectory(running);
        var seen = Path.Combine(Work, "seen");
        // Each iteration marks itself running, records how many are running, stays 0.4 s, then unmarks itself.
        var command = $"touch {running}/@{{item()}}; ls {running} | wc -l >> {seen}; echo @{{item()}} >> {Path.Combine(Work, "items")}; sleep 0.4; rm {running}/@{{item()}}";
        var file = Pipeline("pl_foreach",
        [
            Activity("EachDay", "ForEach", new JsonObject
            {
                ["items"] = new JsonObject { ["value"] = "@pipeline().parameters.days", ["type"] = "Expression" },
                ["isSequential"] = JsonNode.Parse(sequential),
                ["batchCount"] = JsonNode.Parse(batchCount),
                ["activities"] = new JsonArray(Custom("Work", command)),
            }),
        ], new JsonObject { ["days"] = new JsonObject { ["type"] = "Array", ["defaultValue"] = new JsonArray("d1", "d2", "d3", "d4", "d5", "d6") } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(["d1", "d2", "d3", "d4", "d5", "d6"], (await File.ReadAllLinesAsync(Path.Combine(Work, "items"))).Order(StringComparer.Ordinal));
        var concurrency = (await File.ReadAllLinesAsync(seen)).Select(l => int.Parse(l.Trim(), CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(expectedMax, concurrency.Max());
        Assert.Equal(6, result.Activities.Count(a => a.ActivityName.StartsWith("EachDay/", StringComparison.Ordinal) && a.ActivityName.EndsWith("/Work", StringComparison.Ordinal)));
        Assert.Equal(6, JsonNode.Parse(result.Activities.Single(a => a.ActivityName == "EachDay").OutputJson!)!["itemCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task RunAsync_ForEachIterationFails_ForEachFailsAfterAllIterations()
    {
        var file = Pipeline("pl_foreach_fail",
        [
            Activity("Each", "ForEach", new JsonObject
            {
                ["items"] = new JsonObject { ["value"] = "@createArray(1, 2, 3)", ["type"] = "Expression" },
                ["activities"] = new JsonArray(Custom("Work", "echo @{item()} >> " + Path.Combine(Work, "done") + "; [ @{item()} -ne 2 ]")),
            }),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(3, (await File.ReadAllLinesAsync(Path.Combine(Work, "done"))).Length);
        Assert.Equal(RunStatus.Failed, StatusOf(result, "Each/1/Work"));
        Assert.Equal(RunStatus.Succeeded, StatusOf(result, "Each/2/Work"));
    }

    /// <summary>More items than ADF's ForEach takes (100,000): the ForEach fails before any iteration, naming the count (it ran them all).</summary>
    [Fact]
    public async Task RunAsync_ForEachOverMoreItemsThanAdfTakes_FailsBeforeAnyIteration()
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_foreach_many",
        [
            Activity("Each", "ForEach", new JsonObject
            {
                ["items"] = new JsonObject { ["value"] = "@union(range(0, 100000), range(100000, 1))", ["type"] = "Expression" },
                ["isSequential"] = true,
                ["activities"] = new JsonArray(Custom("Work", $"touch {marker}")),
            }),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal("Activity 'Each': items holds 100001 items; ADF's ForEach takes at most 100000: split them, and run a ForEach over each part in a pipeline of its own (ExecutePipeline).",
            result.Activities.Single(a => a.ActivityName == "Each").Error);
        Assert.False(File.Exists(marker));
    }

    /// <summary>isSequential false from an expression, with a SetVariable inside: the ForEach fails when it starts, as adf validate refuses the literal false.</summary>
    [Fact]
    public async Task RunAsync_ParallelByExpressionWithSetVariable_ForEachFailsBeforeAnyIteration()
    {
        var file = Pipeline("pl_foreach_set",
        [
            Activity("Each", "ForEach", new JsonObject
            {
                ["items"] = new JsonObject { ["value"] = "@createArray(1, 2, 3)", ["type"] = "Expression" },
                ["isSequential"] = new JsonObject { ["value"] = "@equals(1, 2)", ["type"] = "Expression" },
                ["activities"] = new JsonArray(Activity("Keep", "SetVariable", new JsonObject { ["variableName"] = "last", ["value"] = "@string(item())" })),
            }),
        ], variables: new JsonObject { ["last"] = new JsonObject { ["type"] = "String" } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.StartsWith("Activity 'Each': SetVariable 'Keep' is inside this ForEach, whose iterations run in parallel (isSequential is not true)",
            result.Activities.Single(a => a.ActivityName == "Each").Error, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Activities, a => a.ActivityName.StartsWith("Each/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_UntilWithAppendVariable_StopsWhenExpressionIsTrue()
    {
        var file = Pipeline("pl_until",
        [
            Activity("Loop", "Until", new JsonObject
            {
                ["expression"] = new JsonObject { ["value"] = "@greaterOrEquals(length(variables('ticks')), 3)", ["type"] = "Expression" },
                ["timeout"] = "0.00:01:00",
                ["activities"] = new JsonArray(Activity("Tick", "AppendVariable", new JsonObject { ["variableName"] = "ticks", ["value"] = "@utcnow()" })),
            }),
            Activity("Count", "SetVariable", new JsonObject { ["variableName"] = "n", ["value"] = "@string(length(variables('ticks')))" }, null, On("Loop", "Succeeded")),
        ], variables: new JsonObject { ["ticks"] = new JsonObject { ["type"] = "Array" }, ["n"] = new JsonObject { ["type"] = "String" } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(3, JsonNode.Parse(result.Activities.Single(a => a.ActivityName == "Loop").OutputJson!)!["iterations"]!.GetValue<int>());
        Assert.Equal("3", JsonNode.Parse(result.Activities.Single(a => a.ActivityName == "Count").OutputJson!)!["value"]!.GetValue<string>());
        Assert.Equal(["Loop/0/Tick", "Loop/1/Tick", "Loop/2/Tick"], result.Activities.Select(a => a.ActivityName).Where(n => n.StartsWith("Loop/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_UntilNeverTrue_FailsAtItsTimeout()
    {
        var file = Pipeline("pl_until_timeout",
        [
            Activity("Loop", "Until", new JsonObject
            {
                ["expression"] = new JsonObject { ["value"] = "@equals(1, 2)", ["type"] = "Expression" },
                ["timeout"] = "0.00:00:02",
                ["activities"] = new JsonArray(Activity("Pause", "Wait", new JsonObject { ["waitTimeInSeconds"] = 1 })),
            }),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Contains("timed out after 00:00:02 before its expression was true", result.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// An Until's timeout that only an expression makes longer than ADF's 90 days fails the Until when it starts, naming the
    /// value, and runs nothing inside it (it was not evaluated: a string expression was refused as "not a timeout", an
    /// Expression object ignored for 7 days). One of 60 days, longer than a .NET timer can wait, runs: it was refused as over
    /// 7 days (an activity's limit, not an Until's), and a timer set to it would have thrown.
    /// </summary>
    [Fact]
    public async Task RunAsync_UntilTimeoutFromParameterOverNinetyDays_UntilFailsNamingTheValue()
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_until_long",
        [
            Activity("Loop", "Until", new JsonObject
            {
                ["expression"] = new JsonObject { ["value"] = "@equals(1, 1)", ["type"] = "Expression" },
                ["timeout"] = new JsonObject { ["value"] = "@pipeline().parameters.t", ["type"] = "Expression" },
                ["activities"] = new JsonArray(Custom("Inner", $"touch {marker}")),
            }),
        ], new JsonObject { ["t"] = new JsonObject { ["type"] = "String", ["defaultValue"] = "0.00:01:00" } });

        var runner = CreateRunner();

        var result = await runner.RunAsync(file, new Dictionary<string, string> { ["t"] = "91.00:00:00" });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal("typeProperties.timeout '91.00:00:00' is longer than 90 days (90.00:00:00), the longest timeout ADF allows an Until",
            result.Activities.Single(a => a.ActivityName == "Loop").Error);
        Assert.False(File.Exists(marker));
        Assert.Equal(RunStatus.Succeeded, (await runner.RunAsync(file, new Dictionary<string, string> { ["t"] = "60.00:00:00" })).Status);
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task RunAsync_FailActivity_RunFailsWithItsMessageAndErrorCode()
    {
        var file = Pipeline("pl_fail",
        [
            Activity("Check", "IfCondition", new JsonObject
            {
                ["expression"] = new JsonObject { ["value"] = "@equals(pipeline().parameters.rows, 0)", ["type"] = "Expression" },
                ["ifTrueActivities"] = new JsonArray(Activity("NoRows", "Fail", new JsonObject
                {
                    ["message"] = new JsonObject { ["value"] = "@concat('no rows for ', pipeline().parameters.day)", ["type"] = "Expression" },
                    ["errorCode"] = "NoRows",
                })),
            }),
        ], new JsonObject { ["rows"] = new JsonObject { ["type"] = "Int" }, ["day"] = new JsonObject { ["type"] = "String", ["defaultValue"] = "2024-05-01" } });
        var runner = CreateRunner();

        var empty = await runner.RunAsync(file, new Dictionary<string, string> { ["rows"] = "0" });
        var full = await runner.RunAsync(file, new Dictionary<string, string> { ["rows"] = "12" });

        Assert.Equal((RunStatus.Failed, "Check/NoRows"), (empty.Status, empty.FailedActivity));
        Assert.Equal("Activity failed because an inner activity failed: no rows for 2024-05-01", empty.Error);
        var failed = empty.Activities.Single(a => a.ActivityName == "Check/NoRows");
        Assert.Equal((RunStatus.Failed, 1), (failed.Status, failed.Attempt));
        Assert.Equal("NoRows", JsonNode.Parse(failed.OutputJson!)!["errorCode"]!.GetValue<string>());
        Assert.Equal(RunStatus.Succeeded, full.Status);
        Assert.DoesNotContain(full.Activities, a => a.ActivityName == "Check/NoRows");
    }

    [Fact]
    public async Task RunAsync_ExecutePipeline_RunsChildWithParametersAndFailsWithIt()
    {
        Pipeline("pl_child",
            [Custom("Write", $"echo @{{pipeline().parameters.word}} > {Path.Combine(Work, "child.txt")}; [ '@{{pipeline().parameters.word}}' != bad ]")],
            new JsonObject { ["word"] = new JsonObject { ["type"] = "String" } });
        var parent = Pipeline("pl_parent",
        [
            Activity("Child", "ExecutePipeline", new JsonObject
            {
                ["pipeline"] = new JsonObject { ["referenceName"] = "pl_child", ["type"] = "PipelineReference" },
                ["waitOnCompletion"] = true,
                ["parameters"] = new JsonObject { ["word"] = new JsonObject { ["value"] = "@pipeline().parameters.word", ["type"] = "Expression" } },
            }),
            Activity("After", "SetVariable", new JsonObject { ["variableName"] = "childRun", ["value"] = "@activity('Child').output.pipelineRunId" }, null, On("Child", "Succeeded")),
        ], new JsonObject { ["word"] = new JsonObject { ["type"] = "String" } }, new JsonObject { ["childRun"] = new JsonObject { ["type"] = "String" } });
        var runner = CreateRunner();

        var good = await runner.RunAsync(parent, new Dictionary<string, string> { ["word"] = "hello" });
        var bad = await runner.RunAsync(parent, new Dictionary<string, string> { ["word"] = "bad" });

        Assert.Equal(RunStatus.Succeeded, good.Status);
        Assert.Equal("bad", (await File.ReadAllTextAsync(Path.Combine(Work, "child.txt"))).Trim());
        var childRunId = JsonNode.Parse(good.Activities.Single(a => a.ActivityName == "After").OutputJson!)!["value"]!.GetValue<string>();
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        var child = await store.GetRunAsync(childRunId);
        Assert.Equal(("pl_child", RunStatus.Succeeded), (child.Pipeline, child.Status));
        Assert.Equal(RunStatus.Succeeded, Assert.Single(await store.ListActivitiesAsync(childRunId)).Status);
        Assert.Equal(RunStatus.Failed, bad.Status);
        Assert.Contains("Operation on target Write failed: The command exited with code 1", bad.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// The medallion's failure notification is JSON whatever the names in it: a landed file's name comes from the data (the storage
    /// event's fileName), and one holding a quote or a backslash made the body invalid JSON, or let the name forge fields of it (the
    /// body was the text of a JSON object with the values spliced in). The body is now an object whose values ADF fills in.
    /// </summary>
    [Fact]
    public async Task RunAsync_MedallionFailsWithAHostileFileName_NotificationIsValidJsonWithTheNamesAsGiven()
    {
        using var listener = new RequestRecorder();
        var file = Path.Combine(Lakehouse.Testing.TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json");
        const string Name = "a\",\"runId\":\"forged\\ \u0001.json";

        var result = await CreateRunner().RunAsync(file, new Dictionary<string, string>
        {
            ["fileName"] = Name,
            ["landingRoot"] = Temp.Combine("no-landing"),
            ["lakeRoot"] = Lake,
            ["dataset"] = "no_such_dataset",
            ["notifyWebhookUrl"] = listener.Uri("/notify").ToString(),
        });

        Assert.Equal(RunStatus.Failed, result.Status);
        var body = JsonNode.Parse(Assert.Single(listener.Requests).Body)!.AsObject();
        Assert.Equal((Name, "no_such_dataset", "pl_medallion", result.RunId),
            (body["fileName"]!.GetValue<string>(), body["dataset"]!.GetValue<string>(), body["pipeline"]!.GetValue<string>(), body["runId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RunAsync_WebActivity_OutputIsTheResponseAndHeadersAreSent()
    {
        using var listener = new RequestRecorder();
        var file = Pipeline("pl_web",
        [
            Activity("Call", "WebActivity", new JsonObject
            {
                ["method"] = "POST",
                ["url"] = listener.Uri("/api").ToString(),
                ["headers"] = new JsonObject { ["X-Day"] = "@pipeline().parameters.day", ["Content-Type"] = "application/json" },
                ["body"] = new JsonObject { ["day"] = "@pipeline().parameters.day" },
            }),
            Activity("Use", "SetVariable", new JsonObject { ["variableName"] = "ok", ["value"] = "@string(activity('Call').output.ok)" }, null, On("Call", "Succeeded")),
        ], new JsonObject { ["day"] = new JsonObject { ["type"] = "String", ["defaultValue"] = "2024-05-02" } }, new JsonObject { ["ok"] = new JsonObject { ["type"] = "String" } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var request = Assert.Single(listener.Requests);
        Assert.Equal(("POST", "{\"day\":\"2024-05-02\"}", "2024-05-02"), (request.Method, request.Body, request.Headers["X-Day"]));
        Assert.Equal("True", JsonNode.Parse(result.Activities.Single(a => a.ActivityName == "Use").OutputJson!)!["value"]!.GetValue<string>());
    }

    /// <summary>
    /// A response that gives a key twice fails the activity naming the key (it failed with .NET's bare "An item with the same key has
    /// already been added"); one over ADF's 4 MB fails naming the limit, by its Content-Length or once more than that has come
    /// (it was read whole, however large); text that is not JSON is the output's Response, as before.
    /// </summary>
    [Theory]
    [InlineData("{\"status\":\"ok\",\"status\":\"failed\"}", false, "with JSON that gives a key twice: Duplicate property 'status' encountered during deserialization.")]
    [InlineData("big", false, "answered with a body of 4194305 bytes; ADF takes a WebActivity response of at most 4 MB (4194304 bytes).")]
    [InlineData("big", true, "answered with a body of more than 4194304 bytes; ADF takes a WebActivity response of at most 4 MB (4194304 bytes).")]
    [InlineData("\uFEFF{\"status\":\"ok\"}", false, null)]
    [InlineData("not JSON", true, null)]
    public async Task RunAsync_WebActivityResponseWithAKeyTwiceOrTooLarge_FailsNamingIt(string reply, bool chunked, string? error)
    {
        using var listener = new RequestRecorder { Reply = (reply == "big" ? "\"" + new string('x', 4 * 1024 * 1024 - 1) + "\"" : reply, chunked) };
        var file = Pipeline("pl_web_reply", [Activity("Call", "WebActivity", new JsonObject { ["method"] = "GET", ["url"] = listener.Uri("/api").ToString() })]);

        var result = await CreateRunner().RunAsync(file);

        var call = result.Activities.Single(a => a.ActivityName == "Call");
        if (error is null)
        {
            Assert.Equal(RunStatus.Succeeded, result.Status);
            var output = JsonNode.Parse(call.OutputJson!)!;
            Assert.Equal(reply.StartsWith('{') || reply.StartsWith('\uFEFF') ? "ok" : reply, (output["status"] ?? output["Response"])!.GetValue<string>());
            return;
        }
        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal($"Activity 'Call': GET {listener.Uri("/").GetLeftPart(UriPartial.Authority)} {(error.StartsWith("with", StringComparison.Ordinal) ? "answered HTTP 200 " : "")}{error}", call.Error);
    }

    [Theory]
    [InlineData("\"type\": \"Copy\"", "$.properties.activities[1].type (activity 'Second'): the activity type 'Copy' is unknown to the local runner")]
    [InlineData("\"type\": \"Custom\", \"typeProperties\": {\"command\": \"@concatt('a', 'b')\"}", "$.properties.activities[1].typeProperties.command (activity 'Second'): ")]
    [InlineData("\"type\": \"Custom\", \"typeProperties\": {\"command\": \"@concat('a', \"}", "$.properties.activities[1].typeProperties.command (activity 'Second'): ")]
    [InlineData("\"type\": \"Custom\", \"typeProperties\": {\"command\": \"@pipeline().parameters.nope\"}", "the pipeline has no parameter 'nope'")]
    [InlineData("\"type\": \"Custom\", \"policy\": {\"timeout\": \"99999.00:00:00\"}, \"typeProperties\": {\"command\": \"exit 0\"}",
        "$.properties.activities[1].policy.timeout (activity 'Second'): '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows")]
    [InlineData("\"type\": \"Custom\", \"policy\": {\"retry\": \"two\"}, \"typeProperties\": {\"command\": \"exit 0\"}",
        "$.properties.activities[1].policy.retry (activity 'Second'): 'two' is not a retry count (a whole number from 0)")]
    [InlineData("\"type\": \"Custom\", \"policy\": {\"retryIntervalInSeconds\": 100000}, \"typeProperties\": {\"command\": \"exit 0\"}",
        "$.properties.activities[1].policy.retryIntervalInSeconds (activity 'Second'): 100000 is not a retry interval (whole seconds from 30 to 86400)")]
    [InlineData("\"type\": \"Custom\", \"policy\": {\"retryIntervalInSeconds\": 0}, \"typeProperties\": {\"command\": \"exit 0\"}",
        "$.properties.activities[1].policy.retryIntervalInSeconds (activity 'Second'): 0 is not a retry interval (whole seconds from 30 to 86400)")]
    [InlineData("\"type\": \"Until\", \"typeProperties\": {\"expression\": {\"value\": \"@equals(1, 1)\", \"type\": \"Expression\"}, \"timeout\": \"91.00:00:00\", \"activities\": []}",
        "$.properties.activities[1].typeProperties.timeout (activity 'Second'): '91.00:00:00' is longer than 90 days (90.00:00:00), the longest timeout ADF allows an Until")]
    [InlineData("\"type\": \"Until\", \"typeProperties\": {\"expression\": {\"value\": \"@equals(1, 1)\", \"type\": \"Expression\"}, \"timeout\": \"a week\", \"activities\": []}",
        "$.properties.activities[1].typeProperties.timeout (activity 'Second'): 'a week' is not a timeout (d.hh:mm:ss)")]
    // The string "true" (as ADF's ForEach page writes it; its schema and adf validate refuse it) was taken as false: the loop ran in parallel.
    [InlineData("\"type\": \"ForEach\", \"typeProperties\": {\"isSequential\": \"true\", \"items\": \"@createArray(1, 2)\", \"activities\": []}",
        "$.properties.activities[1].typeProperties.isSequential (activity 'Second'): isSequential must be true or false (a JSON boolean, not \"true\"), or an expression")]
    [InlineData("\"type\": \"ExecutePipeline\", \"typeProperties\": {\"pipeline\": {\"referenceName\": \"pl_bad\"}, \"waitOnCompletion\": \"yes\"}",
        "$.properties.activities[1].typeProperties.waitOnCompletion (activity 'Second'): waitOnCompletion must be true or false (a JSON boolean, not \"yes\"), or an expression")]
    public async Task RunAsync_PipelineThatCannotRun_IsRefusedBeforeAnythingRuns(string second, string expected)
    {
        var marker = Path.Combine(Work, "ran");
        var path = Temp.Combine("pipeline", "pl_bad.json");
        await File.WriteAllTextAsync(path, $$$"""
            {"name": "pl_bad", "properties": {"activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}},
              {"name": "Second", {{{second}}}}
            ]}}
            """);
        var runner = CreateRunner();

        var error = await Assert.ThrowsAsync<LakehouseException>(() => runner.RunAsync(path));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        await store.InitializeAsync();
        Assert.Empty(await store.ListRunsAsync());
    }

    /// <summary>
    /// A key given twice in an object (an edit that pasted a property in again) is refused as not JSON, naming the file and the key;
    /// it reached the CLI's last-resort handler as "An item with the same key has already been added. Key: command".
    /// </summary>
    [Fact]
    public async Task RunAsync_KeyGivenTwice_IsRefusedAsNotJsonNamingTheKey()
    {
        var path = Temp.Combine("pipeline", "pl_twice.json");
        await File.WriteAllTextAsync(path, """
            {"name": "pl_twice", "properties": {"activities": [
              {"name": "First", "type": "Custom", "typeProperties": {"command": "exit 0", "command": "exit 1"}}
            ]}}
            """);

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(path));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Equal($"{path}: not JSON: Duplicate property 'command' encountered during deserialization.", error.Message);
    }

    [Fact]
    public async Task RunAsync_UnknownFunctionInAnExecutedPipeline_IsRefusedNamingThatFile()
    {
        Pipeline("pl_inner", [Custom("Inner", "@nosuchfunction()")]);
        var outer = Pipeline("pl_outer", [Activity("Run", "ExecutePipeline", new JsonObject { ["pipeline"] = new JsonObject { ["referenceName"] = "pl_inner", ["type"] = "PipelineReference" } })]);

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(outer));

        Assert.Contains("pl_inner.json: $.properties.activities[0].typeProperties.command (activity 'Inner'): ", error.Message, StringComparison.Ordinal);
        Assert.Contains("nosuchfunction", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A pipeline file saved with a UTF-8 byte order mark runs (it was refused: "'0xEF' is an invalid start of a value").</summary>
    [Fact]
    public async Task RunAsync_FileWithAByteOrderMark_Runs()
    {
        var path = Temp.Combine("pipeline", "pl_bom.json");
        await File.WriteAllBytesAsync(path, [0xEF, 0xBB, 0xBF, .. """
            {"name": "pl_bom", "properties": {"activities": [{"name": "W", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 0}}]}}
            """u8.ToArray()]);

        var result = await CreateRunner().RunAsync(path);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("W", Assert.Single(result.Activities).ActivityName);
    }

    /// <summary>
    /// A and B depend on each other; C depends on A and is not itself in the circle. The run is refused with one problem at
    /// each activity of the circle and none at C (the runner once blamed every activity that reached a circle).
    /// </summary>
    [Fact]
    public async Task RunAsync_DependsOnInACircle_RefusedAtEachActivityOfTheCircleOnly()
    {
        var marker = Path.Combine(Work, "ran");
        var path = Temp.Combine("pipeline", "pl_circle.json");
        await File.WriteAllTextAsync(path, $$$"""
            {"name": "pl_circle", "properties": {"activities": [
              {"name": "A", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}, "dependsOn": [{"activity": "B", "dependencyConditions": ["Succeeded"]}]},
              {"name": "B", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}, "dependsOn": [{"activity": "A", "dependencyConditions": ["Succeeded"]}]},
              {"name": "C", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}, "dependsOn": [{"activity": "A", "dependencyConditions": ["Succeeded"]}]},
              {"name": "Free", "type": "Custom", "typeProperties": {"command": "touch {{{marker}}}"}}
            ]}}
            """);

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(path));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains("(2 problems, nothing was run)", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.properties.activities[0].dependsOn (activity 'A'): dependsOn goes round in a circle through 'A'", error.Message, StringComparison.Ordinal);
        Assert.Contains("$.properties.activities[1].dependsOn (activity 'B'): dependsOn goes round in a circle through 'B'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'C'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// A parameter's default of another type than the one declared is refused before anything runs, as a given value is
    /// (it passed, and the first expression that used it failed mid-run).
    /// </summary>
    [Theory]
    [InlineData("Int", "\"abc\"", "$.properties.parameters.n.defaultValue: parameter 'n': the default value 'abc' is not an Int")]
    [InlineData("Bool", "\"yes\"", "$.properties.parameters.n.defaultValue: parameter 'n': the default value 'yes' is not a Bool (true or false)")]
    [InlineData("Float", "\"x\"", "$.properties.parameters.n.defaultValue: parameter 'n': the default value 'x' is not a Float")]
    [InlineData("Int", "1.5", "$.properties.parameters.n.defaultValue: parameter 'n': the default value '1.5' is not an Int")]
    [InlineData("Array", "{\"a\": 1}", "$.properties.parameters.n.defaultValue: parameter 'n': the default value '{\"a\":1}' is not a JSON array (such as [\"a\", \"b\"])")]
    [InlineData("Array", "\"a,b\"", "$.properties.parameters.n.defaultValue: parameter 'n': the default value 'a,b' is not a JSON array (such as [\"a\", \"b\"])")]
    [InlineData("Object", "[1]", "$.properties.parameters.n.defaultValue: parameter 'n': the default value '[1]' is not a JSON object (such as {\"a\": 1})")]
    public async Task RunAsync_ParameterDefaultOfWrongType_IsRefusedBeforeAnythingRuns(string type, string defaultValue, string expected)
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_default", [Custom("First", $"touch {marker}")],
            new JsonObject { ["n"] = new JsonObject { ["type"] = type, ["defaultValue"] = JsonNode.Parse(defaultValue) } });

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains($"{file}: {expected}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    /// <summary>A default given as text of the declared type is that type in the run ("5" for an Int is 5), as a --param value is.</summary>
    [Fact]
    public async Task RunAsync_IntDefaultWrittenAsText_IsAnInt()
    {
        var file = Pipeline("pl_default", [Custom("Add", $"echo @{{add(pipeline().parameters.n, 1)}} > {Path.Combine(Work, "sum")}")],
            new JsonObject { ["n"] = new JsonObject { ["type"] = "Int", ["defaultValue"] = "5" } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("6", (await File.ReadAllTextAsync(Path.Combine(Work, "sum"))).Trim());
    }

    /// <summary>
    /// Parameter and variable types in lowercase, as ADF takes them, run as the types they spell: a --param of an "int" is an
    /// integer to add() (a string would fail it), and an "array" variable without a default starts as an empty array that
    /// AppendVariable adds to.
    /// </summary>
    [Fact]
    public async Task RunAsync_LowerCaseIntParameterAndArrayVariable_RunLikeTheCanonicalTypes()
    {
        var file = Pipeline("pl_lower",
        [
            Activity("Add", "AppendVariable", new JsonObject { ["variableName"] = "seen", ["value"] = "@add(pipeline().parameters.n, 1)" }),
            Custom("Echo", $"echo @{{variables('seen')[0]}} @{{length(variables('seen'))}} > {Path.Combine(Work, "sum")}", null, On("Add", "Succeeded")),
        ], new JsonObject { ["n"] = new JsonObject { ["type"] = "int" } }, new JsonObject { ["seen"] = new JsonObject { ["type"] = "array" } });

        var result = await CreateRunner().RunAsync(file, new Dictionary<string, string> { ["n"] = "5" });

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("6 1", (await File.ReadAllTextAsync(Path.Combine(Work, "sum"))).Trim());
    }

    /// <summary>
    /// A policy value that only an expression makes wrong (a timeout of 99999 days from a parameter) cannot be refused before
    /// the run: the run then ends with an error naming the activity and is recorded Failed with it (it crashed in
    /// CancelAfter and stayed InProgress forever, and every rerun resumed it and crashed again).
    /// </summary>
    [Fact]
    public async Task RunAsync_TimeoutFromParameterOverSevenDays_ErrorNamesActivityAndRunIsRecordedFailed()
    {
        var file = Pipeline("pl_long",
        [
            Custom("First", "exit 0"),
            Custom("Second", "exit 0", new JsonObject { ["timeout"] = "@pipeline().parameters.t" }, On("First", "Succeeded")),
        ], new JsonObject { ["t"] = new JsonObject { ["type"] = "String", ["defaultValue"] = "0.01:00:00" } });
        var runner = CreateRunner();

        var error = await Assert.ThrowsAsync<LakehouseException>(() => runner.RunAsync(file, new Dictionary<string, string> { ["t"] = "99999.00:00:00" }));

        const string Reason = "activity Second: policy.timeout '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows";
        Assert.StartsWith(Reason, error.Message, StringComparison.Ordinal);
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        await store.InitializeAsync();
        var run = Assert.Single(await store.ListRunsAsync());
        Assert.Equal((RunStatus.Failed, Reason), (run.Status, run.Error));
        Assert.NotNull(run.EndedAt);
        Assert.Contains(run.RunId, error.Message, StringComparison.Ordinal);
        var activities = (await store.ListActivitiesAsync(run.RunId)).ToDictionary(a => a.ActivityName);
        Assert.Equal(RunStatus.Succeeded, activities["First"].Status);
        Assert.DoesNotContain(activities.Values, a => a.Status == RunStatus.InProgress);
        Assert.Null(await runner.FindUnfinishedRunAsync(file, new Dictionary<string, string> { ["t"] = "99999.00:00:00" }));
    }

    /// <summary>
    /// A run ended by an exception the runner does not anticipate (here the state store's disk is full) is an internal error,
    /// not one of the input: reason Internal, not transient, the message naming the activity and the exception's type, the run
    /// recorded Failed with it (it was reason InvalidInput, as if the pipeline were wrong).
    /// </summary>
    [Fact]
    public async Task RunAsync_StateStoreFailsMidRun_InternalErrorNamingTheActivityAndRunRecordedFailed()
    {
        await using var store = new FullDiskStore(new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)), "Second");
        StateStore = store;
        var file = Pipeline("pl_crash", [Custom("First", "exit 0"), Custom("Second", "exit 0", null, On("First", "Succeeded"))]);

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file));

        const string Reason = "activity Second: internal error (IOException): No space left on device";
        var run = Assert.Single(await store.ListRunsAsync());
        Assert.Equal((LakehouseErrorReason.Internal, false, $"{Reason} (run {run.RunId} is recorded Failed)"), (error.Reason, error.IsTransient, error.Message));
        Assert.IsType<IOException>(error.InnerException);
        Assert.Equal((RunStatus.Failed, Reason), (run.Status, run.Error));
    }

    /// <summary>A state store whose disk is full when <c>activity</c> starts (its InProgress checkpoint is saved).</summary>
    private sealed class FullDiskStore(IPipelineStateStore inner, string activity) : IPipelineStateStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public Task<PipelineRunRecord> CreateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default) => inner.CreateRunAsync(run, cancellationToken);

        public Task<PipelineRunRecord?> TryGetRunAsync(string runId, CancellationToken cancellationToken = default) => inner.TryGetRunAsync(runId, cancellationToken);

        public Task<PipelineRunRecord> UpdateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default) => inner.UpdateRunAsync(run, cancellationToken);

        public Task<IReadOnlyList<PipelineRunRecord>> ListRunsAsync(string? pipeline = null, int limit = 50, CancellationToken cancellationToken = default) =>
            inner.ListRunsAsync(pipeline, limit, cancellationToken);

        public Task<ActivityRunRecord> SaveActivityAsync(ActivityRunRecord activityRun, CancellationToken cancellationToken = default) =>
            activityRun.ActivityName == activity && activityRun.Status == RunStatus.InProgress
                ? throw new IOException("No space left on device")
                : inner.SaveActivityAsync(activityRun, cancellationToken);

        public Task<ActivityRunRecord?> TryGetActivityAsync(string runId, string activityName, CancellationToken cancellationToken = default) =>
            inner.TryGetActivityAsync(runId, activityName, cancellationToken);

        public Task<IReadOnlyList<ActivityRunRecord>> ListActivitiesAsync(string runId, CancellationToken cancellationToken = default) => inner.ListActivitiesAsync(runId, cancellationToken);

        public Task<LandedFileClaim> ClaimFileAsync(LandedFile file, string runId, CancellationToken cancellationToken = default) => inner.ClaimFileAsync(file, runId, cancellationToken);

        public Task<LandedFileClaim?> TryGetClaimAsync(LandedFile file, CancellationToken cancellationToken = default) => inner.TryGetClaimAsync(file, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>The same inside a ForEach: the ForEach fails (an outcome, the run goes on) with the error naming the inner activity.</summary>
    [Fact]
    public async Task RunAsync_InnerTimeoutFromItemOverSevenDays_ForEachFailsNamingInnerActivity()
    {
        var file = Pipeline("pl_inner_long",
        [
            Activity("Loop", "ForEach", new JsonObject
            {
                ["items"] = new JsonObject { ["value"] = "@createArray('99999.00:00:00')", ["type"] = "Expression" },
                ["activities"] = new JsonArray(Custom("Inner", "exit 0", new JsonObject { ["timeout"] = "@item()" })),
            }),
            Custom("After", "exit 0", null, On("Loop", "Failed")),
        ]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Failed, RunStatus.Succeeded), (StatusOf(result, "Loop"), StatusOf(result, "After")));
        Assert.Equal("activity Loop/0/Inner: policy.timeout '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows",
            result.Activities.Single(a => a.ActivityName == "Loop").Error);
    }

    [Theory]
    [InlineData("rows", "x", "parameter 'rows' of type Int: the value 'x' is not an Int")]
    [InlineData("days", "2024-05-01,2024-05-02", "parameter 'days' of type Array: the value '2024-05-01,2024-05-02' is not a JSON array (such as [\"a\", \"b\"])")]
    // Taken, then failed in the middle of the run wherever the item was read ("An item with the same key has already been added").
    [InlineData("days", "[{\"day\": 1, \"day\": 2}]",
        "parameter 'days' of type Array: the value '[{\"day\": 1, \"day\": 2}]' is not a JSON array (such as [\"a\", \"b\"]): Duplicate property 'day' encountered during deserialization.")]
    [InlineData("nope", "1", "the pipeline has no parameter 'nope' (it declares rows, days)")]
    public async Task RunAsync_BadParameter_IsRefusedBeforeTheRun(string name, string value, string expected)
    {
        var file = Pipeline("pl_params", [Custom("A", "exit 0")], new JsonObject
        {
            ["rows"] = new JsonObject { ["type"] = "Int", ["defaultValue"] = 1 },
            ["days"] = new JsonObject { ["type"] = "Array", ["defaultValue"] = new JsonArray() },
        });

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file, new Dictionary<string, string> { [name] = value }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumeAsync_CancelledRun_RunsOnlyWhatHadNotFinished()
    {
        var firstCount = Path.Combine(Work, "first");
        var file = Pipeline("pl_resume",
        [
            Custom("First", $"echo x >> {firstCount}"),
            Activity("Remember", "SetVariable", new JsonObject { ["variableName"] = "v", ["value"] = "remembered" }, null, On("First", "Succeeded")),
            Custom("Slow", $"[ -f {Path.Combine(Work, "go")} ] || sleep 60", null, On("Remember", "Succeeded")),
            Custom("Last", $"echo @{{variables('v')}} > {Path.Combine(Work, "last")}", null, On("Slow", "Succeeded")),
        ], variables: new JsonObject { ["v"] = new JsonObject { ["type"] = "String" } });
        var runner = CreateRunner();
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(file, cancellationToken: stop.Token);
        await using (var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)))
        {
            await WaitForAsync(async () => (await store.ListRunsAsync()) is [var r, ..] && (await store.ListActivitiesAsync(r.RunId)).Any(a => a.ActivityName == "Slow"));
        }
        await stop.CancelAsync();
        var stopped = await Record.ExceptionAsync(() => run);
        Assert.True(stopped is OperationCanceledException, $"the run was not stopped: {stopped?.ToString() ?? (await run).Status.ToString()}");
        await File.WriteAllTextAsync(Path.Combine(Work, "go"), "");
        string runId;
        await using (var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)))
        {
            var cancelled = Assert.Single(await store.ListRunsAsync());
            Assert.Equal(RunStatus.Cancelled, cancelled.Status);
            runId = cancelled.RunId;
        }

        var result = await runner.ResumeAsync(runId);

        Assert.Equal((RunStatus.Succeeded, true, runId), (result.Status, result.Resumed, result.RunId));
        Assert.Single(await File.ReadAllLinesAsync(firstCount));
        Assert.Equal("remembered", (await File.ReadAllTextAsync(Path.Combine(Work, "last"))).Trim());
        Assert.Equal(1, result.Activities.Single(a => a.ActivityName == "First").Attempt);
        Assert.Equal(2, result.Activities.Single(a => a.ActivityName == "Slow").Attempt);
        var again = await Assert.ThrowsAsync<LakehouseException>(() => runner.ResumeAsync(runId));
        Assert.Contains("has finished (Succeeded)", again.Message, StringComparison.Ordinal);
    }

    /// <summary>A Wait longer than a timer can wait failed with .NET's "The value needs to translate in milliseconds to -1 (signifying an infinite timeout) …".</summary>
    [Fact]
    public async Task RunAsync_WaitLongerThanATimerCanWait_FailsNamingTheValueAndTheLimit()
    {
        var file = Pipeline("pl_wait", [Activity("Pause", "Wait", new JsonObject { ["waitTimeInSeconds"] = 99_999_999_999L })]);

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal((RunStatus.Failed, "Activity 'Pause': waitTimeInSeconds 99999999999 is longer than the local runner can wait (4294967 s, about 49 days)."),
            (result.Status, result.Error));
    }

    /// <summary>
    /// "Run A" and "Run_A" had one child run id (and one log file): the second ExecutePipeline took the first one's finished child
    /// run as its own, "succeeded" at once and never ran its child, and the run succeeded (exit 0).
    /// </summary>
    [Fact]
    public async Task RunAsync_ExecutePipelineNamesThatDifferOnlyInUnsafeCharacters_EachRunsItsOwnChild()
    {
        var ran = Path.Combine(Work, "ran");
        Pipeline("pl_child", [Custom("Write", $"echo @{{pipeline().parameters.tag}} >> {ran}")], new JsonObject { ["tag"] = new JsonObject { ["type"] = "String" } });
        JsonObject Execute(string tag) => new()
        {
            ["pipeline"] = new JsonObject { ["referenceName"] = "pl_child", ["type"] = "PipelineReference" },
            ["waitOnCompletion"] = true,
            ["parameters"] = new JsonObject { ["tag"] = tag },
        };
        var parent = Pipeline("pl_parent", [Activity("Run A", "ExecutePipeline", Execute("space")), Activity("Run_A", "ExecutePipeline", Execute("underscore"), null, On("Run A", "Succeeded"))]);

        var result = await CreateRunner().RunAsync(parent);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(["space", "underscore"], await File.ReadAllLinesAsync(ran));
        var children = result.Activities.Select(a => JsonNode.Parse(a.OutputJson!)!["pipelineRunId"]!.GetValue<string>()).ToList();
        Assert.Equal(2, children.Distinct(StringComparer.Ordinal).Count());
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "timed out waiting");
            await Task.Delay(50);
        }
    }
}
