namespace Lakehouse.Gold.Alerts;

/// <summary>
/// The thresholds of the alert rules (<see cref="AlertRules"/>). Each property is validated when set
/// (<see cref="ArgumentOutOfRangeException"/>); the rules check the pairs (low below high, the minimum baseline within the
/// baseline) when they use the settings (<see cref="ArgumentException"/>).
/// </summary>
public sealed record AlertSettings
{
    private readonly double _temperatureHighF = 100;
    private readonly double _temperatureLowF = 32;
    private readonly TimeSpan _silentAfter = TimeSpan.FromMinutes(5);
    private readonly double _spikeRise = 0.20;
    private readonly TimeSpan _spikeWindow = TimeSpan.FromMinutes(1);
    private readonly double _ttiRegressionFactor = 1.5;
    private readonly int _baselineDays = 7;
    private readonly int _minBaselineDays = 3;

    /// <summary>The defaults of every rule.</summary>
    public static AlertSettings Default { get; } = new();

    /// <summary><c>temperature_high</c> fires for a minute whose highest temperature is above this (°F). −200 to 1,000; default 100.</summary>
    public double TemperatureHighF
    {
        get => _temperatureHighF;
        init => _temperatureHighF = InRange(value, -200, 1000, nameof(TemperatureHighF));
    }

    /// <summary><c>temperature_low</c> fires for a minute whose lowest temperature is below this (°F). −200 to 1,000; default 32.</summary>
    public double TemperatureLowF
    {
        get => _temperatureLowF;
        init => _temperatureLowF = InRange(value, -200, 1000, nameof(TemperatureLowF));
    }

    /// <summary>
    /// <c>sensor_silent</c> fires when a sensor sends nothing for longer than this. 1 second to 1 day, whole microseconds;
    /// default 5 minutes.
    /// </summary>
    public TimeSpan SilentAfter
    {
        get => _silentAfter;
        init => _silentAfter = InRange(value, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), nameof(SilentAfter));
    }

    /// <summary>
    /// <c>value_spike</c> fires for a reading that is more than this share above an earlier reading of the same sensor within
    /// <see cref="SpikeWindow"/> (the rise relative to the earlier reading's magnitude). More than 0, at most 100; default 0.20.
    /// </summary>
    public double SpikeRise
    {
        get => _spikeRise;
        init => _spikeRise = value > 0 ? InRange(value, 0, 100, nameof(SpikeRise)) : throw new ArgumentOutOfRangeException(nameof(SpikeRise), value, "The rise must be more than 0.");
    }

    /// <summary>How far back <c>value_spike</c> looks for the earlier reading (inclusive). 1 second to 1 hour, whole microseconds; default 1 minute.</summary>
    public TimeSpan SpikeWindow
    {
        get => _spikeWindow;
        init => _spikeWindow = InRange(value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), nameof(SpikeWindow));
    }

    /// <summary>
    /// <c>tti_p95_regression</c> fires for a page and day whose p95 TTI is above this factor times the page's baseline (the
    /// average daily p95 of the <see cref="BaselineDays"/> days before). 1 to 100; default 1.5.
    /// </summary>
    public double TtiRegressionFactor
    {
        get => _ttiRegressionFactor;
        init => _ttiRegressionFactor = InRange(value, 1, 100, nameof(TtiRegressionFactor));
    }

    /// <summary>How many days before a day make its TTI baseline. 1 to 90; default 7.</summary>
    public int BaselineDays
    {
        get => _baselineDays;
        init => _baselineDays = (int)InRange(value, 1, 90, nameof(BaselineDays));
    }

    /// <summary>
    /// How many of the <see cref="BaselineDays"/> must have a p95 for the baseline to count (fewer: no alert, the page is too
    /// new to judge). 1 to <see cref="BaselineDays"/>; default 3.
    /// </summary>
    public int MinBaselineDays
    {
        get => _minBaselineDays;
        init => _minBaselineDays = (int)InRange(value, 1, 90, nameof(MinBaselineDays));
    }

    /// <summary>Checks the settings that depend on each other.</summary>
    /// <exception cref="ArgumentException">The low temperature is not below the high one, or the minimum baseline is longer than the baseline.</exception>
    internal void Validate()
    {
        if (TemperatureLowF >= TemperatureHighF)
            throw new ArgumentException($"TemperatureLowF ({TemperatureLowF}) must be below TemperatureHighF ({TemperatureHighF}).");
        if (MinBaselineDays > BaselineDays)
            throw new ArgumentException($"MinBaselineDays ({MinBaselineDays}) cannot be more than BaselineDays ({BaselineDays}).");
    }

    private static double InRange(double value, double min, double max, string name) =>
        double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"Must be a number from {min} to {max}.");

    private static TimeSpan InRange(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return Windows.WindowSql.WholeMicroseconds(value, name);
    }
}
