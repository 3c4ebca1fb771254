using System.Diagnostics;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Replay;

/// <summary>
/// One replay of one dataset's quarantine (<c>lakehouse silver replay</c>): the quarantined rows are parsed, preprocessed and checked
/// again with today's definition, exactly as <see cref="SilverStage"/> does for bronze rows; rows that pass go to silver, rows that
/// fail keep today's reason, and each quarantine row records what became of it (<see cref="QuarantineColumns"/>).
/// </summary>
/// <remarks>
/// <para>
/// Exactly once across two tables, without a transaction spanning them. The replay commits <b>silver first</b>, as an insert-if-absent
/// merge on (id, event date) — an event silver already holds is not inserted again, whoever put it there — and <b>quarantine second</b>,
/// an upsert of the rows it looked at, keyed by (bronze position, event date). What a passing row's outcome is is not remembered
/// between the two commits but read back from silver: the row moved when silver's row of its event has the row's own bronze position,
/// and it is a duplicate when silver's row has another.
/// </para>
/// <para>
/// So a crash (SIGKILL, power loss) between the two commits leaves silver holding the moved rows while quarantine still shows them as
/// quarantined, and the next replay repairs it: it picks those rows again (their outcome is still empty), they pass again, the silver
/// merge inserts nothing (their events are there), and reading silver back finds their own bronze positions, so they are recorded as
/// moved — once. A crash before the silver commit leaves nothing; after the quarantine commit, the work is done. A replay repeated
/// changes nothing: rows already moved or found duplicate are not picked again, and a row that still fails for the same reason is
/// not rewritten, so neither table gets a new version.
/// </para>
/// <para>
/// Two replays at once: the quarantine commit records (and <c>silver._quality</c> counts) only the rows whose outcome is still open
/// in quarantine as it is just before that commit — rows another replay recorded since they were picked are its work — and it
/// advances quarantine's guard (<see cref="SilverJob.GuardId"/>) from the value read then, so a commit in between refuses it
/// (Conflict) instead of letting both count the same rows. Each replay's metrics are what its own quarantine commit recorded.
/// </para>
/// </remarks>
internal sealed class QuarantineReplay(SilverJob job, DatasetDefinition definition, SilverReplayOptions options, string runId)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    internal async Task<SilverReplayResult> RunAsync(CancellationToken cancellationToken)
    {
        var name = definition.Name;
        if (options.Rule is { } only && !SilverReplayOptions.IsKnownRule(definition, only))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset {name} has no rule named '{only}' (its rules: {string.Join(", ", SilverReplayOptions.RuleNames(definition))}).");
        var silver = job.Table(SilverTables.Silver(name));
        var quarantine = job.Table(SilverTables.Quarantine(name));
        if (!await quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false) || !await silver.ExistsAsync(cancellationToken).ConfigureAwait(false))
            throw new LakehouseException(LakehouseErrorReason.NotFound,
                $"silver.{name} and silver.{name}_quarantine do not exist yet: nothing has been quarantined to replay (run lakehouse silver run --dataset {name} first).");
        if (!options.DryRun)
            await DeltaWriter.Create(quarantine).AddColumnsAsync(QuarantineColumns.Fields, cancellationToken).ConfigureAwait(false);
        var quarantineSnapshot = await quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var plan = new SilverPlan(definition, options.EnableRules);
        var pages = await job.PagesAsync(cancellationToken).ConfigureAwait(false);
        using var stage = new SilverStage(job.Engine, definition, plan, runId, pages);
        var candidates = stage.Create("replay_candidates");
        await SelectCandidatesAsync(quarantine, quarantineSnapshot, candidates, cancellationToken).ConfigureAwait(false);

        var pos = SilverColumns.BronzePosition;
        using (var lease = job.Engine.Lease())
        {
            // One payload per bronze position (a position is in quarantine once per event date it was given).
            var src =
                $"(SELECT payload, source_kind, source, source_partition, source_offset, source_line, {SilverColumns.IngestTime}, " +
                $"CAST(timezone('UTC', {SilverColumns.IngestTime}) AS DATE) AS ingest_date, {pos} FROM {candidates} " +
                $"QUALIFY row_number() OVER (PARTITION BY {pos} ORDER BY {SilverColumns.EventDate}) = 1)";
            stage.Load(lease.Connection, src, _ => { }, cancellationToken);
        }
        var counts = stage.Count(cancellationToken);
        var failed = counts.Rules.Where(r => r.Action == "fail" && r.Failed > 0).ToList();
        if (failed.Count > 0)
        {
            var (message, position) = stage.FirstFailure(failed[0].Rule, cancellationToken);
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"silver.{name} replay: expectation '{failed[0].Rule}' (fail) is broken by {failed[0].Failed:N0} quarantined row(s), e.g. {message} (bronze {position}); nothing was committed.");
        }

        // Silver first (see the remarks): insert the events silver does not hold yet.
        long? silverVersion = null;
        if (!options.DryRun && counts.Clean > 0)
        {
            var keys = SilverColumns.IdColumns(definition).Append(SilverColumns.EventDate).ToList();
            if (options.BeforeCommit is { } beforeSilver) await beforeSilver("silver").ConfigureAwait(false);
            var merged = await DeltaWriter.Create(silver, new DeltaWriteOptions { PartitionColumns = [SilverColumns.EventDate] })
                .MergeAsync(stage.CleanSql, keys, DeltaMergeMode.InsertIfAbsent, null, cancellationToken).ConfigureAwait(false);
            if (merged.Committed) silverVersion = merged.Version;
        }
        var silverSnapshot = await silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var resolved = await stage.ResolveAsync(silver, silverSnapshot, cancellationToken).ConfigureAwait(false);

        // Then quarantine, as it is now: a replay that committed since these rows were picked has recorded the outcome of some of them,
        // which is its work, not this one's: they are neither rewritten nor counted here. The commit advances quarantine's guard from
        // the value read here, so a commit in between (another replay's, a silver run's) makes it fail rather than count them twice.
        var open = candidates;
        DeltaAppTransaction? guard = null;
        if (!options.DryRun)
        {
            var now = await quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            guard = SilverJob.NextGuard(name, now);
            if (now.Version != quarantineSnapshot.Version)
            {
                open = stage.Create("replay_open");
                await SelectCandidatesAsync(quarantine, now, open, cancellationToken).ConfigureAwait(false);
                using var lease = job.Engine.Lease();
                var taken = Convert.ToInt64(lease.Connection.Scalar(
                    $"SELECT count(*) FROM {candidates} AS q ANTI JOIN {open} AS n ON q.{pos} = n.{pos} AND q.{SilverColumns.EventDate} = n.{SilverColumns.EventDate}",
                    cancellationToken), CultureInfo.InvariantCulture);
                if (taken > 0) Log.ReplayTakenByAnotherReplay(job.Logger, name, runId, taken);
            }
        }

        // Every row looked at, with its outcome; rows that fail for the reason they already record are left alone.
        var updates = stage.Create("replay_updates");
        var at = $"CAST(TIMESTAMP '{DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}' AS TIMESTAMPTZ)";
        var outcome = $"CASE WHEN NOT r.passes THEN '{QuarantineColumns.Quarantined}' WHEN r.silver_position = q.{pos} THEN '{QuarantineColumns.Silver}' " +
                      $"WHEN r.silver_position IS NOT NULL THEN '{QuarantineColumns.Duplicate}' END";
        var unchanged = $"(NOT r.passes AND q.{QuarantineColumns.Outcome} IS NOT DISTINCT FROM '{QuarantineColumns.Quarantined}' " +
                        "AND q.rule IS NOT DISTINCT FROM r.rule AND q.message IS NOT DISTINCT FROM r.message)";
        long rows, moved, duplicates, still, updated, unresolved;
        using (var lease = job.Engine.Lease())
        {
            var c = lease.Connection;
            var joined = $"FROM {open} AS q JOIN {resolved} AS r ON q.{pos} = r.{pos}";
            using (var r = c.Query(
                $"SELECT count(*), count(*) FILTER ({outcome} = '{QuarantineColumns.Silver}'), count(*) FILTER ({outcome} = '{QuarantineColumns.Duplicate}'), " +
                $"count(*) FILTER (NOT r.passes), count(*) FILTER (NOT r.passes AND NOT {unchanged}), count(*) FILTER (r.passes AND r.silver_position IS NULL) {joined}",
                cancellationToken))
            {
                r.Read();
                (rows, moved, duplicates, still, updated, unresolved) = (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5));
            }
            if (!options.DryRun)
            {
                c.Execute(
                $"CREATE TABLE {updates} AS SELECT q.* REPLACE (" +
                "CASE WHEN r.passes THEN q.rule ELSE r.rule END AS rule, CASE WHEN r.passes THEN q.message ELSE r.message END AS message, " +
                $"{outcome} AS {QuarantineColumns.Outcome}, {at} AS {QuarantineColumns.ReplayedAt}, {SqlText.Literal(runId)} AS {QuarantineColumns.ReplayRunId}, " +
                $"r.silver_position AS {QuarantineColumns.SilverPosition}, r.silver_event_date AS {QuarantineColumns.SilverEventDate}) " +
                $"{joined} WHERE {outcome} IS NOT NULL AND NOT {unchanged}", cancellationToken);
            }
        }
        if (unresolved > 0) Log.ReplayUnresolved(job.Logger, name, unresolved);

        long? quarantineVersion = null;
        if (!options.DryRun && moved + duplicates + updated > 0)
        {
            if (options.BeforeCommit is { } beforeQuarantine) await beforeQuarantine("quarantine").ConfigureAwait(false);
            DeltaCommitResult merged;
            try
            {
                merged = await DeltaWriter.Create(quarantine, new DeltaWriteOptions { PartitionColumns = [SilverColumns.EventDate] })
                    .MergeAsync($"SELECT * FROM {updates}", [pos, SilverColumns.EventDate], DeltaMergeMode.Upsert, [guard!], cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
            {
                throw new LakehouseException(LakehouseErrorReason.Conflict,
                    $"silver.{name} replay: another replay or silver run committed to silver.{name}_quarantine while this replay prepared its outcomes; " +
                    "none of them was recorded, so no row is counted twice. Run the replay again: it picks up what is still open " +
                    "(rows this one moved to silver are then recorded as moved).", e);
            }
            if (merged.Committed) quarantineVersion = merged.Version;
        }

        var result = new SilverReplayResult
        {
            Dataset = name,
            RunId = runId,
            DryRun = options.DryRun,
            Rows = rows,
            MovedToSilver = moved,
            Duplicates = duplicates,
            StillQuarantined = still,
            ReasonUpdated = updated,
            SilverVersion = silverVersion,
            QuarantineVersion = quarantineVersion,
            Rules = counts.Rules,
            Elapsed = _clock.Elapsed,
        };
        Log.Replayed(job.Logger, name, runId, rows, moved, duplicates, still, options.DryRun);
        if (!options.DryRun && (silverVersion is not null || quarantineVersion is not null)) await RecordAsync(result, counts, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Stages the quarantine rows to replay: not yet moved or found duplicate, of the rule and dates asked for.</summary>
    private async Task SelectCandidatesAsync(DeltaTable quarantine, DeltaSnapshot snapshot, string candidates, CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        if (snapshot.Schema.Find(QuarantineColumns.Outcome) is not null)
            conditions.Add($"({QuarantineColumns.Outcome} IS NULL OR {QuarantineColumns.Outcome} = '{QuarantineColumns.Quarantined}')");
        if (options.Rule is { } rule) conditions.Add($"list_contains(string_split(rule, ', '), {SqlText.Literal(rule)})");
        IReadOnlyList<Delta.Log.AddAction> files = snapshot.Files;
        if (options.From is { } from && options.To is { } to)
        {
            conditions.Add($"{SilverColumns.EventDate} BETWEEN DATE '{from:yyyy-MM-dd}' AND DATE '{to:yyyy-MM-dd}'");
            var (low, high) = (from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            files = [.. files.Where(f => f.PartitionValues.TryGetValue(SilverColumns.EventDate, out var d) && d is not null
                && string.CompareOrdinal(d, low) >= 0 && string.CompareOrdinal(d, high) <= 0)];
        }
        using var lease = job.Engine.Lease();
        var connection = lease.Connection;
        using var scan = await DeltaScan.CreateAsync(quarantine, snapshot, connection, new DeltaScanOptions { Files = files }, cancellationToken).ConfigureAwait(false);
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        // A dry run on a quarantine table written before replays existed sees their columns as null.
        var replayColumns = snapshot.Schema.Find(QuarantineColumns.Outcome) is null ? ", " + QuarantineColumns.NullReplayColumns : "";
        connection.Execute($"CREATE TABLE {candidates} AS SELECT *{replayColumns} FROM ({scan.Sql}){where}", cancellationToken);
    }

    private async Task RecordAsync(SilverReplayResult replay, SilverJob.Outcome counts, CancellationToken cancellationToken)
    {
        var run = new SilverRunResult
        {
            Dataset = replay.Dataset,
            RunId = replay.RunId,
            Mode = "replay",
            BronzeFromVersion = -1,
            BronzeToVersion = -1,
            From = options.From,
            To = options.To,
            RowsIn = replay.Rows,
            RowsOut = replay.MovedToSilver,
            Quarantined = replay.StillQuarantined,
            Duplicates = replay.Duplicates,
            Warned = counts.Warned,
            Commits = (replay.SilverVersion is null ? 0 : 1) + (replay.QuarantineVersion is null ? 0 : 1),
            Rules = counts.Rules,
            Elapsed = replay.Elapsed,
        };
        try
        {
            await QualityTable.AppendAsync(job.Table(SilverTables.Quality), run, "committed", _started, null, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e)
        {
            Log.MetricsNotRecorded(job.Logger, replay.Dataset, replay.RunId, e.Message);
        }
    }
}
