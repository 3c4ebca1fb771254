using System.Globalization;

namespace Lakehouse.Datasets.Simulation;

/// <summary>
/// IoT sensor readings (sensors): a fleet of temperature, humidity, pressure and CO2 sensors, each reading at a fixed interval
/// (30 seconds by default) with a daily cycle, noise, slow drift on some sensors, spikes (a rise of 25–80 % for a reading or
/// three), cold rooms dipping below freezing, gaps (a sensor silent for 6–40 minutes), stuck and sentinel values with status error, readings past the thresholds with
/// status warning or critical, and temperatures in °F or °C (F, C, °F, °C) depending on the sensor.
/// </summary>
internal sealed class SensorGenerator : IEventGenerator
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);
    private const int ReadingsPerSensor = 2880; // a day at the default interval
    private static readonly string[] TemperatureUnits = ["F", "C", "F", "°F", "C", "F", "°C", "F", "C", "F"];

    private readonly SimRandom _random;
    private readonly DateTimeOffset _start;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _jitter;
    private readonly Sensor[] _sensors;
    private readonly JsonEvents _json = new();
    private int _cursor;
    private int _temperatureSensors;
    private long _round;

    internal SensorGenerator(SimulatorOptions options)
    {
        _random = new SimRandom(options.Seed, stream: 3);
        _start = options.Start;
        var count = SensorCount(options.Events);
        _interval = options.Span is { } span && options.Events > 0
            ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 10, (long)((double)span.Ticks * count / options.Events)))
            : DefaultInterval;
        _jitter = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, _interval.Ticks / 10));
        var fleet = new SimRandom(options.Seed, stream: 4);
        _sensors = [.. Enumerable.Range(1, count).Select(i => NewSensor(i, fleet)).OrderBy(s => s.Phase).ThenBy(s => s.Id, StringComparer.Ordinal)];
    }

    /// <summary>How many sensors read <paramref name="events"/> readings: about a day's readings each, 3 to 2,000 sensors.</summary>
    private static int SensorCount(long events) => (int)Math.Clamp((events + ReadingsPerSensor - 1) / ReadingsPerSensor, 3, 2000);

    /// <summary>How long the readings span without a span given: each sensor's share of the events at the default interval.</summary>
    internal static TimeSpan DefaultSpan(long events) => DefaultInterval * Math.Ceiling((double)events / SensorCount(events));

    public (byte[] Payload, string? Key) Next(long slot, bool late)
    {
        while (true)
        {
            var sensor = _sensors[_cursor];
            var time = _start + sensor.Phase + (_interval * _round) + (_jitter * _random.Uniform(-1, 1));
            if (++_cursor == _sensors.Length)
            {
                _cursor = 0;
                _round++;
            }
            if (time < sensor.SilentUntil) continue;
            if (_random.Chance(0.0015))
            {
                sensor.SilentUntil = time + TimeSpan.FromMinutes(_random.Uniform(6, 40)); // a gap: no readings for a while
                continue;
            }
            if (late)
            {
                // Between two of the sensor's regular readings, so (sensor_id, timestamp) stays unique.
                var back = (long)Math.Round(TimeSpan.FromMinutes(_random.Uniform(60, 24 * 60)) / _interval);
                time -= (_interval * back) + (_interval / 2);
            }
            return (Reading(sensor, time), sensor.Id);
        }
    }

    public void Dispose() => _json.Dispose();

    public int LastParsablePrefix(byte[] payload) => payload.Length - 1;

    private byte[] Reading(Sensor sensor, DateTimeOffset time)
    {
        var days = (time - _start).TotalDays;
        var hour = time.UtcDateTime.TimeOfDay.TotalHours;
        var value = sensor.Base + (sensor.DriftPerDay * days) + (sensor.Amplitude * Math.Sin(2 * Math.PI * (hour - 9) / 24)) + (sensor.Noise * _random.Normal());
        if (sensor.SpikeLeft > 0 || _random.Chance(0.002))
        {
            if (sensor.SpikeLeft == 0)
            {
                sensor.SpikeLeft = _random.Next(1, 4);
                sensor.SpikeFactor = _random.Uniform(1.25, 1.8);
            }
            sensor.SpikeLeft--;
            value *= sensor.SpikeFactor;
        }
        if (sensor.Location.Contains("/cold-room-", StringComparison.Ordinal) && _random.Chance(0.004))
            value -= _random.Uniform(3, 6); // the compressor overshoots: a cold room dips below freezing
        string status;
        if (_random.Chance(0.0015))
        {
            status = "error";
            value = _random.Chance(0.5) ? sensor.Last : sensor.Kind == "temperature" ? -40 : 0; // stuck, or the sensor's sentinel
        }
        else
        {
            if (sensor.Kind == "humidity") value = Math.Clamp(value, 0, 100);
            status = value > sensor.CriticalHigh || value < sensor.CriticalLow || _random.Chance(0.0003) ? "critical"
                : value > sensor.WarningHigh || value < sensor.WarningLow ? "warning"
                : "normal";
            sensor.Last = value;
        }
        var reported = sensor.Unit is "C" or "°C" ? (value - 32) * 5 / 9 : value;

        var w = _json.Begin();
        w.WriteString("sensor_id", sensor.Id);
        w.WriteString("device_type", sensor.Kind);
        w.WriteString("timestamp", JsonEvents.Timestamp(time, sensor.Offset, milliseconds: sensor.Milliseconds || _interval < TimeSpan.FromSeconds(10)));
        w.WriteNumber("value", Math.Round(reported, 2));
        w.WriteString("unit", sensor.Unit);
        w.WriteString("location", sensor.Location);
        w.WriteString("status", status);
        return _json.End();
    }

    private Sensor NewSensor(int number, SimRandom r)
    {
        var id = "sensor-" + number.ToString("D4", CultureInfo.InvariantCulture);
        var site = r.Pick(["plant-a", "plant-b", "warehouse-1", "office-hq"]);
        var kind = r.NextDouble() switch { < 0.6 => "temperature", < 0.8 => "humidity", < 0.9 => "pressure", _ => "co2" };
        var phase = TimeSpan.FromTicks((long)(r.NextDouble() * _interval.Ticks));
        var drift = r.Chance(0.25) ? r.Uniform(0.5, 3) * (r.Chance(0.5) ? 1 : -1) : 0;
        var offset = r.NextDouble() switch { < 0.85 => (TimeSpan?)null, _ => TimeSpan.Zero };
        var milliseconds = r.Chance(0.9);
        Sensor Make(string location, string unit, double @base, double amplitude, double noise, double warnLow, double warnHigh, double critLow, double critHigh) =>
            new()
            {
                Id = id,
                Kind = kind,
                Location = location,
                Unit = unit,
                Base = @base,
                Amplitude = amplitude,
                Noise = noise,
                DriftPerDay = drift,
                WarningLow = warnLow,
                WarningHigh = warnHigh,
                CriticalLow = critLow,
                CriticalHigh = critHigh,
                Phase = phase,
                Offset = offset,
                Milliseconds = milliseconds,
                Last = @base,
            };
        switch (kind)
        {
            case "temperature":
                // Half the temperature sensors report F, 30 % C, 10 % each °F and °C, in a fixed rotation so even a small fleet has every unit.
                var unit = TemperatureUnits[_temperatureSensors++ % TemperatureUnits.Length];
                return r.NextDouble() switch
                {
                    // °F internally; °C sensors report the same physics converted.
                    < 0.5 => Make($"{site}/room-{r.Next(100, 500)}", unit, r.Uniform(68, 74), r.Uniform(1, 3), 0.2, 50, 85, 32, 100),
                    < 0.75 => Make($"{site}/cold-room-{r.Next(1, 6)}", unit, r.Uniform(34.5, 37.5), r.Uniform(0.3, 1.0), 0.3, 33, 41, 32, 46),
                    _ => Make($"{site}/line-{r.Next(1, 9)}", unit, r.Uniform(86, 93), r.Uniform(2, 4), 0.6, 50, 98, 32, 100),
                };
            case "humidity":
                return Make($"{site}/room-{r.Next(100, 500)}", "%", r.Uniform(38, 55), r.Uniform(3, 8), 0.8, 20, 70, 10, 85);
            case "pressure":
                return Make($"{site}/line-{r.Next(1, 9)}", "hPa", r.Uniform(1008, 1018), r.Uniform(1, 3), 0.3, 990, 1035, 970, 1050);
            default:
                return Make($"{site}/room-{r.Next(100, 500)}", "ppm", r.Uniform(450, 750), r.Uniform(100, 250), 15, 350, 1200, 300, 2000);
        }
    }

    private sealed class Sensor
    {
        internal required string Id { get; init; }
        internal required string Kind { get; init; }
        internal required string Location { get; init; }
        internal required string Unit { get; init; }
        internal required double Base { get; init; }
        internal required double Amplitude { get; init; }
        internal required double Noise { get; init; }
        internal required double DriftPerDay { get; init; }
        internal required double WarningLow { get; init; }
        internal required double WarningHigh { get; init; }
        internal required double CriticalLow { get; init; }
        internal required double CriticalHigh { get; init; }
        internal required TimeSpan Phase { get; init; }
        internal required TimeSpan? Offset { get; init; }
        internal required bool Milliseconds { get; init; }
        internal double Last { get; set; }
        internal DateTimeOffset SilentUntil { get; set; } = DateTimeOffset.MinValue;
        internal int SpikeLeft { get; set; }
        internal double SpikeFactor { get; set; }
    }
}
