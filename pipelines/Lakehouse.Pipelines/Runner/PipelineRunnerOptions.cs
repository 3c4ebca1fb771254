using Lakehouse.Core.Webhooks;
using Lakehouse.Pipelines.State;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// How <see cref="PipelineRunner"/> runs pipelines on this machine. Validated when the runner is created
/// (<see cref="ArgumentException"/>).
/// </summary>
public sealed class PipelineRunnerOptions
{
    /// <summary>
    /// The local lake folder the runner works in: activity logs go to <c>&lt;LakeRoot&gt;/_lakehouse/runs/&lt;runId&gt;/</c>, Script
    /// activities query its tables, and the SQLite state store (when <see cref="StateStore"/> is null) is
    /// <c>&lt;LakeRoot&gt;/_lakehouse/state.db</c>. Required.
    /// </summary>
    public string LakeRoot { get; init; } = "";

    /// <summary>
    /// Where runs and activity checkpoints are kept; null for SQLite under <see cref="LakeRoot"/>. A store passed here is
    /// initialized by the runner but not disposed: its owner disposes it.
    /// </summary>
    public IPipelineStateStore? StateStore { get; init; }

    /// <summary>
    /// The program and leading arguments that stand for <c>lakehouse</c> when a Custom activity's command starts with
    /// <c>lakehouse </c>, e.g. <c>["dotnet", "/path/lakehouse.dll"]</c>. Null: this process's own executable when it is
    /// <c>lakehouse</c> (the apphost, or <c>dotnet lakehouse.dll</c>), else <c>lakehouse</c> on the PATH.
    /// </summary>
    public IReadOnlyList<string>? LakehouseCommand { get; init; }

    /// <summary>Where a failed run is reported (see <see cref="PipelineWebhook.FromEnvironment()"/>); null for no notification.</summary>
    public WebhookOptions? Webhook { get; init; }

    /// <summary>How many bytes of a Custom activity's standard output its output keeps (<c>stdoutTail</c>). 0 to 1 MiB; default 4096.</summary>
    public int OutputTailBytes { get; init; } = 4096;

    /// <summary>Logging; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock of run times, of <c>utcnow()</c> and of the wait between an activity's attempts (policy.retryIntervalInSeconds).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(LakeRoot))
            throw new ArgumentException("PipelineRunnerOptions.LakeRoot is required: the local lake folder the runs keep their logs in.", nameof(LakeRoot));
        if (LakeRoot.Contains("://", StringComparison.Ordinal))
            throw new ArgumentException($"PipelineRunnerOptions.LakeRoot must be a local folder, not '{LakeRoot}': the local runner keeps its logs and SQL there.", nameof(LakeRoot));
        if (LakehouseCommand is { Count: 0 })
            throw new ArgumentException("PipelineRunnerOptions.LakehouseCommand is empty: give the program (and its leading arguments) or leave it null.", nameof(LakehouseCommand));
        ArgumentOutOfRangeException.ThrowIfNegative(OutputTailBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(OutputTailBytes, 1 << 20);
    }
}
