using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold.Alerts;

public static partial class AlertRules
{
    /// <summary>
    /// The page rule <c>tti_p95_regression</c> over daily page performance rows (<c>page_performance_daily</c>).
    /// </summary>
    /// <remarks>
    /// A day is judged against the rows of the <see cref="AlertSettings.BaselineDays"/> days before it, so to judge the days from
    /// D give the rows from D − BaselineDays on. The day being judged may still be incomplete: an alert raised on a partial day
    /// stays (its id is that of the whole day); a day that only crosses the limit later raises it then.
    /// </remarks>
    /// <param name="dailySql">One row per page and day: <c>event_date</c> (DATE), <c>page_url</c>, <c>tti_p95_ms</c> (DOUBLE); other columns are ignored.</param>
    /// <param name="settings">The thresholds.</param>
    public static string PageAlerts(string dailySql, AlertSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dailySql);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var factor = WindowSql.Double(settings.TtiRegressionFactor);
        return Finish($"""
            WITH days AS (
              SELECT event_date, CAST(page_url AS VARCHAR) AS page_url, CAST(tti_p95_ms AS DOUBLE) AS p95
              FROM ({dailySql}) AS daily
              WHERE event_date IS NOT NULL AND page_url IS NOT NULL AND tti_p95_ms IS NOT NULL
            ),
            -- The baseline sums the prior days' p95 in sorted order: a parallel avg adds them in any order, and a day whose p95 sits at
            -- the threshold must not fire on one run and not on the next.
            judged AS (
              SELECT judged_day.event_date, judged_day.page_url, judged_day.p95, list_avg(list_sort(list(prior_day.p95))) AS baseline, count(*) AS baseline_days
              FROM days AS judged_day
              JOIN days AS prior_day
                ON prior_day.page_url = judged_day.page_url
               AND prior_day.event_date < judged_day.event_date
               AND prior_day.event_date >= judged_day.event_date - {WindowSql.Integer(settings.BaselineDays)}
              GROUP BY judged_day.event_date, judged_day.page_url, judged_day.p95
            )
            SELECT '{TtiP95Regression}' AS rule, page_url AS key,
              {WindowSql.DateStart("event_date")} AS window_start,
              {WindowSql.DateStart("event_date")} + {WindowSql.Interval(WindowSql.DayMicros)} AS window_end,
              p95 AS value, {factor} * baseline AS threshold,
              printf('Page %s: TTI p95 of %s ms on %s is above %s × its baseline of %s ms (average daily p95 of %d of the %d days before)',
                page_url, {WindowSql.Text("p95")}, strftime(event_date, '%Y-%m-%d'), {WindowSql.Text(factor)}, {WindowSql.Text("baseline")}, baseline_days,
                {WindowSql.Integer(settings.BaselineDays)}) AS message
            FROM judged
            WHERE baseline_days >= {WindowSql.Integer(settings.MinBaselineDays)} AND p95 > {factor} * baseline
            """);
    }
}
