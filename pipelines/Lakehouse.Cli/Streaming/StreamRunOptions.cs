using Lakehouse.Core.Webhooks;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Cli.Streaming;

/// <summary>What one <c>lakehouse stream</c> process does. Validated when set.</summary>
internal sealed class StreamRunOptions
{
    private TimeSpan _maxBatchWait = TimeSpan.FromMilliseconds(500);
    private int _maxBatchEvents = 100_000;
    private TimeSpan _poll = TimeSpan.FromMilliseconds(200);
    private int _compactEvery = 50;
    private int _keep = 100;
    private TimeSpan _grace = TimeSpan.FromSeconds(10);

    /// <summary>The dataset.</summary>
    internal required string Dataset { get; init; }

    /// <summary>kafka://…, eventhubs://… or <c>http</c> (HTTP ingest of this process's server); null when bronze is not run here.</summary>
    internal string? From { get; init; }

    /// <summary>The layers this process runs (default all three).</summary>
    internal StreamLayers Layers { get; init; } = StreamLayers.All;

    /// <summary>Gold's watermark delay, future tolerance and session gap (default <see cref="WindowSettings.Default"/>).</summary>
    internal WindowSettings Windows { get; init; } = WindowSettings.Default;

    /// <summary>
    /// Where gold's new alerts and silver's quality-gate refusals are posted (<c>LAKEHOUSE_ALERT_WEBHOOK_URL</c>); null: kept in the
    /// tables only. Alerts are posted beside the gold steps, which never wait for the webhook.
    /// </summary>
    internal WebhookOptions? Webhook { get; init; }

    /// <summary>The stream's consumer group.</summary>
    internal string? Group { get; init; }

    /// <summary>A bronze micro-batch is committed at the latest this long after its first event (default 500 ms).</summary>
    internal TimeSpan MaxBatchWait
    {
        get => _maxBatchWait;
        init => _maxBatchWait = value > TimeSpan.Zero && value <= TimeSpan.FromHours(1) ? value : throw new ArgumentOutOfRangeException(nameof(MaxBatchWait), value, "Between 0 (excluded) and 1 hour.");
    }

    /// <summary>A bronze micro-batch is committed when it holds this many events (default 100,000).</summary>
    internal int MaxBatchEvents
    {
        get => _maxBatchEvents;
        init => _maxBatchEvents = value is >= 1 and <= 10_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(MaxBatchEvents), value, "From 1 to 10,000,000.");
    }

    /// <summary>How often a layer without bronze in this process looks for new upstream versions (default 200 ms).</summary>
    internal TimeSpan Poll
    {
        get => _poll;
        init => _poll = value >= TimeSpan.FromMilliseconds(10) && value <= TimeSpan.FromMinutes(10) ? value : throw new ArgumentOutOfRangeException(nameof(Poll), value, "From 10 ms to 10 minutes.");
    }

    /// <summary>Compact each table this process writes after this many of its commits (default 50; 0: never).</summary>
    internal int CompactEvery
    {
        get => _compactEvery;
        init => _compactEvery = value is >= 0 and <= 1_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(CompactEvery), value, "From 0 to 1,000,000.");
    }

    /// <summary>Progress records kept for <c>GET /progress</c> (default 100).</summary>
    internal int Keep
    {
        get => _keep;
        init => _keep = value is >= 1 and <= 10_000 ? value : throw new ArgumentOutOfRangeException(nameof(Keep), value, "From 1 to 10,000.");
    }

    /// <summary>After a stop request, how long the silver or gold step running may take to commit before it is abandoned (default 10 s).</summary>
    internal TimeSpan Grace
    {
        get => _grace;
        init => _grace = value >= TimeSpan.Zero && value <= TimeSpan.FromMinutes(10) ? value : throw new ArgumentOutOfRangeException(nameof(Grace), value, "From 0 to 10 minutes.");
    }
}
