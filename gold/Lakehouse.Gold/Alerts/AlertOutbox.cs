using System.Globalization;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;

namespace Lakehouse.Gold.Alerts;

/// <summary>
/// Delivery of <c>gold/alerts</c> to the webhook as an outbox: an alert is pending until <c>gold/_alert_deliveries</c> records that
/// the webhook accepted it. Every gold run that has a webhook posts the pending alerts (oldest first, at most
/// <see cref="MaxPerRun"/>, detected within <see cref="MaxAge"/>), then records the accepted ones. A run that dies between a post
/// and its record posts that alert again next time: delivery is at least once, and receivers dedupe on its id (the
/// <c>Idempotency-Key</c> header).
/// </summary>
internal static class AlertOutbox
{
    /// <summary>At most this many alerts are posted per run (the rest wait for the next).</summary>
    internal const int MaxPerRun = 1000;

    /// <summary>Alerts detected longer ago than this are not posted any more (a webhook configured today does not get last year's).</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromDays(1);

    /// <summary>Posts the pending alerts; returns how many the webhook accepted and how many are still pending.</summary>
    internal static async Task<(int Delivered, long Pending)> DeliverAsync(DeltaTable alerts, DeltaTable deliveries, DuckEngine engine, AlertWebhook webhook,
        CancellationToken cancellationToken)
    {
        if (!await alerts.ExistsAsync(cancellationToken).ConfigureAwait(false)) return (0, 0);
        var pending = new List<Alert>();
        long total;
        using (var lease = engine.Lease())
        {
            var connection = lease.Connection;
            using var alertScan = await DeltaScan.CreateAsync(alerts, await alerts.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false), connection,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            var delivered = "SELECT NULL::VARCHAR AS alert_id WHERE false";
            DeltaScan? deliveryScan = null;
            try
            {
                if (await deliveries.ExistsAsync(cancellationToken).ConfigureAwait(false))
                {
                    deliveryScan = await DeltaScan.CreateAsync(deliveries, await deliveries.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false), connection,
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    delivered = $"SELECT alert_id FROM ({deliveryScan.Sql})";
                }
                var since = DateTimeOffset.UtcNow - MaxAge;
                var pendingSql = $"SELECT * FROM ({alertScan.Sql}) AS a WHERE detected_at >= {GoldStage.Timestamp(since)} AND alert_id NOT IN ({delivered})";
                total = Convert.ToInt64(connection.Scalar($"SELECT count(*) FROM ({pendingSql})", cancellationToken), CultureInfo.InvariantCulture);
                using var r = connection.Query(
                    "SELECT alert_id, rule, key, epoch_us(window_start), epoch_us(window_end), value, threshold, message, strftime(event_date, '%Y-%m-%d'), epoch_us(detected_at) " +
                    $"FROM ({pendingSql}) ORDER BY detected_at, alert_id LIMIT {MaxPerRun.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
                while (r.Read())
                {
                    pending.Add(new Alert(r.GetString(0), r.GetString(1), r.GetString(2), Time(r.GetInt64(3)), Time(r.GetInt64(4)), r.GetDouble(5), r.GetDouble(6),
                        r.GetString(7), DateOnly.ParseExact(r.GetString(8), "yyyy-MM-dd", CultureInfo.InvariantCulture), Time(r.GetInt64(9))));
                }
            }
            finally
            {
                deliveryScan?.Dispose();
            }
        }
        if (pending.Count == 0) return (0, 0);
        var delivery = await webhook.PostAsync(pending, cancellationToken).ConfigureAwait(false);
        if (delivery.Delivered.Count > 0)
        {
            var now = GoldStage.Timestamp(DateTimeOffset.UtcNow);
            var values = string.Join(", ", delivery.Delivered.Select(a => $"({SqlText.Literal(a.AlertId)}, {now})"));
            await DeltaWriter.Create(deliveries).AppendAsync($"SELECT * FROM (VALUES {values}) AS t(alert_id, delivered_at)", null, cancellationToken).ConfigureAwait(false);
        }
        return (delivery.Delivered.Count, total - delivery.Delivered.Count);
    }

    private static DateTimeOffset Time(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);
}
