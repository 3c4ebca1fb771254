using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lakehouse.Datasets;
using Lakehouse.Silver;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse silver run</c>: bronze → silver (parse, preprocessing, expectations, quarantine, dedupe), incremental or a rerun of dates.</summary>
internal static class SilverCommands
{
    internal static Command Create(CliSession session)
    {
        var silver = new CliCommand("silver", "Build the silver tables from bronze: parsed, cleaned, checked, one row per event.")
        {
            Examples = ["lakehouse silver run", "lakehouse silver run --dataset weblogs --from 2024-05-01 --to 2024-05-03", "lakehouse silver replay --dataset weblogs --dry-run"],
        };
        silver.Subcommands.Add(CreateRun(session));
        silver.Subcommands.Add(CreateReplay(session));
        return silver;
    }

    private static CliCommand CreateRun(CliSession session)
    {
        var command = new CliCommand("run", "Parse the bronze events silver has not consumed yet into silver.<dataset>; bad rows go to silver.<dataset>_quarantine with the reason.")
        {
            Details = """
                Each event is parsed with its dataset's schema (numbers as sent: a string holding a number is a wrong type; timestamps in
                ISO-8601, converted to UTC, and taken as UTC when they have no offset), checked against the dataset's expectations
                (warn: kept and counted; drop: to quarantine; fail: the run stops and commits nothing) and kept once per event id within
                its event date: the earliest copy wins, whether it came by stream or by file. Payloads that are not UTF-8, not JSON, not an
                object, hold a key twice, have a field of the wrong type or out of range, or are over 1 MiB go to quarantine under that
                rule's name, with a message saying where.
                Incremental (the default): only the bronze versions silver has not consumed; the consumed version is recorded in the same
                commits as the rows, so a crash or Ctrl+C at any point loses nothing and repeats nothing — run it again.
                --from/--to DATE: rebuild those event dates (UTC, inclusive) from the bronze silver has consumed, replacing exactly those
                partitions of silver and quarantine (after a rule or parser change); running it twice gives the same rows.
                Quality metrics of every run go to silver._quality (see lakehouse sql).
                Quality gates (the definition's quality_gates: max_quarantine_share, rule_jump) refuse a batch that quarantines too much
                or in which a rule fails far more often than in the runs before: nothing of it is committed, the refusal is recorded in
                silver._quality (status refused, message) and posted to LAKEHOUSE_ALERT_WEBHOOK_URL when set, and the run exits 1.
                Without --dataset, a dataset that fails is named on standard error and the others still run; the exit code is then 1.
                """,
            Examples =
            [
                "lakehouse silver run",
                "lakehouse silver run --dataset weblogs --json",
                "lakehouse silver run --dataset weblogs --from 2024-05-01 --to 2024-05-03",
                "lakehouse silver run --dataset sensors --enable-rule timestamp_near_ingest",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset (default: every dataset that has a bronze table).", "name");
        var from = CommandLine.Text("--from", "Rerun: the first event date to rebuild (YYYY-MM-DD, UTC).", "date");
        var to = CommandLine.Text("--to", "Rerun: the last event date to rebuild (YYYY-MM-DD, UTC).", "date");
        var enable = new Option<string[]>("--enable-rule") { Description = "Also check this opt-in expectation (repeatable).", HelpName = "rule", AllowMultipleArgumentsPerToken = false };
        var maxRows = CommandLine.WholeNumber("--max-rows-per-commit", "Incremental: commit after about this many bronze rows, in whole bronze commits (default 250000; memory grows with it).", min: 1000, max: 100_000_000);
        var json = CommandLine.Flag("--json", "Print one JSON object per dataset.");
        foreach (var o in new Option[] { dataset, from, to, enable, maxRows, json }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SilverRunOptions { EnableRules = parse.GetValue(enable) ?? [], Webhook = Core.Webhooks.WebhookOptions.FromEnvironment() };
            (options.From, options.To) = CommandLine.DateRange(parse.GetValue(from), parse.GetValue(to));
            if (parse.GetValue(maxRows) is { } m) options.MaxRowsPerCommit = (int)m;
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.ExistingRoot, cancellationToken).ConfigureAwait(false);
            var definitions = await LayerDatasets.SelectAsync(lake, catalog, parse.GetValue(dataset), _ => true, "bronze",
                names => $"The lake has no bronze tables yet ({string.Join(", ", names)}): land events first with lakehouse bronze ingest.", session.Error, cancellationToken).ConfigureAwait(false);
            if (options.EnableRules.Count > 0 && definitions.Count > 1) throw CommandLine.Usage("--enable-rule needs --dataset (rule names belong to one dataset)");
            var job = SilverJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            await LayerDatasets.RunEachAsync(session, "silver", definitions, async d =>
            {
                var result = await session.Progress.RunAsync($"silver.{d.Name}", _ => job.RunAsync(d, options, cancellationToken)).ConfigureAwait(false);
                await session.Out.WriteLineAsync(parse.GetValue(json) ? Json(result) : Text(result)).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static CliCommand CreateReplay(CliSession session)
    {
        var command = new CliCommand("replay", "Run the rows of silver.<dataset>_quarantine through today's definition again: rows that pass move to silver, the others keep today's reason.")
        {
            Details = """
                After a rule, parser or definition fix, the quarantined rows (all that are still quarantined, or those of --rule and of the
                event dates --from/--to) are parsed, preprocessed and checked again exactly as silver run does. A row that passes goes to
                silver — unless silver already holds its event (same id and event date), then it is a duplicate and adds no row — and its
                quarantine row records replay_outcome = silver or duplicate, replayed_at, replay_run_id, and the silver row that holds its
                event (replay_silver_position, replay_silver_event_date). A row that still fails stays, with today's rule and message and
                replay_outcome = quarantined.
                Exactly once: silver is committed first (insert-if-absent on id and event date), quarantine second, and a row's outcome is
                read back from silver; a replay killed between the two commits is repaired by the next one, and a replay repeated changes
                nothing. --dry-run says what would happen and commits nothing.
                """,
            Examples =
            [
                "lakehouse silver replay --dataset weblogs --dry-run",
                "lakehouse silver replay --dataset weblogs --rule tti_in_range",
                "lakehouse silver replay --dataset weblogs --from 2024-05-01 --to 2024-05-03 --json",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset whose quarantine to replay.", "name");
        dataset.Required = true;
        var rule = CommandLine.Text("--rule", "Only rows that broke this rule (an expectation's name or a parse rule such as wrong_type).", "rule");
        var from = CommandLine.Text("--from", "Only rows of quarantine event dates from this one (YYYY-MM-DD, UTC).", "date");
        var to = CommandLine.Text("--to", "Only rows of quarantine event dates up to this one (YYYY-MM-DD, UTC).", "date");
        var enable = new Option<string[]>("--enable-rule") { Description = "Also check this opt-in expectation (repeatable).", HelpName = "rule", AllowMultipleArgumentsPerToken = false };
        var dryRun = CommandLine.Flag("--dry-run", "Say what the replay would do; commit nothing.");
        var json = CommandLine.Flag("--json", "Print one JSON object.");
        foreach (var o in new Option[] { dataset, rule, from, to, enable, dryRun, json }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SilverReplayOptions { EnableRules = parse.GetValue(enable) ?? [], DryRun = parse.GetValue(dryRun) };
            try
            {
                options.Rule = parse.GetValue(rule);
            }
            catch (ArgumentException e)
            {
                throw CommandLine.Usage("--rule: " + e.Message.Split(" (Parameter", 2)[0]);
            }
            (options.From, options.To) = CommandLine.DateRange(parse.GetValue(from), parse.GetValue(to));
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.ExistingRoot, cancellationToken).ConfigureAwait(false);
            var definition = catalog.Get(parse.GetValue(dataset)!);
            var job = SilverJob.Open(lake.Root, lake.Engine, lake.LoggerFactory);
            var result = await session.Progress.RunAsync($"silver.{definition.Name}_quarantine", _ => job.ReplayAsync(definition, options, cancellationToken)).ConfigureAwait(false);
            await session.Out.WriteLineAsync(parse.GetValue(json) ? Json(result) : Text(result)).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    internal static string Text(SilverReplayResult r)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"silver.{r.Dataset}_quarantine: {(r.DryRun ? "dry run, nothing committed: would replay" : "replayed")} {r.Rows:N0} rows: ");
        sb.Append(CultureInfo.InvariantCulture, $"{r.MovedToSilver:N0} {(r.DryRun ? "would move" : "moved")} to silver, {r.Duplicates:N0} duplicates of events silver holds, ");
        sb.Append(CultureInfo.InvariantCulture, $"{r.StillQuarantined:N0} still quarantined ({r.ReasonUpdated:N0} with a new reason) ({r.Elapsed.TotalSeconds:0.0} s)");
        if (r.Rows == 0) sb.Append(" — nothing to replay");
        foreach (var rule in r.Rules.Where(x => x.Failed > 0))
            sb.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"  {rule.Rule,-24} {rule.Action,-5} {rule.Failed,12:N0} of {rule.Checked:N0}");
        return sb.ToString();
    }

    private static string Json(SilverReplayResult r) => JsonSerializer.Serialize(new
    {
        table = "silver." + r.Dataset + "_quarantine",
        r.RunId,
        r.DryRun,
        r.Rows,
        r.MovedToSilver,
        r.Duplicates,
        r.StillQuarantined,
        r.ReasonUpdated,
        r.SilverVersion,
        r.QuarantineVersion,
        seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
        rules = r.Rules.Select(x => new { x.Rule, x.Action, x.Checked, x.Passed, x.Failed }),
    }, TableChange.JsonOptions);

    internal static string Text(SilverRunResult r)
    {
        if (r.NothingNew) return string.Create(CultureInfo.InvariantCulture, $"silver.{r.Dataset}: up to date (bronze version {r.BronzeToVersion} already consumed)");
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"silver.{r.Dataset}: ");
        sb.Append(r.Mode == "rerun"
            ? string.Create(CultureInfo.InvariantCulture, $"rebuilt {r.From:yyyy-MM-dd}..{r.To:yyyy-MM-dd} from bronze version {r.BronzeToVersion}: ")
            : string.Create(CultureInfo.InvariantCulture, $"bronze versions {r.BronzeFromVersion + 1}..{r.BronzeToVersion}: "));
        sb.Append(CultureInfo.InvariantCulture, $"{r.RowsIn:N0} rows in → {r.RowsOut:N0} to silver, {r.Quarantined:N0} quarantined, {r.Duplicates:N0} duplicates removed");
        if (r.Warned > 0) sb.Append(CultureInfo.InvariantCulture, $", {r.Warned:N0} kept with warnings");
        var seconds = Math.Max(r.Elapsed.TotalSeconds, 0.001);
        sb.Append(CultureInfo.InvariantCulture, $" ({r.Commits} commit{(r.Commits == 1 ? "" : "s")}, {r.Elapsed.TotalSeconds:0.0} s, {r.RowsIn / seconds:N0} rows/s)");
        if (r.Message is { } message) sb.Append(Environment.NewLine).Append("  ").Append(message);
        foreach (var rule in r.Rules.Where(x => x.Failed > 0))
            sb.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"  {rule.Rule,-24} {rule.Action,-5} {rule.Failed,12:N0} of {rule.Checked:N0}");
        return sb.ToString();
    }

    private static string Json(SilverRunResult r) => JsonSerializer.Serialize(new
    {
        table = "silver." + r.Dataset,
        r.RunId,
        r.Mode,
        bronzeFromVersion = r.BronzeFromVersion,
        bronzeToVersion = r.BronzeToVersion,
        from = r.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        to = r.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        r.RowsIn,
        r.RowsOut,
        r.Quarantined,
        r.Duplicates,
        r.Warned,
        r.Commits,
        r.Message,
        seconds = Math.Round(r.Elapsed.TotalSeconds, 3),
        rules = r.Rules.Select(x => new { x.Rule, x.Action, x.Checked, x.Passed, x.Failed }),
    }, TableChange.JsonOptions);
}
