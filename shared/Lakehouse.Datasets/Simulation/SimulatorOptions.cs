namespace Lakehouse.Datasets.Simulation;

/// <summary>What the simulator generates: how many events, from which seed, over which time span, and which faults.</summary>
public sealed class SimulatorOptions
{
    /// <summary>The default start of event times: 2024-05-01T00:00:00Z, so a seed alone fixes the output.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private long _events = 10_000;
    private double _duplicates;
    private double _malformed;
    private double _late;
    private TimeSpan? _span;

    /// <summary>How many events to send in all, duplicates and malformed ones included (default 10,000).</summary>
    public long Events
    {
        get => _events;
        set => _events = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The number of events is 0 or more.");
    }

    /// <summary>The seed: the same seed and options give byte-identical events (default 42).</summary>
    public long Seed { get; set; } = 42;

    /// <summary>The fraction of sends that are exact re-sends of a recent event, as an at-least-once producer makes (0 to 1, default 0).</summary>
    public double Duplicates
    {
        get => _duplicates;
        set => _duplicates = Fraction(value);
    }

    /// <summary>The fraction of sends that are malformed: truncated, garbage, or invalid UTF-8 (0 to 1, default 0).</summary>
    public double Malformed
    {
        get => _malformed;
        set => _malformed = Fraction(value);
    }

    /// <summary>The fraction of new events that arrive late: their event time is 1 to 24 hours before the others' (0 to 1, default 0).</summary>
    public double Late
    {
        get => _late;
        set => _late = Fraction(value);
    }

    /// <summary>The first event time (default <see cref="DefaultStart"/>).</summary>
    public DateTimeOffset Start { get; set; } = DefaultStart;

    /// <summary>
    /// How long the event times span; null for the dataset's default: 3 days for weblogs and accesslogs; for sensors, a fleet
    /// that reads every 30 seconds, about one day of readings per sensor.
    /// </summary>
    public TimeSpan? Span
    {
        get => _span;
        set => _span = value is null || (value > TimeSpan.Zero && value <= TimeSpan.FromDays(3650))
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The span is more than zero and at most 10 years.");
    }

    internal void Validate()
    {
        if (Duplicates + Malformed > 1)
            throw new ArgumentOutOfRangeException(nameof(Duplicates), Duplicates + Malformed, "Duplicates and malformed together are at most all of the events (1).");
    }

    private static double Fraction(double value) =>
        double.IsFinite(value) && value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A fraction is between 0 and 1.");
}

/// <summary>What kind of send a simulated event is.</summary>
public enum SimulatedEventKind
{
    /// <summary>A new, valid event in time order.</summary>
    Clean,

    /// <summary>A new, valid event whose event time is well before the others' (it arrives late).</summary>
    Late,

    /// <summary>An exact re-send of an event sent shortly before (same bytes).</summary>
    Duplicate,

    /// <summary>Not a valid event: truncated, garbage, or invalid UTF-8. Never contains a line break.</summary>
    Malformed,
}

/// <summary>One event as the simulator sends it.</summary>
/// <param name="Payload">The bytes: a JSON object or a text line, without a line break.</param>
/// <param name="Key">The partition key: weblogs' session, sensors' sensor, access logs' client address.</param>
/// <param name="Kind">Clean, late, duplicate or malformed.</param>
public sealed record SimulatedEvent(byte[] Payload, string? Key, SimulatedEventKind Kind);
