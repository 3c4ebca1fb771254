using System.Globalization;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// <c>lakehouse stream</c>'s progress records as a user reads them (the file <c>lakehouse status</c> shows): what a gold step
/// says it took in.
/// </summary>
public sealed class StreamProgressCommandTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new("cli-stream-progress");

    public void Dispose() => _temp.Dispose();

    private static string Reading(int i) => StreamAlertsCommandTests.Reading("s1", T0.AddSeconds(30 * i), 70);

    /// <summary>Lands readings <paramref name="from"/>..<paramref name="to"/> (exclusive) as a file, then runs bronze and silver over it.</summary>
    private async Task LandAsync(string lake, string file, int from, int to)
    {
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(landing);
        var path = Path.Combine(landing, file);
        await File.WriteAllLinesAsync(path, Enumerable.Range(from, to - from).Select(Reading));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        foreach (var args in new[] { new[] { "bronze", "ingest", "--lake", lake, "--dataset", "sensors", "--from", landing }, ["silver", "run", "--lake", lake, "--dataset", "sensors"] })
        {
            var result = await CliRunner.RunAsync(args);
            Assert.True(result.ExitCode == 0, result.Stderr);
        }
    }

    [Fact]
    public async Task Stream_GoldStepAfterAFewNewSilverRows_NumInputRowsCountsTheNewRowsNotTheRecomputedDay()
    {
        // Gold has consumed a day of 200 readings; 3 more of that day arrive. The gold step recomputes the day (203 rows read), but
        // took in 3: numInputRows said 203.
        var lake = _temp.Combine("lake");
        await LandAsync(lake, "first.ndjson", 0, 200);
        var gold = await CliRunner.RunAsync("gold", "run", "--lake", lake, "--dataset", "sensors");
        Assert.True(gold.ExitCode == 0, gold.Stderr);
        await LandAsync(lake, "second.ndjson", 200, 203);

        var progressFile = Path.Combine(lake, "_lakehouse", "stream", "sensors.gold.json");
        using var stream = CliRunner.Start(["stream", "--lake", lake, "--dataset", "sensors", "--layers", "gold", "--port", "0", "--poll-ms", "100"]);
        Assert.True(await stream.WaitUntilAsync(() => File.Exists(progressFile), TimeSpan.FromSeconds(90)), "no progress record: " + stream.Stderr);
        await stream.SignalAsync("TERM");
        Assert.Equal(143, (await stream.WaitAsync()).ExitCode);

        using var record = JsonDocument.Parse(await File.ReadAllBytesAsync(progressFile));
        var root = record.RootElement;
        Assert.Equal(0, root.GetProperty("batchId").GetInt64());
        Assert.Equal(3, root.GetProperty("numInputRows").GetInt64());
        var source = Assert.Single(root.GetProperty("sources").EnumerateArray());
        Assert.Equal(("silver.sensors", 3L), (source.GetProperty("description").GetString(), source.GetProperty("numInputRows").GetInt64()));
        var totals = root.GetProperty("totals");
        Assert.Equal((3L, 203L), (totals.GetProperty("goldIn").GetInt64(), totals.GetProperty("goldRead").GetInt64()));
        Assert.Equal(203L.ToString(CultureInfo.InvariantCulture), (await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT count(*) FROM silver.sensors")).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
