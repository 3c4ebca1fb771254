namespace Lakehouse.Serve.Dashboard;

/// <summary>The dashboard of <c>lakehouse serve</c> (<c>GET /</c> and <c>GET /api/…</c>).</summary>
public sealed class DashboardOptions
{
    private TimeSpan _refreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an open page asks whether a table it shows has a new version (<c>/api/versions</c>), reloading only the panels
    /// whose tables changed. Default 5 s; from 1 s to 1 hour.
    /// </summary>
    public TimeSpan RefreshInterval
    {
        get => _refreshInterval;
        set => _refreshInterval = value >= TimeSpan.FromSeconds(1) && value <= TimeSpan.FromHours(1)
            ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "From 1 second to 1 hour.");
    }
}
