using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Lakehouse.Pipelines.Trigger;

/// <summary>One pipeline run the watch starts.</summary>
/// <param name="PipelineFile">The pipeline file.</param>
/// <param name="TriggerBody">The trigger payload (BlobEventsTrigger shape), JSON.</param>
/// <param name="Parameters">The pipeline parameters, in order: the trigger's mapping, then the user's.</param>
/// <param name="ClaimId">The id under which the batch's files were claimed in the landed-file ledger.</param>
/// <param name="ResumeRunId">The run to resume instead (<c>pipeline run --resume</c>): one an earlier watch started that did not finish.</param>
internal sealed record PipelineLaunch(string PipelineFile, string TriggerBody, IReadOnlyList<KeyValuePair<string, string>> Parameters, string ClaimId, string? ResumeRunId = null)
{
    /// <summary>
    /// The SecureString parameters (of <see cref="Parameters"/>): the run gets them through its environment, never its command line
    /// (<see cref="ProcessPipelineLauncher"/>); a resume (<see cref="ResumeRunId"/>) is given only these, again, since the run
    /// record keeps them masked, never their values.
    /// </summary>
    internal IReadOnlyList<KeyValuePair<string, string>> SecureParameters { get; init; } = [];
}

/// <summary>Starts a pipeline run and waits for its end; the exit code is the run's (0 succeeded).</summary>
internal interface IPipelineLauncher
{
    Task<int> LaunchAsync(PipelineLaunch launch, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <c>lakehouse pipeline run &lt;file&gt; --trigger-body '&lt;json&gt;' --param k=v …</c> as a child process of the same executable,
/// its output going to the watch's own. Cancelled, it waits <see cref="SignalDelay"/> for the run to stop on its own (Ctrl+C in a
/// terminal reaches it too), then passes SIGINT on (the run stops at a consistent point), waits <see cref="StopGrace"/>, then ends it.
/// </summary>
/// <remarks>
/// A SecureString parameter's value never goes on the child's command line, which every user of the machine can read (<c>ps -ef</c>,
/// <c>/proc/&lt;pid&gt;/cmdline</c>). It goes in the child's environment, as <see cref="Runner.SecureValues.VariablePrefix"/><c>&lt;n&gt;</c>, and the
/// command line only names that variable: <c>--param-env key=LAKEHOUSE_SECURE_PARAM_0</c>, the option a user gives a secret with too.
/// The environment was chosen over standard input because it is private to the user: <c>/proc/&lt;pid&gt;/environ</c> is readable by
/// the process's own user (and root) only, as a Windows process's environment is; and the child's standard input stays the watch's,
/// as before. The runner keeps these variables out of its Custom activities' commands (<see cref="Runner.CustomCommand"/>), so they
/// end with the run.
/// </remarks>
internal sealed class ProcessPipelineLauncher(string program, IReadOnlyList<string> leadingArguments, IReadOnlyList<string> trailingArguments) : IPipelineLauncher
{
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    internal static readonly TimeSpan SignalDelay = TimeSpan.FromSeconds(3);

    /// <summary>The command line of a launch (after the program): a SecureString parameter as <c>--param-env name=VARIABLE</c>, never its value.</summary>
    internal IReadOnlyList<string> Arguments(PipelineLaunch launch) => Start(launch).Arguments;

    /// <summary>The variables set in the environment of a launch's process: the values of its SecureString parameters.</summary>
    internal IReadOnlyDictionary<string, string> Variables(PipelineLaunch launch) => Start(launch).Variables;

    private (List<string> Arguments, Dictionary<string, string> Variables) Start(PipelineLaunch launch)
    {
        var args = new List<string>(leadingArguments) { "pipeline", "run" };
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (launch.ResumeRunId is { } runId) args.AddRange(["--resume", runId]);
        else args.AddRange([launch.PipelineFile, "--trigger-body", launch.TriggerBody]);
        var secure = launch.SecureParameters.Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in launch.ResumeRunId is null ? launch.Parameters : launch.SecureParameters)
        {
            if (secure.Contains(k))
            {
                var variable = Runner.SecureValues.VariablePrefix + variables.Count.ToString(CultureInfo.InvariantCulture);
                variables[variable] = v;
                args.Add("--param-env");
                args.Add(k + "=" + variable);
            }
            else
            {
                args.Add("--param");
                args.Add(k + "=" + v);
            }
        }

        args.AddRange(trailingArguments);
        return (args, variables);
    }

    public async Task<int> LaunchAsync(PipelineLaunch launch, CancellationToken cancellationToken)
    {
        var (arguments, variables) = Start(launch);
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var stale in start.Environment.Keys.Where(Runner.SecureValues.IsVariable).ToList()) start.Environment.Remove(stale); // none of this launch's
        foreach (var (name, value) in variables) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C in a terminal reaches the run too (one process group): give it time to stop on its own, since a second
            // SIGINT would end it at once. Still running after that (the watch alone was signalled), it gets one SIGINT.
            if (!await ExitsWithinAsync(process, SignalDelay).ConfigureAwait(false))
            {
                if (!OperatingSystem.IsWindows()) _ = Kill(process.Id, 2);
                if (!await ExitsWithinAsync(process, StopGrace).ConfigureAwait(false)) process.Kill(entireProcessTree: true);
            }

            throw;
        }

        return process.ExitCode;
    }

    private static async Task<bool> ExitsWithinAsync(Process process, TimeSpan time)
    {
        using var timeout = new CancellationTokenSource(time);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
