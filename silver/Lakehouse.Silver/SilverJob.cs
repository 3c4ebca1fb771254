using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Lakehouse.Core;
using Lakehouse.Core.Webhooks;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Preprocessing;
using Lakehouse.Silver.Gates;
using Lakehouse.Silver.Replay;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Silver;

/// <summary>
/// Builds <c>silver.&lt;dataset&gt;</c> and <c>silver.&lt;dataset&gt;_quarantine</c> from <c>bronze.&lt;dataset&gt;</c>: parse with the
/// dataset's schema, the shared preprocessing, expectations (warn, drop to quarantine, fail), one row per event id.
/// </summary>
/// <remarks>
/// Exactly-once: every silver and quarantine commit records, as a Delta <c>txn</c> (app id <see cref="AppId"/>), the last bronze
/// version it consumed. An incremental run reads only the bronze commits after the version silver records, quarantine is committed
/// first and silver second, and both insert only what they do not hold yet (quarantine by bronze position, silver by id within the
/// event date), so a crash anywhere leaves both consistent and the next run finishes the work without repeating any of it.
/// A rerun (<see cref="SilverRunOptions.From"/>/<see cref="SilverRunOptions.To"/>) rebuilds those event dates from the bronze version
/// silver has consumed, replacing exactly those partitions of both tables.
/// Every commit that adds rows to silver or quarantine also advances that table's guard (txn app id <see cref="GuardId"/>, a counter)
/// from the value it read when it planned: a rerun that rebuilt dates from what silver held when it started cannot then replace
/// rows an incremental run committed meanwhile (it fails with Conflict instead), nor can an incremental run append rows it
/// deduplicated against partitions a rerun has since replaced.
/// </remarks>
public sealed class SilverJob
{
    /// <summary>The txn app id of silver and quarantine commits: the bronze table they consume.</summary>
    public static string AppId(string dataset) => "lakehouse-silver/bronze." + dataset;

    /// <summary>The txn app id of the counter each silver and quarantine commit advances (see the remarks).</summary>
    internal static string GuardId(string dataset) => "lakehouse-silver/guard." + dataset;

    private readonly ILakeStorage _lake;
    private readonly DuckEngine _engine;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;

    /// <summary>The definitions (name and text) whose columns silver's schema was brought to in this job: a stream's steps check once.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _followed = new(StringComparer.Ordinal);

    private SilverJob(ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        _lake = lake;
        _engine = engine;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger<SilverJob>();
    }

    /// <summary>The silver job of the lake at <paramref name="lake"/>.</summary>
    public static SilverJob Open(ILakeStorage lake, DuckEngine engine, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(engine);
        return new SilverJob(lake, engine, loggerFactory ?? NullLoggerFactory.Instance);
    }

