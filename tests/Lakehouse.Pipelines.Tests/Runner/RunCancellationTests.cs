using Lakehouse.Pipelines.Runner;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>A run stopped (Ctrl+C) at an awkward moment is recorded Cancelled, and its resume finishes what ADF would have run.</summary>
public sealed class RunCancellationTests : RunnerTestKit
{
    /// <summary>
    /// Stopped in the wait between two attempts, the failed attempt's record (Failed) was the activity's last: the resumed run
    /// took it as the activity's final status and failed without the retries it had left.
    /// </summary>
    [Fact]
    public async Task ResumeAsync_StoppedWhileWaitingToRetry_RetriesTheActivity()
    {
        var counter = Path.Combine(Work, "count");
        var file = Pipeline("pl_retry_stop",
            [Custom("Flaky", $"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; [ $n -ge 2 ] || exit 7", Retry(2))]);
        string runId;
        await using (var waiting = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = Lake, Clock = TimeProvider.System }))
        {
            using var stop = new CancellationTokenSource();
            var run = waiting.RunAsync(file, cancellationToken: stop.Token);
            await using (var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)))
            {
                await PipelineRunnerTests.WaitForAsync(async () => (await store.ListRunsAsync()) is [var r, ..]
                    && (await store.ListActivitiesAsync(r.RunId)).Any(a => a.ActivityName == "Flaky" && a.Status == RunStatus.Failed));
            }
            await stop.CancelAsync(); // in the 30 s before attempt 2
            var stopped = await Record.ExceptionAsync(() => run);
            Assert.True(stopped is OperationCanceledException, $"the run was not stopped: {stopped}");
            await using var check = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake));
            var cancelled = Assert.Single(await check.ListRunsAsync());
            runId = cancelled.RunId;
            var flaky = Assert.Single(await check.ListActivitiesAsync(runId));
            Assert.Equal((RunStatus.Cancelled, 1), (flaky.Status, flaky.Attempt));
            Assert.StartsWith("cancelled while waiting to retry after: The command exited with code 7", flaky.Error, StringComparison.Ordinal);
        }

        var result = await CreateRunner().ResumeAsync(runId);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal((RunStatus.Succeeded, 2), (result.Activities.Single().Status, result.Activities.Single().Attempt));
        Assert.Equal("2", (await File.ReadAllTextAsync(counter)).Trim());
    }

    /// <summary>
    /// Ctrl+C in a terminal reaches the command too (the whole foreground process group), and it often ends of its SIGINT before
    /// the runner's own stop: the attempt was recorded Failed, the run went on (failure paths, Skipped dependents) and ended
    /// Failed, exit 1, not resumable. Here the command ends of SIGINT and the stop follows half a second later.
    /// </summary>
    [Fact]
    public async Task RunAsync_CommandEndsOfSigIntJustBeforeTheStop_RunIsCancelledAndItsResumeRunsTheActivityAgain()
    {
        var marker = Path.Combine(Work, "interrupted");
        var file = Pipeline("pl_ctrl_c",
        [
            Custom("Step", $"if [ -f {marker} ]; then echo resumed; else touch {marker}; kill -INT $$; fi"),
            Custom("OnFailure", $"touch {Path.Combine(Work, "failure-path")}", null, On("Step", "Failed")),
        ]);
        var runner = CreateRunner();
        using var stop = new CancellationTokenSource();
        var run = runner.RunAsync(file, cancellationToken: stop.Token);
        await PipelineRunnerTests.WaitForAsync(() => Task.FromResult(File.Exists(marker)));
        await Task.Delay(500);
        await stop.CancelAsync();

        var stopped = await Record.ExceptionAsync(() => run);

        Assert.True(stopped is OperationCanceledException, $"the run was not stopped: {stopped?.ToString() ?? (await run).Status.ToString()}");
        Assert.False(File.Exists(Path.Combine(Work, "failure-path")));
        string runId;
        await using (var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(Lake)))
        {
            var cancelled = Assert.Single(await store.ListRunsAsync());
            Assert.Equal(RunStatus.Cancelled, cancelled.Status);
            runId = cancelled.RunId;
            Assert.Equal(RunStatus.Cancelled, Assert.Single(await store.ListActivitiesAsync(runId)).Status);
        }
        var result = await runner.ResumeAsync(runId);
        Assert.Equal((RunStatus.Succeeded, 2), (result.Status, result.Activities.Single(a => a.ActivityName == "Step").Attempt));
        Assert.Equal(RunStatus.Skipped, result.Activities.Single(a => a.ActivityName == "OnFailure").Status);
    }
}
