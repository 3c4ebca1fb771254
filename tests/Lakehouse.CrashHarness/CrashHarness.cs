using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Delta;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.CrashHarness;

/// <summary>Where in a commit a kill lands.</summary>
public enum CrashPhase
{
    /// <summary>The snapshot is read, no data file written yet (LAKEHOUSE_FAULT_POINT=before-data-files).</summary>
    BeforeDataFiles,

    /// <summary>Every data file of the commit written, the commit file not yet (after-data-files).</summary>
    AfterDataFiles,

    /// <summary>Committed, the checkpoint not yet written (after-commit).</summary>
    AfterCommit,

    /// <summary>The checkpoint file in place, _last_checkpoint not yet updated (mid-checkpoint).</summary>
    MidCheckpoint,

    /// <summary>SIGKILL from the harness after a random delay: wherever the process happens to be.</summary>
    RandomTime,
}

/// <summary>What the harness runs: which layers, how many kills each, the seed, and the load per round.</summary>
public sealed class CrashHarnessOptions
{
    /// <summary>The layers to kill: bronze, silver, gold (in that order; the ones before a layer run cleanly to feed it).</summary>
    public IReadOnlyList<string> Layers { get; init; } = ["bronze", "silver", "gold"];

    /// <summary>Kills per layer (SIGKILLs that landed, not attempts). Default 50.</summary>
    public int KillsPerLayer { get; init; } = 50;

    /// <summary>The seed of every random choice (phases' hit counts, random delays, the simulator's events).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Events the simulator lands per round (5 % re-sent, 2 % malformed, 2 % late), all of one day. Default 1,000.</summary>
    public int EventsPerRound { get; init; } = 1000;

    /// <summary>Events per landed file; bronze commits a file at a time (--max-batch-events). Default 100 (10 commits a round).</summary>
    public int EventsPerFile { get; init; } = 100;

    /// <summary>The working folder (landing and lake); a new temp folder when null, deleted at the end unless <see cref="Keep"/>.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Keep the working folder afterwards.</summary>
    public bool Keep { get; init; }

