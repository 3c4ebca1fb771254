using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Gold.Alerts;
using Lakehouse.Gold.Windows;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Gold;

/// <summary>
/// Builds a dataset's gold tables (its definition's <c>gold_outputs</c>) from <c>silver.&lt;dataset&gt;</c>, recomputing only the
/// event dates that silver commits since the last run touched.
/// </summary>
/// <remarks>
/// Exactly-once: each gold table's commit replaces the partitions of the recomputed dates and records, as a Delta <c>txn</c> (app id
/// <see cref="GoldTables.AppId"/>), the silver version it was computed from. A run starts from the oldest version any of the
/// dataset's gold tables records, skips a table that already holds the newest, and a table's commit with a version it already
/// records is a no-op; so a crash between two tables' commits is finished by the next run, and a repeated run changes nothing.
/// Memory: the dates are computed one group at a time (<see cref="GoldRunOptions"/>, a day by default) and each group's rows are
/// spooled to local files, so a run holds one group's silver rows whatever the number of dates; each table is still committed once
/// for the whole run, so readers and the txn bookkeeping see what a single pass would have written.
/// </remarks>
public sealed class GoldJob
{
    private readonly ILakeStorage _lake;
    private readonly DuckEngine _engine;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;

    /// <summary>The datasets whose gold outputs this job found to be their own (see <see cref="CheckOutputsAreItsOwnAsync"/>).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _ownOutputs = new(StringComparer.Ordinal);

    private GoldJob(ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        _lake = lake;
        _engine = engine;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger<GoldJob>();
    }

    /// <summary>The gold job of the lake at <paramref name="lake"/>.</summary>
    public static GoldJob Open(ILakeStorage lake, DuckEngine engine, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(engine);
        return new GoldJob(lake, engine, loggerFactory ?? NullLoggerFactory.Instance);
    }

