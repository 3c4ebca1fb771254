using System.Globalization;
using System.Text;
using Lakehouse.Delta;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Silver;

/// <summary>
/// <c>silver/_quality</c>: the quality metrics of every silver run, one row per run and rule — the run's totals (rows in, rows out,
/// quarantined, duplicates removed, warned) repeated on each of its rows, and the rule's action and how many rows it was checked
/// on, kept and broke. Failed runs (a <c>fail</c> expectation) are recorded too, with status <c>failed</c>, and batches a quality gate
/// refused with status <c>refused</c>; both say why in <c>message</c>. A committed run whose counts need a reason gives it there too
/// (<see cref="SilverRunResult.Message"/>).
/// </summary>
internal static class QualityTable
{
    /// <summary>The column added for why a run was refused or failed (for a committed run, what its counts alone do not say; usually null).</summary>
    private static readonly StructField[] AddedColumns = [new("message", PrimitiveType.String, true)];

    internal static async Task AppendAsync(DeltaTable table, SilverRunResult run, string status, DateTimeOffset started, string? message, CancellationToken cancellationToken)
    {
        // A table written before runs had a message gets the column once.
        if (await table.ExistsAsync(cancellationToken).ConfigureAwait(false))
            await DeltaWriter.Create(table).AddColumnsAsync(AddedColumns, cancellationToken).ConfigureAwait(false);
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
                message is null ? "CAST(NULL AS VARCHAR)" : Text(message),
            ]).Append(')');
        }
        sql.Append(") AS t(run_id, dataset, mode, status, started_at, finished_at, bronze_from_version, bronze_to_version, date_from, date_to, " +
                   "rows_in, rows_out, rows_quarantined, duplicates_removed, rows_warned, rule, rule_action, rule_checked, rule_passed, rule_failed, message)");
        await DeltaWriter.Create(table).AppendAsync(sql.ToString(), null, cancellationToken).ConfigureAwait(false);
    }

    private static string Text(string s) => SqlText.Literal(s);

    private static string Number(long n) => "CAST(" + n.ToString(CultureInfo.InvariantCulture) + " AS BIGINT)";

    private static string Time(DateTimeOffset t) => $"CAST(TIMESTAMP '{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}' AS TIMESTAMPTZ)";

    private static string Date(DateOnly? d) => d is { } v ? $"DATE '{v:yyyy-MM-dd}'" : "CAST(NULL AS DATE)";
}
