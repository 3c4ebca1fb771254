namespace Lakehouse.Gold.Windows;

/// <summary>
/// How the windowed gold tables treat time: how far the watermark stays behind the newest event time, and how long a pause
/// ends a session. Both are whole microseconds (DuckDB's timestamp precision). Validated when set
/// (<see cref="ArgumentOutOfRangeException"/>), also through <c>with</c>.
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
