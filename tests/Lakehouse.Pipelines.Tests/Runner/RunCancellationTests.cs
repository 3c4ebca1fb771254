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
}
