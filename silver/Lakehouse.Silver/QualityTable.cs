using System.Globalization;
using System.Text;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Silver;

/// <summary>
/// <c>silver/_quality</c>: the quality metrics of every silver run, one row per run and rule — the run's totals (rows in, rows out,
/// quarantined, duplicates removed, warned) repeated on each of its rows, and the rule's action and how many rows it was checked
/// on, kept and broke. Failed runs (a <c>fail</c> expectation) are recorded too, with status <c>failed</c>.
/// </summary>
internal static class QualityTable
{
    internal static async Task AppendAsync(DeltaTable table, SilverRunResult run, string status, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var rules = run.Rules.Count == 0 ? [new RuleCount("(none)", "", 0, 0)] : run.Rules;
        var finished = DateTimeOffset.UtcNow;
        var sql = new StringBuilder("SELECT * FROM (VALUES ");
        var first = true;
        foreach (var rule in rules)
        {
            if (!first) sql.Append(", ");
            first = false;
            sql.Append('(').AppendJoin(", ",
            [
                Text(run.RunId), Text(run.Dataset), Text(run.Mode), Text(status), Time(started), Time(finished),
                Number(run.BronzeFromVersion), Number(run.BronzeToVersion), Date(run.From), Date(run.To),
                Number(run.RowsIn), Number(run.RowsOut), Number(run.Quarantined), Number(run.Duplicates), Number(run.Warned),
                Text(rule.Rule), Text(rule.Action), Number(rule.Checked), Number(rule.Passed), Number(rule.Failed),
            ]).Append(')');
        }
        sql.Append(") AS t(run_id, dataset, mode, status, started_at, finished_at, bronze_from_version, bronze_to_version, date_from, date_to, " +
                   "rows_in, rows_out, rows_quarantined, duplicates_removed, rows_warned, rule, rule_action, rule_checked, rule_passed, rule_failed)");
        await DeltaWriter.Create(table).AppendAsync(sql.ToString(), null, cancellationToken).ConfigureAwait(false);
    }

    private static string Text(string s) => SqlText.Literal(s);

    private static string Number(long n) => "CAST(" + n.ToString(CultureInfo.InvariantCulture) + " AS BIGINT)";

    private static string Time(DateTimeOffset t) => $"CAST(TIMESTAMP '{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}' AS TIMESTAMPTZ)";

    private static string Date(DateOnly? d) => d is { } v ? $"DATE '{v:yyyy-MM-dd}'" : "CAST(NULL AS DATE)";
}
