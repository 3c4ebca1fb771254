using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Datasets;
using Lakehouse.Silver;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse status</c>: where each layer stands for each dataset, and the quality of the last silver run.</summary>
internal static class StatusCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("status", "Show where each layer stands for each dataset: bronze version, what silver has consumed, and the last silver run's quality.")
        {
            Details = """
                For every dataset with a bronze table: bronze's version, the bronze version silver has consumed (pending = bronze commits
                silver has not processed yet), and the last silver run recorded in silver._quality — rows in and out, quarantined,
                duplicates removed, kept with warnings, and each rule that rows broke.
                """,
            Examples = ["lakehouse status", "lakehouse status --json"],
        };
        var json = CommandLine.Flag("--json", "Print one JSON object.");
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.Root, cancellationToken).ConfigureAwait(false);
            var job = SilverJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            var statuses = new List<SilverStatus>();
            foreach (var d in catalog.Definitions)
            {
                var s = await job.StatusAsync(d, cancellationToken).ConfigureAwait(false);
                if (s.BronzeVersion is not null || s.ConsumedVersion is not null) statuses.Add(s);
            }
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    lake = lake.Root.Location,
                    datasets = statuses.Select(s => new
                    {
                        dataset = s.Dataset,
                        bronzeVersion = s.BronzeVersion,
                        silverConsumedVersion = s.ConsumedVersion,
                        pendingBronzeCommits = s.Pending,
                        lastSilverRun = s.LastRun is { } r ? new
                        {
                            runId = r.RunId,
                            mode = r.Mode,
                            status = s.LastRunStatus,
                            finished = s.LastRunFinished,
                            rowsIn = r.RowsIn,
                            rowsOut = r.RowsOut,
                            quarantined = r.Quarantined,
                            duplicates = r.Duplicates,
                            warned = r.Warned,
                            rules = r.Rules.Select(x => new { rule = x.Rule, action = x.Action, @checked = x.Checked, failed = x.Failed }),
                        } : null,
                    }),
                }, TableChange.JsonOptions)).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            if (statuses.Count == 0)
            {
                await session.Out.WriteLineAsync($"No dataset has a bronze table in {lake.Root.Location} yet (lakehouse bronze ingest lands events).").ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            await Output.WriteTableAsync(session.Out, ["dataset", "bronze", "silver consumed", "pending", "last silver run", "in", "out", "quarantined", "duplicates", "warned"],
                [.. statuses.Select(s => new[]
                {
                    s.Dataset, N(s.BronzeVersion), N(s.ConsumedVersion), N(s.Pending),
                    s.LastRun is null ? "never" : $"{s.LastRunFinished:yyyy-MM-dd HH:mm:ss}Z {s.LastRun.Mode} {s.LastRunStatus}",
                    N(s.LastRun?.RowsIn), N(s.LastRun?.RowsOut), N(s.LastRun?.Quarantined), N(s.LastRun?.Duplicates), N(s.LastRun?.Warned),
                })]).ConfigureAwait(false);
            foreach (var s in statuses.Where(s => s.LastRun?.Rules.Any(r => r.Failed > 0) == true))
            {
                await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Dataset}: {string.Join(", ", s.LastRun!.Rules.Where(r => r.Failed > 0).Select(r => $"{r.Rule} ({r.Action}) {r.Failed:N0}"))}")).ConfigureAwait(false);
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    private static string N(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}
