using System.Text.Json;
using Lakehouse.Delta;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse table check</c>: every problem a table has, each with the file and what is wrong; exit 1 when any.</summary>
internal static partial class TableCommands
{
    private static CliCommand CreateCheck(CliSession session)
    {
        var command = new CliCommand("check",
            "Check a table and report every problem found, each with its file: the log (gaps, empty, cut-off or unparsable commits, " +
            "unreadable or incomplete checkpoints, misnamed or stray files) and the live data files (missing, or of another size). Exit code 1 when " +
            "there is any error; warnings (what readers ignore) and notes (files VACUUM will remove) do not fail it.")
        {
            Examples = ["lakehouse table check silver.weblogs", "lakehouse table check ./events --deep --json"],
        };
        var table = TableArgument();
        var deep = CommandLine.Flag("--deep", "Also open every data file: it must read as Parquet, have the table's schema and the row count its statistics claim.");
        var json = JsonOption("Print one JSON object: location, version, liveFiles, deep, healthy and every finding (severity, file, problem).");
        command.Add(table);
        command.Add(deep);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var delta = lake.Table(parse.GetValue(table)!);
            var report = await delta.CheckAsync(parse.GetValue(deep), cancellationToken).ConfigureAwait(false);
            var errors = report.Findings.Count(f => f.Severity == DeltaCheckSeverity.Error);
            Log.TableChecked(lake.Logger, report.Location, report.Deep, errors, report.Findings.Count - errors);
            await WriteCheckAsync(report, parse.GetValue(json), session.Out).ConfigureAwait(false);
            return report.IsHealthy ? CliApp.ExitOk : CliApp.ExitFailed;
        });
        return command;
    }

    private static async Task WriteCheckAsync(DeltaCheckReport report, bool json, TextWriter stdout)
    {
        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(new
            {
                location = report.Location,
                version = report.Version,
                liveFiles = report.LiveFiles,
                deep = report.Deep,
                healthy = report.IsHealthy,
                findings = report.Findings.Select(f => new { severity = f.Severity.ToString().ToLowerInvariant(), file = f.File, problem = f.Problem }),
            }, JsonOptions)).ConfigureAwait(false);
            return;
        }
        await stdout.WriteLineAsync($"table:   {report.Location}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"version: {(report.Version is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "(cannot be rebuilt)")}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"files:   {report.LiveFiles} live{(report.Deep ? ", each opened" : "")}").ConfigureAwait(false);
        foreach (var f in report.Findings)
            await stdout.WriteLineAsync($"{f.Severity.ToString().ToLowerInvariant(),-7}  {f.File}: {f.Problem}").ConfigureAwait(false);
        var errors = report.Findings.Count(f => f.Severity == DeltaCheckSeverity.Error);
        await stdout.WriteLineAsync(errors == 0 ? "ok: the table reads correctly." : $"{errors} error(s): the table cannot be read correctly until they are repaired.").ConfigureAwait(false);
    }
}
