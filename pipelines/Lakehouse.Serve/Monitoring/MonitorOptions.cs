namespace Lakehouse.Serve.Monitoring;

/// <summary>
/// <c>GET /progress</c> and <c>GET /metrics</c>: what a long-running command (<c>lakehouse stream</c>) reports about itself. The server
/// adds its own HTTP ingest counters to /metrics.
/// </summary>
public sealed class MonitorOptions
{
    /// <summary>
    /// The JSON of <c>GET /progress</c> (<c>?last=N</c>, 1 to 1000, default 20: the N most recent progress records); null: no
    /// /progress (answered 404).
    /// </summary>
    public Func<int, string>? Progress { get; set; }

    /// <summary>Adds the command's metrics to <c>GET /metrics</c>; null: only the server's own.</summary>
    public Action<PrometheusText>? Metrics { get; set; }
}