    /// <summary>
    /// Runs silver for <paramref name="definition"/>: incrementally (the bronze versions silver has not consumed), or as a rerun of a
    /// range of event dates. A <c>fail</c> expectation broken by any row stops the run before anything is committed
    /// (<see cref="LakehouseException"/>, InvalidInput, naming the rule, how many rows and an example).
    /// </summary>
    public async Task<SilverRunResult> RunAsync(DatasetDefinition definition, SilverRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        options ??= new SilverRunOptions();
        options.Validate();
        CheckDefinition(definition, _engine);
        CheckRuleNames(definition, options.EnableRules);
        return await new Run(this, definition, options, options.RunId ?? NewRunId()).ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replays the quarantined rows of <paramref name="definition"/> (all that are still quarantined, or those <paramref name="options"/>
    /// selects) through today's parser, preprocessing and expectations: rows that pass go to silver (an event silver already holds is a
    /// duplicate, not a second row), rows that fail stay in quarantine with today's reason, and every row looked at records the outcome.
    /// Exactly once: see <see cref="QuarantineReplay"/>.
    /// </summary>
    public Task<SilverReplayResult> ReplayAsync(DatasetDefinition definition, SilverReplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        options ??= new SilverReplayOptions();
        options.Validate();
        CheckDefinition(definition, _engine);
        CheckRuleNames(definition, options.EnableRules);
        return new QuarantineReplay(this, definition, options, options.RunId ?? NewRunId()).RunAsync(cancellationToken);
    }

    /// <summary>Where silver stands for <paramref name="definition"/>: bronze's version, the version silver consumed, the last run's metrics.</summary>
    public Task<SilverStatus> StatusAsync(DatasetDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return SilverStatus.ReadAsync(this, _engine, definition, cancellationToken);
    }

    /// <summary>
    /// The bronze version silver has consumed (-1: none): the lower of the markers of silver and its quarantine. Every incremental
    /// commit advances both, quarantine first; one behind the other was restored to an earlier version (its marker with it) or the
    /// run died between the two commits, and the chunks after it are done again (each table takes nothing twice).
    /// </summary>
    internal static long Consumed(string dataset, DeltaSnapshot silver, DeltaSnapshot? quarantine)
    {
        var consumed = silver.TransactionVersion(AppId(dataset)) ?? -1;
        return quarantine?.TransactionVersion(AppId(dataset)) is { } q ? Math.Min(consumed, q) : consumed;
    }

    /// <summary>The next value of the guard (see the remarks) of the table at <paramref name="snapshot"/> (null: the table does not exist yet).</summary>
    internal static DeltaAppTransaction NextGuard(string dataset, DeltaSnapshot? snapshot)
    {
        var current = snapshot?.TransactionVersion(GuardId(dataset)) ?? -1;
        return new DeltaAppTransaction(GuardId(dataset), current + 1) { Previous = current, IsGuard = true };
    }

    private static string NewRunId() =>
        DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    internal DeltaTable Table(string relative) => DeltaTable.Open(_lake.Scope(relative), _engine, _loggerFactory);

    internal DuckEngine Engine => _engine;

    internal ILogger Logger => _log;

    /// <summary>The page reference table: the lake's own (<see cref="PageReference.LakeRelativePath"/>) when it has one, else the built-in.</summary>
    internal async Task<PageReference> PagesAsync(CancellationToken cancellationToken)
    {
        if (await _lake.GetInfoAsync(PageReference.LakeRelativePath, cancellationToken).ConfigureAwait(false) is null) return PageReference.Default;
        var bytes = await _lake.ReadAsync(PageReference.LakeRelativePath, cancellationToken).ConfigureAwait(false);
        return PageReference.Parse(bytes, _lake.Location.TrimEnd('/') + "/" + PageReference.LakeRelativePath);
    }

    /// <summary>The names of silver's staging columns (bronze's and the parse's), and DuckDB's row id, which no dataset column may take.</summary>
    private static readonly string[] Staging =
        ["payload", "txt", "source_kind", "source", "source_partition", "source_offset", "source_line", "ingest_date", "parse_rule", "parse_violations", "exp_violations", "rowid"];

    /// <summary>
    /// Refuses a definition silver cannot build a table from as it says (<see cref="LakehouseException"/>, InvalidInput, naming the
    /// field): a column named like one silver adds itself (the event date and hour, the ingest time, the bronze position, or what
    /// preprocessing derives), whose values silver would replace or misuse; an expectation named like a rule silver applies itself,
    /// whose counts would merge with that rule's; a <c>matches</c> pattern DuckDB's regular expressions (RE2) cannot run.
    /// </summary>
    public static void CheckDefinition(DatasetDefinition definition, DuckEngine engine)
    {
        // The columns of bronze and of silver's staging a dataset column would collide with (a column 'source' took bronze's file
        // path; one named 'rowid' stood in for DuckDB's row id in the dedupe and lost events; 'payload' or 'txt' broke the parse).
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(engine);
        string[] system = [SilverColumns.EventDate, SilverColumns.EventHour, SilverColumns.IngestTime, SilverColumns.BronzePosition];
        var added = Preprocessor.AddedColumns(definition).Select(c => c.Name).ToList();
        for (var i = 0; i < definition.Columns.Count; i++)
        {
            var name = definition.Columns[i].Name;
            if (system.Contains(name, StringComparer.OrdinalIgnoreCase) || added.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name}, field 'columns[{i}].name': silver adds a column '{name}' of its own " +
                    $"({string.Join(", ", system)}{(added.Count > 0 ? ", and from this dataset's preprocessing " + string.Join(", ", added) : "")}); " +
                    $"give the column another name (\"path\" can still read the event's field '{name}').");
            if (Staging.Contains(name, StringComparer.OrdinalIgnoreCase) || name.StartsWith("__", StringComparison.Ordinal))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name}, field 'columns[{i}].name': silver uses the name '{name}' itself while it parses and checks events " +
                    $"(its staging columns {string.Join(", ", Staging.SkipLast(1))}; DuckDB's rowid; names starting with '__'); " +
                    $"give the column another name (\"path\" can still read the event's field '{name}').");
        }
        var rules = SilverRules.All.ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < definition.Expectations.Count; i++)
        {
            var e = definition.Expectations[i];
            if (rules.Contains(e.Name))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name}, field 'expectations[{i}].name': '{e.Name}' is the name of a rule silver applies itself ({string.Join(", ", rules.Order(StringComparer.Ordinal))}); give the expectation another name.");
            if (e.Check != ExpectationCheck.Matches) continue;
            try
            {
                using var lease = engine.Lease();
                lease.Connection.Execute($"SELECT regexp_matches('', {SqlText.Literal(e.Pattern!)})");
            }
            catch (LakehouseException x) when (x.Reason == LakehouseErrorReason.Engine)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name}, field 'expectations[{i}].pattern': DuckDB's regular expressions (RE2) cannot run '{e.Pattern}': {x.Message}", x);
            }
        }
    }

    internal static void CheckRuleNames(DatasetDefinition definition, IEnumerable<string> enableRules)
    {
        var unknown = enableRules.Where(r => definition.Expectations.All(e => e.Name != r)).ToList();
        if (unknown.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset {definition.Name} has no expectation named {string.Join(", ", unknown.Select(u => "'" + u + "'"))} (its expectations: {string.Join(", ", definition.Expectations.Select(e => e.Name))}).");
    }

    /// <summary>One run of one dataset.</summary>
    private sealed class Run
    {
        private readonly SilverJob _job;
        private readonly DatasetDefinition _def;
        private readonly SilverRunOptions _options;
        private readonly string _runId;
        private readonly DeltaTable _bronze;
        private readonly DeltaTable _silver;
        private readonly DeltaTable _quarantine;
        private readonly SilverPlan _plan;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

        internal Run(SilverJob job, DatasetDefinition definition, SilverRunOptions options, string runId)
        {
            _job = job;
            _def = definition;
            _options = options;
            _runId = runId;
            _bronze = job.Table(SilverTables.Bronze(definition.Name));
            _silver = job.Table(SilverTables.Silver(definition.Name));
            _quarantine = job.Table(SilverTables.Quarantine(definition.Name));
            _plan = new SilverPlan(definition, options.EnableRules);
        }

        private PageReference? _pages;

        private bool _quarantineColumnsChecked;

        /// <summary>Silver's marker when the incremental run started (-1: none): chunks up to it silver already holds, and only quarantine (behind it) takes rows.</summary>
        private long _silverMarker = -1;

        /// <summary>The rule history the rule_jump gate compares with, read once per run (this run's own batches are not in it).</summary>
        private IReadOnlyDictionary<string, RuleHistory>? _history;

        private ILogger Log => _job._log;

        /// <summary>What the run has committed so far (null: it has not started reading bronze).</summary>
        private Totals? _totals;

        /// <summary>True once the run wrote its row to silver._quality.</summary>
        private bool _recorded;

        /// <summary>
        /// Runs it. A run that fails is recorded in silver._quality as failed, with the error and what it committed before it, so status
        /// shows that the last attempt failed and why; only a run that found no bronze table is not (there is nothing to run).
        /// </summary>
        internal async Task<SilverRunResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            if (!await _bronze.ExistsAsync(cancellationToken).ConfigureAwait(false))
                throw new LakehouseException(LakehouseErrorReason.NotFound,
                    $"bronze.{_def.Name} does not exist yet: land events first (lakehouse bronze ingest --dataset {_def.Name} --from …).");
            try
            {
                return _options.IsRerun ? await RerunAsync(cancellationToken).ConfigureAwait(false) : await IncrementalAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LakehouseException or IOException && !_recorded)
            {
                await RecordAsync(Result(_options.IsRerun ? "rerun" : "incremental", _totals ?? new Totals(-1)), "failed", e.Message, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
        }

        private async Task<SilverRunResult> IncrementalAsync(CancellationToken cancellationToken)
        {
            await FollowDefinitionAsync(cancellationToken).ConfigureAwait(false);
            var bronze = await BronzeSnapshotAsync(null, cancellationToken).ConfigureAwait(false);
            var markers = await MarkersAsync(cancellationToken).ConfigureAwait(false);
            var consumed = markers.Consumed;
            _silverMarker = markers.Silver;
            if (consumed > bronze.Version)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"silver.{_def.Name} has consumed bronze.{_def.Name} up to version {consumed}, but bronze is at version {bronze.Version}: bronze was restored or recreated. " +
                    $"Rebuild silver from it (delete silver.{_def.Name} and silver.{_def.Name}_quarantine, then run again).");
            var totals = _totals = new Totals(consumed);
            if (consumed == bronze.Version)
            {
                global::Lakehouse.Silver.Log.NothingNew(Log, _def.Name, consumed);
                return Result("incremental", totals);
            }
            IReadOnlyList<DeltaCommitChanges> changes;
            try
            {
                changes = await _bronze.GetChangesAsync(consumed, bronze.Version, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"silver.{_def.Name} has consumed bronze.{_def.Name} up to version {consumed}, but bronze's log no longer holds the commits after it " +
                    $"(log files older than bronze's delta.logRetentionDuration, 30 days by default, are deleted): {e.Message} " +
                    $"Rebuild silver from bronze's current files (delete silver.{_def.Name} and silver.{_def.Name}_quarantine, then run again).", e);
            }
            (long From, long To)? quarantineOnly = null;
            foreach (var chunk in Chunks(changes))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var from = totals.To + 1;
                Outcome outcome;
                try
                {
                    outcome = await ProcessAsync(bronze, chunk.Files, chunk.ToVersion, null, cancellationToken).ConfigureAwait(false);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
                {
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"silver.{_def.Name} still has to read bronze.{_def.Name}'s versions {totals.To + 1}–{chunk.ToVersion}, but a file they added is gone: {e.Message} " +
                        $"Their rows are in bronze's current files: rebuild silver from them (delete silver.{_def.Name} and silver.{_def.Name}_quarantine, then run again), " +
                        "and vacuum bronze with a retention that outlasts the time silver takes to follow it.", e);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
                {
                    // The writer's own words ("application transaction", "re-plan the batch") name Delta's bookkeeping, not what happened.
                    throw new LakehouseException(LakehouseErrorReason.Conflict,
                        $"silver.{_def.Name}: another writer changed silver.{_def.Name} or its quarantine (another silver run or replay, a restore) while this run " +
                        $"prepared bronze.{_def.Name}'s versions {from}–{chunk.ToVersion}; they were not committed" +
                        (totals.To > consumed ? $" (versions {consumed + 1}–{totals.To} were)" : "") +
                        $", and nothing is lost. Run it again: lakehouse silver run --dataset {_def.Name}. (The commit's conflict: {e.Message})", e);
                }
                global::Lakehouse.Silver.Log.Chunk(Log, _def.Name, totals.To + 1, chunk.ToVersion, chunk.Files.Count, outcome.Inserted, outcome.Quarantined, outcome.Duplicates);
                totals.Add(outcome, chunk.ToVersion);
                if (from <= markers.Silver && !outcome.TakenByAnotherRun) quarantineOnly = (quarantineOnly?.From ?? from, Math.Min(chunk.ToVersion, markers.Silver));
            }
            var result = Result("incremental", totals) with
            {
                // Rows in, none of them new to silver, duplicates: right, but puzzling without the reason.
                Message = quarantineOnly is { } again
                    ? $"silver.{_def.Name}_quarantine was behind silver.{_def.Name} (restored to an earlier version?): bronze versions {again.From}–{again.To}, " +
                      "which silver already held, were read again for it; the rows it lacked are counted as quarantined, and their clean rows, already in silver, as duplicates removed."
                    : null,
            };
            await RecordAsync(result, "committed", result.Message, cancellationToken).ConfigureAwait(false);
            return result;
        }

        /// <summary>
        /// Brings silver's schema to the definition before anything is read or committed: a column the definition gained is added to
        /// silver (nullable; the rows already there read it as null until a rerun of their dates fills it from bronze); a column whose
        /// type changed is refused, naming it and the ways out. It used to fail at silver's commit, after the quarantine commit had
        /// landed, with the writer's advice to edit a query the user never wrote.
        /// </summary>
        private async Task FollowDefinitionAsync(CancellationToken cancellationToken)
        {
            var key = _def.Name + "\n" + _def.Json;
            if (_job._followed.ContainsKey(key) || !await _silver.ExistsAsync(cancellationToken).ConfigureAwait(false)) return;
            var schema = (await _silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Schema;
            var added = new List<Delta.Schema.StructField>();
            foreach (var column in _plan.Columns)
            {
                var wanted = Delta.Schema.DeltaType.FromDuckDb(column.DuckType);
                if (schema.Find(column.Name) is not { } field)
                {
                    added.Add(new Delta.Schema.StructField(column.Name, wanted, Nullable: true));
                    continue;
                }
                if (!string.Equals(field.Type.ToDuckDb(), wanted.ToDuckDb(), StringComparison.Ordinal))
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"silver.{_def.Name} holds column '{column.Name}' as {field.Type.ToDuckDb()}, but dataset {_def.Name}'s definition now makes it {wanted.ToDuckDb()}: " +
                        $"silver cannot change a column's type in place, and nothing was run. Give the retyped column a new name (the old one stays, null from then on), " +
                        $"or put its type back; to rebuild silver with the new type, delete silver.{_def.Name} and silver.{_def.Name}_quarantine and run again (bronze keeps every event).");
            }
            if (added.Count > 0)
            {
                await DeltaWriter.Create(_silver).AddColumnsAsync(added, cancellationToken).ConfigureAwait(false);
                var names = string.Join(", ", added.Select(a => a.Name));
                global::Lakehouse.Silver.Log.ColumnsAdded(Log, _def.Name, names);
            }
            _job._followed[key] = true;
        }

        private async Task<SilverRunResult> RerunAsync(CancellationToken cancellationToken)
        {
            await FollowDefinitionAsync(cancellationToken).ConfigureAwait(false);
            var markers = await MarkersAsync(cancellationToken).ConfigureAwait(false);
            // A rerun replaces the range's partitions of both tables with what bronze held at one version: with the two at different
            // versions, the one ahead would lose rows of the versions between that the next incremental run takes as done.
            if (markers.Quarantine is { } q && q != markers.Silver)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"silver.{_def.Name} has consumed bronze.{_def.Name} up to version {markers.Silver} and silver.{_def.Name}_quarantine up to version {q} " +
                    $"(a run stopped between its two commits, or one of them was restored): run silver incrementally first (lakehouse silver run --dataset {_def.Name}), then the rerun.");
            var consumed = markers.Consumed;
            if (consumed < 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"silver.{_def.Name} has not consumed any of bronze.{_def.Name} yet: run it incrementally first (lakehouse silver run --dataset {_def.Name}); a rerun rebuilds dates from what silver has consumed.");
            // The guards as they are now, with what silver has consumed: the rebuild replaces partitions only if no other run committed since.
            var guards = (Silver: Guard(await _silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)),
                Quarantine: Guard(await _quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false) ? await _quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null));
            var bronze = await BronzeSnapshotAsync(consumed, cancellationToken).ConfigureAwait(false);
            var totals = _totals = new Totals(consumed);
            Outcome outcome;
            try
            {
                outcome = await ProcessAsync(bronze, bronze.Files, consumed, (_options.From!.Value, _options.To!.Value, guards), cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.Conflict)
            {
                throw new LakehouseException(LakehouseErrorReason.Conflict,
                    $"silver.{_def.Name}: another silver run committed while this rerun of {_options.From:yyyy-MM-dd}..{_options.To:yyyy-MM-dd} was built from bronze version {consumed}; " +
                    "its partitions were not replaced, so nothing that run committed is lost. Run the rerun again.", e);
            }
            totals.Add(outcome, consumed);
            var result = Result("rerun", totals);
            await RecordAsync(result, "committed", null, cancellationToken).ConfigureAwait(false);
            return result;
        }

        private async Task<DeltaSnapshot> BronzeSnapshotAsync(long? version, CancellationToken cancellationToken)
        {
            var snapshot = await _bronze.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
            // A table of other rows under bronze's name (table import --to bronze.x, as for any table) failed in the engine's binder.
            var fields = snapshot.Schema.Fields.DistinctBy(f => f.Name).ToDictionary(f => f.Name, f => f.Type, StringComparer.Ordinal);
            var missing = SilverStage.BronzeColumns.Where(c => !fields.ContainsKey(c)).ToList();
            if (missing.Count > 0 || fields[SilverStage.BronzeColumns[0]] != Delta.Schema.PrimitiveType.Binary)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"bronze.{_def.Name} is not a bronze table: " + (missing.Count > 0 ? $"it has no column {string.Join(", ", missing)}" : "its payload column is not binary") +
                    $" (its columns: {string.Join(", ", snapshot.Schema.Fields.Select(f => f.Name).Take(12))}). Bronze holds raw events as landed by lakehouse bronze ingest, " +
                    $"stream or serve, which silver parses; rows imported with 'table import --to bronze.{_def.Name}' are a table of their own. Move that table away and land the events " +
                    $"(lakehouse bronze ingest --dataset {_def.Name} --from <folder>).");
            return snapshot;
        }

        private DeltaAppTransaction Guard(DeltaSnapshot? snapshot) => NextGuard(_def.Name, snapshot);

        /// <summary>The markers of silver (-1: none) and of its quarantine (null: none), and what they say silver has consumed.</summary>
        private async Task<(long Silver, long? Quarantine, long Consumed)> MarkersAsync(CancellationToken cancellationToken)
        {
            if (!await _silver.ExistsAsync(cancellationToken).ConfigureAwait(false)) return (-1, null, -1);
            var silver = await _silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var quarantine = await _quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false)
                ? await _quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null;
            return (silver.TransactionVersion(AppId(_def.Name)) ?? -1, quarantine?.TransactionVersion(AppId(_def.Name)), Consumed(_def.Name, silver, quarantine));
        }

        /// <summary>Consecutive bronze commits grouped to about MaxRowsPerCommit rows; commits that only rearrange files are skipped.</summary>
        private IEnumerable<(IReadOnlyList<AddAction> Files, long ToVersion)> Chunks(IReadOnlyList<DeltaCommitChanges> changes)
        {
            var files = new List<AddAction>();
            long rows = 0;
            foreach (var c in changes)
            {
                var removed = c.Removes.Count(r => r.DataChange);
                if (removed > 0) global::Lakehouse.Silver.Log.BronzeRemoved(Log, _def.Name, c.Version, c.Operation ?? "unknown", removed);
                foreach (var add in c.Adds.Where(a => a.DataChange))
                {
                    files.Add(add);
                    rows += StatsJson.NumRecords(add) ?? _options.MaxRowsPerCommit;
                }
                if (rows >= _options.MaxRowsPerCommit || c == changes[^1])
                {
                    yield return (files, c.Version);
                    files = [];
                    rows = 0;
                }
            }
        }

        /// <summary>Parses, checks and commits the rows of <paramref name="files"/>; for a rerun only those of the date range.</summary>
        private async Task<Outcome> ProcessAsync(DeltaSnapshot bronze, IReadOnlyList<AddAction> files, long toVersion,
            (DateOnly From, DateOnly To, (DeltaAppTransaction Silver, DeltaAppTransaction Quarantine) Guards)? range, CancellationToken cancellationToken)
        {
            var step = Stopwatch.StartNew();
            var cpu = Environment.CpuUsage.TotalTime;
            void Done(string name)
            {
                var now = Environment.CpuUsage.TotalTime;
                global::Lakehouse.Silver.Log.Step(Log, _def.Name, name, step.ElapsedMilliseconds, (long)(now - cpu).TotalMilliseconds);
                step.Restart();
                cpu = now;
            }
            _pages ??= await _job.PagesAsync(cancellationToken).ConfigureAwait(false);
            using var stage = new SilverStage(_job._engine, _def, _plan, _runId, _pages);
            await stage.LoadAsync(_bronze, bronze, files, Done, cancellationToken).ConfigureAwait(false);
            Done("diagnose");
            if (range is { } dates)
            {
                await stage.KeepRangeAsync(_silver, _quarantine, (dates.From, dates.To), cancellationToken).ConfigureAwait(false);
                Done("range");
            }
            var counts = stage.Count(cancellationToken);
            Done("count");
            var failed = counts.Rules.Where(r => r.Action == "fail" && r.Failed > 0).ToList();
            if (failed.Count > 0)
            {
                var (message, position) = stage.FirstFailure(failed[0].Rule, cancellationToken);
                // The example is the event's data: a line break in it would start a forged line in the log and the terminal.
                message = SilverStage.Printable(message);
                var partial = Result(range is null ? "incremental" : "rerun", new Totals(-1), counts);
                await RecordAsync(partial, "failed", null, cancellationToken).ConfigureAwait(false);
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"silver.{_def.Name}: expectation '{failed[0].Rule}' (fail) is broken by {failed[0].Failed:N0} row(s), e.g. {message} (bronze {position}); nothing was committed.");
            }
            if (_def.QualityGates is { } gates)
            {
                _history ??= gates.RuleJump is { } jump
                    ? await QualityGate.HistoryAsync(_job.Table(SilverTables.Quality), _job._engine, _def.Name, jump.HistoryRuns, cancellationToken).ConfigureAwait(false)
                    : new Dictionary<string, RuleHistory>();
                if (QualityGate.Check(_def, gates, counts, _history) is { } refusal)
                {
                    global::Lakehouse.Silver.Log.GateRefused(Log, _def.Name, _runId, refusal.Gate, refusal.Message);
                    var partial = Result(range is null ? "incremental" : "rerun", new Totals(-1), counts);
                    await RecordAsync(partial, "refused", refusal.Message, cancellationToken).ConfigureAwait(false);
                    await NotifyAsync(refusal, cancellationToken).ConfigureAwait(false);
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput, refusal.Message);
                }
            }
            var txn = new DeltaAppTransaction(AppId(_def.Name), toVersion);
            var partitions = new DeltaWriteOptions { PartitionColumns = [SilverColumns.EventDate] };
            var where = range is { } r ? $"{SilverColumns.EventDate} BETWEEN DATE '{r.From:yyyy-MM-dd}' AND DATE '{r.To:yyyy-MM-dd}'" : null;

            if (_options.BeforeCommits is { } beforeCommits) await beforeCommits().ConfigureAwait(false);
            if (!_quarantineColumnsChecked && await _quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                // A quarantine table written before replays existed gets their (null) columns once, in a commit of its own.
                await DeltaWriter.Create(_quarantine).AddColumnsAsync(QuarantineColumns.Fields, cancellationToken).ConfigureAwait(false);
            }
            _quarantineColumnsChecked = true;

            // Quarantine first: if the run dies between the two commits, silver's txn still says "not consumed", the next run does the
            // chunk again, and quarantine (keyed by bronze position) takes nothing twice.
            var quarantineWriter = DeltaWriter.Create(_quarantine, partitions);
            DeltaCommitResult? quarantined = null;
            if (range is { } rerun)
            {
                await quarantineWriter.ReplacePartitionsAsync(stage.QuarantineSql, where, [rerun.Guards.Quarantine], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var quarantineSnapshot = await _quarantine.ExistsAsync(cancellationToken).ConfigureAwait(false)
                    ? await _quarantine.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null;
                quarantined = await quarantineWriter.MergeAsync(stage.QuarantineSql, [SilverColumns.BronzePosition, SilverColumns.EventDate], DeltaMergeMode.InsertIfAbsent,
                    [txn, Guard(quarantineSnapshot)], cancellationToken).ConfigureAwait(false);
            }
            Done("quarantine commit");

            // An incremental run appends a staged table (read twice when it falls into one date: half the cost of a partitioned write); a
            // rerun's source deduplicates as it is read, which a second read would repeat.
            var silverWriter = DeltaWriter.Create(_silver, new DeltaWriteOptions { PartitionColumns = partitions.PartitionColumns, StagedSource = where is null });
            long inserted;
            if (where is null)
            {
                // Insert-if-absent on (id, event date): only the silver files of the dates this chunk touches are read. A plain append
                // of the new rows is safe against a concurrent run because both commit the same txn app id, which Delta's conflict
                // check refuses to let two commits advance at once.
                var silverSnapshot = await _silver.ExistsAsync(cancellationToken).ConfigureAwait(false)
                    ? await _silver.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null;
                if (silverSnapshot?.TransactionVersion(AppId(_def.Name)) >= toVersion)
                {
                    if (toVersion <= _silverMarker && quarantined is { Committed: true })
                    {
                        // Silver held this chunk before the run started: its quarantine, behind it, took back what it lacked, which is this
                        // run's work; the clean rows are all in silver already.
                        var restored = quarantined.Metric("numTargetRowsInserted");
                        global::Lakehouse.Silver.Log.ChunkAlreadyInSilver(Log, _def.Name, toVersion, restored);
                        return counts with { Quarantined = restored, Duplicates = counts.Clean };
                    }
                    // Another run committed this chunk while this one prepared it: nothing of it is this run's work.
                    global::Lakehouse.Silver.Log.ChunkTakenByAnotherRun(Log, _def.Name, toVersion);
                    return Outcome.Taken;
                }
                var fresh = await stage.NewRowsAsync(_silver, silverSnapshot, cancellationToken).ConfigureAwait(false);
                Done("dedupe");
                if (_options.BeforeSilverAppend is { } beforeAppend) await beforeAppend().ConfigureAwait(false);
                var appended = await silverWriter.AppendAsync(fresh, [txn, Guard(silverSnapshot)], cancellationToken).ConfigureAwait(false);
                if (!appended.Committed)
                {
                    global::Lakehouse.Silver.Log.ChunkTakenByAnotherRun(Log, _def.Name, toVersion);
                    return Outcome.Taken;
                }
                inserted = appended.Metric("numOutputRows");
            }
            else
            {
                var replaced = await silverWriter.ReplacePartitionsAsync(stage.CleanSql, where, [range!.Value.Guards.Silver], cancellationToken).ConfigureAwait(false);
                inserted = replaced.Metric("numOutputRows");
            }
            Done("silver commit");
            // Quarantined: what the merge inserted, so a quarantined line that an earlier run holds already (a grown file ingested again
            // repeats its first lines at their positions) is a duplicate. When the merge found this chunk committed already (the run
            // before died between the two commits), its count is unknown here: what Count found stands.
            var quarantinedRows = quarantined is { Committed: true } q ? q.Metric("numTargetRowsInserted") : counts.Quarantined;
            // Duplicates: the clean rows silver did not insert and the repeated copies of quarantined rows.
            return counts with { Inserted = inserted, Quarantined = quarantinedRows, Duplicates = counts.RowsIn - quarantinedRows - inserted };
        }

        private SilverRunResult Result(string mode, Totals totals, Outcome? only = null)
        {
            var o = only ?? totals.Sum;
            return new SilverRunResult
            {
                Dataset = _def.Name,
                RunId = _runId,
                Mode = mode,
                BronzeFromVersion = totals.From,
                BronzeToVersion = totals.To,
                From = _options.From,
                To = _options.To,
                RowsIn = o.RowsIn,
                RowsOut = o.Inserted,
                Quarantined = o.Quarantined,
                Duplicates = o.Duplicates,
                Warned = o.Warned,
                Commits = totals.Commits,
                Rules = o.Rules,
                Elapsed = _clock.Elapsed,
            };
        }

        /// <summary>Tells the webhook (when one is configured) that a gate refused a batch; a webhook that fails is logged, never thrown.</summary>
        private async Task NotifyAsync(GateRefusal refusal, CancellationToken cancellationToken)
        {
            if (_options.Webhook is not { } options) return;
            using var webhook = new WebhookClient(options, _job._loggerFactory.CreateLogger<WebhookClient>(), "Quality gate", "notification", "lakehouse-silver");
            var outcome = (await webhook.PostAsync([QualityGate.Notification(_def.Name, _runId, refusal, DateTimeOffset.UtcNow)], cancellationToken).ConfigureAwait(false))[0];
            if (!outcome.Delivered) global::Lakehouse.Silver.Log.GateNotDelivered(Log, _def.Name, _runId, outcome.Reason ?? "");
        }

        private async Task RecordAsync(SilverRunResult result, string status, string? message, CancellationToken cancellationToken)
        {
            _recorded = true;
            try
            {
                await QualityTable.AppendAsync(_job.Table(SilverTables.Quality), result, status, _started, message, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e)
            {
                global::Lakehouse.Silver.Log.MetricsNotRecorded(Log, _def.Name, _runId, e.Message);
            }
        }
    }

    /// <summary>What one chunk did.</summary>
    internal sealed record Outcome(long RowsIn, long Clean, long Quarantined, long Warned, IReadOnlyList<RuleCount> Rules)
    {
        internal long Inserted { get; init; }

        internal long Duplicates { get; init; }

        /// <summary>True for a chunk another run committed while this one prepared it (it counts as nothing).</summary>
        internal bool TakenByAnotherRun { get; init; }

        internal static Outcome Empty { get; } = new(0, 0, 0, 0, []);

        internal static Outcome Taken { get; } = new(0, 0, 0, 0, []) { TakenByAnotherRun = true };

        internal Outcome Plus(Outcome o) => new(RowsIn + o.RowsIn, Clean + o.Clean, Quarantined + o.Quarantined, Warned + o.Warned, MergeRules(Rules, o.Rules))
        {
            Inserted = Inserted + o.Inserted,
            Duplicates = Duplicates + o.Duplicates,
        };

        private static List<RuleCount> MergeRules(IReadOnlyList<RuleCount> a, IReadOnlyList<RuleCount> b)
        {
            if (a.Count == 0) return [.. b];
            return [.. a.Select(x => b.FirstOrDefault(y => y.Rule == x.Rule) is { } y ? x with { Checked = x.Checked + y.Checked, Failed = x.Failed + y.Failed } : x)];
        }
    }

    private sealed class Totals(long from)
    {
        internal long From { get; } = from;

        internal long To { get; private set; } = from;

        internal int Commits { get; private set; }

        internal Outcome Sum { get; private set; } = Outcome.Empty;

        internal void Add(Outcome outcome, long to)
        {
            Sum = Sum.Plus(outcome);
            To = to;
            Commits++;
        }
    }
}
