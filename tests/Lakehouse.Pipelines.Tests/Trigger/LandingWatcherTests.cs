using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;
using Lakehouse.Pipelines.Trigger;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Trigger;

/// <summary>
/// <see cref="LandingWatcher"/> on a real folder and the real SQLite state store, with the launch of <c>lakehouse pipeline run</c>
/// replaced by a recorder: debounce, one run per settled batch, claims, restarts, the trigger body and parameters.
/// </summary>
public sealed class LandingWatcherTests : IAsyncLifetime
{
    private static readonly string TriggerFile = Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "trigger", "tr_landing_blob_created.json");
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(400);

    private readonly TempDirectory _temp = new("watch");
    private SqlitePipelineStateStore _store = null!;

    private string Landing => _temp.Combine("landing");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(Landing, "weblogs"));
        _store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(_temp.Combine("lake")));
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _temp.Dispose();
    }

    private LandingWatcher Watcher(Recorder recorder, bool once, BlobEventsTriggerDefinition? trigger = null, IReadOnlyList<KeyValuePair<string, string>>? parameters = null, string? container = null, TimeSpan? settle = null, TimeProvider? time = null)
    {
        recorder.Store = _store;
        return new(Landing, trigger ?? BlobEventsTriggerDefinition.Load(TriggerFile), _store, recorder, new LandingWatchOptions
        {
            SettleTime = settle ?? Settle,
            ScanInterval = TimeSpan.FromMilliseconds(50),
            Once = once,
            Parameters = parameters ?? [],
            Container = container,
        }, time);
    }

    /// <summary>The repository's landing trigger with <paramref name="edit"/> applied, written beside its pipeline under the temp folder; returns its path.</summary>
    private async Task<string> EditedTriggerAsync(Action<JsonNode> edit)
    {
        var trigger = JsonNode.Parse(await File.ReadAllTextAsync(TriggerFile))!;
        edit(trigger);
        Directory.CreateDirectory(_temp.Combine("adf", "trigger"));
        Directory.CreateDirectory(_temp.Combine("adf", "pipeline"));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json"), _temp.Combine("adf", "pipeline", "pl_medallion.json"));
        var file = _temp.Combine("adf", "trigger", "tr.json");
        await File.WriteAllTextAsync(file, trigger.ToJsonString());
        return file;
    }

    private async Task<string> LandAsync(string relative, string text = "{\"event_id\":\"e1\"}\n")
    {
        var path = Path.Combine(Landing, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    [Fact]
    public async Task RunAsync_OnceWithTwoFiles_OneRunWithBatchBodyAndTriggerParameters()
    {
        await LandAsync("weblogs/a.ndjson");
        await LandAsync("weblogs/b.ndjson");
        await LandAsync("weblogs/c.ndjson.tmp");
        await LandAsync("weblogs/.d.ndjson");
        await LandAsync("weblogs/_SUCCESS");
        await LandAsync("weblogs/empty.ndjson", "");
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true, parameters: [KeyValuePair.Create("lakeRoot", "./lake")]);

        var failed = await watcher.RunAsync();

        Assert.Equal(0, failed);
        var run = Assert.Single(recorder.Launches);
        Assert.Equal(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json"), run.PipelineFile);
        Assert.Equal("""{"folderPath":"landing/weblogs","fileName":"","files":["landing/weblogs/a.ndjson","landing/weblogs/b.ndjson"]}""", run.TriggerBody);
        Assert.Equal(["folderPath=landing/weblogs", "fileName=", "lakeRoot=./lake"], run.Parameters.Select(p => p.Key + "=" + p.Value));
    }

    /// <summary>
    /// A file whose name holds a line break (which the state store cannot key on) is left out with a warning and the others start
    /// their run; before, the watch ended with exit 1 and no file ever started one, so anyone who could drop such a file stopped it.
    /// </summary>
    [Fact]
    public async Task RunAsync_FileNameWithALineBreak_LeftOutAndTheOthersRun()
    {
        await LandAsync("weblogs/a\nb.ndjson");
        await LandAsync("weblogs/ok.ndjson");
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true);

        var failed = await watcher.RunAsync();

        Assert.Equal(0, failed);
        Assert.Equal("""{"folderPath":"landing/weblogs","fileName":"ok.ndjson","files":["landing/weblogs/ok.ndjson"]}""", Assert.Single(recorder.Launches).TriggerBody);
    }

    /// <summary>A --param the pipeline does not declare is refused when the watch starts, before any file is claimed (it was refused by the run, after claiming).</summary>
    [Fact]
    public async Task Create_ParameterThePipelineDoesNotDeclare_RefusedBeforeAnyClaim()
    {
        await LandAsync("weblogs/a.ndjson");

        var e = Assert.Throws<LakehouseException>(() => Watcher(new Recorder(), once: true, parameters: [KeyValuePair.Create("bogus", "1")]));

        Assert.StartsWith("--param bogus: the pipeline 'pl_medallion' has no parameter 'bogus' (it declares ", e.Message, StringComparison.Ordinal);
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true);
        await watcher.RunAsync();
        Assert.Single(recorder.Launches);
    }

    [Fact]
    public async Task RunAsync_OnceWithOneFile_FileNameAndFolderOfThatFile()
    {
        await LandAsync("weblogs/2026/11/30/part-1.ndjson");
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true);

        await watcher.RunAsync();

        var run = Assert.Single(recorder.Launches);
        var body = JsonNode.Parse(run.TriggerBody)!;
        Assert.Equal("landing/weblogs/2026/11/30", (string?)body["folderPath"]);
        Assert.Equal("part-1.ndjson", (string?)body["fileName"]);
        Assert.Equal(["folderPath=landing/weblogs/2026/11/30", "fileName=part-1.ndjson"], run.Parameters.Select(p => p.Key + "=" + p.Value));
    }

    [Fact]
    public async Task RunAsync_RestartOverSameFiles_StartsNothingThenOnlyTheChangedFile()
    {
        var a = await LandAsync("weblogs/a.ndjson");
        await LandAsync("weblogs/b.ndjson");
        var first = new Recorder();
        using (var watcher = Watcher(first, once: true)) await watcher.RunAsync();
        Assert.Single(first.Launches);

        // A new watch process over the same store: the ledger has both files.
        var second = new Recorder();
        using (var watcher = Watcher(second, once: true)) await watcher.RunAsync();
        Assert.Empty(second.Launches);

        // The same path with other content is another file.
        await File.AppendAllTextAsync(a, "{\"event_id\":\"e2\"}\n");
        var third = new Recorder();
        using (var watcher = Watcher(third, once: true)) await watcher.RunAsync();
        var run = Assert.Single(third.Launches);
        Assert.Equal("a.ndjson", (string?)JsonNode.Parse(run.TriggerBody)!["fileName"]);
    }

    [Fact]
    public async Task RunAsync_FileRemovedAndLandedAgainUnchanged_StartsNothingTwice()
    {
        var a = await LandAsync("weblogs/a.ndjson");
        var modified = File.GetLastWriteTimeUtc(a);
        var recorder = new Recorder();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var watcher = Watcher(recorder, once: false);
        var watching = watcher.RunAsync(cancel.Token);
        await recorder.WaitForAsync(1);

        var copy = _temp.Combine("a.copy");
        File.Move(a, copy);
        await Task.Delay(Settle * 2);
        File.Move(copy, a);
        File.SetLastWriteTimeUtc(a, modified);
        await Task.Delay(Settle * 4);

        Assert.Single(recorder.Launches);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task RunAsync_FileStillGrowing_WaitsForWholeBatchThenOneRunThenNextBatch()
    {
        // The watcher's clock stands still while the file grows and moves only by the test's pauses (100 ms each, 1 s in all,
        // below the settle time): however long a loaded machine takes between two appends, no moment of quiet reaches the
        // settle time before the last one. After it the clock runs on with real time.
        var settle = TimeSpan.FromSeconds(1.5);
        var clock = new HeldClock();
        var recorder = new Recorder(clock: clock.Elapsed);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var watcher = Watcher(recorder, once: false, settle: settle, time: clock);
        var watching = watcher.RunAsync(cancel.Token);

        var growing = Path.Combine(Landing, "weblogs", "growing.ndjson");
        var lastWrite = TimeSpan.Zero;
        for (var i = 0; i < 10; i++)
        {
            // The watcher sees the write at this time or later (its clock stands still until Advance).
            lastWrite = clock.Elapsed();
            await File.AppendAllTextAsync(growing, $"{{\"event_id\":\"g{i}\"}}\n");
            if (i == 5) await LandAsync("weblogs/other.ndjson");
            await Task.Delay(100);
            if (i < 9) clock.Advance(TimeSpan.FromMilliseconds(100));
        }
        clock.Release();

        await recorder.WaitForAsync(1);
        var started = recorder.StartedAt[0];

        Assert.True(started >= lastWrite + settle, $"the run started at {started} on the watcher's clock, the last write was at {lastWrite}");
        var body = JsonNode.Parse(recorder.Launches[0].TriggerBody)!;
        Assert.Equal(["landing/weblogs/growing.ndjson", "landing/weblogs/other.ndjson"], body["files"]!.AsArray().Select(f => (string)f!));

        await LandAsync("weblogs/next.ndjson");
        await recorder.WaitForAsync(2);
        await Task.Delay(settle * 2);
        Assert.Equal(2, recorder.Launches.Count);
        Assert.Equal("next.ndjson", (string?)JsonNode.Parse(recorder.Launches[1].TriggerBody)!["fileName"]);
        Assert.NotEqual(recorder.Launches[0].ClaimId, recorder.Launches[1].ClaimId);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task StepAsync_WriteLandsAfterTheClockWasReadBeforeTheScan_SettleCountsFromTheWrite()
    {
        // A slow scan: the watcher reads the clock at 0.8 s, then 0.1 s pass and the file grows before the scan looks at it.
        // The write is at 0.9 s, so with a 1 s settle time the batch may start at 1.9 s and not at 1.8 s.
        var file = await LandAsync("weblogs/a.ndjson");
        var clock = new HeldClock();
        var recorder = new Recorder(clock: clock.Elapsed);
        using var watcher = Watcher(recorder, once: false, settle: TimeSpan.FromSeconds(1), time: clock);
        Assert.Null(await watcher.StepAsync(CancellationToken.None));

        clock.Advance(TimeSpan.FromMilliseconds(800));
        clock.AfterNextRead = () =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            File.AppendAllText(file, "{\"event_id\":\"e2\"}\n");
        };
        Assert.Null(await watcher.StepAsync(CancellationToken.None));
        Assert.Null(await watcher.StepAsync(CancellationToken.None));

        clock.Advance(TimeSpan.FromMilliseconds(900));
        Assert.Null(await watcher.StepAsync(CancellationToken.None));
        Assert.Empty(recorder.Launches);

        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, await watcher.StepAsync(CancellationToken.None));
        var run = Assert.Single(recorder.Launches);
        Assert.Equal(TimeSpan.FromMilliseconds(1900), recorder.StartedAt[0]);
        Assert.Equal("a.ndjson", (string?)JsonNode.Parse(run.TriggerBody)!["fileName"]);
    }

    /// <summary>
    /// The runs an earlier watch started and that did not finish (cancelled when the watch was stopped, or in progress with their
    /// process killed) are resumed when the watch starts again, oldest first; finished runs, runs whose process still lives, runs of
    /// another container and runs not started by a watch are left alone. Before, their files were claimed and started nothing again:
    /// a watch stopped during a run never ran its files to the end, and the next watch --once exited 0.
    /// </summary>
    [Fact]
    public async Task RunAsync_RunsOfAnEarlierWatchThatDidNotFinish_ResumedOldestFirst()
    {
        var pipeline = Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json");
        using var self = Process.GetCurrentProcess();
        var alive = (Environment.ProcessId, new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero));
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        await RecordRunAsync("cancelled", RunStatus.Cancelled, start, pipeline, "landing/weblogs/a.ndjson", (0, default));
        await RecordRunAsync("killed", RunStatus.InProgress, start.AddMinutes(1), pipeline, "landing/weblogs/b.ndjson", (999_999, start));
        await RecordRunAsync("finished", RunStatus.Succeeded, start.AddMinutes(2), pipeline, "landing/weblogs/c.ndjson", (0, default));
        await RecordRunAsync("running", RunStatus.InProgress, start.AddMinutes(3), pipeline, "landing/weblogs/d.ndjson", alive);
        await RecordRunAsync("other-container", RunStatus.Cancelled, start.AddMinutes(4), pipeline, "archive/weblogs/e.ndjson", (0, default));
        await RecordRunAsync("by-hand", RunStatus.Cancelled, start.AddMinutes(5), pipeline, null, (0, default));
        var recorder = new Recorder(exitCode: 0);
        using var watcher = Watcher(recorder, once: true);

        var failed = await watcher.RunAsync();

        Assert.Equal(0, failed);
        Assert.Equal(["cancelled", "killed"], recorder.Launches.Select(l => l.ResumeRunId));
        Assert.Equal("""{"folderPath":"landing/weblogs","fileName":"a.ndjson","files":["landing/weblogs/a.ndjson"]}""", recorder.Launches[0].TriggerBody);
        var launcher = new ProcessPipelineLauncher("dotnet", ["/x/lakehouse.dll"], ["--lake", "/data/lake"]);
        Assert.Equal(["/x/lakehouse.dll", "pipeline", "run", "--resume", "cancelled", "--lake", "/data/lake"], launcher.Arguments(recorder.Launches[0]));
    }

    /// <summary>
    /// A SecureString parameter of the watch (<c>--param</c>, the type in any casing): the run it queues keeps it masked, and the
    /// run's start (<c>pipeline run --resume</c>) is given it again through its environment, the command line naming only the
    /// variable (<c>--param-env</c>); so is the resume of an interrupted run. Before, the value was on the child's command line,
    /// where every user of the machine could read it (<c>ps -ef</c>).
    /// </summary>
    [Fact]
    public async Task RunAsync_SecureStringParameter_QueuedRunMasksItAndTheLaunchGivesItThroughTheEnvironment()
    {
        const string secret = "Wt4m-watch-s3cr3t-Bv81";
        var pipeline = _temp.Combine("pipeline", "pl_secure.json");
        Directory.CreateDirectory(Path.GetDirectoryName(pipeline)!);
        await File.WriteAllTextAsync(pipeline, """
            {"name": "pl_secure", "properties": {"parameters": {"folderPath": {"type": "String"}, "key": {"type": "securestring"}, "plain": {"type": "String"}},
              "activities": [{"name": "Pause", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 0}}]}}
            """);
        await LandAsync("weblogs/a.ndjson");
        var recorder = new Recorder(exitCode: 0);
        using var watcher = Watcher(recorder, once: true, BlobEventsTriggerDefinition.ForPipeline(pipeline), [KeyValuePair.Create("key", secret), KeyValuePair.Create("plain", "p")]);

        Assert.Equal(0, await watcher.RunAsync());

        var launch = Assert.Single(recorder.Launches);
        var record = await _store.GetRunAsync(launch.ResumeRunId!);
        Assert.False(record.ParametersJson.Contains(secret, StringComparison.Ordinal), "the SecureString value is in the run record");
        Assert.Equal("***", JsonNode.Parse(record.ParametersJson)!["parameters"]!["key"]!.GetValue<string>());
        var launcher = new ProcessPipelineLauncher("dotnet", ["/x/lakehouse.dll"], ["--lake", "/data/lake"]);
        AssertSecretOnlyInTheEnvironment(launcher, launch, secret);
        Assert.Equal(["/x/lakehouse.dll", "pipeline", "run", "--resume", launch.ResumeRunId!, "--param-env", "key=LAKEHOUSE_SECURE_PARAM_0", "--lake", "/data/lake"],
            launcher.Arguments(launch));

        await _store.UpdateRunAsync(await _store.GetRunAsync(launch.ResumeRunId!) with { Status = RunStatus.Cancelled });
        var again = new Recorder(exitCode: 0);
        using var restarted = Watcher(again, once: true, BlobEventsTriggerDefinition.ForPipeline(pipeline), [KeyValuePair.Create("key", secret)]);
        Assert.Equal(0, await restarted.RunAsync());
        var resume = Assert.Single(again.Launches);
        Assert.Equal(launch.ResumeRunId, resume.ResumeRunId);
        Assert.True(resume.SecureParameters.SequenceEqual([KeyValuePair.Create("key", secret)]), "the resume is not given the SecureString parameter again");
        AssertSecretOnlyInTheEnvironment(launcher, resume, secret);
        Assert.Equal(["/x/lakehouse.dll", "pipeline", "run", "--resume", launch.ResumeRunId!, "--param-env", "key=LAKEHOUSE_SECURE_PARAM_0", "--lake", "/data/lake"],
            launcher.Arguments(resume));
    }

    /// <summary>The launch's command line holds no <paramref name="secret"/> (asserted without showing it); its environment holds it as LAKEHOUSE_SECURE_PARAM_0.</summary>
    private static void AssertSecretOnlyInTheEnvironment(ProcessPipelineLauncher launcher, PipelineLaunch launch, string secret)
    {
        Assert.False(launcher.Arguments(launch).Any(a => a.Contains(secret, StringComparison.Ordinal)), "the SecureString value is on the child's command line");
        var variables = launcher.Variables(launch);
        Assert.Equal(["LAKEHOUSE_SECURE_PARAM_0"], variables.Keys);
        Assert.True(variables["LAKEHOUSE_SECURE_PARAM_0"] == secret, "the child's environment does not carry the SecureString value");
    }

    /// <summary>
    /// The watch dies after it claimed a batch's files and before their run starts (the launch throws, where a SIGKILL would end the
    /// process). Before, the files stayed claimed and no run ever took them: the next watch started nothing. The run is now recorded
    /// (Queued) before the claims, which name it, and the next watch starts that run.
    /// </summary>
    [Fact]
    public async Task RunAsync_WatchDiedBetweenClaimsAndRun_NextWatchStartsTheQueuedRun()
    {
        var a = await LandAsync("weblogs/a.ndjson");
        var dying = new Recorder(dies: true);
        using (var watcher = Watcher(dying, once: true))
            await Assert.ThrowsAsync<InvalidOperationException>(() => watcher.RunAsync());
        var runId = Assert.Single(dying.Launches).ResumeRunId!;
        var queued = await _store.GetRunAsync(runId);
        var claim = await _store.TryGetClaimAsync(new LandedFile(a, new FileInfo(a).Length, new DateTimeOffset(File.GetLastWriteTimeUtc(a), TimeSpan.Zero)));

        var next = new Recorder();
        using (var watcher = Watcher(next, once: true)) Assert.Equal(0, await watcher.RunAsync());

        Assert.Equal((RunStatus.Queued, runId), (queued.Status, claim!.RunId));
        var started = Assert.Single(next.Launches);
        Assert.Equal(runId, started.ResumeRunId);
        Assert.Equal("""{"folderPath":"landing/weblogs","fileName":"a.ndjson","files":["landing/weblogs/a.ndjson"]}""", started.TriggerBody);
        Assert.Equal(RunStatus.Succeeded, (await _store.GetRunAsync(runId)).Status);
        var third = new Recorder();
        using (var watcher = Watcher(third, once: true)) await watcher.RunAsync();
        Assert.Empty(third.Launches);
    }

    /// <summary>
    /// A --param value that is not of its declared type is refused by the watch before any file is claimed or run recorded: the
    /// parameters are bound when the run is queued. Before, the run refused it after the files were claimed for good.
    /// </summary>
    [Fact]
    public async Task RunAsync_ParameterOfTheWrongType_RefusedBeforeAnyClaim()
    {
        var a = await LandAsync("weblogs/a.ndjson");
        var pipeline = _temp.Combine("pl_typed.json");
        await File.WriteAllTextAsync(pipeline, """
            {"name": "pl_typed", "properties": {"parameters": {"folderPath": {"type": "String"}, "fileName": {"type": "String"}, "batch": {"type": "Int"}},
             "activities": [{"name": "Wait1", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}}
            """);
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true, trigger: BlobEventsTriggerDefinition.ForPipeline(pipeline), parameters: [KeyValuePair.Create("batch", "many")]);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => watcher.RunAsync());

        Assert.Contains("batch", e.Message, StringComparison.Ordinal);
        Assert.Empty(recorder.Launches);
        Assert.Null(await _store.TryGetClaimAsync(new LandedFile(a, new FileInfo(a).Length, new DateTimeOffset(File.GetLastWriteTimeUtc(a), TimeSpan.Zero))));
        Assert.Empty(await _store.ListRunsAsync());
    }

    private async Task RecordRunAsync(string runId, RunStatus status, DateTimeOffset startedAt, string pipelineFile, string? file, (int Pid, DateTimeOffset StartedAt) runner)
    {
        var body = file is null
            ? new JsonObject { ["folderPath"] = "landing/weblogs", ["fileName"] = "x.ndjson" }
            : new JsonObject { ["folderPath"] = file[..file.LastIndexOf('/')], ["fileName"] = file[(file.LastIndexOf('/') + 1)..], ["files"] = new JsonArray(file) };
        var envelope = new JsonObject
        {
            ["file"] = pipelineFile,
            ["parameters"] = new JsonObject(),
            ["triggerBody"] = body,
            ["parentRunId"] = null,
            ["runner"] = new JsonObject { ["host"] = Environment.MachineName, ["pid"] = runner.Pid, ["startedAt"] = runner.StartedAt },
        };
        await _store.CreateRunAsync(new PipelineRunRecord(runId, "pl_medallion", envelope.ToJsonString(), status, startedAt));
    }

    [Fact]
    public async Task RunAsync_FailedRun_CountedAndClaimsKept()
    {
        await LandAsync("weblogs/a.ndjson");
        var recorder = new Recorder(exitCode: 1);
        using var watcher = Watcher(recorder, once: true);

        var failed = await watcher.RunAsync();

        Assert.Equal(1, failed);
        var claim = await _store.ClaimFileAsync(new LandedFile(Path.Combine(Landing, "weblogs", "a.ndjson"), new FileInfo(Path.Combine(Landing, "weblogs", "a.ndjson")).Length,
            new DateTimeOffset(File.GetLastWriteTimeUtc(Path.Combine(Landing, "weblogs", "a.ndjson")), TimeSpan.Zero)), "probe");
        Assert.False(claim.Claimed);
        Assert.Equal(recorder.Launches[0].ClaimId, claim.RunId);
    }

    [Fact]
    public async Task RunAsync_ContainerOutsideBlobPathBeginsWith_StartsNothing()
    {
        await LandAsync("weblogs/a.ndjson");
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true, container: "archive");

        await watcher.RunAsync();

        Assert.Empty(recorder.Launches);
    }

    [Fact]
    public async Task RunAsync_MoreFilesThanABatchHolds_RunsOfAtMostMaxBatchFilesEachFileOnce()
    {
        for (var i = 0; i < LandingWatcher.MaxBatchFiles + 44; i++) await LandAsync($"weblogs/f{i:D4}.ndjson");
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true);

        await watcher.RunAsync();

        Assert.Equal(2, recorder.Launches.Count);
        var files = recorder.Launches.Select(l => JsonNode.Parse(l.TriggerBody)!["files"]!.AsArray().Select(f => (string)f!).ToList()).ToList();
        Assert.Equal([LandingWatcher.MaxBatchFiles, 44], files.Select(f => f.Count));
        Assert.Equal(LandingWatcher.MaxBatchFiles + 44, files.SelectMany(f => f).Distinct().Count());
        Assert.All(recorder.Launches, l => Assert.True(l.TriggerBody.Length < 32 * 1024));
    }

    [Fact]
    public async Task RunAsync_NoFiles_OnceReturnsAtOnce()
    {
        var recorder = new Recorder();
        using var watcher = Watcher(recorder, once: true);
        Assert.Equal(0, await watcher.RunAsync());
        Assert.Empty(recorder.Launches);
    }

    [Fact]
    public void Constructor_ParamTheTriggerSets_Error()
    {
        var e = Assert.Throws<LakehouseException>(() => Watcher(new Recorder(), once: true, parameters: [KeyValuePair.Create("folderPath", "x")]));
        Assert.Equal("--param folderPath: the trigger 'tr_landing_blob_created' sets 'folderPath' from each event; it cannot be given too", e.Message);
    }

    [Fact]
    public void Load_ScheduleTrigger_ErrorNotBlobEvents()
    {
        var file = Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "trigger", "tr_periodic_refresh.json");
        var e = Assert.Throws<LakehouseException>(() => BlobEventsTriggerDefinition.Load(file));
        Assert.Equal($"{file}: a ScheduleTrigger, not a BlobEventsTrigger: the watch starts runs on files only", e.Message);
    }

    [Fact]
    public async Task Load_UnknownFunctionInMapping_ErrorBeforeAnyRun()
    {
        var file = await EditedTriggerAsync(t => t["properties"]!["pipelines"]![0]!["parameters"]!["folderPath"] = "@triggerBodyy().folderPath");

        var e = Assert.Throws<LakehouseException>(() => BlobEventsTriggerDefinition.Load(file));

        Assert.StartsWith($"{file}: parameter 'folderPath': ", e.Message, StringComparison.Ordinal);
        Assert.Contains("triggerBodyy", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A value of another JSON type stopped the watch with "An element of type 'String' cannot be converted to a 'System.Boolean'".</summary>
    [Theory]
    [InlineData("ignoreEmptyBlobs", "\"false\"", "\"ignoreEmptyBlobs\" must be true or false (a JSON boolean), not \"false\"")]
    [InlineData("blobPathEndsWith", "5", "\"blobPathEndsWith\" must be a string, not 5")]
    public async Task Load_TypePropertyOfAnotherJsonType_ErrorNamingFileAndProperty(string property, string value, string expected)
    {
        var file = await EditedTriggerAsync(t => t["properties"]!["typeProperties"]![property] = JsonNode.Parse(value));

        var e = Assert.Throws<LakehouseException>(() => BlobEventsTriggerDefinition.Load(file));

        Assert.Equal((LakehouseErrorReason.InvalidInput, $"{file}: {expected}"), (e.Reason, e.Message));
    }

    /// <summary>A trigger file with a key given twice is refused naming the key; it reached the CLI's last-resort handler as an ArgumentException.</summary>
    [Fact]
    public async Task Load_KeyGivenTwice_ErrorNamingTheKey()
    {
        var file = _temp.Combine("tr_twice.json");
        await File.WriteAllTextAsync(file, """
            {"name": "tr_twice", "properties": {"type": "BlobEventsTrigger", "typeProperties": {"events": ["Microsoft.Storage.BlobCreated"], "events": []}}}
            """);

        var e = Assert.Throws<LakehouseException>(() => BlobEventsTriggerDefinition.Load(file));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"{file}: cannot read the trigger: Duplicate property 'events' encountered during deserialization.", e.Message);
    }

    [Fact]
    public void ForPipeline_Medallion_MapsFolderPathAndFileName()
    {
        var trigger = BlobEventsTriggerDefinition.ForPipeline(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json"));
        Assert.Equal(["folderPath", "fileName"], trigger.ParameterNames);
        var parameters = trigger.Parameters(new JsonObject { ["folderPath"] = "landing/x", ["fileName"] = "f.csv" }, DateTimeOffset.UnixEpoch);
        Assert.Equal(["folderPath=landing/x", "fileName=f.csv"], parameters.Select(p => p.Key + "=" + p.Value));
    }

    [Fact]
    public void Arguments_Launch_PipelineRunCommandLine()
    {
        var launcher = new ProcessPipelineLauncher("dotnet", ["/x/lakehouse.dll"], ["--lake", "/data/lake"]);
        var launch = new PipelineLaunch("/adf/pipeline/pl_medallion.json", """{"folderPath":"landing/w","fileName":"a b.json"}""",
            [KeyValuePair.Create("folderPath", "landing/w"), KeyValuePair.Create("fileName", "a b.json")], "watch-1");

        Assert.Equal(
            ["/x/lakehouse.dll", "pipeline", "run", "/adf/pipeline/pl_medallion.json", "--trigger-body", """{"folderPath":"landing/w","fileName":"a b.json"}""",
             "--param", "folderPath=landing/w", "--param", "fileName=a b.json", "--lake", "/data/lake"],
            launcher.Arguments(launch));
    }

    [Fact]
    public async Task LaunchAsync_CancelledRunStillGoing_PassesOneSigIntAndWaitsForIt()
    {
        // A stand-in for 'lakehouse pipeline run' that, like it, stops on SIGINT: it notes the signal and exits 130. It starts with
        // SIGINT's default action (env --default-signal): a test run started in the background (nohup, '&') inherits SIGINT ignored,
        // and bash cannot trap a signal ignored when it started.
        var marker = _temp.Combine("interrupted");
        var launcher = new ProcessPipelineLauncher("env", ["--default-signal=INT", "bash", "-c", $"trap 'echo INT > {marker}; exit 130' INT; sleep 60 & wait", "run"], []);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => launcher.LaunchAsync(new PipelineLaunch("p.json", "{}", [], "watch-1"), cancel.Token));

        Assert.InRange(clock.Elapsed, ProcessPipelineLauncher.SignalDelay, ProcessPipelineLauncher.SignalDelay + TimeSpan.FromSeconds(10));
        Assert.Equal("INT\n", await File.ReadAllTextAsync(marker));
    }

    [Fact]
    public async Task LaunchAsync_RunExits_ItsExitCode()
    {
        var launcher = new ProcessPipelineLauncher("bash", ["-c", "[ \"$1 $2\" = 'pipeline run' ] && [ \"$4\" = '--trigger-body' ] && exit 3; exit 9", "run"], []);
        Assert.Equal(3, await launcher.LaunchAsync(new PipelineLaunch("p.json", "{}", [], "watch-1"), CancellationToken.None));
    }

    /// <summary>
    /// The real child process of a launch with a SecureString parameter, a new run and a resume (the watch starts a queued run as a
    /// resume too): its command line, as <c>ps -ef</c> or another user reading <c>/proc/&lt;pid&gt;/cmdline</c> sees it, holds no
    /// SecureString value, while the variable its <c>--param-env</c> names holds the value. Before, the value was on that command line.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("queued-1")]
    public async Task LaunchAsync_SecureStringParameter_ChildGetsItFromItsEnvironmentNotItsCommandLine(string? resumeRunId)
    {
        const string secret = "Jr6x-launch-s3cr3t-Mn27";
        var (cmdline, got) = (_temp.Combine("cmdline"), _temp.Combine("got"));
        // A stand-in for 'lakehouse pipeline run': it keeps its own command line as the kernel shows it to others, and for each
        // --param-env name=VARIABLE the variable's value.
        var script = $$"""
            tr '\0' '\n' < /proc/$$/cmdline > {{cmdline}}
            prev=; for a in "$@"; do if [ "$prev" = --param-env ]; then v=${a#*=}; printf '%s=%s\n' "${a%%=*}" "${!v}" >> {{got}}; fi; prev=$a; done
            """;
        var launcher = new ProcessPipelineLauncher("bash", ["-c", script, "run"], ["--lake", "/data/lake"]);
        var launch = new PipelineLaunch("p.json", "{}", [KeyValuePair.Create("folderPath", "landing/w"), KeyValuePair.Create("key", secret)], "watch-1", resumeRunId)
        {
            SecureParameters = [KeyValuePair.Create("key", secret)],
        };

        Assert.Equal(0, await launcher.LaunchAsync(launch, CancellationToken.None));

        var shown = await File.ReadAllTextAsync(cmdline);
        Assert.False(shown.Contains(secret, StringComparison.Ordinal), "the SecureString value is on the child's command line");
        Assert.Contains(resumeRunId is null ? "\n--param\nfolderPath=landing/w\n" : "\n--resume\nqueued-1\n", shown, StringComparison.Ordinal);
        Assert.True(File.Exists(got) && await File.ReadAllTextAsync(got) == "key=" + secret + "\n", "the child did not get the SecureString value through --param-env");
    }

    /// <summary>Records each launch and when it came (on <paramref name="clock"/>, by default from the recorder's creation); answers with a fixed exit code.</summary>
    private sealed class Recorder(int exitCode = 0, Func<TimeSpan>? clock = null, bool dies = false) : IPipelineLauncher
    {
        private readonly Func<TimeSpan> _clock = clock ?? StartedNow();
        private readonly ConcurrentQueue<(PipelineLaunch Launch, TimeSpan At)> _launches = new();

        internal IReadOnlyList<PipelineLaunch> Launches => [.. _launches.Select(l => l.Launch)];

        internal IReadOnlyList<TimeSpan> StartedAt => [.. _launches.Select(l => l.At)];

        private static Func<TimeSpan> StartedNow()
        {
            var watch = Stopwatch.StartNew();
            return () => watch.Elapsed;
        }

        /// <summary>The state store the run records are in: a launch ends its run there as the child process would.</summary>
        internal IPipelineStateStore? Store { get; set; }

        public async Task<int> LaunchAsync(PipelineLaunch launch, CancellationToken cancellationToken)
        {
            _launches.Enqueue((launch, _clock()));
            if (dies) throw new InvalidOperationException("the watch died before its run started");
            if (Store is { } store && launch.ResumeRunId is { } runId && await store.TryGetRunAsync(runId, cancellationToken) is { } run)
                await store.UpdateRunAsync(run with { Status = exitCode == 0 ? RunStatus.Succeeded : RunStatus.Failed, EndedAt = DateTimeOffset.UtcNow }, cancellationToken);
            return exitCode;
        }

        internal async Task WaitForAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            while (_launches.Count < count)
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"{_launches.Count} launches after 30 s, expected {count}");
                await Task.Delay(20);
            }
        }
    }
}

