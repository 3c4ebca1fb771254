using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Pipelines;

/// <summary>
/// A SecureString parameter as a user gives it (<c>--param</c> to <c>pipeline run</c> and <c>watch</c>): the activities get its value,
/// and nothing the CLI prints (with <c>--verbose</c>, <c>--json</c>, <c>pipeline runs</c>) or the lake keeps shows it; a run given one is
/// resumed with it given again.
/// </summary>
public sealed class PipelineRunSecureStringTests : IDisposable
{
    private const string Secret = "Hn5w-cli-s3cr3t-Pq92-securestring";

    private readonly TempDirectory _temp = new("pipeline-secure");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Got => _temp.Combine("got");

    private string Pipeline(string name, string activities)
    {
        var file = _temp.Combine("pipeline", name + ".json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var parameters = new JsonObject { ["key"] = new JsonObject { ["type"] = "securestring" } };
        File.WriteAllText(file, new JsonObject { ["name"] = name, ["properties"] = new JsonObject { ["parameters"] = parameters, ["activities"] = JsonNode.Parse(activities) } }.ToJsonString());
        return file;
    }

    private static JsonObject CustomJson(string name, string command, string? after = null) => new()
    {
        ["name"] = name,
        ["type"] = "Custom",
        ["dependsOn"] = after is null ? new JsonArray() : new JsonArray(new JsonObject { ["activity"] = after, ["dependencyConditions"] = new JsonArray("Succeeded") }),
        ["typeProperties"] = new JsonObject { ["command"] = command },
    };

    private void AssertHidden(params CliRunner.Result[] results)
    {
        foreach (var r in results)
        {
            Assert.DoesNotContain(Secret, r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, r.Stderr, StringComparison.Ordinal);
        }
        foreach (var f in Directory.EnumerateFiles(Lake, "*", SearchOption.AllDirectories))
            Assert.False(Encoding.UTF8.GetString(File.ReadAllBytes(f)).Contains(Secret, StringComparison.Ordinal), $"the SecureString value is in {f}");
    }

    [Fact]
    public async Task PipelineRun_SecureStringParam_ActivityGetsItAndOutputRunsAndLakeShowOnlyMask()
    {
        var file = Pipeline("pl_secure_cli", new JsonArray(
            CustomJson("Use", $"printf %s '@{{pipeline().parameters.key}}' > {Got}; echo using @{{pipeline().parameters.key}}"),
            CustomJson("Leak", "echo bad @{pipeline().parameters.key} >&2; exit 4", "Use")).ToJsonString());

        var run = await CliRunner.RunAsync("pipeline", "run", file, "--param", $"key={Secret}", "--lake", Lake, "--json", "-v");
        var runId = JsonNode.Parse(run.Stdout)!["runId"]!.GetValue<string>();
        var runs = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--json", "-v");
        var one = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--run", runId, "--json");
        var table = await CliRunner.RunAsync("pipeline", "runs", "--lake", Lake, "--run", runId);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(Secret, await File.ReadAllTextAsync(Got));
        Assert.StartsWith("The command exited with code 4: bad ***", JsonNode.Parse(run.Stdout)!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("\"stdout\":\"using ***\"", one.Stdout, StringComparison.Ordinal);
        Assert.True(runs.ExitCode == 0 && one.ExitCode == 0 && table.ExitCode == 0, runs.Stderr + one.Stderr + table.Stderr);
        AssertHidden(run, runs, one, table);
    }

    /// <summary>
    /// A run stopped by Ctrl+C is resumed only with its SecureString parameter given again (exit 1 naming it without), and the
    /// watch, whose runs start as <c>pipeline run --resume</c> of the run it queued, gives it to the run it starts.
    /// </summary>
    [Fact]
    public async Task PipelineRunResume_SecureStringParam_RefusedWithoutItRunsWithItAndWatchGivesIt()
    {
        var go = _temp.Combine("go");
        var file = Pipeline("pl_secure_resume_cli", new JsonArray(
            CustomJson("Slow", $"[ -f {go} ] || sleep 60"),
            CustomJson("Use", $"printf %s '@{{pipeline().parameters.key}}' > {Got}", "Slow")).ToJsonString());
        using (var first = CliRunner.Start(["pipeline", "run", file, "--param", $"key={Secret}", "--lake", Lake, "--json"]))
        {
            var log = Path.Combine(Lake, "_lakehouse", "runs");
            Assert.True(await first.WaitUntilAsync(() => Directory.Exists(log) && Directory.EnumerateFiles(log, "Slow.log", SearchOption.AllDirectories).Any()), first.Stderr);
            await first.SignalAsync("INT");
            Assert.Equal(130, (await first.WaitAsync()).ExitCode);
        }
        await File.WriteAllTextAsync(go, "");
        var runId = Path.GetFileName(Directory.EnumerateDirectories(Path.Combine(Lake, "_lakehouse", "runs")).Single());

        var refused = await CliRunner.RunAsync("pipeline", "run", "--resume", runId, "--lake", Lake);
        var resumed = await CliRunner.RunAsync("pipeline", "run", "--resume", runId, "--param", $"key={Secret}", "--lake", Lake, "-v");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("SecureString parameter 'key'", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--param key=<value>", refused.Stderr, StringComparison.Ordinal);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(Secret, await File.ReadAllTextAsync(Got));
        AssertHidden(refused, resumed);

        File.Delete(Got);
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(Path.Combine(landing, "weblogs"));
        await File.WriteAllTextAsync(Path.Combine(landing, "weblogs", "a.ndjson"), "{}\n");
        var watch = await CliRunner.RunAsync("watch", landing, "--pipeline", file, "--param", $"key={Secret}", "--settle-seconds", "0", "--once", "--lake", Lake, "-v");

        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);
        Assert.Equal(Secret, await File.ReadAllTextAsync(Got));
        AssertHidden(watch);
    }

    /// <summary>
    /// <c>--param-env name=VARIABLE</c> gives <c>pipeline run</c> a parameter from an environment variable, off its command line:
    /// the activity gets the value and the output and lake show only the mask; a variable that is not set, and a name given by
    /// --param and --param-env both, are usage errors (exit 2) naming them, never a value.
    /// </summary>
    [Fact]
    public async Task PipelineRun_ParamEnv_ActivityGetsTheVariablesValueAndAnUnsetVariableIsUsage2()
    {
        var file = Pipeline("pl_secure_env_cli", new JsonArray(CustomJson("Use", $"printf %s '@{{pipeline().parameters.key}}' > {Got}; echo using @{{pipeline().parameters.key}}")).ToJsonString());
        var unset = "LAKEHOUSE_TEST_UNSET_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string> { ["PL_SECURE_KEY"] = Secret };

        var run = await CliRunner.RunAsync(environment, "pipeline", "run", file, "--param-env", "key=PL_SECURE_KEY", "--lake", Lake, "--json", "-v");
        var missing = await CliRunner.RunAsync(environment, "pipeline", "run", file, "--param-env", $"key={unset}", "--lake", Lake);
        var twice = await CliRunner.RunAsync(environment, "pipeline", "run", file, "--param", "key=x", "--param-env", "KEY=PL_SECURE_KEY", "--lake", Lake);
        var malformed = await CliRunner.RunAsync(environment, "pipeline", "run", file, "--param-env", "key", "--lake", Lake);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.True(await File.ReadAllTextAsync(Got) == Secret, "the activity did not get the variable's value");
        Assert.Contains("using ***", run.Stdout, StringComparison.Ordinal);
        Assert.Equal((2, $"error: --param-env key={unset}: the environment variable {unset} is not set\n"), (missing.ExitCode, missing.Stderr));
        Assert.Equal((2, "error: --param-env KEY is given twice\n"), (twice.ExitCode, twice.Stderr));
        Assert.Equal((2, "error: --param-env must be name=VARIABLE (an environment variable's name), not 'key'\n"), (malformed.ExitCode, malformed.Stderr));
        Assert.Single(Directory.EnumerateDirectories(Path.Combine(Lake, "_lakehouse", "runs")));
        AssertHidden(run, missing, twice, malformed);
    }

    /// <summary>
    /// End to end: the run a watch starts (a child process, <c>pipeline run --resume</c>) gets the watch's SecureString value, given to
    /// the watch as <c>--param</c> or <c>--param-env</c>, and its command line, as another user reads it in /proc, does not hold it;
    /// the run's Custom commands do not get the variable that carried it. Before, the value was on the run's command line, and a
    /// watch had no --param-env.
    /// </summary>
    [Theory]
    [InlineData("--param")]
    [InlineData("--param-env")]
    public async Task Watch_SecureStringParam_RunGetsItAndItIsOnNoCommandLineOfTheRun(string option)
    {
        var (cmdline, env) = (_temp.Combine("cmdline"), _temp.Combine("env"));
        var file = Pipeline("pl_secure_watch_cli", new JsonArray(
            CustomJson("Use", $"tr '\\0' '\\n' < /proc/$PPID/cmdline > {cmdline}; env > {env}; printf %s '@{{pipeline().parameters.key}}' > {Got}")).ToJsonString());
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(Path.Combine(landing, "weblogs"));
        await File.WriteAllTextAsync(Path.Combine(landing, "weblogs", "a.ndjson"), "{}\n");
        var given = option == "--param" ? $"key={Secret}" : "key=WATCH_SECURE_KEY";

        var watch = await CliRunner.RunAsync(new Dictionary<string, string> { ["WATCH_SECURE_KEY"] = Secret },
            "watch", landing, "--pipeline", file, option, given, "--settle-seconds", "0", "--once", "--lake", Lake, "-v");

        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);
        Assert.True(await File.ReadAllTextAsync(Got) == Secret, "the run did not get the SecureString value");
        var shown = await File.ReadAllTextAsync(cmdline);
        Assert.False(shown.Contains(Secret, StringComparison.Ordinal), "the SecureString value is on the command line of the run the watch started");
        Assert.Contains("\npipeline\nrun\n--resume\n", shown, StringComparison.Ordinal);
        Assert.Contains("\n--param-env\nkey=LAKEHOUSE_SECURE_PARAM_0\n", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("LAKEHOUSE_SECURE_PARAM_", await File.ReadAllTextAsync(env), StringComparison.Ordinal);
        AssertHidden(watch);
    }
}
