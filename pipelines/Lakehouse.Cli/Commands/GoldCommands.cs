using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lakehouse.Datasets;
using Lakehouse.Gold;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse gold run</c>: silver → gold (page performance, windowed metrics, alerts), incremental or a rerun of dates.</summary>
internal static class GoldCommands
{
    internal static Command Create(CliSession session)
    {
        var gold = new CliCommand("gold", "Build the gold tables from silver: page performance, windowed metrics, alerts.")
        {
            Examples = ["lakehouse gold run", "lakehouse gold run --dataset weblogs --from 2024-05-01 --to 2024-05-03"],
        };
        gold.Subcommands.Add(CreateRun(session));
        return gold;
    }

    private static CliCommand CreateRun(CliSession session)
    {
        var command = new CliCommand("run", "Recompute the gold tables of the event dates that new silver data touched.")
        {
            Details = """
                Each dataset builds the gold tables its definition lists (gold_outputs): weblogs → page_performance_daily, page_metrics_1m,
                page_metrics_5m, page_sessions, alerts; sensors → sensor_metrics_1m, sensor_metrics_5m, sensor_sessions, alerts;
                accesslogs → access_daily. Tables are partitioned by event_date (UTC).
                Incremental (the default): only the event dates that the silver commits gold has not consumed added or removed rows in
                are recomputed, each table's dates replaced in one commit that records the silver version it consumed — a crash or
                Ctrl+C at any point loses nothing and repeats nothing: run it again.
                Watermark: the newest event time in silver minus --watermark-delay (default 10 s). A window is final (is_final) once the
                watermark passes its end; an event that arrives after its window was final is counted in late_events and included when
                its day is recomputed. An event stamped more than --future-tolerance (default 3600 s) after its ingest time (a clock
                ahead, local time sent as UTC) is counted in its windows but does not move the watermark, with a warning.
                Each windowed table has a <table>_corrections table: one row per window that received late events, with the on-time
                result (what the window held when it became final) next to the corrected one, late_events, late_batches and revised_at.
                --from/--to DATE: after catching up, rebuild those event dates from the silver version gold has consumed (the consumed
                versions the stream resumes from do not move; on-time results come back the same).
                Alerts (gold.alerts) are raised once per rule, key and window, never again on reruns; with LAKEHOUSE_ALERT_WEBHOOK_URL
                set (and optionally LAKEHOUSE_ALERT_WEBHOOK_SECRET) each new alert is posted as JSON, with retries; a failing webhook
                never fails the run: undelivered alerts stay pending and are posted by the next run.
                Every run that did something is recorded in gold._runs (see lakehouse sql).
                Without --dataset, a dataset that fails is named on standard error and the others still run; the exit code is then 1.
                """,
            Examples =
            [
                "lakehouse gold run",
                "lakehouse gold run --dataset weblogs --json",
                "lakehouse gold run --dataset sensors --watermark-delay 30",
                "lakehouse gold run --dataset weblogs --from 2024-05-01 --to 2024-05-03",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset (default: every dataset with gold outputs that has a silver table).", "name");
        var from = CommandLine.Text("--from", "Rerun: the first event date to rebuild (YYYY-MM-DD, UTC).", "date");
        var to = CommandLine.Text("--to", "Rerun: the last event date to rebuild (YYYY-MM-DD, UTC).", "date");
        var (delay, future) = WatermarkOptions();
        var json = CommandLine.Flag("--json", "Print one JSON object per dataset.");
        foreach (var o in new Option[] { dataset, from, to, delay, future, json }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new GoldRunOptions { Webhook = Core.Webhooks.WebhookOptions.FromEnvironment() };
            (options.From, options.To) = CommandLine.DateRange(parse.GetValue(from), parse.GetValue(to));
            options.Windows = Windows(parse, delay, future);
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.ExistingRoot, cancellationToken).ConfigureAwait(false);
            var definitions = await LayerDatasets.SelectAsync(lake, catalog, parse.GetValue(dataset), d => d.GoldOutputs.Count > 0, "silver",
                names => $"The lake has no silver tables with gold outputs yet ({string.Join(", ", names)}): build silver first with lakehouse silver run.", session.Error, cancellationToken).ConfigureAwait(false);
            var job = GoldJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            await LayerDatasets.RunEachAsync(session, "gold", definitions, async d =>
            {
                var result = await session.Progress.RunAsync($"gold.{d.Name}", _ => job.RunAsync(d, options, cancellationToken)).ConfigureAwait(false);
                await session.Out.WriteLineAsync(parse.GetValue(json) ? Json(result) : Text(result)).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>The watermark's options, shared by <c>gold run</c> and <c>stream</c>: <c>--watermark-delay</c> and <c>--future-tolerance</c>.</summary>
    internal static (Option<long?> Delay, Option<long?> Future) WatermarkOptions() =>
        (CommandLine.WholeNumber("--watermark-delay", "Seconds the watermark trails the newest event time (default 10).", min: 0, max: 86_400, helpName: "seconds"),
         CommandLine.WholeNumber("--future-tolerance", "Seconds an event time may be ahead of its ingest time and still move the watermark (default 3600).",
            min: 0, max: 366 * 86_400, helpName: "seconds"));

    /// <summary>The window settings those options give (the defaults for what is not given).</summary>
    internal static WindowSettings Windows(ParseResult parse, Option<long?> delay, Option<long?> future)
    {
        var windows = WindowSettings.Default;
        if (parse.GetValue(delay) is { } seconds) windows = windows with { WatermarkDelay = TimeSpan.FromSeconds(seconds) };
        if (parse.GetValue(future) is { } ahead) windows = windows with { FutureTolerance = TimeSpan.FromSeconds(ahead) };
        return windows;
    }

    internal static string Text(GoldRunResult r)
    {
        var versions = string.Create(CultureInfo.InvariantCulture, $"silver versions {r.SilverFromVersion + 1}..{r.SilverToVersion}");
        if (r.NothingNew)
        {
            // "Up to date" only when there was nothing to do: a rerun whose range holds no rows says so, and new silver commits that
            // changed no row (a compaction; a first run over an empty silver) were consumed by this run, not before it.
            if (r.Kind == "rerun")
                return string.Create(CultureInfo.InvariantCulture,
                    $"gold ({r.Dataset}): nothing to rebuild: no event date of the range holds rows in silver version {r.SilverToVersion} or in gold");
            return r.SilverFromVersion < r.SilverToVersion
                ? $"gold ({r.Dataset}): {versions}: no rows added or removed, no event date to recompute"
                : string.Create(CultureInfo.InvariantCulture, $"gold ({r.Dataset}): up to date (silver version {r.SilverToVersion} already consumed)");
        }
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"gold ({r.Dataset}): ");
        if (r.Kind == "rerun" && r.SilverFromVersion < r.SilverToVersion) sb.Append(versions).Append(", then ");
        sb.Append(r.Kind == "rerun"
            ? string.Create(CultureInfo.InvariantCulture, $"rebuilt from silver version {r.SilverToVersion}: ")
            : versions + ": ");
        sb.Append(CultureInfo.InvariantCulture, $"{r.Dates.Count} event date(s){DateSpan(r.Dates)}, {r.RowsIn:N0} silver rows read");
        if (r.LateEvents > 0) sb.Append(CultureInfo.InvariantCulture, $", {r.LateEvents:N0} late events");
        if (r.Watermark is { } w) sb.Append(CultureInfo.InvariantCulture, $", watermark {w.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        sb.Append(CultureInfo.InvariantCulture, $" ({r.Elapsed.TotalSeconds:0.0} s)");
        foreach (var t in r.Tables)
            sb.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"  gold.{t.Table,-30} {(t.Dates == 0 ? "up to date" : t.WrittenByAnotherRun ? $"{t.Dates} date(s) already written by another run" : $"{t.Rows:N0} rows for {t.Dates} date(s)")}");
        if (r.AlertsNew > 0 || r.AlertsPending > 0)
            sb.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"  alerts: {r.AlertsNew:N0} new, {r.AlertsDelivered:N0} delivered to the webhook, {r.AlertsPending:N0} pending");
        return sb.ToString();
    }

    private static string DateSpan(IReadOnlyList<DateOnly> dates) => dates.Count switch
    {
        0 => "",
        1 => string.Create(CultureInfo.InvariantCulture, $" ({dates[0]:yyyy-MM-dd})"),
        _ => string.Create(CultureInfo.InvariantCulture, $" ({dates[0]:yyyy-MM-dd}..{dates[^1]:yyyy-MM-dd})"),
    };

    private static string Json(GoldRunResult r) => JsonSerializer.Serialize(new
    {
        dataset = r.Dataset,
        r.RunId,
        r.Kind,
        silverFromVersion = r.SilverFromVersion,
        silverToVersion = r.SilverToVersion,
        dates = r.Dates.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        r.RowsIn,
        r.LateEvents,
        watermark = r.Watermark?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        tables = r.Tables.Select(t => new { table = "gold." + t.Table, t.Dates, t.Rows, t.WrittenByAnotherRun }),
        r.AlertsNew,
        r.AlertsDelivered,
        r.AlertsPending,
        seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
    }, TableChange.JsonOptions);
}
