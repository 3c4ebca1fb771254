using System.Diagnostics;
using System.Globalization;
using Lakehouse.Testing;
using Xunit.Abstractions;

namespace Lakehouse.Preprocessing.Tests;

/// <summary>
/// Per-call cost of the value rules on the simulator's values, and of the trimming rule in DuckDB, written to the test output
/// (run with <c>--logger "console;verbosity=detailed"</c>). Speed is reported, never asserted; the results are.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class MeasurementTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>
{
    [Fact]
    public void Normalize_SimulatorPageUrls_ReportsNanosecondsPerCall()
    {
        var urls = Simulator.DistinctWebLogValues("page_url", 20_000);
        var hosts = 0;
        var perCall = Measure(urls, u => hosts += UrlNormalizer.Normalize(u)!.Host is null ? 0 : 1);
        Assert.Equal(urls.Count * Rounds * (Trials + 1), hosts); // + the warm-up
        output.WriteLine($"UrlNormalizer.Normalize: {urls.Count} distinct simulator page URLs, {perCall}");
    }

    [Fact]
    public void Classify_SimulatorUserAgents_ReportsNanosecondsPerCall()
    {
        var agents = Simulator.UserAgents.Select(a => a.Text).ToList();
        var bots = 0;
        var perCall = Measure(agents, a => bots += UserAgents.Classify(a).IsBot ? 1 : 0, rounds: 500);
        Assert.Equal(8 * 500 * (Trials + 1), bots);
        output.WriteLine($"UserAgents.Classify: {agents.Count} simulator user agents, {perCall}");
    }

    [Fact]
    public void OtherRules_SimulatorValues_ReportNanosecondsPerCall()
    {
        string[] countries = [.. Simulator.Countries.SelectMany(c => new[] { c.Alpha2, c.Alpha3, c.Alpha2.ToLowerInvariant() })];
        var known = 0;
        var country = Measure(countries, c => known += CountryCodes.Normalize(c) is null ? 0 : 1, rounds: 500);
        Assert.Equal(countries.Length * 500 * (Trials + 1), known);
        string[] units = ["F", "C", "°F", "°C", "%", "hPa", "ppm"];
        var unit = Measure(units, u => known += Units.Normalize(u) is null ? 0 : 1, rounds: 1_000);
        var pages = Simulator.Pages.Select(p => (p.Host, p.Path)).ToList();
        var page = Measure(pages, p => known += PageReference.Default.Lookup(p.Host, p.Path) is null ? 0 : 1, rounds: 20);
        var text = Measure(countries, c => known += TextCleaning.Clean(" " + c) is null ? 0 : 1, rounds: 500);
        output.WriteLine($"CountryCodes.Normalize: {country}");
        output.WriteLine($"Units.Normalize: {unit}");
        output.WriteLine($"PageReference.Lookup: {page}");
        output.WriteLine($"TextCleaning.Clean: {text}");
    }

    [Fact]
    public void SqlClean_HalfAMillionRows_ReportsCostAgainstReadingTheColumn()
    {
        using var lease = fixture.Engine.Lease();
        var connection = lease.Connection;
        // Clean values (the usual case: printable ASCII at both ends) and dirty ones (a space before, an NBSP after).
        connection.Execute("CREATE OR REPLACE TEMP TABLE clean_input AS SELECT 'value ' || (i % 1000)::VARCHAR AS clean, ' value ' || (i % 1000)::VARCHAR || chr(160) AS dirty FROM range(500000) t(i)");
        var process = Process.GetCurrentProcess();
        long Run(string expression, out double ms)
        {
            // Best of three by CPU time of the process (DuckDB's threads run in it; the machine is shared).
            ms = double.MaxValue;
            long total = 0;
            for (var trial = 0; trial < 3; trial++)
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                total = Convert.ToInt64(connection.Scalar($"SELECT sum(length({expression})) FROM clean_input"), CultureInfo.InvariantCulture);
                process.Refresh();
                ms = Math.Min(ms, (process.TotalProcessorTime - cpu).TotalMilliseconds);
            }
            return total;
        }
        Run(TextCleaning.SqlClean("dirty"), out _);
        var expected = (6 * 500_000L) + (Enumerable.Range(0, 1000).Sum(n => n.ToString(CultureInfo.InvariantCulture).Length) * 500L);
        Assert.Equal(expected, Run("clean", out var readMs));
        Assert.Equal(expected, Run(TextCleaning.SqlClean("clean"), out var cleanMs));
        Assert.Equal(expected, Run(TextCleaning.SqlClean("dirty"), out var dirtyMs));
        connection.Execute("DROP TABLE clean_input");
        output.WriteLine($"SqlClean over 500k rows, CPU time: clean values {cleanMs:F0} ms, dirty values {dirtyMs:F0} ms; reading the column alone {readMs:F0} ms "
            + $"(so {(cleanMs - readMs) * 1e6 / 500_000:F0} and {(dirtyMs - readMs) * 1e6 / 500_000:F0} ns/row)");
    }

    private const int Rounds = 10;
    private const int Trials = 5;

    /// <summary>
    /// Nanoseconds per call: the best of <see cref="Trials"/> trials of <paramref name="rounds"/> rounds, by wall clock and by the
    /// process's CPU time (the machine is shared: CPU time is the steadier number under load).
    /// </summary>
    private static Cost Measure<T>(IReadOnlyList<T> values, Action<T> call, int rounds = Rounds)
    {
        for (var r = 0; r < rounds; r++)
            foreach (var v in values) call(v); // warm-up, so tiered JIT has compiled the hot code before a trial counts
        var process = Process.GetCurrentProcess();
        var best = new Cost(double.MaxValue, double.MaxValue);
        for (var trial = 0; trial < Trials; trial++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (var r = 0; r < rounds; r++)
                foreach (var v in values) call(v);
            var wall = watch.Elapsed.TotalNanoseconds;
            process.Refresh();
            var calls = values.Count * (double)rounds;
            best = new Cost(Math.Min(best.WallNs, wall / calls), Math.Min(best.CpuNs, (process.TotalProcessorTime - cpu).TotalNanoseconds / calls));
        }
        return best;
    }

    private readonly record struct Cost(double WallNs, double CpuNs)
    {
        public override string ToString() => $"{WallNs:F0} ns/call wall, {CpuNs:F0} ns/call CPU";
    }
}