    /// <summary>
    /// Runs gold for <paramref name="definition"/>: incrementally (the silver versions its gold tables have not consumed), or as a
    /// rerun of a range of event dates (after catching up). Refuses a dataset without gold outputs, or whose silver table does not exist.
    /// </summary>
    public async Task<GoldRunResult> RunAsync(DatasetDefinition definition, GoldRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        options ??= new GoldRunOptions();
        options.Validate();
        var outputs = GoldOutputs.For(definition);
        if (outputs.Count == 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset {definition.Name} has no gold outputs (its definition's gold_outputs is empty): nothing to build.");
        await CheckOutputsAreItsOwnAsync(definition, cancellationToken).ConfigureAwait(false);
        var run = new Run(this, definition, outputs, options, options.RunId ?? NewRunId());
        return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses a dataset that lists a gold table another dataset of the lake builds too (one with a silver table): a gold table holds
    /// one dataset's rows and each run replaces whole dates of it, so the two would overwrite each other's rows. <c>alerts</c> is
    /// shared (rows are inserted by alert id, never replaced). Checked once per dataset and job: a dataset defined later is refused
    /// by its own first run.
    /// </summary>
    private async Task CheckOutputsAreItsOwnAsync(DatasetDefinition definition, CancellationToken cancellationToken)
    {
        if (_ownOutputs.ContainsKey(definition.Name)) return;
        DatasetCatalog catalog;
        try
        {
            catalog = await DatasetCatalog.LoadAsync(_lake, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
        {
            catalog = DatasetCatalog.BuiltIn; // a broken definition builds nothing; the others are checked when they are fixed
        }
        var mine = definition.GoldOutputs.Where(o => o != GoldOutputs.AlertsTable).ToHashSet(StringComparer.Ordinal);
        foreach (var other in catalog.Definitions.Where(d => d.Name != definition.Name))
        {
            var shared = other.GoldOutputs.Where(mine.Contains).ToList();
            if (shared.Count == 0 || !await Table(GoldTables.Silver(other.Name)).ExistsAsync(cancellationToken).ConfigureAwait(false)) continue;
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset {definition.Name} lists gold output{(shared.Count == 1 ? "" : "s")} {string.Join(", ", shared.Select(s => $"'{s}'"))}, which dataset {other.Name} builds too " +
                $"(silver.{other.Name} exists): a gold table holds one dataset's rows and each run replaces whole dates, so one would overwrite the other's. " +
                $"Remove {(shared.Count == 1 ? "it" : "them")} from one of the two definitions' gold_outputs; nothing was built.");
        }
        _ownOutputs[definition.Name] = true;
    }

    /// <summary>
    /// Refuses a definition whose gold outputs gold cannot build (<see cref="LakehouseException"/>, InvalidInput): an output gold does
    /// not know, or one whose columns the dataset lacks. A definition without gold outputs passes.
    /// </summary>
    public static void CheckDefinition(DatasetDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        _ = GoldOutputs.For(definition);
    }

    /// <summary>
    /// Posts the alerts of <c>gold.alerts</c> that <paramref name="webhook"/> has not accepted yet, as a run with a webhook does at
    /// its end, but on its own: a stream delivers them beside its gold steps, which must not wait for a slow or failing webhook.
    /// A failing webhook never throws here (logged; the alerts stay pending): returns how many were delivered and how many stay pending
    /// (null when the delivery failed before it could tell).
    /// </summary>
    public async Task<(long Delivered, long? Pending)> DeliverAlertsAsync(WebhookOptions webhook, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        using var client = new AlertWebhook(webhook, _loggerFactory.CreateLogger<AlertWebhook>());
        try
        {
            var (delivered, pending) = await AlertOutbox.DeliverAsync(Table(GoldTables.Gold(GoldOutputs.AlertsTable)), Table(GoldTables.AlertDeliveries), _engine, client,
                cancellationToken).ConfigureAwait(false);
            if (pending > 0) Log.AlertsPending(_log, (int)Math.Min(pending, int.MaxValue));
            return (delivered, pending);
        }
        catch (Exception e) when (e is LakehouseException or IOException)
        {
            Log.DeliveryFailed(_log, e.Message);
            return (0, null);
        }
    }

    /// <summary>Where gold stands for <paramref name="definition"/>: silver's version, what gold has consumed, its last run.</summary>
    public Task<GoldStatus> StatusAsync(DatasetDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return GoldStatus.ReadAsync(this, _engine, definition, cancellationToken);
    }

    private static string NewRunId() =>
        DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    internal DeltaTable Table(string relative) => DeltaTable.Open(_lake.Scope(relative), _engine, _loggerFactory);

    /// <summary>One run of one dataset.</summary>
    private sealed class Run(GoldJob job, DatasetDefinition definition, IReadOnlyList<GoldOutput> outputs, GoldRunOptions options, string runId)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
        private readonly DeltaTable _silver = job.Table(GoldTables.Silver(definition.Name));
        private readonly string _appId = GoldTables.AppId(definition.Name);

        internal async Task<GoldRunResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            if (!await _silver.ExistsAsync(cancellationToken).ConfigureAwait(false))
                throw new LakehouseException(LakehouseErrorReason.NotFound,
                    $"silver.{definition.Name} does not exist yet: build it first (lakehouse silver run --dataset {definition.Name}).");
            try
            {
                var result = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
                if (options.IsRerun) result = await RebuildAsync(result, cancellationToken).ConfigureAwait(false);
                result = await DeliverAsync(result, cancellationToken).ConfigureAwait(false);
                // A run that consumed silver versions is recorded even when they held no rows (a first run over a silver table whose every
                // event was quarantined creates the gold tables): status would otherwise show silver consumed and no gold run.
                if (!result.NothingNew || result.SilverToVersion > result.SilverFromVersion)
                    await GoldRuns.AppendAsync(job.Table(GoldTables.Runs), result, "committed", null, _started, job._log, cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (Exception e) when (e is LakehouseException or IOException)
            {
                var failed = Result(options.IsRerun ? "rerun" : "incremental", -1, -1, [], 0, 0, null, []);
                await GoldRuns.AppendAsync(job.Table(GoldTables.Runs), failed, "failed", e.Message, _started, job._log, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>Recomputes the dates touched by the silver commits some gold table of the dataset has not consumed.</summary>
        private async Task<GoldRunResult> CatchUpAsync(CancellationToken cancellationToken)
        {
            var silver = await _silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var consumed = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var output in outputs) consumed[output.Table] = await ConsumedAsync(output.Table, cancellationToken).ConfigureAwait(false);
            var oldest = consumed.Values.Min();
            if (oldest > silver.Version)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"gold has consumed silver.{definition.Name} up to version {oldest}, but silver is at version {silver.Version}: silver was restored or recreated. " +
                    $"Rebuild gold from it (delete the dataset's gold tables: {string.Join(", ", outputs.Select(o => o.Table))}, then run again).");
            if (oldest == silver.Version)
            {
                Log.NothingNew(job._log, definition.Name, oldest);
                return Result("incremental", oldest, oldest, [], 0, 0, null, []);
            }
            var (touched, newFiles, appendOnly, rowsNew) = await TouchedAsync(silver, oldest, cancellationToken).ConfigureAwait(false);
            var pending = outputs.Where(o => consumed[o.Table] < silver.Version).ToList();
            var result = await RecomputeAsync(silver, pending, touched, newFiles, appendOnly, txn: true, "incremental", oldest, cancellationToken).ConfigureAwait(false);
            return result with { RowsNew = rowsNew };
        }

        /// <summary>Recomputes the range of a rerun from the silver version gold now records (every table holds the same one).</summary>
        private async Task<GoldRunResult> RebuildAsync(GoldRunResult caughtUp, CancellationToken cancellationToken)
        {
            var version = await ConsumedAsync(outputs[0].Table, cancellationToken).ConfigureAwait(false);
            var silver = await _silver.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
            // The dates of the range that silver or a gold table holds rows on: a rerun of 1970..2030 must not compute 22,000 empty days.
            var held = new HashSet<DateOnly>();
            foreach (var f in silver.Files) GoldTables.AddEventDate(held, f.PartitionValues);
            foreach (var o in outputs)
            {
                var table = job.Table(GoldTables.Gold(o.Table));
                if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) continue;
                foreach (var f in (await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Files) GoldTables.AddEventDate(held, f.PartitionValues);
            }
            var dates = held.Where(d => d >= options.From!.Value && d <= options.To!.Value).ToHashSet();
            var rebuilt = await RecomputeAsync(silver, outputs, dates, new HashSet<string>(), appendOnly: false, txn: false, "rerun", version, cancellationToken).ConfigureAwait(false);
            // The catch-up is part of this run: its dates, rows, tables and new alerts are reported and recorded with the rebuild's.
            // Dropped, a rerun of a range without rows after new silver commits said "up to date" and recorded no run, and any
            // rerun counted none of the alerts its catch-up raised.
            var tables = rebuilt.Tables.Select(t => caughtUp.Tables.FirstOrDefault(c => c.Table == t.Table) is { } c
                ? t with { Dates = c.Dates + t.Dates, Rows = c.Rows + t.Rows, Elapsed = c.Elapsed + t.Elapsed }
                : t).ToList();
            return rebuilt with
            {
                SilverFromVersion = caughtUp.SilverFromVersion,
                Dates = [.. caughtUp.Dates.Union(rebuilt.Dates).Order()],
                RowsIn = caughtUp.RowsIn + rebuilt.RowsIn,
                LateEvents = caughtUp.LateEvents,
                Tables = tables,
                AlertsNew = caughtUp.AlertsNew + rebuilt.AlertsNew,
                RowsNew = caughtUp.RowsNew,
            };
        }

        /// <summary>
        /// Recomputes <paramref name="pending"/> for the dates <paramref name="touched"/> (and those they reach): the outputs over silver
        /// rows one group of <see cref="GoldRunOptions.DaysPerGroup"/> dates at a time (staged with the context each needs, the rows
        /// spooled to local files), then one commit per table of every date, as when they were computed at once. When the silver
        /// commits since gold's last run only appended rows (<paramref name="appendOnly"/>), which arrived after every other row, the
        /// outputs with a <see cref="GoldOutput.Key"/> recompute only the keys the new rows reach (see <see cref="SpoolKeyedAsync"/>).
        /// </summary>
        private async Task<GoldRunResult> RecomputeAsync(DeltaSnapshot silver, IReadOnlyList<GoldOutput> pending, IReadOnlySet<DateOnly> touched,
            IReadOnlySet<string> newFiles, bool appendOnly, bool txn, string kind, long from, CancellationToken cancellationToken)
        {
            using var stage = await GoldStage.OpenAsync(job._engine, _silver, silver, definition.EventTime, options.Windows, newFiles, cancellationToken).ConfigureAwait(false);
            Log.WatermarkFiles(job._log, definition.Name, silver.Files.Count, stage.FilesRead);
            if (stage.NewAhead > 0) Log.AheadOfIngest(job._log, definition.Name, stage.NewAhead, options.Windows.FutureTolerance.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture) + " s");
            // Only days silver holds rows on can have windows (a far-future timestamp must not make every day in between a recompute).
            var held = new HashSet<DateOnly>();
            foreach (var f in silver.Files) GoldTables.AddEventDate(held, f.PartitionValues);
            var flipping = WatermarkDays(stage.PreviousWatermark, stage.Watermark).ToHashSet();
            var moved = flipping.Where(held.Contains).ToList();
            var datesOf = pending.ToDictionary(o => o.Table, o =>
            {
                var dates = o.FollowsWatermark ? touched.Concat(moved).ToHashSet() : touched.ToHashSet();
                // The day after only when silver holds rows on it: a late reading before midnight left a spike in its first minute unfound.
                var ahead = o.ReachesAhead ? dates.Select(d => d.AddDays(1)).Where(held.Contains).ToList() : [];
                // Only the lake's event dates, which a rerun takes: the 5-minute windows that start at 23:56 to 23:59 before the first
                // one (holding events of 1000-01-01's first minutes) made a partition 0999-12-31 that no rerun could rebuild.
                return (o.ReachesBack ? dates.Concat(dates.Select(d => d.AddDays(-1))) : dates).Concat(ahead).Where(IsLakeDate).ToHashSet();
            });
            var recomputed = datesOf.Values.SelectMany(d => d).ToHashSet();
            await stage.CountLateAsync(recomputed, txn && !appendOnly ? await ArrivedAfterAsync(stage, from, cancellationToken).ConfigureAwait(false) : null, cancellationToken)
                .ConfigureAwait(false);
            if (stage.LateEvents > 0) Log.LateEvents(job._log, definition.Name, stage.LateEvents);
            using var spool = new GoldSpool(job._engine);
            var byKey = txn && appendOnly && stage.NewArrivedLast;
            if (txn && !byKey)
                Log.WholeDays(job._log, definition.Name, !appendOnly ? "silver removed or rewrote rows since the last run (a rerun), or a compaction folded new rows into other files" : "new rows arrived before rows gold has seen");
            // Days whose windows the moving watermark may make final (all of them when the watermark before is unknown).
            var flips = stage.PreviousWatermark is null ? null : flipping;
            var rowsIn = await ComputeInGroupsAsync(stage, spool, pending, datesOf, recomputed, byKey, from, flips, cancellationToken).ConfigureAwait(false);
            var tables = new List<GoldTableResult>();
            long alertsNew = 0;
            foreach (var output in pending)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var dates = datesOf[output.Table];
                string sql;
                if (output.Columns.Count == 0)
                {
                    // Reads no silver rows (the page rule reads page_performance_daily as this run committed it): computed here at once.
                    // A recomputed day is in the baseline of the days after it, so they are judged again too.
                    var judged = output.InsertNew ? JudgedDays(dates) : dates;
                    var daily = output.InsertNew ? await DailyAsync(stage, judged, cancellationToken).ConfigureAwait(false) : null;
                    var inputs = new GoldInputs(stage.Events, stage.WatermarkSql, options.Windows.SessionGap, options.Alerts, daily, Unstaged.Rows);
                    sql = $"SELECT * FROM ({output.Select(inputs)}) WHERE {InDates(judged)}";
                }
                else
                {
                    sql = spool.Read(output.Table);
                }
                var table = job.Table(GoldTables.Gold(output.Table));
                var writer = DeltaWriter.Create(table, new DeltaWriteOptions { PartitionColumns = [GoldTables.EventDate], StagedSource = true });
                var transactions = txn ? new[] { new DeltaAppTransaction(_appId, silver.Version) } : null;
                long rows = 0;
                bool byAnother;
                try
                {
                    DeltaCommitResult commit;
                    if (output.InsertNew)
                    {
                        // Alerts are events: once raised, kept as first found (detected_at is this run's start); a rerun adds only new ids.
                        var alerts = $"SELECT *, {GoldStage.Timestamp(_started)} AS detected_at FROM ({sql})";
                        commit = await writer.MergeAsync(alerts, ["alert_id", GoldTables.EventDate], DeltaMergeMode.InsertIfAbsent, transactions, cancellationToken).ConfigureAwait(false);
                        rows = commit.Metric("numTargetRowsInserted");
                        alertsNew += rows;
                    }
                    else
                    {
                        commit = await writer.ReplacePartitionsAsync(sql, Replaced(dates), transactions, cancellationToken).ConfigureAwait(false);
                        rows = commit.Metric("numOutputRows");
                    }
                    // With a marker a commit is skipped only when the table already records this silver version: a run at the same
                    // time committed the same dates first (the same rows: both computed them from one silver version).
                    byAnother = transactions is not null && !commit.Committed;
                }
                catch (LakehouseException e) when (txn && e.Reason == LakehouseErrorReason.Conflict)
                {
                    // The same race, lost during the commit rather than before it (the other run's commit came in between, or
                    // created the table first): when the table now records this silver version, it holds its rows already.
                    if (await ConsumedAsync(output.Table, cancellationToken).ConfigureAwait(false) < silver.Version) throw;
                    byAnother = true;
                }
                if (byAnother) Log.WrittenByAnotherRun(job._log, output.Table, definition.Name, dates.Count, silver.Version);
                else Log.TableRecomputed(job._log, output.Table, definition.Name, dates.Count, silver.Version, rows);
                Log.Step(job._log, definition.Name, output.Table + " commit", clock.ElapsedMilliseconds);
                if (rows > 0 && output.Table.EndsWith(Windows.WindowedMetrics.CorrectionsSuffix, StringComparison.Ordinal)) Log.Corrections(job._log, output.Table, rows);
                tables.Add(new GoldTableResult(output.Table, dates.Count, rows, clock.Elapsed) { WrittenByAnotherRun = byAnother });
            }
            return Result(kind, from, silver.Version, [.. touched.Order()], rowsIn, stage.LateEvents, stage.Watermark, tables) with { AlertsNew = alertsNew };
        }

        /// <summary>
        /// Stages the silver rows of each group of dates in turn and spools the rows of every output that reads them for the group's dates
        /// it recomputes; returns how many rows of the recomputed dates were read. Memory follows a group (its days, plus the margins
        /// the windows and rules reach across midnight), not the number of dates.
        /// </summary>
        private async Task<long> ComputeInGroupsAsync(GoldStage stage, GoldSpool spool, IReadOnlyList<GoldOutput> pending,
            Dictionary<string, HashSet<DateOnly>> datesOf, HashSet<DateOnly> recomputed, bool byKey, long from, IReadOnlySet<DateOnly>? flips, CancellationToken cancellationToken)
        {
            // With none (only the page rule left, after a crash between commits) the rows are still staged a day at a time, to count them.
            var fromRows = pending.Where(o => o.Columns.Count > 0).ToList();
            var columns = fromRows.SelectMany(o => o.Columns).Distinct(StringComparer.Ordinal).ToList();
            if (fromRows.FirstOrDefault(o => o.NextReadingsOf is not null)?.NextReadingsOf is { } key)
                await stage.LoadFirstReadingsAsync(key, recomputed, cancellationToken).ConfigureAwait(false);
            // Context: rules look back up to the spike window into the day before; 5-minute windows reach into the day after.
            var (before, after) = (options.Alerts.SpikeWindow, WindowedMetrics.ReachPastMidnight);
            var ordered = recomputed.Order().ToList();
            List<HashSet<DateOnly>> groups = ordered.Count == 0 ? [[]] : [.. ordered.Chunk(options.DaysPerGroup).Select(g => g.ToHashSet())];
            long rowsIn = 0;
            var perSlice = GoldStage.RowsPerSlice(stage.Connection, options.RowsPerSlice);
            for (var i = 0; i < groups.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var group = groups[i];
                // A group that will be recomputed by key is read once per output at most: staged as a view over the files.
                var fewRead = byKey && fromRows.Any(o => o.Key is not null) && stage.FewNewRows(group);
                var rows = await stage.LoadAsync(columns, group, before, after, options.StageInMemory, fewRead, cancellationToken).ConfigureAwait(false);
                rowsIn += rows;
                // A window aggregate is staged once per group and slice for the windowed table and its corrections table (both
                // sliced alike), and dropped with the group.
                var staging = new GroupStaging(stage, (name, ms) => Log.Step(job._log, definition.Name, "staged " + name, ms), cancellationToken);
                // By key only while the new rows are a small part of the group: otherwise recomputing the days costs no more.
                var keyed = byKey && await CountNewAsync(stage, group, cancellationToken).ConfigureAwait(false) * 2 <= rows;
                if (byKey && !keyed) Log.WholeDays(job._log, definition.Name, "the new rows are more than half of the day");
                foreach (var output in fromRows)
                {
                    var dates = datesOf[output.Table].Where(group.Contains).ToHashSet();
                    var step = Stopwatch.StartNew();
                    // A group without dates of this output (a neighbour day another output reaches) spools nothing, at no cost.
                    var unchanged = new HashSet<DateOnly>();
                    if (keyed && dates.Count > 0 && output.Key is { } outputKey &&
                        await SpoolKeyedAsync(stage, spool, output, outputKey, RowsKey(outputKey, fromRows, datesOf, group), dates, perSlice, staging, flips, unchanged,
                            cancellationToken).ConfigureAwait(false) is var (keys, needed))
                    {
                        datesOf[output.Table].ExceptWith(unchanged);
                        Log.KeyedStep(job._log, definition.Name, output.Table, keys, needed, step.ElapsedMilliseconds);
                        continue;
                    }
                    if (keyed && dates.Count > 0 && output.CountsSessions &&
                        await SessionsAsync(stage, staging, output, dates, from, perSlice, cancellationToken).ConfigureAwait(false) is { } sessions)
                    {
                        SpoolSliced(stage, spool, output, stage.Events, "", dates, rows, perSlice, staging, sessions: sessions);
                        Log.SessionsCountedOn(job._log, definition.Name, output.Table, step.ElapsedMilliseconds);
                        continue;
                    }
                    var events = output.NextReadingsOf is null ? stage.Events : stage.WithNextReadings(group);
                    var n = SpoolSliced(stage, spool, output, events, "", dates, rows, perSlice, staging);
                    Log.Step(job._log, definition.Name, n == 1 ? output.Table : $"{output.Table} ({n} slices)", step.ElapsedMilliseconds);
                }
                staging.DropAll();
                Log.GroupComputed(job._log, definition.Name, i + 1, groups.Count, group.Count == 0 ? "-" : $"{group.Min():yyyy-MM-dd}..{group.Max():yyyy-MM-dd}",
                    rows, clock.ElapsedMilliseconds);
            }
            return rowsIn;
        }

        /// <summary>
        /// Spools <paramref name="output"/>'s rows of <paramref name="dates"/> computed over <paramref name="events"/> (of about
        /// <paramref name="rows"/> rows), in slices of keys when they are more than <paramref name="perSlice"/>; returns the number of
        /// slices. <paramref name="prefix"/> names the aggregates it stages (shared by outputs that read the same events).
        /// </summary>
        private int SpoolSliced(GoldStage stage, GoldSpool spool, GoldOutput output, string events, string prefix, IReadOnlySet<DateOnly> dates, long rows, long perSlice,
            GroupStaging staging, string? only = null, string? sessions = null)
        {
            if (dates.Count == 0)
            {
                // None of this output's dates in the group: an empty part (the table's columns), with nothing staged or computed.
                var none = new GoldInputs(events, stage.WatermarkSql, options.Windows.SessionGap, options.Alerts, null, Unstaged.Columns);
                spool.Write(stage.Connection, output.Table, $"SELECT * FROM ({output.Select(none)}) WHERE false", CancellationToken.None);
                return 1;
            }
            var n = output.SliceKey is null ? 1 : (int)Math.Clamp(rows / perSlice + (rows % perSlice > 0 ? 1 : 0), 1, 1024);
            for (var slice = 0; slice < n; slice++)
            {
                // Rows are per key, so the keys of one hash slice give exactly their own rows.
                var sliced = n == 1 ? events : $"(SELECT * FROM {events} WHERE hash({SqlText.Identifier(output.SliceKey!)}) % {n} = {slice})";
                var part = n == 1 ? "" : string.Create(CultureInfo.InvariantCulture, $"_s{slice}of{n}");
                var inputs = new GoldInputs(sliced, stage.WatermarkSql, options.Windows.SessionGap, options.Alerts, null, staging.Named(prefix, part), only, sessions);
                var sql = $"SELECT * FROM ({output.Select(inputs)}) WHERE {InDates(dates)}";
                spool.Write(stage.Connection, output.Table, only is null ? sql : output.Key!.Recomputed(sql, only), CancellationToken.None);
            }
            return n;
        }

        /// <summary>
        /// The key whose needed rows (and staged parts) an output of <paramref name="key"/> is computed from: a kind's 1-minute windows
        /// read those of its 5-minute windows when the group recomputes those too. The minutes the new rows reach are among them, and
        /// the kind's per-minute parts and value lists are then aggregated and staged once, for both (as when a day is recomputed whole).
        /// </summary>
        private static GoldKey RowsKey(GoldKey key, IEnumerable<GoldOutput> outputs, Dictionary<string, HashSet<DateOnly>> datesOf, IReadOnlySet<DateOnly> group)
        {
            var sliding = key with { Span = GoldKeySpan.Sliding };
            return key.Span == GoldKeySpan.Minute && outputs.Any(o => o.Key == sliding && datesOf[o.Table].Overlaps(group)) ? sliding : key;
        }

        /// <summary>
        /// Spools <paramref name="output"/>'s rows of <paramref name="dates"/> by key: the rows of the keys the new silver rows reach,
        /// computed from the silver rows of those keys only (or of <paramref name="rowsKey"/>'s wider ones, see <see cref="RowsKey"/>),
        /// and the table's other rows of those dates as the last run left them (a window's <c>is_final</c> brought up to the current
        /// watermark). Their values are what a recompute of the whole days gives: a row depends only on its key's rows
        /// (<see cref="GoldKey"/>), and none of those changed, nor the watermark any of them arrived under (the new rows arrived after
        /// them all). A date no new row reaches, and none of whose windows the watermark can have made final (<paramref name="flips"/>),
        /// is added to <paramref name="unchanged"/> instead: its partition needs no rewrite. Returns how many keys it recomputed from how
        /// many silver rows; null, spooling nothing, when the table's columns are not the query's (written by another version): then the
        /// days are recomputed whole.
        /// </summary>
        private async Task<(long Keys, long Rows)?> SpoolKeyedAsync(GoldStage stage, GoldSpool spool, GoldOutput output, GoldKey key, GoldKey rowsKey, IReadOnlySet<DateOnly> dates,
            long perSlice, GroupStaging staging, IReadOnlySet<DateOnly>? flips, HashSet<DateOnly> unchanged, CancellationToken cancellationToken)
        {
            var newEvents = await stage.NewEventsAsync(cancellationToken).ConfigureAwait(false);
            var touched = Touched(staging, key, newEvents);
            var prefix = "k" + rowsKey.Name + "_";
            var rowsTouched = Touched(staging, rowsKey, newEvents);
            // A date no new row reaches, and none of whose windows the watermark can have made final, keeps its partition as it is.
            var reached = new HashSet<DateOnly>();
            using (var r = stage.Connection.Query($"SELECT DISTINCT CAST({key.Date} AS VARCHAR) FROM {touched}", cancellationToken))
            {
                while (r.Read()) reached.Add(DateOnly.ParseExact(r.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture));
            }
            var quiet = dates.Where(d => !reached.Contains(d) && (!output.FollowsWatermark || (flips is not null && !flips.Contains(d)))).ToHashSet();
            if (quiet.Count > 0)
            {
                unchanged.UnionWith(quiet);
                dates = dates.Except(quiet).ToHashSet();
            }
            if (dates.Count == 0)
            {
                SpoolSliced(stage, spool, output, stage.Events, prefix, dates, 0, perSlice, staging);
                return (0, 0);
            }
            var table = job.Table(GoldTables.Gold(output.Table));
            var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var probe = new GoldInputs(stage.Events, stage.WatermarkSql, options.Windows.SessionGap, options.Alerts, null, Unstaged.Columns);
            var columns = GoldSpool.Describe(stage.Connection, output.Select(probe), cancellationToken).Select(c => c.Name).ToList();
            if (!columns.Order(StringComparer.Ordinal).SequenceEqual(snapshot.Schema.Fields.Select(f => f.Name).Order(StringComparer.Ordinal), StringComparer.Ordinal))
                return null;
            var (needed, rows) = Needed(stage, staging, rowsKey, rowsTouched, perSlice, cancellationToken);
            SpoolSliced(stage, spool, output, needed, prefix, dates, rows, perSlice, staging, touched);
            var files = GoldStage.Files(snapshot, dates);
            var keys = Count(stage, touched, cancellationToken);
            if (files.Count == 0) return (keys, rows);
            using var scan = await Delta.Scan.DeltaScan.CreateAsync(table, snapshot, stage.Connection, new Delta.Scan.DeltaScanOptions { Files = files }, cancellationToken).ConfigureAwait(false);
            var refresh = output.FollowsWatermark ? $" REPLACE ({WindowedMetrics.IsFinal("window_end", stage.WatermarkSql)} AS is_final)" : "";
            spool.Write(stage.Connection, output.Table, key.Kept($"SELECT *{refresh} FROM ({scan.Sql}) WHERE {InDates(dates)}", touched), cancellationToken);
            return (keys, rows);
        }

        /// <summary>The keys of <paramref name="key"/> the new rows reach, staged once per group (outputs of the same key share them).</summary>
        private static string Touched(GroupStaging staging, GoldKey key, string newEvents) => staging.Table("k" + key.Name + "_keys", key.Touched(newEvents));

        /// <summary>
        /// The silver rows the keys of <paramref name="key"/> in <paramref name="touched"/> need, and how many: staged whole when the day's
        /// rows fit in memory (a part of them fits as well, and each slice then reads them instead of filtering the day again); otherwise
        /// staged when a slice can hold them (at most one slice more is staged to find out), and more are read from the files for each
        /// slice, as a whole day's are. Found once per group and key.
        /// </summary>
        private static (string Relation, long Rows) Needed(GoldStage stage, GroupStaging staging, GoldKey key, string touched, long perSlice, CancellationToken cancellationToken) =>
            staging.Counted(key.Name, () =>
            {
                var neededSql = key.Needed(stage.Events, touched, Times(stage, key, touched, cancellationToken));
                var needed = staging.Table("k" + key.Name + "_rows", stage.RowsFit ? neededSql : string.Create(CultureInfo.InvariantCulture, $"{neededSql} LIMIT {perSlice + 1}"));
                var rows = Count(stage, needed, cancellationToken);
                if (stage.RowsFit || rows <= perSlice) return (needed, rows);
                needed = $"({neededSql})";
                return (needed, Count(stage, needed, cancellationToken));
            });

        /// <summary>
        /// For an output that <see cref="GoldOutput.CountsSessions"/>, computed by key: the sessions of each page and day of
        /// <paramref name="dates"/> counted on from the table's rows (<see cref="PagePerformanceDaily.SessionsAdded"/>), staged; null
        /// when the table is not there, has no such column, or holds another silver version than <paramref name="from"/>, the one
        /// the new rows are new since (a crash between two tables' commits left it ahead of the others: the rows it has counted
        /// would be counted again), or its counts and the new rows do not fit together. Then the day's sessions are counted again.
        /// </summary>
        private async Task<string?> SessionsAsync(GoldStage stage, GroupStaging staging, GoldOutput output, IReadOnlySet<DateOnly> dates, long from, long perSlice,
            CancellationToken cancellationToken)
        {
            var table = job.Table(GoldTables.Gold(output.Table));
            if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) return null;
            var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            string[] columns = [GoldTables.EventDate, "page_url", "sessions"];
            if (snapshot.TransactionVersion(_appId) != from || !columns.All(c => snapshot.Schema.Fields.Any(f => f.Name == c))) return null;
            var newEvents = await stage.NewEventsAsync(cancellationToken).ConfigureAwait(false);
            var key = GoldOutputs.SessionDay;
            var touched = Touched(staging, key, newEvents);
            var (sessionEvents, _) = Needed(stage, staging, key, touched, perSlice, cancellationToken);
            var files = GoldStage.Files(snapshot, dates);
            using var scan = files.Count == 0 ? null
                : await Delta.Scan.DeltaScan.CreateAsync(table, snapshot, stage.Connection, new Delta.Scan.DeltaScanOptions { Files = files }, cancellationToken).ConfigureAwait(false);
            var previous = scan is null
                ? "(SELECT CAST(NULL AS DATE) AS event_date, CAST(NULL AS VARCHAR) AS page_url, CAST(NULL AS BIGINT) AS sessions WHERE false)"
                : $"(SELECT {string.Join(", ", columns)} FROM ({scan.Sql}) WHERE {InDates(dates)})";
            var sessions = staging.Table("sessions", $"SELECT * FROM ({PagePerformanceDaily.SessionsAdded(previous, newEvents, sessionEvents)}) WHERE {InDates(dates)}");
            return Count(stage, $"(SELECT * FROM {sessions} WHERE unmatched > 0)", cancellationToken) == 0 ? sessions : null;
        }

        /// <summary>How many of the group's rows silver added since gold last consumed it.</summary>
        private static async Task<long> CountNewAsync(GoldStage stage, IReadOnlySet<DateOnly> group, CancellationToken cancellationToken) =>
            group.Count == 0 ? 0 : Count(stage, $"(SELECT * FROM {await stage.NewEventsAsync(cancellationToken).ConfigureAwait(false)} WHERE {InDates(group)})", cancellationToken);

        /// <summary>The event times the spans of the keys in <paramref name="touched"/> cover, as TIMESTAMPTZ literals ([From, To)); null when unbounded.</summary>
        private static (string From, string To)? Times(GoldStage stage, GoldKey key, string touched, CancellationToken cancellationToken)
        {
            if (key.Times(touched) is not { } sql) return null;
            using var r = stage.Connection.Query(sql, cancellationToken);
            if (!r.Read() || r.IsNull(0)) return null;
            return (GoldStage.Timestamp(r.GetInt64(0)), GoldStage.Timestamp(r.GetInt64(1)));
        }

        private static long Count(GoldStage stage, string relation, CancellationToken cancellationToken) =>
            Convert.ToInt64(stage.Connection.Scalar($"SELECT count(*) FROM {relation}", cancellationToken), CultureInfo.InvariantCulture);

        /// <summary>Whether <paramref name="date"/> is one of the event dates the lake takes (<see cref="EventTimes"/>).</summary>
        private static bool IsLakeDate(DateOnly date) => date >= EventTimes.First && date <= EventTimes.Last;

        private static string InDates(IReadOnlySet<DateOnly> dates) => dates.Count == 0 ? "false" : $"{GoldTables.EventDate} IN ({GoldStage.DateList(dates)})";

        /// <summary>
        /// The partitions a recompute of <paramref name="dates"/> replaces: those dates, and with the lake's first date also any
        /// partition before it. Gold before 2026-12-02 wrote the 5-minute windows of the first date's first minutes under the day
        /// before (0999-12-31), a date no rerun can name; recomputing the first date takes such a partition out.
        /// </summary>
        private static string Replaced(IReadOnlySet<DateOnly> dates) =>
            dates.Contains(EventTimes.First) ? $"({InDates(dates)} OR {GoldTables.EventDate} < {GoldStage.DateList([EventTimes.First])})" : InDates(dates);

        /// <summary>
        /// The days whose windows (and trailing silences) a watermark moving from <paramref name="previous"/> to <paramref name="current"/>
        /// can change without new rows in them: windows ending in between become final. None when either is unknown or it did not move.
        /// </summary>
        private static IEnumerable<DateOnly> WatermarkDays(DateTimeOffset? previous, DateTimeOffset? current)
        {
            if (previous is not { } p || current is not { } c || c <= p) yield break;
            // A 5-minute window ending just after p started up to 5 minutes before it.
            for (var d = DateOnly.FromDateTime(p.UtcDateTime.AddMinutes(-5)); d <= DateOnly.FromDateTime(c.UtcDateTime); d = d.AddDays(1)) yield return d;
        }

        /// <summary>
        /// The days the page rule judges after <paramref name="dates"/> changed: those dates and the <see cref="AlertSettings.BaselineDays"/>
        /// after each, whose baseline holds them. Judged on the changed dates alone, a late day that completed a later day's baseline
        /// (or lowered it) never raised that day's alert, which one run over all the rows raised.
        /// </summary>
        private HashSet<DateOnly> JudgedDays(IReadOnlySet<DateOnly> dates) =>
            dates.SelectMany(d => Enumerable.Range(0, options.Alerts.BaselineDays + 1).Select(d.AddDays)).Where(IsLakeDate).ToHashSet();

        /// <summary>
        /// page_performance_daily as this run left it, from <see cref="AlertSettings.BaselineDays"/> days before the first of
        /// <paramref name="dates"/> on: the page rule's input, staged beside the events.
        /// </summary>
        private async Task<string> DailyAsync(GoldStage stage, IReadOnlySet<DateOnly> dates, CancellationToken cancellationToken)
        {
            var table = job.Table(GoldTables.Gold(PagePerformanceDaily.TableName));
            var first = dates.Count == 0 ? DateOnly.MaxValue : dates.Min().AddDays(-options.Alerts.BaselineDays);
            var where = $"{GoldTables.EventDate} >= DATE '{first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'";
            if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false)) return "SELECT CAST(NULL AS DATE) AS event_date, '' AS page_url, 0.0 AS tti_p95_ms WHERE false";
            var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            using var scan = await Delta.Scan.DeltaScan.CreateAsync(table, snapshot, stage.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
            return "SELECT * FROM " + stage.Materialize("daily", $"SELECT * FROM ({scan.Sql}) WHERE {where}", cancellationToken);
        }

        /// <summary>Posts the alerts the webhook has not accepted yet (this run's and earlier ones'); never fails the run.</summary>
        internal async Task<GoldRunResult> DeliverAsync(GoldRunResult result, CancellationToken cancellationToken)
        {
            if (options.Webhook is null || !outputs.Any(o => o.InsertNew)) return result;
            // The alerts are committed; the outbox keeps what is not delivered pending for the next run.
            var (delivered, pending) = await job.DeliverAlertsAsync(options.Webhook, cancellationToken).ConfigureAwait(false);
            return pending is { } p ? result with { AlertsDelivered = delivered, AlertsPending = p } : result;
        }

        /// <summary>
        /// The event dates the silver commits after <paramref name="after"/> added or removed rows in, the files they added that
        /// are still live (the new rows), and whether they only added rows (no row was removed or rewritten, and no compaction folded
        /// an added file into another, so the added files hold every new row), and how many rows they added (from the files' stats).
        /// When those commits are gone from the log, every date silver holds and all of its rows.
        /// </summary>
        private async Task<(HashSet<DateOnly> Dates, HashSet<string> NewFiles, bool AppendOnly, long RowsNew)> TouchedAsync(DeltaSnapshot silver, long after, CancellationToken cancellationToken)
        {
            var dates = new HashSet<DateOnly>();
            var added = new HashSet<string>(StringComparer.Ordinal);
            var live = silver.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            // Every row silver holds: the new rows when the commits since gold's version are not known (parsed only then).
            long All() => silver.Files.Sum(f => Delta.Log.StatsJson.NumRecords(f) ?? 0);
            if (after < 0)
            {
                foreach (var f in silver.Files) GoldTables.AddEventDate(dates, f.PartitionValues);
                return (dates, silver.Files.Select(f => Uri.UnescapeDataString(f.Path)).ToHashSet(StringComparer.Ordinal), false, All());
            }
            IReadOnlyList<DeltaCommitChanges> changes;
            try
            {
                changes = await _silver.GetChangesAsync(after, silver.Version, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                Log.ChangesUnavailable(job._log, definition.Name, after, e.Message);
                foreach (var f in silver.Files) GoldTables.AddEventDate(dates, f.PartitionValues);
                return (dates, added, false, All());
            }
            var foldedAway = false;
            long rowsNew = 0;
            foreach (var c in changes)
            {
                foreach (var a in c.Adds.Where(a => a.DataChange))
                {
                    GoldTables.AddEventDate(dates, a.PartitionValues);
                    rowsNew += Delta.Log.StatsJson.NumRecords(a) ?? 0;
                    if (live.Contains(a.Path)) added.Add(Uri.UnescapeDataString(a.Path));
                    else foldedAway = true;
                }
                foreach (var r in c.Removes.Where(r => r.DataChange))
                {
                    // A remove may omit its partition values; the path of a partitioned file still names them.
                    if (!GoldTables.AddEventDate(dates, r.PartitionValues) && !GoldTables.AddEventDate(dates, PathPartition(r.Path)))
                        throw new LakehouseException(LakehouseErrorReason.CorruptLog,
                            $"silver.{definition.Name} version {c.Version} removes '{r.Path}' without saying which event date it held; gold cannot tell what to recompute (rerun gold with --from/--to).");
                }
            }
            // A compaction removes and adds without a data change: the rows stay as they were. Unless it folded a new file in with
            // others (then some new rows are in a file that is not among the added ones), the added files still hold every new row.
            return (dates, added, !foldedAway && changes.All(c => c.Removes.All(r => !r.DataChange)), rowsNew);
        }

        private static Dictionary<string, string?>? PathPartition(string path)
        {
            var segment = Uri.UnescapeDataString(path).Split('/').FirstOrDefault(s => s.StartsWith(GoldTables.EventDate + "=", StringComparison.Ordinal));
            return segment is null ? null : new() { [GoldTables.EventDate] = segment[(GoldTables.EventDate.Length + 1)..] };
        }

        /// <summary>
        /// The newest ingest time of the rows of silver's version <paramref name="consumed"/>, which gold had consumed: what arrived after
        /// it is new. Null (the new files are taken instead) when there is none, or that version can no longer be read.
        /// </summary>
        private async Task<long?> ArrivedAfterAsync(GoldStage stage, long consumed, CancellationToken cancellationToken)
        {
            if (consumed < 0) return null;
            try
            {
                return await stage.NewestIngestAsync(await _silver.GetSnapshotAsync(consumed, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.NotFound or LakehouseErrorReason.CorruptLog)
            {
                return null;
            }
        }

        /// <summary>The silver version <paramref name="table"/> records for this dataset (-1: none, or no table yet).</summary>
        private async Task<long> ConsumedAsync(string table, CancellationToken cancellationToken)
        {
            var gold = job.Table(GoldTables.Gold(table));
            if (!await gold.ExistsAsync(cancellationToken).ConfigureAwait(false)) return -1;
            var snapshot = await gold.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return snapshot.TransactionVersion(_appId) ?? -1;
        }

        private GoldRunResult Result(string kind, long from, long to, IReadOnlyList<DateOnly> dates, long rowsIn, long late, DateTimeOffset? watermark,
            IReadOnlyList<GoldTableResult> tables) =>
            new(runId, definition.Name, kind, from, to, dates, rowsIn, late, watermark, tables, 0, 0, 0, _clock.Elapsed);
    }
}
