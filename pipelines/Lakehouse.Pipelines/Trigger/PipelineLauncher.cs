using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Lakehouse.Pipelines.Trigger;

/// <summary>One pipeline run the watch starts.</summary>
/// <param name="PipelineFile">The pipeline file.</param>
/// <param name="TriggerBody">The trigger payload (BlobEventsTrigger shape), JSON.</param>
/// <param name="Parameters">The pipeline parameters, in order: the trigger's mapping, then the user's.</param>
/// <param name="ClaimId">The id under which the batch's files were claimed in the landed-file ledger.</param>
internal sealed record PipelineLaunch(string PipelineFile, string TriggerBody, IReadOnlyList<KeyValuePair<string, string>> Parameters, string ClaimId);

/// <summary>Starts a pipeline run and waits for its end; the exit code is the run's (0 succeeded).</summary>
internal interface IPipelineLauncher
{
    Task<int> LaunchAsync(PipelineLaunch launch, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <c>lakehouse pipeline run &lt;file&gt; --trigger-body '&lt;json&gt;' --param k=v …</c> as a child process of the same executable,
/// its output going to the watch's own. Cancelled, it passes SIGINT on to the run (which stops at a consistent point), waits for it
/// for <see cref="StopGrace"/>, then ends it.
/// </summary>
internal sealed class ProcessPipelineLauncher(string program, IReadOnlyList<string> leadingArguments, IReadOnlyList<string> trailingArguments) : IPipelineLauncher
{
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>The command line of a launch (after the program).</summary>
    internal IReadOnlyList<string> Arguments(PipelineLaunch launch)
    {
        var args = new List<string>(leadingArguments) { "pipeline", "run", launch.PipelineFile, "--trigger-body", launch.TriggerBody };
        foreach (var (k, v) in launch.Parameters)
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
            if (!OperatingSystem.IsWindows()) _ = Kill(process.Id, 2); // SIGINT: the run stops as on Ctrl+C
            using var grace = new CancellationTokenSource(StopGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            throw;
        }

        return process.ExitCode;
    }

    [DllImport("libc", EntryPoint = "kill")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