/// <summary>
/// A clock that stands still, moved only by <see cref="Advance"/>, until <see cref="Release"/>; from then on it runs with real time.
/// Only the time of day is taken from it (the watcher's settle time); timers stay on the system clock. <see cref="AfterNextRead"/>
/// runs once, right after the next reading (a write that lands between the watcher's reading of the clock and what it does next).
/// </summary>
internal sealed class HeldClock : TimeProvider
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Lock _lock = new();
    private TimeSpan _held;
    private Stopwatch? _running;

    /// <summary>The time passed on this clock since its start.</summary>
    public TimeSpan Elapsed()
    {
        lock (_lock) return _held + (_running?.Elapsed ?? TimeSpan.Zero);
    }

    public void Advance(TimeSpan by)
    {
        lock (_lock)
        {
            if (_running is not null) throw new InvalidOperationException("the clock runs already");
            _held += by;
        }
    }

    private Action? _afterNextRead;

    public Action? AfterNextRead
    {
        get => _afterNextRead;
        set => _afterNextRead = value;
    }

    public void Release()
    {
        lock (_lock) _running ??= Stopwatch.StartNew();
    }

    public override DateTimeOffset GetUtcNow()
    {
        var now = Start + Elapsed();
        var hook = Interlocked.Exchange(ref _afterNextRead, null);
        hook?.Invoke();
        return now;
    }
}
