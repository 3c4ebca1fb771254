using System.Globalization;
using System.Text;

namespace Lakehouse.CrashHarness;

/// <summary>The report as text: kills per layer and phase, the counts, events lost and duplicated, and every problem.</summary>
public static class CrashReportText
{
    /// <summary>Formats <paramref name="report"/> for a terminal or a note.</summary>
    public static string Format(CrashReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        var phases = Enum.GetValues<CrashPhase>();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"layer",-8}{string.Join("", phases.Select(p => $"{p,17}"))}{"total",8}{"finished",10}");
        foreach (var l in report.Layers)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{l.Layer,-8}{string.Join("", phases.Select(p => $"{l.Kills[p],17}"))}{l.Total,8}{l.Finished,10}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"produced {report.Produced} events ({report.ProducedMalformed} malformed, {report.ProducedDuplicates} re-sent)");
        if (report.Counts is { } c)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"bronze {c.BronzeRows} = silver {c.SilverRows} + quarantine {c.QuarantineRows} + duplicates {report.ProducedDuplicates}: {(c.BronzeRows == c.SilverRows + c.QuarantineRows + report.ProducedDuplicates ? "yes" : "NO")}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"gold page_performance_daily {c.GoldDailyRows} rows, {c.GoldDailyMismatches} differ from the recomputation; page_metrics_1m {c.GoldMinuteRows} rows, {c.GoldMinuteMismatches} differ");
            sb.AppendLine(CultureInfo.InvariantCulture, $"events lost {c.Lost(report.Produced, report.ProducedDuplicates)}, duplicated {c.Duplicated}");
        }
        foreach (var p in report.Problems) sb.AppendLine("PROBLEM " + p);
        sb.AppendLine(CultureInfo.InvariantCulture, $"{(report.Ok ? "ok" : "FAILED")} in {report.Elapsed.TotalSeconds:F0} s");
        return sb.ToString();
    }
}
