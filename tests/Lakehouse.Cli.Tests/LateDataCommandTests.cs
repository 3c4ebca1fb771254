using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// Late data kept as data, from the command line as the README's how-to runs it: sensor readings landed in separate bronze
/// ingests (separate micro-batches), the corrections table next to the windowed one, and <c>gold run --from/--to</c> rebuilding
/// a day without moving what the stream resumes from.
/// </summary>
public sealed class LateDataCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("late-data");

    public void Dispose() => _temp.Dispose();

    /// <summary>The how-to's reading helper and commands, with $LAKEHOUSE for the CLI, run in the test's folder (lake ./lake).</summary>
    private Task<CliRunner.Result> ShellAsync(string commands) => CliRunner.ShellAsync($$"""
        set -e
        cd '{{_temp.Path}}'
        r() { echo "{\"sensor_id\":\"s1\",\"device_type\":\"temperature\",\"timestamp\":\"2026-01-05T$1Z\",\"value\":$2,\"unit\":\"F\",\"location\":\"lab\",\"status\":\"normal\"}"; }
        mkdir -p landing/sensors
        {{commands}}
        """);

    private const string Layers = "$LAKEHOUSE bronze ingest --dataset sensors --from landing/sensors && $LAKEHOUSE silver run && $LAKEHOUSE gold run";

    private async Task<List<string>> SqlAsync(string query)
    {
        var result = await ShellAsync($"$LAKEHOUSE sql --format csv \"{query}\"");
        Assert.True(result.ExitCode == 0, result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];
    }

    private const string Corrections =
        "SELECT strftime(window_start, '%H:%M') AS w, late_events, late_batches, events_on_time, events, value_avg_on_time, value_avg FROM gold.sensor_metrics_1m_corrections ORDER BY ALL";

    private const string Windows = "SELECT strftime(window_start, '%H:%M') AS w, events, value_avg, late_events FROM gold.sensor_metrics_1m ORDER BY ALL";

    /// <summary>silver version, gold's consumed silver version, pending silver commits (from <c>status --json</c>), and every table's version.</summary>
    private async Task<(string Status, Dictionary<string, long> Versions)> StateAsync()
    {
        var status = await ShellAsync("$LAKEHOUSE status --json");
        var tables = await ShellAsync("$LAKEHOUSE table list --json");
        Assert.True(status.ExitCode == 0 && tables.ExitCode == 0, status.Stderr + tables.Stderr);
        var sensors = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("dataset").GetString() == "sensors");
        var summary = $"{sensors.GetProperty("silverVersion")}|{sensors.GetProperty("goldConsumedVersion")}|{sensors.GetProperty("pendingSilverCommits")}";
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in Tables(JsonDocument.Parse(tables.Stdout).RootElement))
            versions[t.GetProperty("name").GetString()!] = t.GetProperty("version").GetInt64();
        return (summary, versions);
    }

    private static IEnumerable<JsonElement> Tables(JsonElement root) =>
        root.ValueKind == JsonValueKind.Array ? root.EnumerateArray() : root.GetProperty("tables").EnumerateArray();

    [Fact]
    public async Task GoldRun_LateReadingThenRangeRerun_CorrectionBesideOnTimeResultAndStreamPositionsUnmoved()
    {
        var first = await ShellAsync($"{{ r 10:00:10 50; r 10:00:40 52; r 10:01:20 54; }} > landing/sensors/batch1.ndjson\n{Layers}");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Empty(await SqlAsync(Corrections));
        var second = await ShellAsync($"{{ r 10:00:50 60; r 10:01:05 56; r 10:02:30 51; }} > landing/sensors/batch2.ndjson\n{Layers}");
        Assert.True(second.ExitCode == 0, second.Stderr);

        // 10:00:50 came after the 10:00 minute was final (watermark 10:01:10): on time 2 readings, avg 51; corrected 3, avg 54.
        // 10:01:05 was out of order but its minute still open: no correction row for 10:01.
        Assert.Equal(["10:00,1,1,2,3,51.0,54.0"], await SqlAsync(Corrections));
        Assert.Equal(["10:00,3,54.0,1", "10:01,2,55.0,0", "10:02,1,51.0,0"], await SqlAsync(Windows));
        var (before, versions) = await StateAsync();

        var rerun = await ShellAsync("$LAKEHOUSE gold run --dataset sensors --from 2026-01-05 --to 2026-01-05");

        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(["10:00,1,1,2,3,51.0,54.0"], await SqlAsync(Corrections));
        Assert.Equal(["10:00,3,54.0,1", "10:01,2,55.0,0", "10:02,1,51.0,0"], await SqlAsync(Windows));
        var (after, rerunVersions) = await StateAsync();
        // Silver version 1, consumed by gold up to 1, nothing pending: the rerun moved no position.
        Assert.Equal("1|1|0", before);
        Assert.Equal(before, after);
        Assert.Equal(versions["bronze.sensors"], rerunVersions["bronze.sensors"]);
        Assert.Equal(versions["silver.sensors"], rerunVersions["silver.sensors"]);
        // The day was rewritten (a new version) from the same silver rows.
        Assert.Equal(versions["gold.sensor_metrics_1m_corrections"] + 1, rerunVersions["gold.sensor_metrics_1m_corrections"]);

        // The incremental run after it still takes the next batch: a second late reading for 10:00.
        var third = await ShellAsync($"{{ r 10:00:20 58; }} > landing/sensors/batch3.ndjson\n{Layers}");

        Assert.True(third.ExitCode == 0, third.Stderr);
        Assert.Equal(["10:00,2,2,2,4,51.0,55.0"], await SqlAsync(Corrections));
        Assert.Equal("2|2|0", (await StateAsync()).Status);
    }
}
