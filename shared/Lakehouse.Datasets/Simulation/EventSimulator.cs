using System.Text;
using Lakehouse.Core;

namespace Lakehouse.Datasets.Simulation;

/// <summary>
/// Realistic events of the built-in datasets, deterministic for a seed: the same dataset, seed and options give byte-identical
/// events (on the same .NET version and platform). Duplicates, malformed events and late events are mixed in on request.
/// </summary>
public static class EventSimulator
{
    private const int RecentEvents = 256;

    /// <summary>How long weblogs' and accesslogs' event times span when no span is given (3 days).</summary>
    internal static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(3);

    /// <summary>The datasets the simulator generates: accesslogs, sensors and weblogs.</summary>
    public static IReadOnlyList<string> Datasets { get; } = ["accesslogs", "sensors", "weblogs"];

    /// <summary>
    /// The events of <paramref name="dataset"/>, generated lazily (a large run costs no memory). An unknown dataset is a
    /// <see cref="LakehouseException"/> (InvalidInput) naming the ones it knows.
    /// </summary>
    public static IEnumerable<SimulatedEvent> Generate(string dataset, SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        IEventGenerator generator = dataset switch
        {
            "weblogs" => new WebLogGenerator(options),
            "sensors" => new SensorGenerator(options),
            "accesslogs" => new AccessLogGenerator(options),
            _ => throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"The simulator generates {string.Join(", ", Datasets.Take(Datasets.Count - 1))} and {Datasets[^1]}, not '{dataset}'."),
        };
        return Run(generator, options);
    }

    /// <summary>
    /// A time the event times of <paramref name="dataset"/> stay before: the end of the span (<see cref="SimulatorOptions.Span"/>
    /// or the dataset's default) for weblogs and accesslogs; for sensors, whose readings run on past the span by the time their
    /// sensors pause (about a fifteenth of it on average), a quarter of the span and a day more. Late events are earlier, not later.
    /// </summary>
    public static DateTimeOffset EndOfEventTimes(string dataset, SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        if (dataset != "sensors") return options.Start + (options.Span ?? DefaultSpan);
        var span = options.Span ?? SensorGenerator.DefaultSpan(options.Events);
        return options.Start + span + (span / 4) + TimeSpan.FromDays(1);
    }

    private static IEnumerable<SimulatedEvent> Run(IEventGenerator generator, SimulatorOptions options)
    {
        using var disposeGenerator = generator;
        var faults = new SimRandom(options.Seed, stream: 1);
        var recent = new SimulatedEvent[RecentEvents];
        var recentCount = 0;
        var recentNext = 0;
        for (long slot = 0; slot < options.Events; slot++)
        {
            var u = faults.NextDouble();
            if (u < options.Malformed)
            {
                yield return new SimulatedEvent(Malform(generator, slot, faults), null, SimulatedEventKind.Malformed);
                continue;
            }
            if (u < options.Malformed + options.Duplicates && recentCount > 0)
            {
                yield return recent[faults.Next(recentCount)] with { Kind = SimulatedEventKind.Duplicate };
                continue;
            }
            var late = options.Late > 0 && faults.Chance(options.Late);
            var (payload, key) = generator.Next(slot, late);
            var e = new SimulatedEvent(payload, key, late ? SimulatedEventKind.Late : SimulatedEventKind.Clean);
            recent[recentNext] = e;
            recentNext = (recentNext + 1) % RecentEvents;
            recentCount = Math.Min(recentCount + 1, RecentEvents);
            yield return e;
        }
    }

    /// <summary>A malformed event: a truncated one, garbage, or one with bytes that are not UTF-8. It never holds a line break.</summary>
    private static byte[] Malform(IEventGenerator generator, long slot, SimRandom random)
    {
        var (clean, _) = generator.Next(slot, late: false);
        var kind = random.NextDouble();
        if (kind < 0.4)
        {
            // Cut before the point where the event could still parse (a JSON object's closing brace, a log line's timestamp).
            var cut = 1 + random.Next(Math.Max(1, generator.LastParsablePrefix(clean) - 1));
            return clean[..cut];
        }
        if (kind < 0.7) return Garbage(random);
        // Invalid UTF-8 in the middle of the event: a lone continuation byte, an overlong form, a surrogate, 0xFF, a cut sequence.
        byte[][] invalid = [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xC3, 0x28], [0xE2, 0x82]];
        var bad = random.Pick(invalid);
        var at = (clean.Length / 4) + random.Next(Math.Max(1, clean.Length / 2));
        return [.. clean[..at], .. bad, .. clean[at..]];
    }

    private static byte[] Garbage(SimRandom random)
    {
        string[] templates =
        [
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
            "undefined", "[object Object]", "HTTP/1.1 400 Bad Request", "\u0000\u0000\u0000\u0000", "=?UTF-8?B?", "--boundary--",
            "<?xml version=\"1.0\"?><event><id>1</id></event>", "id,timestamp,value", "ERROR: connection reset by peer",
        ];
        var sb = new StringBuilder(random.Pick(templates));
        var extra = random.Next(0, 60);
        for (var i = 0; i < extra; i++) sb.Append((char)random.Next(0x20, 0x7F));
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        if (random.Chance(0.3)) bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100); // and a stray high byte
        return bytes;
    }
}

/// <summary>One dataset's event generator: the event of each send slot, in time order.</summary>
internal interface IEventGenerator : IDisposable
{
    /// <summary>
    /// The event for send slot <paramref name="slot"/> (0 to Events − 1); its event time is near the slot's share of the span,
    /// or 1 to 24 hours earlier when <paramref name="late"/>. Returns the payload and the partition key.
    /// </summary>
    (byte[] Payload, string? Key) Next(long slot, bool late);

    /// <summary>How many leading bytes of <paramref name="payload"/> can be cut off at most and still leave an unparsable event.</summary>
    int LastParsablePrefix(byte[] payload);
}

/// <summary>Event times: each send slot's share of the span, with jitter, and late times.</summary>
internal sealed class SimClock(SimulatorOptions options, TimeSpan span)
{
    private readonly long _events = Math.Max(1, options.Events);

    internal DateTimeOffset Start { get; } = options.Start;

    internal TimeSpan Span { get; } = span;

    /// <summary>The time of <paramref name="slot"/>: the slot's share of the span plus up to one slot's length of jitter.</summary>
    internal DateTimeOffset At(long slot, SimRandom random)
    {
        var slotTicks = (double)Span.Ticks / _events;
        return Start.AddTicks((long)((slot + random.NextDouble()) * slotTicks));
    }

    /// <summary>How many visitors must be active at once for each to send an event about every <paramref name="gap"/> (1 to 5,000).</summary>
    internal int Concurrent(TimeSpan gap) => (int)Math.Clamp(Math.Round(gap.Ticks / ((double)Span.Ticks / _events)), 1, 5_000);

    /// <summary>A late event's time: 1 to 24 hours before <paramref name="time"/>.</summary>
    internal static DateTimeOffset Late(DateTimeOffset time, SimRandom random) =>
        time - TimeSpan.FromMinutes(random.Uniform(60, 24 * 60));
}
