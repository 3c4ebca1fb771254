using System.Globalization;
using System.Text.Json;
using Lakehouse.Core.Webhooks;
using Lakehouse.Datasets;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Gates;

/// <summary>A rule's failures over recent committed runs: how many runs, rows checked and rows that broke it.</summary>
internal sealed record RuleHistory(int Runs, long Checked, long Failed)
{
    internal double Rate => Checked == 0 ? 0 : (double)Failed / Checked;
}

/// <summary>Why a quality gate refused a batch: the gate, the rule (for rule_jump), the measured value and the threshold it crossed.</summary>
internal sealed record GateRefusal(string Gate, string? Rule, double Value, double Threshold, long RowsIn, long RowsQuarantined, string Message);

/// <summary>
/// The quality gates of a dataset's definition (<see cref="DatasetQualityGates"/>) applied to one silver batch before anything of it
/// is committed, with the history they compare against read from <c>silver._quality</c>.
/// </summary>
internal static class QualityGate
{
    /// <summary>The gate names, as in the definition and in refusals.</summary>
    internal const string MaxQuarantineShare = "max_quarantine_share";

    /// <inheritdoc cref="MaxQuarantineShare"/>
    internal const string RuleJump = "rule_jump";

    /// <summary>The first gate <paramref name="counts"/> crosses (the share before rule jumps, rules in their order), or null.</summary>
    internal static GateRefusal? Check(DatasetDefinition definition, DatasetQualityGates gates, SilverJob.Outcome counts, IReadOnlyDictionary<string, RuleHistory> history)
    {
        var name = definition.Name;
        if (gates.MaxQuarantineShare is { } max && counts.RowsIn >= gates.MinRows && counts.RowsIn > 0)
        {
            var share = (double)counts.Quarantined / counts.RowsIn;
            if (share > max)
            {
                var top = counts.Rules.Where(r => r.Action != "warn" && r.Failed > 0).OrderByDescending(r => r.Failed).FirstOrDefault();
                var mostly = top is null ? "" : string.Create(CultureInfo.InvariantCulture, $", most of them for {top.Rule} ({top.Failed:N0})");
                return new GateRefusal(MaxQuarantineShare, null, share, max, counts.RowsIn, counts.Quarantined, string.Create(CultureInfo.InvariantCulture,
                    $"silver.{name}: quality gate {MaxQuarantineShare} refused the batch: {counts.Quarantined:N0} of {counts.RowsIn:N0} rows would be quarantined ({Percent(share)}{mostly}), " +
                    $"more than the {Percent(max)} allowed; nothing of it was committed. Fix the data or the definition and run again (or raise {MaxQuarantineShare} in {definition.Source})."));
            }
        }
        if (gates.RuleJump is { } jump)
        {
            foreach (var rule in counts.Rules.Where(r => r.Failed >= jump.MinFailures && r.Checked > 0))
            {
                if (!history.TryGetValue(rule.Rule, out var past) || past.Runs < jump.HistoryRuns) continue;
                var rate = (double)rule.Failed / rule.Checked;
                var limit = jump.Factor * past.Rate;
                if (rate <= limit) continue;
                return new GateRefusal(RuleJump, rule.Rule, rate, limit, counts.RowsIn, counts.Quarantined, string.Create(CultureInfo.InvariantCulture,
                    $"silver.{name}: quality gate {RuleJump} refused the batch: rule '{rule.Rule}' failed {rule.Failed:N0} of {rule.Checked:N0} rows ({Percent(rate)}), " +
                    $"more than {jump.Factor:0.##} × its rate over the last {past.Runs} runs ({Percent(past.Rate)}, {past.Failed:N0} of {past.Checked:N0}) = {Percent(limit)}; " +
                    $"nothing of it was committed. Fix the data or the definition and run again."));
            }
        }
        return null;
    }

    /// <summary>
    /// Per rule, its failures over the last <paramref name="runs"/> committed incremental runs and reruns of the dataset that checked it
    /// (refused and failed runs, and replays, are not history).
    /// </summary>
    internal static async Task<IReadOnlyDictionary<string, RuleHistory>> HistoryAsync(DeltaTable quality, DuckEngine engine, string dataset, int runs, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, RuleHistory>(StringComparer.Ordinal);
        if (!await quality.ExistsAsync(cancellationToken).ConfigureAwait(false)) return result;
        var snapshot = await quality.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(quality, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var r = lease.Connection.Query(
            "SELECT rule, count(*), sum(rule_checked), sum(rule_failed) FROM (" +
            "SELECT rule, rule_checked, rule_failed, row_number() OVER (PARTITION BY rule ORDER BY finished_at DESC, run_id DESC) AS n " +
            $"FROM ({scan.Sql}) WHERE dataset = {SqlText.Literal(dataset)} AND status = 'committed' AND mode IN ('incremental', 'rerun') AND rule_checked > 0) " +
            $"WHERE n <= {runs.ToString(CultureInfo.InvariantCulture)} GROUP BY rule", cancellationToken);
        while (r.Read()) result[r.GetString(0)] = new RuleHistory((int)r.GetInt64(1), Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture));
        return result;
    }

    /// <summary>The webhook notification of a refusal: one JSON object, idempotency key <c>silver-gate/&lt;run id&gt;/&lt;gate&gt;</c>.</summary>
    internal static WebhookMessage Notification(string dataset, string runId, GateRefusal refusal, DateTimeOffset detectedAt)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", "silver_quality_gate");
            json.WriteString("dataset", dataset);
            json.WriteString("table", "silver." + dataset);
            json.WriteString("run_id", runId);
            json.WriteString("gate", refusal.Gate);
            if (refusal.Rule is null) json.WriteNull("rule");
            else json.WriteString("rule", refusal.Rule);
            json.WriteNumber("value", refusal.Value);
            json.WriteNumber("threshold", refusal.Threshold);
            json.WriteNumber("rows_in", refusal.RowsIn);
            json.WriteNumber("rows_quarantined", refusal.RowsQuarantined);
            json.WriteString("message", refusal.Message);
            json.WriteString("detected_at", detectedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        return new WebhookMessage($"silver-gate/{runId}/{refusal.Gate}", $"{refusal.Gate} for silver.{dataset}", buffer.ToArray());
    }

    private static string Percent(double share) => (share * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";
}
