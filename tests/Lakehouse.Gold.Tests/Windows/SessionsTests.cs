using Lakehouse.Gold.Windows;
using Lakehouse.Testing;
using static Lakehouse.Gold.Tests.Windows.Relations;

namespace Lakehouse.Gold.Tests.Windows;

public sealed class SessionsTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly TimeSpan Gap = TimeSpan.FromMinutes(10);

    private List<Reference.Session> Read(string sql, string key) =>
        [.. Query(fixture, $"SELECT * FROM ({sql}) ORDER BY {key}, session_start").Select(r => new Reference.Session(
            (DateOnly)r["event_date"]!, (string)r[key]!, (DateTimeOffset)r["session_start"]!, (DateTimeOffset)r["session_end"]!, (long)r["events"]!))];

    [Fact]
    public void SensorSessions_PauseOfExactlyTheGap_OneSession()
    {
        SensorReading[] readings = [new(At("2026-03-01 10:00:00"), "s1", 1), new(At("2026-03-01 10:10:00"), "s1", 1), new(At("2026-03-01 10:20:00"), "s1", 1)];

        var sessions = Read(WindowedMetrics.SensorSessions(SensorsSql(readings), Gap), "sensor_id");

        Assert.Equal([new Reference.Session(new DateOnly(2026, 3, 1), "s1", At("2026-03-01 10:00:00"), At("2026-03-01 10:20:00"), 3)], sessions);
    }

    [Fact]
    public void SensorSessions_PauseJustOverTheGap_TwoSessions()
    {
        SensorReading[] readings = [new(At("2026-03-01 10:00:00"), "s1", 1), new(At("2026-03-01 10:10:00.000001"), "s1", 1), new(At("2026-03-01 10:15:00"), "s1", 1)];

        var sessions = Read(WindowedMetrics.SensorSessions(SensorsSql(readings), Gap), "sensor_id");

        Assert.Equal(
            [
                new(new DateOnly(2026, 3, 1), "s1", At("2026-03-01 10:00:00"), At("2026-03-01 10:00:00"), 1),
                new Reference.Session(new DateOnly(2026, 3, 1), "s1", At("2026-03-01 10:10:00.000001"), At("2026-03-01 10:15:00"), 2),
            ],
            sessions);
    }

    [Fact]
    public void SensorSessions_ReadingsThroughMidnight_CutIntoOneSessionPerDate()
    {
        SensorReading[] readings = [new(At("2026-03-01 23:55:00"), "s1", 1), new(At("2026-03-01 23:59:59.999999"), "s1", 1), new(At("2026-03-02 00:00:00"), "s1", 1), new(At("2026-03-02 00:04:00"), "s1", 1)];

        var sessions = Read(WindowedMetrics.SensorSessions(SensorsSql(readings), Gap), "sensor_id");

        Assert.Equal(
            [
                new(new DateOnly(2026, 3, 1), "s1", At("2026-03-01 23:55:00"), At("2026-03-01 23:59:59.999999"), 2),
                new Reference.Session(new DateOnly(2026, 3, 2), "s1", At("2026-03-02 00:00:00"), At("2026-03-02 00:04:00"), 2),
            ],
            sessions);
    }

    [Fact]
    public void SensorSessions_ReadingsAtTheSameMoment_StayInOneSession()
    {
        // Three readings at 10:20 after a long pause: however the engine orders the ties, they start one session together.
        SensorReading[] readings =
        [
            new(At("2026-03-01 10:00:00"), "s1", 1), new(At("2026-03-01 10:20:00"), "s1", 2), new(At("2026-03-01 10:20:00"), "s1", 3),
            new(At("2026-03-01 10:20:00"), "s1", 4), new(At("2026-03-01 10:25:00"), "s1", 5),
        ];

        var sessions = Read(WindowedMetrics.SensorSessions(SensorsSql(readings), Gap), "sensor_id");

        Assert.Equal([1L, 4], sessions.Select(s => s.Events));
    }

    [Fact]
    public void PageSessions_InterleavedWebSessions_EqualIndependentComputation()
    {
        var random = new Random(3);
        var start = At("2026-03-01 22:00:00");
        var events = Enumerable.Range(0, 400).Select(_ => new WebEvent(
            start.AddSeconds(random.Next(0, 4 * 3600)), "/p", random.Next(12) == 0 ? null : "web-" + random.Next(6).ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();

        var sessions = Read(WindowedMetrics.PageSessions(WebSql(events), Gap), "session_id");

        var expected = Reference.Sessions(events.Select(e => (e.SessionId, e.Timestamp)), Gap);
        Assert.Equal(expected, sessions);
        Assert.Equal(events.Count(e => e.SessionId is not null), sessions.Sum(s => s.Events));
        Assert.Contains(sessions, s => s.EventDate == new DateOnly(2026, 3, 2));
    }

    [Fact]
    public void SensorSessions_RandomReadingsWithLongPauses_EqualIndependentComputation()
    {
        var random = new Random(9);
        var readings = new List<SensorReading>();
        foreach (var sensor in new[] { "a", "b", "c" })
        {
            var t = At("2026-03-01 21:00:00");
            for (var i = 0; i < 150; i++)
            {
                // Mostly short pauses, sometimes exactly the gap, sometimes a microsecond more, sometimes long.
                t += random.Next(10) switch
                {
                    0 => Gap,
                    1 => Gap + TimeSpan.FromTicks(10),
                    2 => TimeSpan.FromMinutes(random.Next(11, 60)),
                    _ => TimeSpan.FromSeconds(random.Next(0, 300)),
                };
                readings.Add(new SensorReading(t, sensor, i));
            }
        }

        var sessions = Read(WindowedMetrics.SensorSessions(SensorsSql(readings), Gap), "sensor_id");

        Assert.Equal(Reference.Sessions(readings.Select(r => (r.SensorId, r.Timestamp)), Gap), sessions);
        Assert.True(sessions.Select(s => s.EventDate).Distinct().Count() >= 2);
    }

    [Fact]
    public void Sessions_Columns_NamesAndTypesOfTheContract()
    {
        var sensor = Types(fixture, WindowedMetrics.SensorSessions(SensorsSql([new(At("2026-03-01 10:00:00"), "a", 1)]), Gap));
        var page = Types(fixture, WindowedMetrics.PageSessions(WebSql([new(At("2026-03-01 10:00:00"), "/a", "x")]), Gap));

        Assert.Equal(["event_date:DATE", "sensor_id:VARCHAR", "session_start:TIMESTAMPTZ", "session_end:TIMESTAMPTZ", "events:BIGINT"], sensor.Select(c => $"{c.Key}:{c.Value}"));
        Assert.Equal(["event_date:DATE", "session_id:VARCHAR", "session_start:TIMESTAMPTZ", "session_end:TIMESTAMPTZ", "events:BIGINT"], page.Select(c => $"{c.Key}:{c.Value}"));
    }
}
