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

    /// <summary>
    /// Stream progress files that are damaged or hand-edited (not JSON, JSON of another shape) are named with their dataset and
    /// why, exit 1, and a good one beside them is still shown. Before, one of another shape ended status with .NET's
    /// "The requested operation requires an element of type 'Object'", and one that was not JSON was left out without a word.
    /// </summary>
    [Fact]
    public async Task Status_StreamProgressFilesDamaged_EachNamedAndTheOthersShown()
    {
        var lake = _temp.Combine("lake");
        await LandAsync(lake, "a.ndjson", 0, 3);
        var folder = Path.Combine(lake, "_lakehouse", "stream");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "weblogs.bronze+silver+gold.json"), "{cut");
        await File.WriteAllTextAsync(Path.Combine(folder, "accesslogs.bronze.json"), "[1,2]");
        await File.WriteAllTextAsync(Path.Combine(folder, "other.silver.json"), """{"dataset":"other","sources":5}""");
        await File.WriteAllTextAsync(Path.Combine(folder, "sensors.bronze+silver+gold.json"),
            """{"runId":"r","dataset":"sensors","layers":"bronze+silver+gold","batchId":7,"numInputRows":3,"sources":[{"lag":2},{"lag":"x"}],"stopped":true}""");

        var text = await CliRunner.RunAsync("status", "--lake", lake);
        var json = await CliRunner.RunAsync("status", "--lake", lake, "--json");

        Assert.Equal(1, text.ExitCode);
        Assert.DoesNotContain("requested operation", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("weblogs: cannot be shown: its stream progress file _lakehouse/stream/weblogs.bronze+silver+gold.json is not JSON (", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("accesslogs: cannot be shown: its stream progress file _lakehouse/stream/accesslogs.bronze.json is not a stream's progress record", text.Stderr, StringComparison.Ordinal);
        Assert.Contains("other: cannot be shown: its stream progress file _lakehouse/stream/other.silver.json is not a stream's progress record", text.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"\nsensors +bronze\+silver\+gold +7 +- +3 +- +- +2 +- +stopped", text.Stdout);
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(["sensors"], doc.RootElement.GetProperty("streams").EnumerateArray().Select(e => e.GetProperty("dataset").GetString()));
        Assert.Equal(["accesslogs", "other", "weblogs"], doc.RootElement.GetProperty("problems").EnumerateArray().Select(e => e.GetProperty("dataset").GetString()).Order(StringComparer.Ordinal));
    }
}
