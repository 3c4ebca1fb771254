using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Datasets.Simulation;

namespace Lakehouse.Datasets.Tests.Simulation;

/// <summary>The simulator: deterministic for a seed, clean events that match their definitions, and faults in the asked fractions.</summary>
public sealed class EventSimulatorTests
{
    [Theory]
    [InlineData("weblogs")]
    [InlineData("sensors")]
    [InlineData("accesslogs")]
    public void Generate_SameSeedTwice_ByteIdentical(string dataset)
    {
        var first = Digest(SimulatedData.Generate(dataset, 20_000, seed: 7, duplicates: 0.05, malformed: 0.02, late: 0.02));
        var second = Digest(SimulatedData.Generate(dataset, 20_000, seed: 7, duplicates: 0.05, malformed: 0.02, late: 0.02));
        var other = Digest(SimulatedData.Generate(dataset, 20_000, seed: 8, duplicates: 0.05, malformed: 0.02, late: 0.02));
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [InlineData("weblogs")]
    [InlineData("sensors")]
    public void Generate_CleanJsonEvents_MatchTheDefinitionAndPassItsExpectations(string dataset)
    {
        var definition = DatasetCatalog.BuiltIn.Get(dataset);
        var events = SimulatedData.Generate(dataset, 50_000, late: 0.01);
        var problems = events.SelectMany((e, i) => SimulatedData.JsonProblems(definition, e.Payload).Select(p => $"event {i}: {p}")).Take(10).ToList();
        Assert.Empty(problems);
        Assert.All(events, e => Assert.DoesNotContain((byte)'\n', e.Payload));
    }

    [Fact]
    public void Generate_Weblogs_RealisticDistributions()
    {
        var events = SimulatedData.Generate("weblogs", 100_000);
        var rows = events.Select(e => JsonDocument.Parse(e.Payload).RootElement).ToList();
        string Url(JsonElement r) => r.GetProperty("page_url").GetString()!;

        // About 2,000 pages once hosts are lower-cased, ports, fragments and tracking parameters dropped and parameters sorted.
        var pages = rows.Select(r => Normalize(Url(r))).Distinct().Count();
        Assert.InRange(pages, 1_900, 2_000);
        Assert.Contains(rows, r => Url(r).Contains("utm_source=", StringComparison.Ordinal));
        Assert.Contains(rows, r => Url(r).Contains("gclid=", StringComparison.Ordinal));
        Assert.Contains(rows, r => Url(r).Contains("fbclid=", StringComparison.Ordinal));
        Assert.Contains(rows, r => Url(r).Contains('#', StringComparison.Ordinal));
        Assert.Contains(rows, r => Url(r).Contains(":443/", StringComparison.Ordinal));
        Assert.Contains(rows, r => new Uri(Url(r)).GetComponents(UriComponents.Host, UriFormat.Unescaped) is var h && Url(r).Contains(h.ToUpperInvariant(), StringComparison.Ordinal));
        Assert.InRange(rows.Count(r => Url(r).Contains('?', StringComparison.Ordinal)) / 100_000.0, 0.15, 0.7);

        // Heavy-tailed timings; TTAR sometimes null.
        var tti = rows.Select(r => r.GetProperty("tti_ms").GetDouble()).Order().ToArray();
        var p50 = tti[tti.Length / 2];
        var p99 = tti[(int)(tti.Length * 0.99)];
        Assert.InRange(p50, 1_000, 6_000);
        Assert.True(p99 / p50 > 4, $"p99/p50 = {p99 / p50}");
        Assert.True(tti[^1] < 600_000);
        var nullTtar = rows.Count(r => r.GetProperty("ttar_ms").ValueKind == JsonValueKind.Null) / 100_000.0;
        Assert.InRange(nullTtar, 0.05, 0.2);
        Assert.All(rows.Where(r => r.GetProperty("ttar_ms").ValueKind == JsonValueKind.Number), r => Assert.True(r.GetProperty("ttar_ms").GetDouble() >= r.GetProperty("tti_ms").GetDouble()));

        // Sessions of several events; agents, countries, statuses.
        var sessions = rows.GroupBy(r => r.GetProperty("session_id").GetString()).Select(g => g.Count()).ToList();
        Assert.InRange(100_000.0 / sessions.Count, 3, 8);
        Assert.True(sessions.Count(n => n >= 5) > 2_000);
        var agents = rows.Select(r => r.GetProperty("user_agent").ValueKind == JsonValueKind.String ? r.GetProperty("user_agent").GetString()! : "").ToList();
        Assert.InRange(agents.Count(a => a.Contains("bot", StringComparison.OrdinalIgnoreCase)) / 100_000.0, 0.02, 0.15);
        Assert.InRange(agents.Count(a => a.Contains("Mobile", StringComparison.Ordinal)) / 100_000.0, 0.2, 0.6);
        Assert.InRange(agents.Count(a => a.Length == 0), 100, 1_000);
        Assert.True(rows.Select(r => r.GetProperty("country").ToString()).Distinct().Count() >= 30); // 20 alpha-2, some alpha-3 and lower case
        var statuses = rows.Select(r => r.GetProperty("status").GetInt32()).ToList();
        Assert.InRange(statuses.Count(s => s >= 400) / 100_000.0, 0.01, 0.06);
        Assert.Contains(500, statuses);
        Assert.Contains(503, statuses);
        Assert.Contains(404, statuses);
        Assert.Contains(304, statuses);

        // Several days, from the fixed start, in UTC and with offsets.
        var times = events.Select(e => SimulatedData.TimestampOf(e.Payload)).ToList();
        Assert.Equal(SimulatorOptions.DefaultStart, times.Min(), TimeSpan.FromMinutes(5));
        Assert.Equal(3, times.Select(t => t.UtcDateTime.Date).Distinct().Count());
        Assert.Contains(rows, r => r.GetProperty("timestamp").GetString()!.EndsWith('Z'));
        Assert.Contains(rows, r => r.GetProperty("timestamp").GetString()!.EndsWith("+05:30", StringComparison.Ordinal));
        Assert.Equal(100_000, rows.Select(r => r.GetProperty("event_id").GetString()).Distinct().Count());

        // A session's page views are a minute or two apart, as people browse.
        var gaps = rows.Zip(times).GroupBy(x => x.First.GetProperty("session_id").GetString()).SelectMany(g =>
        {
            var t = g.Select(x => x.Second).Order().ToList();
            return t.Zip(t.Skip(1), (a, b) => (b - a).TotalSeconds);
        }).Order().ToList();
        Assert.InRange(gaps[gaps.Count / 2], 30, 180);
    }

    [Fact]
    public void Generate_Sensors_DriftSpikesGapsStatusesAndUnits()
    {
        var events = SimulatedData.Generate("sensors", 100_000, span: TimeSpan.FromDays(3));
        var readings = events.Select(e =>
        {
            var r = JsonDocument.Parse(e.Payload).RootElement;
            return (Id: r.GetProperty("sensor_id").GetString()!, Type: r.GetProperty("device_type").GetString()!, Time: SimulatedData.TimestampOf(e.Payload),
                Value: r.GetProperty("value").GetDouble(), Unit: r.GetProperty("unit").GetString()!, Status: r.GetProperty("status").GetString()!);
        }).ToList();

        Assert.Equal(["%", "C", "F", "hPa", "ppm", "°C", "°F"], readings.Select(r => r.Unit).Distinct().Order(StringComparer.Ordinal));
        var statuses = readings.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["critical", "error", "normal", "warning"], statuses.Keys.Order(StringComparer.Ordinal));
        Assert.True(statuses["normal"] > 80_000);
        Assert.InRange(statuses["error"], 50, 500);
        Assert.Equal(100_000, readings.Select(r => (r.Id, r.Time)).Distinct().Count());

        var bySensor = readings.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Time).ToList());
        Assert.InRange(bySensor.Count, 30, 40);
        var interval = TimeSpan.FromDays(3) * bySensor.Count / 100_000;
        // Gaps: a sensor silent for more than 5 minutes, many times over the fleet.
        var gaps = bySensor.Values.Sum(list => list.Zip(list.Skip(1)).Count(p => p.Second.Time - p.First.Time > TimeSpan.FromMinutes(5) + interval));
        Assert.InRange(gaps, 10, 1_000);
        // Spikes: a rise of more than 20 % from one reading to the next (on the normal-status readings around it).
        var spikes = bySensor.Values.Sum(list => list.Zip(list.Skip(1)).Count(p => p.First.Value > 5 && p.First.Status != "error" && p.Second.Value > p.First.Value * 1.2));
        Assert.InRange(spikes, 20, 2_000);
        // Drift: the same hours of the first and the third day differ by more than a degree on some temperature sensors and barely on others.
        var start = readings.Min(r => r.Time);
        var drift = bySensor.Values.Where(l => l[0].Type == "temperature" && l[0].Unit is "F" or "°F").Select(l =>
        {
            double Mean(int day) => l.Where(r => r.Status == "normal" && r.Time >= start.AddDays(day) && r.Time < start.AddDays(day).AddHours(6)).Average(r => r.Value);
            return Math.Abs(Mean(2) - Mean(0));
        }).ToList();
        Assert.Contains(drift, d => d > 1.0);
        Assert.Contains(drift, d => d < 0.3);
        // Temperatures past the alert thresholds in °F, and in °C on the Celsius sensors.
        Assert.Contains(readings, r => r.Unit is "F" or "°F" && r.Value > 100);
        Assert.Contains(readings, r => r.Unit is "C" or "°C" && r.Value > 37.8);
        Assert.Contains(readings, r => r.Type == "temperature" && r.Unit is "F" or "°F" && r.Value is < 32 and > -40);
    }

    [Fact]
    public void Generate_Accesslogs_EveryCleanLineMatchesTheFormatWithItsVariants()
    {
        var events = SimulatedData.Generate("accesslogs", 100_000, late: 0.01);
        var lines = events.Select(e => Encoding.UTF8.GetString(e.Payload)).ToList();
        var unmatched = lines.Where(l => !SimulatedData.AccessLogLine().IsMatch(l)).Take(5).ToList();
        Assert.Empty(unmatched);
        var matches = lines.Select(l => SimulatedData.AccessLogLine().Match(l)).ToList();
        int Count(Func<System.Text.RegularExpressions.Match, bool> p) => matches.Count(p);

        Assert.All(matches, m => Assert.Matches(SimulatedData.RequestLine(), m.Groups["request"].Value.Replace("\\\"", "\"", StringComparison.Ordinal)));
        Assert.All(matches, m => Assert.InRange(int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture), 100, 599));
        Assert.All(matches, m => DateTimeOffset.ParseExact(m.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture));
        Assert.InRange(Count(m => !m.Groups["agent"].Success) / 100_000.0, 0.02, 0.2);      // common log format
        Assert.InRange(Count(m => m.Groups["vhost"].Success) / 100_000.0, 0.03, 0.2);       // vhost_combined
        Assert.InRange(Count(m => m.Groups["clients"].Value.Contains(',', StringComparison.Ordinal)) / 100_000.0, 0.005, 0.1); // X-Forwarded-For lists
        Assert.InRange(Count(m => m.Groups["clients"].Value.Contains(':', StringComparison.Ordinal)) / 100_000.0, 0.05, 0.25); // IPv6 clients
        Assert.InRange(Count(m => m.Groups["request"].Value == "-"), 20, 1_000);           // "-" requests
        Assert.InRange(Count(m => m.Groups["bytes"].Value == "-"), 100, 20_000);           // - byte counts
        Assert.InRange(Count(m => m.Groups["extra"].Value.Length > 0) / 100_000.0, 0.02, 0.2); // request and upstream times
        Assert.True(Count(m => m.Groups["agent"].Value.Contains("\\\"", StringComparison.Ordinal)) > 0); // an escaped quote
        Assert.True(Count(m => m.Groups["user"].Value != "-") > 100);
        var methods = matches.Select(m => m.Groups["request"].Value.Split(' ')[0]).Distinct().ToHashSet();
        Assert.Superset(new HashSet<string> { "GET", "POST", "HEAD", "DELETE", "OPTIONS", "-" }, methods);
        var statuses = matches.Select(m => m.Groups["status"].Value).ToHashSet();
        Assert.Superset(new HashSet<string> { "200", "201", "204", "301", "304", "400", "401", "404", "408", "429", "500", "503" }, statuses);
        var days = matches.Select(m => DateTimeOffset.ParseExact(m.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture).UtcDateTime.Date).Distinct().Count();
        Assert.InRange(days, 3, 4); // 3 days from the start, and late lines from the day before
    }

    [Theory]
    [InlineData("weblogs")]
    [InlineData("sensors")]
    [InlineData("accesslogs")]
    public void Generate_Faults_InTheAskedFractions(string dataset)
    {
        const int n = 50_000;
        var events = SimulatedData.Generate(dataset, n, duplicates: 0.05, malformed: 0.03, late: 0.02);
        Assert.Equal(n, events.Count);
        var kinds = events.GroupBy(e => e.Kind).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(kinds[SimulatedEventKind.Duplicate], n * 0.05 * 0.9, n * 0.05 * 1.1);
        Assert.InRange(kinds[SimulatedEventKind.Malformed], n * 0.03 * 0.88, n * 0.03 * 1.12);
        Assert.InRange(kinds[SimulatedEventKind.Late], n * 0.92 * 0.02 * 0.85, n * 0.92 * 0.02 * 1.15);

        // A duplicate is the exact bytes and key of an event sent shortly before.
        var sent = new Dictionary<string, (int Index, string? Key)>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var bytes = Convert.ToBase64String(e.Payload);
            if (e.Kind == SimulatedEventKind.Duplicate)
            {
                Assert.True(sent.TryGetValue(bytes, out var original), $"duplicate {i} re-sends nothing sent before");
                Assert.Equal(original.Key, e.Key);
                Assert.InRange(i - original.Index, 1, 2_000);
            }
            else if (e.Kind != SimulatedEventKind.Malformed)
            {
                // Two identical access log lines can be two requests (the same asset twice in a second); other datasets' events are unique.
                Assert.True(sent.TryAdd(bytes, (i, e.Key)) || dataset == "accesslogs", $"event {i} repeats an earlier event without being a duplicate");
            }
        }

        // Malformed events are never valid events, and never hold a line break.
        var definition = DatasetCatalog.BuiltIn.Get(dataset);
        foreach (var e in events.Where(e => e.Kind == SimulatedEventKind.Malformed))
        {
            Assert.DoesNotContain((byte)'\n', e.Payload);
            Assert.DoesNotContain((byte)'\r', e.Payload);
            Assert.False(IsValid(definition, e.Payload), Encoding.UTF8.GetString(e.Payload));
        }
        var malformedKinds = events.Where(e => e.Kind == SimulatedEventKind.Malformed).GroupBy(e => MalformedKind(definition, e.Payload)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["garbage", "invalid utf-8", "truncated"], malformedKinds.Keys.Order(StringComparer.Ordinal));

        // Late events are 1 to 24 hours behind the events sent before them; the others at most minutes.
        var latest = DateTimeOffset.MinValue;
        var behind = new List<(SimulatedEventKind Kind, TimeSpan Behind)>();
        foreach (var e in events.Where(e => e.Kind is SimulatedEventKind.Clean or SimulatedEventKind.Late))
        {
            var time = definition.Payload == DatasetPayloadKind.Json ? SimulatedData.TimestampOf(e.Payload) : AccessLogTime(e.Payload);
            if (latest != DateTimeOffset.MinValue) behind.Add((e.Kind, latest - time));
            if (time > latest) latest = time;
        }
        Assert.All(behind.Where(b => b.Kind == SimulatedEventKind.Late && latest - SimulatorOptions.DefaultStart > TimeSpan.FromDays(1)).Skip(50),
            b => Assert.InRange(b.Behind, TimeSpan.FromMinutes(55), TimeSpan.FromHours(25)));
        Assert.All(behind.Where(b => b.Kind == SimulatedEventKind.Clean), b => Assert.True(b.Behind < TimeSpan.FromMinutes(5), b.Behind.ToString()));
    }

    [Fact]
    public void Generate_ZeroEvents_Nothing() => Assert.Empty(SimulatedData.Generate("weblogs", 0));

    [Fact]
    public void Generate_StartGiven_EventTimesFromThere()
    {
        var start = new DateTimeOffset(2025, 1, 15, 12, 0, 0, TimeSpan.Zero);
        var events = EventSimulator.Generate("weblogs", new SimulatorOptions { Events = 1_000, Start = start, Span = TimeSpan.FromHours(1) }).ToList();
        var times = events.Select(e => SimulatedData.TimestampOf(e.Payload)).ToList();
        Assert.InRange(times.Min(), start, start.AddMinutes(1));
        Assert.InRange(times.Max(), start.AddMinutes(59), start.AddHours(1));
    }

    [Fact]
    public void Generate_UnknownDataset_RefusedNamingTheKnownOnes()
    {
        var e = Assert.Throws<LakehouseException>(() => EventSimulator.Generate("clicks", new SimulatorOptions()));
        Assert.Equal("The simulator generates accesslogs, sensors and weblogs, not 'clicks'.", e.Message);
    }

    [Fact]
    public void Options_OutOfRange_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatorOptions { Events = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatorOptions { Duplicates = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatorOptions { Late = double.NaN });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatorOptions { Span = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => EventSimulator.Generate("weblogs", new SimulatorOptions { Duplicates = 0.6, Malformed = 0.6 }));
    }

    private static bool IsValid(DatasetDefinition definition, byte[] payload)
    {
        if (definition.Payload == DatasetPayloadKind.Text)
        {
            try
            {
                return SimulatedData.AccessLogLine().IsMatch(new UTF8Encoding(false, true).GetString(payload));
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }
        try
        {
            return SimulatedData.JsonProblems(definition, payload).Count == 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>How a malformed event was made: a cut event, an event with bytes that are not UTF-8, or something else entirely.</summary>
    private static string MalformedKind(DatasetDefinition definition, byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        var json = definition.Payload == DatasetPayloadKind.Json;
        var likeAnEvent = json ? text.StartsWith("{\"" + definition.Columns[0].Name, StringComparison.Ordinal) : char.IsAsciiDigit(text[0]) || text.StartsWith("blog.", StringComparison.Ordinal);
        if (!likeAnEvent) return "garbage";
        var whole = json ? text.EndsWith('}') : text.Contains("] \"", StringComparison.Ordinal);
        return whole ? "invalid utf-8" : "truncated";
    }

    private static DateTimeOffset AccessLogTime(byte[] payload)
    {
        var m = SimulatedData.AccessLogLine().Match(Encoding.UTF8.GetString(payload));
        return DateTimeOffset.ParseExact(m.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture);
    }

    private static string Digest(IEnumerable<SimulatedEvent> events)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in events)
        {
            hash.AppendData(e.Payload);
            hash.AppendData("\n"u8);
            hash.AppendData(Encoding.UTF8.GetBytes($"{e.Key}|{e.Kind}\n"));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>The page a URL names: host lower-cased, default port, fragment and tracking parameters dropped, parameters sorted.</summary>
    private static string Normalize(string url)
    {
        var uri = new Uri(url);
        var query = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("utm_", StringComparison.Ordinal) && !p.StartsWith("gclid=", StringComparison.Ordinal) && !p.StartsWith("fbclid=", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        return uri.Host.ToLowerInvariant() + uri.AbsolutePath + "?" + string.Join('&', query);
    }
}
