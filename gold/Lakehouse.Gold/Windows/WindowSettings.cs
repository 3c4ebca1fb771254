namespace Lakehouse.Gold.Windows;

/// <summary>
/// How the windowed gold tables treat time: how far the watermark stays behind the newest event time, how far ahead of its
/// ingest time an event may be and still move the watermark, and how long a pause ends a session. All are whole microseconds
/// (DuckDB's timestamp precision). Validated when set (<see cref="ArgumentOutOfRangeException"/>), also through <c>with</c>.
/// </summary>
/// <param name="WatermarkDelay">
/// The watermark is the newest event time seen minus this delay; a window is final once the watermark reaches its end.
/// Zero to 1 day; default 10 seconds.
/// </param>
/// <param name="SessionGap">
/// Two consecutive events at most this far apart belong to the same session; a longer pause starts a new one.
/// More than zero, at most 1 day; default 10 minutes.
/// </param>
public sealed record WindowSettings(TimeSpan WatermarkDelay, TimeSpan SessionGap)
{
    private readonly TimeSpan _watermarkDelay = CheckDelay(WatermarkDelay);
    private readonly TimeSpan _sessionGap = CheckGap(SessionGap);
    private readonly TimeSpan _futureTolerance = TimeSpan.FromHours(1);

    /// <summary>The defaults: a watermark 10 seconds behind the newest event time, sessions cut by a 10-minute pause.</summary>
    public static WindowSettings Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(10));

    /// <inheritdoc cref="WindowSettings(TimeSpan, TimeSpan)" path="/param[@name='WatermarkDelay']"/>
    public TimeSpan WatermarkDelay
    {
        get => _watermarkDelay;
        init => _watermarkDelay = CheckDelay(value);
    }

    /// <inheritdoc cref="WindowSettings(TimeSpan, TimeSpan)" path="/param[@name='SessionGap']"/>
    public TimeSpan SessionGap
    {
        get => _sessionGap;
        init => _sessionGap = CheckGap(value);
    }

    /// <summary>
    /// An event stamped more than this after its row's ingest time (a device clock ahead, local time sent as UTC, a wrong year)
    /// is in the windows of its time like any other, but does not move the watermark: one event from the year 2099 would
    /// otherwise make every window final at once, every later event late, and every sensor silent. Zero to 366 days; default
    /// 1 hour. Raise it for simulated data whose times run ahead of the clock (<c>produce --start now --days 1</c>).
    /// </summary>
    public TimeSpan FutureTolerance
    {
        get => _futureTolerance;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(FutureTolerance));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(366), nameof(FutureTolerance));
            _futureTolerance = WindowSql.WholeMicroseconds(value, nameof(FutureTolerance));
        }
    }

    internal static TimeSpan CheckDelay(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(WatermarkDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1), nameof(WatermarkDelay));
        return WindowSql.WholeMicroseconds(value, nameof(WatermarkDelay));
    }

    private static TimeSpan CheckGap(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(SessionGap));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1), nameof(SessionGap));
        return WindowSql.WholeMicroseconds(value, nameof(SessionGap));
    }
}
