using System.Diagnostics;
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
    /// The SecureString parameters a resume (<see cref="ResumeRunId"/>) is given again (<c>--param k=v</c>): the run record keeps
    /// them masked, never their values.
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
internal sealed class ProcessPipelineLauncher(string program, IReadOnlyList<string> leadingArguments, IReadOnlyList<string> trailingArguments) : IPipelineLauncher
{
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    internal static readonly TimeSpan SignalDelay = TimeSpan.FromSeconds(3);

    /// <summary>The command line of a launch (after the program).</summary>
    internal IReadOnlyList<string> Arguments(PipelineLaunch launch)
    {
        var args = new List<string>(leadingArguments) { "pipeline", "run" };
        if (launch.ResumeRunId is { } runId) args.AddRange(["--resume", runId]);
        else args.AddRange([launch.PipelineFile, "--trigger-body", launch.TriggerBody]);
        foreach (var (k, v) in launch.ResumeRunId is null ? launch.Parameters : launch.SecureParameters)
        {
            args.Add("--param");
            args.Add(k + "=" + v);
        }

        args.AddRange(trailingArguments);
        return args;
    }

    public async Task<int> LaunchAsync(PipelineLaunch launch, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (var a in Arguments(launch)) start.ArgumentList.Add(a);
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
