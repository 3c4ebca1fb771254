using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Pipelines.State;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>
/// SecureString parameters (any casing of the type) reach the activities with their value and are shown nowhere else: not in the
/// run record, the activity checkpoints, the activity log files, the runner's logs, the run's error or the failure webhook; a run
/// given one is resumed only with it given again.
/// </summary>
public sealed class SecureStringTests : RunnerTestKit
{
    private const string Secret = "Zq8v-s3cr3t-Xw41-securestring";
    private const string DefaultSecret = "Dk2p-default-Rt7c-securestring";

    private readonly CapturingLoggerFactory _logs = new();

    public override Task InitializeAsync()
    {
        LoggerFactory = _logs;
        return base.InitializeAsync();
    }

    /// <summary>Every file under the lake (state.db and its journal, activity logs), as text.</summary>
    private string LakeBytes() =>
        string.Concat(Directory.EnumerateFiles(Lake, "*", SearchOption.AllDirectories).Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))));

    private static void AssertHidden(string? text, string secret, string where) =>
        Assert.False(text?.Contains(secret, StringComparison.Ordinal) ?? false, $"the SecureString value shows in {where}: {text}");

    [Fact]
    public async Task RunAsync_LowercaseSecurestringParameter_ActivityGetsValueAndRecordLogsAndWebhookShowMask()
    {
        using var listener = new RequestRecorder();
        Webhook = new WebhookOptions { Uri = listener.Uri("/hook"), BaseDelay = TimeSpan.FromMilliseconds(10) };
        var got = Path.Combine(Work, "got");
        var file = Pipeline("pl_secure",
        [
            Custom("Use", $"printf %s '@{{pipeline().parameters.key}}' > {got}; echo out @{{pipeline().parameters.key}}; echo err @{{pipeline().parameters.key}} >&2"),
            Activity("Keep", "SetVariable", new JsonObject { ["variableName"] = "v", ["value"] = "@pipeline().parameters.key" }, null, On("Use", "Succeeded")),
            Custom("Leak", "echo failing with @{pipeline().parameters.key} >&2; exit 3", Retry(1), On("Keep", "Succeeded")),
        ],
        new JsonObject { ["key"] = new JsonObject { ["type"] = "securestring" }, ["plain"] = new JsonObject { ["type"] = "String", ["defaultValue"] = "visible" } },
        new JsonObject { ["v"] = new JsonObject { ["type"] = "String" } });

        var result = await CreateRunner().RunAsync(file, new Dictionary<string, string> { ["key"] = Secret });

        Assert.Equal(Secret, await File.ReadAllTextAsync(got));
        Assert.Equal((RunStatus.Failed, "Leak", 2), (result.Status, result.FailedActivity, result.Activities.Single(a => a.ActivityName == "Leak").Attempt));
        Assert.StartsWith("The command exited with code 3: failing with ***", result.Error, StringComparison.Ordinal);
        AssertHidden(LakeBytes(), Secret, "the lake's files (state store, activity logs)");
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        var record = await store.GetRunAsync(result.RunId);
        var parameters = JsonNode.Parse(record.ParametersJson)!["parameters"]!;
        Assert.Equal(("***", "visible"), (parameters["key"]!.GetValue<string>(), parameters["plain"]!.GetValue<string>()));
        var activities = await store.ListActivitiesAsync(result.RunId);
        Assert.Equal("out ***", JsonNode.Parse(activities.Single(a => a.ActivityName == "Use").OutputJson!)!["stdout"]!.GetValue<string>());
        Assert.Equal("***", JsonNode.Parse(activities.Single(a => a.ActivityName == "Keep").OutputJson!)!["value"]!.GetValue<string>());
        var useLog = await File.ReadAllTextAsync(Path.Combine(result.LogDirectory, "Use.log"));
        Assert.Contains("[stderr] err ***", useLog, StringComparison.Ordinal);
        Assert.NotEmpty(_logs.Events);
        Assert.Contains(_logs.Events, e => e.Message.Contains("failing with ***", StringComparison.Ordinal)); // the retry warning
        foreach (var e in _logs.Events) AssertHidden(e.Message + string.Join(" ", e.Values.Values), Secret, "the runner's logs");
        var hook = Assert.Single(listener.Requests);
        AssertHidden(hook.Body, Secret, "the failure webhook's body");
        Assert.StartsWith("The command exited with code 3: failing with ***", JsonNode.Parse(hook.Body)!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A parent's SecureString value given to a child pipeline's String parameter (ExecutePipeline) is masked in the child's run
    /// record, its texts and the error the parent reports, as in the parent's; the child's activity gets the value.
    /// </summary>
    [Fact]
    public async Task RunAsync_SecureStringGivenToChildStringParameter_ChildRecordAndErrorsMasked()
    {
        var got = Path.Combine(Work, "child");
        Pipeline("pl_secure_child", [Custom("Echo", $"printf %s '@{{pipeline().parameters.p}}' > {got}; echo child has @{{pipeline().parameters.p}} >&2; exit 5")],
            new JsonObject { ["p"] = new JsonObject { ["type"] = "String" } });
        var file = Pipeline("pl_secure_parent",
        [
            Activity("Call", "ExecutePipeline", new JsonObject
            {
                ["pipeline"] = new JsonObject { ["referenceName"] = "pl_secure_child", ["type"] = "PipelineReference" },
                ["waitOnCompletion"] = true,
                ["parameters"] = new JsonObject { ["p"] = new JsonObject { ["value"] = "@pipeline().parameters.key", ["type"] = "Expression" } },
            }),
        ],
        new JsonObject { ["key"] = new JsonObject { ["type"] = "SECURESTRING" } });

        var result = await CreateRunner().RunAsync(file, new Dictionary<string, string> { ["key"] = Secret });

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(Secret, await File.ReadAllTextAsync(got));
        Assert.Contains("child has ***", result.Error, StringComparison.Ordinal);
        await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        var child = (await store.ListRunsAsync()).Single(r => r.Pipeline == "pl_secure_child");
        Assert.Equal("***", JsonNode.Parse(child.ParametersJson)!["parameters"]!["p"]!.GetValue<string>());
        AssertHidden(LakeBytes(), Secret, "the lake's files (state store, activity logs)");
        foreach (var e in _logs.Events) AssertHidden(e.Message + string.Join(" ", e.Values.Values), Secret, "the runner's logs");
    }

    /// <summary>
    /// The run record keeps a SecureString parameter masked, so a resume is given it again: without it the resume is refused,
    /// naming the parameter, and the run is left as it was; with it, the activities that run get the value given, and a variable set
    /// from it before the stop (checkpointed masked) is set again from it. One that took its default value takes it again.
    /// </summary>
    [Fact]
    public async Task ResumeAsync_RunGivenASecureString_RefusedWithoutItAndRunsWithItGivenAgain()
    {
        var go = Path.Combine(Work, "go");
        var last = Path.Combine(Work, "last");
        var file = Pipeline("pl_secure_resume",
        [
            Activity("Remember", "SetVariable", new JsonObject { ["variableName"] = "v", ["value"] = "@concat('v:', pipeline().parameters.key)" }),
            Custom("Slow", $"[ -f {go} ] || sleep 60", null, On("Remember", "Succeeded")),
            Custom("Last", $"printf '%s|%s|%s' '@{{pipeline().parameters.key}}' '@{{pipeline().parameters.token}}' '@{{variables('v')}}' > {last}", null, On("Slow", "Succeeded")),
        ],
        new JsonObject
        {
            ["key"] = new JsonObject { ["type"] = "SecureString" },
            ["token"] = new JsonObject { ["type"] = "secureString", ["defaultValue"] = DefaultSecret },
        },
        new JsonObject { ["v"] = new JsonObject { ["type"] = "String" } });
        var runner = CreateRunner();
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(file, new Dictionary<string, string> { ["key"] = Secret }, cancellationToken: stop.Token);
        await using (var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)))
        {
            await PipelineRunnerTests.WaitForAsync(async () => (await store.ListRunsAsync()) is [var r, ..] && (await store.ListActivitiesAsync(r.RunId)).Any(a => a.ActivityName == "Slow"));
        }
        await stop.CancelAsync();
        Assert.IsAssignableFrom<OperationCanceledException>(await Record.ExceptionAsync(() => run));
        await File.WriteAllTextAsync(go, "");
        await using var state = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        var runId = Assert.Single(await state.ListRunsAsync()).RunId;

        var refused = await Assert.ThrowsAsync<LakehouseException>(() => runner.ResumeAsync(runId));
        var unknown = await Assert.ThrowsAsync<LakehouseException>(() => runner.ResumeAsync(runId, new Dictionary<string, string> { ["key"] = Secret, ["nope"] = "x" }));

        Assert.Equal(LakehouseErrorReason.InvalidInput, refused.Reason);
        Assert.Contains("SecureString parameter 'key'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--param key=<value>", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("token", refused.Message, StringComparison.Ordinal);
        Assert.Contains("no parameter 'nope'", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Cancelled, (await state.GetRunAsync(runId)).Status);
        Assert.False(File.Exists(last));

        var result = await runner.ResumeAsync(runId, new Dictionary<string, string> { ["KEY"] = Secret });

        Assert.Equal((RunStatus.Succeeded, true), (result.Status, result.Resumed));
        Assert.Equal($"{Secret}|{DefaultSecret}|v:{Secret}", await File.ReadAllTextAsync(last)); // the variable set from it before the stop too
        var parameters = JsonNode.Parse((await state.GetRunAsync(runId)).ParametersJson)!["parameters"]!;
        Assert.Equal(("***", "***"), (parameters["key"]!.GetValue<string>(), parameters["token"]!.GetValue<string>()));
        AssertHidden(LakeBytes(), Secret, "the lake's files");
        AssertHidden(LakeBytes(), DefaultSecret, "the lake's files");
    }

    /// <summary>
    /// A non-SecureString parameter is the run's own: a resume given another value for it is refused; given the same (as the same
    /// command line run again gives it), it is accepted.
    /// </summary>
    [Fact]
    public async Task ResumeAsync_OtherParameterGivenAgainWithAnotherValue_Refused()
    {
        var go = Path.Combine(Work, "go");
        var file = Pipeline("pl_secure_plain",
            [Custom("Slow", $"[ -f {go} ] || sleep 60"), Custom("Last", $"echo @{{pipeline().parameters.n}} > {Path.Combine(Work, "n")}", null, On("Slow", "Succeeded"))],
            new JsonObject { ["key"] = new JsonObject { ["type"] = "SecureString" }, ["n"] = new JsonObject { ["type"] = "Int" } });
        var runner = CreateRunner();
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(file, new Dictionary<string, string> { ["key"] = Secret, ["n"] = "5" }, cancellationToken: stop.Token);
        await using var state = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
        await PipelineRunnerTests.WaitForAsync(async () => (await state.ListRunsAsync()) is [var r, ..] && (await state.ListActivitiesAsync(r.RunId)).Any(a => a.ActivityName == "Slow"));
        await stop.CancelAsync();
        Assert.IsAssignableFrom<OperationCanceledException>(await Record.ExceptionAsync(() => run));
        await File.WriteAllTextAsync(go, "");
        var runId = Assert.Single(await state.ListRunsAsync()).RunId;

        var refused = await Assert.ThrowsAsync<LakehouseException>(() => runner.ResumeAsync(runId, new Dictionary<string, string> { ["key"] = Secret, ["n"] = "6" }));
        var result = await runner.ResumeAsync(runId, new Dictionary<string, string> { ["key"] = Secret, ["n"] = "5" });

        Assert.Contains("parameter 'n' is not a SecureString", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("5", (await File.ReadAllTextAsync(Path.Combine(Work, "n"))).Trim());
        AssertHidden(LakeBytes(), Secret, "the lake's files");
    }
}