    /// <summary>Where progress lines go (null: nowhere).</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>Kills of one layer: how many landed in each phase, and the attempts the process finished before its fault point.</summary>
/// <param name="Layer">bronze, silver or gold.</param>
/// <param name="Kills">Kills that landed, per phase.</param>
/// <param name="Finished">Runs that ended (exit 0) before the armed point or the random delay: they did their work and are not kills.</param>
public sealed record LayerKills(string Layer, IReadOnlyDictionary<CrashPhase, int> Kills, int Finished)
{
    /// <summary>Every kill that landed.</summary>
    public int Total => Kills.Values.Sum();
}

/// <summary>What the harness found: the kills, the counts, and every problem (an empty list means every table reconciled).</summary>
public sealed record CrashReport(
    IReadOnlyList<LayerKills> Layers,
    long Produced,
    long ProducedMalformed,
    long ProducedDuplicates,
    Reconciliation? Counts,
    IReadOnlyList<string> Problems,
    TimeSpan Elapsed)
{
    /// <summary>True when nothing was lost, duplicated or wrong, and every table read after every kill.</summary>
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Runs ingest (landed files → bronze), silver and gold as child <c>lakehouse</c> processes under load, kills them with SIGKILL at
/// each commit phase (through the fault point of the Delta write path, LAKEHOUSE_FAULT_POINT) and at random moments, restarts them,
/// checks after every kill that every table still reads, and at the end reconciles: produced = bronze, bronze = silver + quarantine +
/// duplicates, and gold = an independent recomputation over the silver files.
/// </summary>
public static class CrashHarness
{
    private const string Dataset = "weblogs";

    /// <summary>Runs the harness; the report's <see cref="CrashReport.Ok"/> says whether every table reconciled.</summary>
    public static async Task<CrashReport> RunAsync(CrashHarnessOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.KillsPerLayer);
        foreach (var l in options.Layers)
            if (l is not ("bronze" or "silver" or "gold")) throw new ArgumentException($"Unknown layer '{l}': bronze, silver or gold.", nameof(options));
        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "lakehouse-crash-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            var run = new HarnessRun(options, work);
            return await run.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!options.Keep && options.WorkDirectory is null)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (IOException)
                {
                    // a leftover temp folder is not worth failing the run for
                }
            }
        }
    }

    private sealed class HarnessRun(CrashHarnessOptions options, string work)
    {
        private readonly Random _random = new(options.Seed);
        private readonly List<string> _problems = [];
        private readonly string _lake = Path.Combine(work, "lake");
        private readonly string _landing = Path.Combine(work, "landing");
        private long _produced, _malformed, _duplicates;
        private int _round;

        /// <summary>Each round's events are of a day of their own (late ones reach into the day before), so gold's work per round stays the same.</summary>
        private static readonly DateTime FirstDay = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        private string[] LayerArgs(string layer) => layer switch
        {
            "bronze" => ["bronze", "ingest", "--lake", _lake, "--dataset", Dataset, "--from", _landing, "--max-batch-events", Text(options.EventsPerFile)],
            "silver" => ["silver", "run", "--lake", _lake, "--max-rows-per-commit", "1000"],
            _ => ["gold", "run", "--lake", _lake],
        };

        /// <summary>How many times a run of the layer typically reaches a write point: files per round for bronze, commits of a run otherwise.</summary>
        private int HitsPerRun(string layer) => layer switch
        {
            "bronze" => Math.Max(1, options.EventsPerRound / options.EventsPerFile),
            "silver" => 3, // quarantine, silver, quality: one commit each per 1,000 rows
            _ => 5,
        };

        private void Say(string line) => options.Log?.WriteLine(line);

        internal async Task<CrashReport> RunAsync(CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            var layers = new List<LayerKills>();
            Reconciliation? counts = null;
            try
            {
                foreach (var layer in new[] { "bronze", "silver", "gold" }.Where(options.Layers.Contains))
                    layers.Add(await KillLayerAsync(layer, cancellationToken).ConfigureAwait(false));

                // The last runs complete every layer; then everything must add up.
                if (_produced == 0) await ProduceAsync(cancellationToken).ConfigureAwait(false);
                foreach (var layer in new[] { "bronze", "silver", "gold" })
                    await RunCleanAsync(layer, cancellationToken).ConfigureAwait(false);
                using var engine = DuckEngine.Open();
                counts = await Reconciliation.ComputeAsync(engine, _lake, Dataset, cancellationToken).ConfigureAwait(false);
                _problems.AddRange(counts.Problems(_produced, _malformed, _duplicates));
                await CheckTablesAsync(engine, "the end", deep: true, cancellationToken).ConfigureAwait(false);
            }
            catch (HarnessStoppedException e)
            {
                _problems.Add("stopped: " + e.Message);
            }
            return new CrashReport(layers, _produced, _malformed, _duplicates, counts, _problems, clock.Elapsed);
        }

        private async Task<LayerKills> KillLayerAsync(string layer, CancellationToken cancellationToken)
        {
            var kills = Enum.GetValues<CrashPhase>().ToDictionary(p => p, _ => 0);
            var finished = 0;
            using var engine = DuckEngine.Open();
            var phases = Enum.GetValues<CrashPhase>();
            var needsWork = true;
            for (var attempt = 0; kills.Values.Sum() < options.KillsPerLayer; attempt++)
            {
                if (attempt > (options.KillsPerLayer * 4) + 10)
                {
                    _problems.Add($"{layer}: only {kills.Values.Sum()} of {options.KillsPerLayer} kills landed in {attempt} attempts");
                    break;
                }
                // New work when the last run left none: it finished, or its kill came after a commit (a kill before one leaves its work pending).
                if (needsWork) await FeedAsync(layer, cancellationToken).ConfigureAwait(false);
                // The phase with the fewest kills so far; mid-checkpoint only when a table of the layer is due a checkpoint in this run.
                var due = await CheckpointComesAsync(layer, engine, cancellationToken).ConfigureAwait(false);
                var phase = phases.Where(p => p != CrashPhase.MidCheckpoint || due).OrderBy(p => kills[p]).ThenBy(p => p == CrashPhase.MidCheckpoint ? 0 : 1).First();
                var result = await RunWithKillAsync(layer, phase, cancellationToken).ConfigureAwait(false);
                needsWork = !result.WasKilled || phase is not (CrashPhase.BeforeDataFiles or CrashPhase.AfterDataFiles);
                if (result.WasKilled)
                {
                    kills[phase]++;
                    Say($"{layer}: kill {kills.Values.Sum()}/{options.KillsPerLayer} at {phase}");
                    await CheckTablesAsync(engine, $"{layer} killed at {phase}", deep: false, cancellationToken).ConfigureAwait(false);
                }
                else if (result.ExitCode == 0)
                {
                    finished++;
                }
                else
                {
                    _problems.Add($"{layer} after a kill exited {result.ExitCode}: {Last(result.Stderr)}");
                    if (_problems.Count > 20) break;
                }
            }
            return new LayerKills(layer, kills, finished);
        }

        /// <summary>Gives the layer work: a new round of landed files, and the layers before it run cleanly over them.</summary>
        private async Task FeedAsync(string layer, CancellationToken cancellationToken)
        {
            await ProduceAsync(cancellationToken).ConfigureAwait(false);
            if (layer is "silver" or "gold") await RunCleanAsync("bronze", cancellationToken).ConfigureAwait(false);
            if (layer is "gold") await RunCleanAsync("silver", cancellationToken).ConfigureAwait(false);
        }

        private async Task ProduceAsync(CancellationToken cancellationToken)
        {
            var seed = (options.Seed * 10_000) + _round++;
            var r = await LakehouseChild.RunAsync(["produce", "--dataset", Dataset, "--events", Text(options.EventsPerRound), "--seed", Text(seed),
                "--duplicates", "0.05", "--malformed", "0.02", "--late", "0.02", "--file-events", Text(options.EventsPerFile), "--to", _landing, "--json",
                "--start", FirstDay.AddDays(_round).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--days", "1"]).ConfigureAwait(false);
            if (r.ExitCode != 0) throw new InvalidOperationException("produce failed: " + r.Stderr);
            using var json = JsonDocument.Parse(r.Stdout);
            _produced += json.RootElement.GetProperty("events").GetInt64();
            _malformed += json.RootElement.GetProperty("malformed").GetInt64();
            _duplicates += json.RootElement.GetProperty("duplicates").GetInt64();
            // Landed files are taken once they have settled: date them a minute back, as a file that has been there a while.
            foreach (var f in Directory.GetFiles(_landing)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-1));
            cancellationToken.ThrowIfCancellationRequested();
        }

        private async Task RunCleanAsync(string layer, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = await LakehouseChild.RunAsync(LayerArgs(layer)).ConfigureAwait(false);
            if (r.ExitCode != 0)
            {
                _problems.Add($"{layer} (restart without a fault) exited {r.ExitCode}: {Last(r.Stderr)}");
                throw new HarnessStoppedException($"{layer} could not run to its end after kills: {Last(r.Stderr)}");
            }
        }

        private async Task<ChildResult> RunWithKillAsync(string layer, CrashPhase phase, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (phase == CrashPhase.RandomTime)
            {
                using var child = LakehouseChild.Start(LayerArgs(layer));
                await Task.Delay(_random.Next(300, 2500), cancellationToken).ConfigureAwait(false);
                child.Kill();
                return await child.WaitAsync().ConfigureAwait(false);
            }
            var hit = phase == CrashPhase.MidCheckpoint ? 1 : _random.Next(1, HitsPerRun(layer) + 1);
            var point = phase switch
            {
                CrashPhase.BeforeDataFiles => "before-data-files",
                CrashPhase.AfterDataFiles => "after-data-files",
                CrashPhase.AfterCommit => "after-commit",
                _ => "mid-checkpoint",
            };
            return await LakehouseChild.RunAsync(LayerArgs(layer), new Dictionary<string, string> { ["LAKEHOUSE_FAULT_POINT"] = $"{point}:{Text(hit)}" }).ConfigureAwait(false);
        }

        /// <summary>
        /// True when a run of the layer will write a checkpoint: a table of it is at version c with c % 10 + k ≥ 10, where k is the commits a
        /// run makes to one table (gold 1, silver about 2); a checkpoint follows each commit of a version that is a multiple of 10.
        /// </summary>
        private async Task<bool> CheckpointComesAsync(string layer, DuckEngine engine, CancellationToken cancellationToken)
        {
            if (layer == "bronze") return options.EventsPerRound / options.EventsPerFile >= 10;
            var k = layer == "silver" ? 1 + (options.EventsPerRound / 1000) : 1;
            foreach (var table in Tables(layer))
            {
                var version = await DeltaTable.Open(LakeStorage.Open(table), engine).LatestVersionAsync(cancellationToken).ConfigureAwait(false) ?? -1;
                if (version >= 0 && (version % 10) + k >= 10) return true;
            }
            return false;
        }

        private IEnumerable<string> Tables(string layer)
        {
            var folder = Path.Combine(_lake, layer);
            return Directory.Exists(folder) ? Directory.GetDirectories(folder).Where(d => Directory.Exists(Path.Combine(d, "_delta_log"))).Order(StringComparer.Ordinal) : [];
        }

        /// <summary>Every table of the lake must read after a kill (a shallow check: log, checkpoints, live files); deep at the end.</summary>
        private async Task CheckTablesAsync(DuckEngine engine, string when, bool deep, CancellationToken cancellationToken)
        {
            foreach (var table in new[] { "bronze", "silver", "gold" }.SelectMany(Tables))
            {
                var report = await DeltaTable.Open(LakeStorage.Open(table), engine).CheckAsync(deep, cancellationToken).ConfigureAwait(false);
                foreach (var f in report.Findings.Where(f => f.Severity == DeltaCheckSeverity.Error))
                    _problems.Add($"after {when}: {Path.GetRelativePath(_lake, table)}: {f.File}: {f.Problem}");
            }
        }

        private static string Last(string stderr) => stderr.Trim().Split('\n').LastOrDefault() ?? "";

        private static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>A layer could not run to its end after kills: the run stops, and the report says why.</summary>
public sealed class HarnessStoppedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public HarnessStoppedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public HarnessStoppedException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public HarnessStoppedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
