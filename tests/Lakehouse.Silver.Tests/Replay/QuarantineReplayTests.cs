using System.Text;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Testing;

namespace Lakehouse.Silver.Tests.Replay;

public sealed class QuarantineReplayTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly SilverLake _lake = new(fixture.Engine, "silver-replay");

    public void Dispose() => _lake.Dispose();

    /// <summary>A small dataset whose <c>ms_small</c> rule can be tightened, loosened or made warn.</summary>
    private static DatasetDefinition Clicks(double max = 100, string action = "drop") => DatasetDefinition.Parse(Encoding.UTF8.GetBytes($$"""
        {
          "name": "clicks", "payload": "json",
          "columns": [
            { "name": "click_id", "type": "string", "nullable": false },
            { "name": "at", "type": "timestamp" },
            { "name": "ms", "type": "number" }
          ],
          "event_time": "at", "id": ["click_id"],
          "expectations": [
            { "name": "id_present", "column": "click_id", "check": "not_null", "action": "drop" },
            { "name": "ms_small", "column": "ms", "check": "between", "min": 0, "max": {{max}}, "action": "{{action}}" }
          ]
        }
        """), "clicks.json");

    private static string Click(string id, string ms, string at = "2024-05-03T10:00:00Z") => $"{{\"click_id\":\"{id}\",\"at\":\"{at}\",\"ms\":{ms}}}";

    private SilverJob Job => SilverJob.Open(_lake.Root, _lake.Engine);

    private Task<long?> VersionAsync(string table) => DeltaTable.Open(_lake.Root.Scope(table), _lake.Engine).LatestVersionAsync();

    private const string Silver = "silver/clicks";
    private const string Quarantine = "silver/clicks_quarantine";
    private const string QuarantineRows = "source_offset, rule, message, coalesce(replay_outcome, '-'), coalesce(replay_silver_position, '-'), coalesce(CAST(replay_silver_event_date AS VARCHAR), '-')";

    /// <summary>
    /// Offsets 0–5: c1 clean, c2 and c4 too slow for max 100 but not for 1000, c3 too slow for both, c5 not a number, c6 too slow;
    /// offset 6 (a later batch): a clean copy of c6, so silver holds c6 before any replay.
    /// </summary>
    private async Task LandAndRunAsync()
    {
        await _lake.LandAsync("clicks", Click("c1", "50"), Click("c2", "500"), Click("c3", "5000"), Click("c4", "700"), Click("c5", "\"x\""), Click("c6", "900"));
        await Job.RunAsync(Clicks());
        await _lake.LandAsync("clicks", Click("c6", "10"));
        await Job.RunAsync(Clicks());
    }

    [Fact]
    public async Task ReplayAsync_AfterRuleLoosened_MovesExactlyTheRowsThatNowPassTheRestKeepTheirNewReason()
    {
        await LandAndRunAsync();
        Assert.Equal(["c1|kafka|clicks|0|0|", "c6|kafka|clicks|0|6|"], await _lake.RowsAsync(Silver, "click_id, bronze_position", "click_id"));

        var result = await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions { RunId = "replay-1" });

        Assert.Equal((5L, 2L, 1L, 2L, 2L), (result.Rows, result.MovedToSilver, result.Duplicates, result.StillQuarantined, result.ReasonUpdated));
        Assert.Equal(["c1|kafka|clicks|0|0|", "c2|kafka|clicks|0|1|", "c4|kafka|clicks|0|3|", "c6|kafka|clicks|0|6|"],
            await _lake.RowsAsync(Silver, "click_id, bronze_position", "click_id"));
        Assert.Equal(
        [
            "1|ms_small|ms = 500.0 is not at least 0 and at most 100|silver|kafka|clicks|0|1||2024-05-03",
            "2|ms_small|ms = 5000.0 is not at least 0 and at most 1000|quarantined|-|-",
            "3|ms_small|ms = 700.0 is not at least 0 and at most 100|silver|kafka|clicks|0|3||2024-05-03",
            "4|wrong_type|ms: expected a number, got a string (\"x\")|quarantined|-|-",
            "5|ms_small|ms = 900.0 is not at least 0 and at most 100|duplicate|kafka|clicks|0|6||2024-05-03",
        ], await _lake.RowsAsync(Quarantine, QuarantineRows, "source_offset"));
        Assert.Equal(["replay-1|5"], await _lake.QueryAsync(Quarantine, "SELECT replay_run_id, count(*) FROM t GROUP BY ALL"));
        Assert.Equal(["replay|committed|5|2|2|1"], await _lake.QueryAsync("silver/_quality", "SELECT DISTINCT mode, status, rows_in, rows_out, rows_quarantined, duplicates_removed FROM t WHERE run_id = 'replay-1'"));
    }

    [Fact]
    public async Task ReplayAsync_Twice_SecondChangesNothing()
    {
        await LandAndRunAsync();
        await Job.ReplayAsync(Clicks(max: 1000));
        var versions = (await VersionAsync(Silver), await VersionAsync(Quarantine));
        var silverRows = await _lake.RowsAsync(Silver, "*", "bronze_position");
        var quarantineRows = await _lake.RowsAsync(Quarantine, "*", "bronze_position");

        var again = await Job.ReplayAsync(Clicks(max: 1000));

        Assert.Equal((2L, 0L, 0L, 2L, 0L), (again.Rows, again.MovedToSilver, again.Duplicates, again.StillQuarantined, again.ReasonUpdated));
        Assert.Equal((null, null), (again.SilverVersion, again.QuarantineVersion));
        Assert.Equal(versions, (await VersionAsync(Silver), await VersionAsync(Quarantine)));
        Assert.Equal(silverRows, await _lake.RowsAsync(Silver, "*", "bronze_position"));
        Assert.Equal(quarantineRows, await _lake.RowsAsync(Quarantine, "*", "bronze_position"));
    }

    [Fact]
    public async Task ReplayAsync_CrashBetweenSilverAndQuarantineCommits_NextReplayRecordsTheMovesOnce()
    {
        await LandAndRunAsync();
        var first = await Job.ReplayAsync(Clicks(max: 1000));
        var silverRows = await _lake.RowsAsync(Silver, "*", "bronze_position");
        const string outcomes = "bronze_position, rule, message, replay_outcome, replay_silver_position, replay_silver_event_date";
        var quarantineRows = await _lake.RowsAsync(Quarantine, outcomes, "bronze_position");
        // The state a crash right after the silver commit leaves: silver has the moved rows, quarantine is as before the replay.
        await DeltaWriter.Create(DeltaTable.Open(_lake.Root.Scope(Quarantine), _lake.Engine)).RestoreAsync(first.QuarantineVersion!.Value - 1);
        Assert.Equal(["-|5"], await _lake.QueryAsync(Quarantine, "SELECT coalesce(replay_outcome, '-'), count(*) FROM t GROUP BY ALL"));
        var silverVersion = await VersionAsync(Silver);

        var repair = await Job.ReplayAsync(Clicks(max: 1000));

        Assert.Equal((5L, 2L, 1L, 2L), (repair.Rows, repair.MovedToSilver, repair.Duplicates, repair.StillQuarantined));
        Assert.Null(repair.SilverVersion);
        Assert.Equal(silverVersion, await VersionAsync(Silver));
        Assert.Equal(silverRows, await _lake.RowsAsync(Silver, "*", "bronze_position"));
        Assert.Equal(quarantineRows, await _lake.RowsAsync(Quarantine, outcomes, "bronze_position"));
    }

    private const string ReplayQuality =
        "SELECT DISTINCT run_id, rows_in, rows_out, rows_quarantined, duplicates_removed FROM t WHERE mode = 'replay' ORDER BY run_id";

    /// <summary>
    /// Two replays of the same rows at once: replay-a runs from start to end while replay-b, which picked the same rows, is about to
    /// commit to silver. Silver keeps one row per event, and silver._quality counts the two moves, the duplicate and the two rows still
    /// quarantined once, as replay-a's: replay-b's commits would change nothing, so it makes none and records nothing.
    /// </summary>
    [Fact]
    public async Task ReplayAsync_AnotherReplayTakesTheRowsBeforeThisOneCommits_QualityCountsThemOnce()
    {
        await LandAndRunAsync();
        SilverReplayResult? a = null;

        var b = await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions
        {
            RunId = "replay-b",
            BeforeCommit = async table => a ??= table == "silver" ? await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions { RunId = "replay-a" }) : null,
        });

        Assert.Equal((5L, 2L, 1L, 2L), (a!.Rows, a.MovedToSilver, a.Duplicates, a.StillQuarantined));
        Assert.Equal((2L, 0L, 0L, 2L, 0L), (b.Rows, b.MovedToSilver, b.Duplicates, b.StillQuarantined, b.ReasonUpdated));
        Assert.Equal((null, null), (b.SilverVersion, b.QuarantineVersion));
        Assert.Equal(["c1|kafka|clicks|0|0|", "c2|kafka|clicks|0|1|", "c4|kafka|clicks|0|3|", "c6|kafka|clicks|0|6|"],
            await _lake.RowsAsync(Silver, "click_id, bronze_position", "click_id"));
        Assert.Equal(["replay-a|5"], await _lake.QueryAsync(Quarantine, "SELECT replay_run_id, count(*) FROM t GROUP BY ALL"));
        Assert.Equal(["replay-a|5|2|2|1"], await _lake.QueryAsync(SilverTables.Quality, ReplayQuality));
    }

    /// <summary>
    /// replay-a commits its outcomes to quarantine just before replay-b does, after replay-b read quarantine: replay-b's commit is
    /// refused (it would record the rows a second time) and says so; the moves are in silver._quality once, as replay-a's.
    /// </summary>
    [Fact]
    public async Task ReplayAsync_AnotherReplayCommitsQuarantineJustBeforeThisOne_RefusedAsAConflictAndCountedOnce()
    {
        await LandAndRunAsync();
        SilverReplayResult? a = null;

        var e = await Assert.ThrowsAsync<LakehouseException>(() => Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions
        {
            RunId = "replay-b",
            BeforeCommit = async table => a ??= table == "quarantine" ? await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions { RunId = "replay-a" }) : null,
        }));

        Assert.Equal(LakehouseErrorReason.Conflict, e.Reason);
        Assert.StartsWith("silver.clicks replay: another replay or silver run committed to silver.clicks_quarantine while this replay prepared its outcomes", e.Message, StringComparison.Ordinal);
        Assert.Equal((5L, 2L, 1L, 2L), (a!.Rows, a.MovedToSilver, a.Duplicates, a.StillQuarantined));
        Assert.Null(a.SilverVersion); // replay-b had moved the rows to silver; replay-a found them there and recorded the moves
        Assert.Equal(["c1|kafka|clicks|0|0|", "c2|kafka|clicks|0|1|", "c4|kafka|clicks|0|3|", "c6|kafka|clicks|0|6|"],
            await _lake.RowsAsync(Silver, "click_id, bronze_position", "click_id"));
        Assert.Equal(["replay-a|5"], await _lake.QueryAsync(Quarantine, "SELECT replay_run_id, count(*) FROM t GROUP BY ALL"));
        Assert.Equal(["replay-a|5|2|2|1"], await _lake.QueryAsync(SilverTables.Quality, ReplayQuality));
    }

    [Fact]
    public async Task ReplayAsync_RuleMadeWarn_EveryRowOfThatRuleMovesAndCountsAsWarned()
    {
        await LandAndRunAsync();

        var result = await Job.ReplayAsync(Clicks(action: "warn"), new SilverReplayOptions { Rule = "ms_small" });

        Assert.Equal((4L, 3L, 1L, 0L), (result.Rows, result.MovedToSilver, result.Duplicates, result.StillQuarantined));
        Assert.Equal(["c1", "c2", "c3", "c4", "c6"], await _lake.RowsAsync(Silver, "click_id", "click_id"));
        Assert.Equal(["4|wrong_type|-"], await _lake.QueryAsync(Quarantine, "SELECT source_offset, rule, coalesce(replay_outcome, '-') FROM t WHERE replay_outcome IS NULL"));
        Assert.Equal(4, result.Rules.Single(r => r.Rule == "ms_small").Failed);
    }

    [Fact]
    public async Task ReplayAsync_DryRunAndDateRange_CommitNothingAndSelectOnlyThoseRows()
    {
        await LandAndRunAsync();
        await _lake.LandAsync("clicks", Click("c7", "300", at: "2024-05-05T10:00:00Z"));
        await Job.RunAsync(Clicks());
        var versions = (await VersionAsync(Silver), await VersionAsync(Quarantine));

        var dry = await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions { DryRun = true });
        var dated = await Job.ReplayAsync(Clicks(max: 1000), new SilverReplayOptions { DryRun = true, From = new DateOnly(2024, 5, 5), To = new DateOnly(2024, 5, 5) });

        Assert.Equal((6L, 3L, 1L, 2L, true), (dry.Rows, dry.MovedToSilver, dry.Duplicates, dry.StillQuarantined, dry.DryRun));
        Assert.Equal((1L, 1L), (dated.Rows, dated.MovedToSilver));
        Assert.Equal(versions, (await VersionAsync(Silver), await VersionAsync(Quarantine)));
        Assert.Equal(["6"], await _lake.QueryAsync(Quarantine, "SELECT count(*) FROM t WHERE replay_outcome IS NULL"));
    }

    [Fact]
    public async Task ReplayAsync_UnknownRuleOrNothingQuarantined_RefusedWithTheReason()
    {
        var none = await Assert.ThrowsAsync<LakehouseException>(() => Job.ReplayAsync(Clicks()));
        var rule = await Assert.ThrowsAsync<LakehouseException>(() => Job.ReplayAsync(Clicks(), new SilverReplayOptions { Rule = "nope" }));

        Assert.Equal(LakehouseErrorReason.NotFound, none.Reason);
        Assert.Contains("nothing has been quarantined to replay (run lakehouse silver run --dataset clicks first)", none.Message, StringComparison.Ordinal);
        Assert.StartsWith("Dataset clicks has no rule named 'nope' (its rules: invalid_utf8, too_large, malformed_json", rule.Message, StringComparison.Ordinal);
    }
}
