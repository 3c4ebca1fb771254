using System.Globalization;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold;

/// <summary>
/// <c>gold/_runs</c>: one row per gold run that recomputed something or failed — what it consumed, the dates, rows, late events,
/// watermark and alerts. Runs that found nothing new are not recorded (a stream asks every few seconds).
/// </summary>
internal static class GoldRuns
{
    internal static async Task AppendAsync(DeltaTable table, GoldRunResult run, string status, string? message, DateTimeOffset started, ILogger log, CancellationToken cancellationToken)
    {
        var rowsWritten = run.Tables.Sum(t => t.Rows);
        var values = string.Join(", ",
        [
            SqlText.Literal(run.RunId), SqlText.Literal(run.Dataset), SqlText.Literal(run.Kind), SqlText.Literal(status),
            GoldStage.Timestamp(started), GoldStage.Timestamp(DateTimeOffset.UtcNow),
            Number(run.SilverFromVersion), Number(run.SilverToVersion), $"CAST({run.Dates.Count.ToString(CultureInfo.InvariantCulture)} AS INTEGER)",
            Number(run.RowsIn), Number(rowsWritten), Number(run.LateEvents),
            run.Watermark is { } w ? GoldStage.Timestamp(w) : "CAST(NULL AS TIMESTAMPTZ)",
            Number(run.AlertsNew), message is null ? "CAST(NULL AS VARCHAR)" : SqlText.Literal(message),
        ]);
        var sql = $"SELECT * FROM (VALUES ({values})) AS t(run_id, dataset, kind, status, started_at, finished_at, silver_version_from, silver_version_to, " +
                  "dates_recomputed, rows_in, rows_written, late_events, watermark, alerts_new, message)";
        try
        {
            await DeltaWriter.Create(table).AppendAsync(sql, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Core.LakehouseException or IOException)
        {
            // The gold tables are committed; losing the record of the run must not turn a good run into a failed one.
            Log.RunNotRecorded(log, run.RunId, e.Message);
        }
    }

    private static string Number(long n) => "CAST(" + n.ToString(CultureInfo.InvariantCulture) + " AS BIGINT)";
}
