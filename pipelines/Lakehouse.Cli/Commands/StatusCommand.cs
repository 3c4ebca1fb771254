using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Cli.Streaming;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Gold;
using Lakehouse.Silver;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse status</c>: where each layer stands for each dataset, and the quality of the last silver run.</summary>
internal static class StatusCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("status", "Show where each layer stands for each dataset: bronze version, what silver and gold have consumed, and their last runs.")
        {
            Details = """
                For every dataset with a bronze table: bronze's version, the bronze version silver has consumed (pending = bronze commits
                with new data silver has not processed yet; compactions and vacuums are not counted), and the last silver run recorded in silver._quality — rows in and out, quarantined,
                duplicates removed, kept with warnings, and each rule that rows broke. For datasets with gold outputs: silver's version, the
                oldest silver version the dataset's gold tables hold (pending = silver commits gold has not processed), and the last gold
                run recorded in gold._runs — dates recomputed, rows written, late events, the watermark, new alerts, and why it failed.
                A bronze table whose dataset has no definition (its file in _lakehouse/datasets/ was removed) is shown with "no definition"
                and where the definition belongs (JSON: withoutDefinition); silver cannot build it until the definition is back.
                For each lakehouse stream process (one per dataset and set of layers): its latest micro-batch as it saved it under
                _lakehouse/stream/ — batch id, when, rows in, input and processed rows/s, source lag, the gold watermark, and whether
                the process stopped (a process killed without a stop still shows "running": look at when).
                A dataset whose tables cannot be read (a damaged log, a missing file) is named on standard error with the reason, the
                others are shown as usual, and the exit code is 1.
                """,
            Examples = ["lakehouse status", "lakehouse status --json"],
        };
        var json = CommandLine.Flag("--json", "Print one JSON object.");
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.ExistingRoot, cancellationToken).ConfigureAwait(false);
            var job = SilverJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            var goldJob = GoldJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            var (streams, unreadableStreams) = await StreamRunner.ReadSavedAsync(lake.Root, cancellationToken).ConfigureAwait(false);
            var statuses = new List<SilverStatus>();
            var golds = new Dictionary<string, GoldStatus>(StringComparer.Ordinal);
            // A table that cannot be read (a damaged log, a missing file) is reported with the dataset it belongs to, and the
            // other datasets are still shown: status is what an operator runs to find such a table. The exit code is then 1.
            var problems = new List<(string Dataset, string Message)>();
            foreach (var d in catalog.Definitions)
            {
                SilverStatus s;
                try
                {
                    s = await job.StatusAsync(d, cancellationToken).ConfigureAwait(false);
                }
                catch (LakehouseException e)
                {
                    problems.Add((d.Name, e.Message));
                    continue;
                }
                if (s.BronzeVersion is null && s.ConsumedVersion is null) continue;
                statuses.Add(s);
                if (d.GoldOutputs.Count == 0) continue;
                try
                {
                    golds[d.Name] = await goldJob.StatusAsync(d, cancellationToken).ConfigureAwait(false);
                }
                catch (LakehouseException e)
                {
                    problems.Add((d.Name, e.Message));
                }
            }
            // A bronze table whose dataset's definition file was removed: shown as such, not left out (silver cannot build it).
            var undefined = new List<(string Dataset, long Version)>();
            foreach (var name in await LayerDatasets.UndefinedAsync(lake, catalog, "bronze", cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var snapshot = await lake.OpenTable(lake.Root.Scope("bronze/" + name)).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    undefined.Add((name, snapshot.Version));
                }
                catch (LakehouseException e)
                {
                    problems.Add((name, e.Message));
                }
            }
            problems.AddRange(unreadableStreams);
            var exit = problems.Count == 0 ? CliApp.ExitOk : CliApp.ExitFailed;
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
                        silverVersion = golds.GetValueOrDefault(s.Dataset)?.SilverVersion,
                        goldConsumedVersion = golds.GetValueOrDefault(s.Dataset)?.ConsumedVersion,
                        pendingSilverCommits = golds.GetValueOrDefault(s.Dataset)?.Pending,
                        lastGoldRun = golds.GetValueOrDefault(s.Dataset)?.LastRun is { } g ? new
                        {
                            runId = g.RunId,
                            kind = g.Kind,
                            status = g.Status,
                            finished = g.Finished,
                            dates = g.Dates,
                            rowsWritten = g.RowsWritten,
                            lateEvents = g.LateEvents,
                            watermark = g.Watermark,
                            alertsNew = g.AlertsNew,
                            message = g.Message,
                        } : null,
                    }),
                    withoutDefinition = undefined.Select(u => new
                    {
                        dataset = u.Dataset,
                        bronzeVersion = u.Version,
                        definition = $"{catalog.LakeFolder?.TrimEnd('/') ?? DatasetCatalog.DefinitionsFolder}/{u.Dataset}.json",
                    }),
                    streams = streams.Select(d => d.RootElement),
                    problems = problems.Select(p => new { dataset = p.Dataset, message = p.Message }),
                }, TableChange.JsonOptions)).ConfigureAwait(false);
                foreach (var d in streams) d.Dispose();
                return exit;
            }
            foreach (var (dataset, message) in problems)
                await session.Error.WriteLineAsync($"{dataset}: cannot be shown: {message}").ConfigureAwait(false);
            if (statuses.Count == 0 && problems.Count == 0 && undefined.Count == 0)
            {
                await session.Out.WriteLineAsync($"No dataset has a bronze table in {lake.Root.Location} yet (lakehouse bronze ingest lands events).").ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            try
            {
                if (statuses.Count > 0 || undefined.Count > 0) await WriteTablesAsync().ConfigureAwait(false);
            }
            finally
            {
                foreach (var d in streams) d.Dispose();
            }
            return exit;

            async Task WriteTablesAsync()
            {
                await Output.WriteTableAsync(session.Out, ["dataset", "bronze", "silver consumed", "pending", "last silver run", "in", "out", "quarantined", "duplicates", "warned"],
                    [.. statuses.Select(s => new[]
                {
                    s.Dataset, N(s.BronzeVersion), N(s.ConsumedVersion), N(s.Pending),
                    s.LastRun is null ? "never" : $"{s.LastRunFinished:yyyy-MM-dd HH:mm:ss}Z {s.LastRun.Mode} {s.LastRunStatus}",
                    N(s.LastRun?.RowsIn), N(s.LastRun?.RowsOut), N(s.LastRun?.Quarantined), N(s.LastRun?.Duplicates), N(s.LastRun?.Warned),
                }), .. undefined.Select(u => new[] { u.Dataset, N(u.Version), "-", "-", "no definition", "-", "-", "-", "-", "-" })]).ConfigureAwait(false);
                if (golds.Count > 0)
                {
                    await session.Out.WriteLineAsync().ConfigureAwait(false);
                    await Output.WriteTableAsync(session.Out, ["dataset", "silver", "gold consumed", "pending", "last gold run", "dates", "rows", "late", "watermark", "alerts"],
                        [.. golds.Values.Select(g => new[]
                    {
                        g.Dataset, N(g.SilverVersion), N(g.ConsumedVersion), N(g.Pending),
                        g.LastRun is null ? "never" : $"{g.LastRun.Finished:yyyy-MM-dd HH:mm:ss}Z {g.LastRun.Kind} {g.LastRun.Status}",
                        N(g.LastRun?.Dates), N(g.LastRun?.RowsWritten), N(g.LastRun?.LateEvents),
                        g.LastRun?.Watermark is { } w ? w.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-", N(g.LastRun?.AlertsNew),
                    })]).ConfigureAwait(false);
                }
                if (undefined.Count > 0)
                    await session.Out.WriteLineAsync(LayerDatasets.NoDefinitionMessage(catalog, "bronze", [.. undefined.Select(u => u.Dataset)])).ConfigureAwait(false);
                foreach (var g in golds.Values.Where(g => g.LastRun is { Status: "failed" }))
                    await session.Out.WriteLineAsync($"{g.Dataset}: the last gold run failed: {g.LastRun!.Message}").ConfigureAwait(false);
                foreach (var s in statuses.Where(s => s.LastRun?.Rules.Any(r => r.Failed > 0) == true))
                {
                    await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{s.Dataset}: {string.Join(", ", s.LastRun!.Rules.Where(r => r.Failed > 0).Select(r => $"{r.Rule} ({r.Action}) {r.Failed:N0}"))}")).ConfigureAwait(false);
                }
                if (streams.Count > 0)
                {
                    await session.Out.WriteLineAsync().ConfigureAwait(false);
                    await Output.WriteTableAsync(session.Out, ["stream", "layers", "batch", "at", "rows in", "in/s", "processed/s", "lag", "watermark", "state"],
                        [.. streams.Select(d => StreamRow(d.RootElement))]).ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    private static string[] StreamRow(JsonElement p)
    {
        string Text(string name) => p.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "-";
        long? lag = null;
        if (p.TryGetProperty("sources", out var sources))
        {
            foreach (var source in sources.EnumerateArray())
                if (source.TryGetProperty("lag", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt64(out var n)) lag = (lag ?? 0) + n;
        }
        var stopped = p.TryGetProperty("stopped", out var s) && s.ValueKind == JsonValueKind.True;
        return [Text("dataset"), Text("layers"), Text("batchId"), Text("timestamp"), Text("numInputRows"), Text("inputRowsPerSecond"), Text("processedRowsPerSecond"),
            N(lag), Text("watermark"), stopped ? "stopped" : "running"];
    }

    private static string N(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}
