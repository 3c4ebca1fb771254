namespace Lakehouse.Gold;

/// <summary>What one gold table got in a run.</summary>
/// <param name="Table">The gold table's name.</param>
/// <param name="Dates">How many event dates were recomputed (0: the table was already up to date); a rerun adds those its catch-up recomputed.</param>
/// <param name="Rows">Rows written for those dates (for <c>alerts</c>: new alerts), by the rerun and its catch-up together.</param>
/// <param name="Elapsed">Wall time of its query and commit.</param>
public sealed record GoldTableResult(string Table, int Dates, long Rows, TimeSpan Elapsed)
{
    /// <summary>
    /// True when a gold run at the same time had already committed these dates from the same silver version, so this run's commit
    /// was skipped (<see cref="Rows"/> is then 0: the rows are there, written by the other run).
    /// </summary>
    public bool WrittenByAnotherRun { get; init; }
}

/// <summary>The outcome of one gold run of one dataset.</summary>
/// <param name="RunId">The run's id.</param>
/// <param name="Dataset">The dataset.</param>
/// <param name="Kind"><c>incremental</c> or <c>rerun</c>.</param>
/// <param name="SilverFromVersion">The silver version gold had consumed before the run (-1: none).</param>
/// <param name="SilverToVersion">The silver version gold has consumed after it.</param>
/// <param name="Dates">The event dates silver changed (and, in a rerun, those of its range that hold rows), in order; a table may recompute the day before too (see <see cref="Tables"/>).</param>
/// <param name="RowsIn">Silver rows read for those dates (old and new: see <see cref="RowsNew"/> for the new ones).</param>
/// <param name="LateEvents">New silver rows whose event time was behind the watermark when they arrived.</param>
/// <param name="Watermark">The watermark after the run (newest event time minus the delay; null for an empty silver table).</param>
/// <param name="Tables">Per gold table, what it got.</param>
/// <param name="AlertsNew">Alerts raised for the first time.</param>
/// <param name="AlertsDelivered">Alerts the webhook accepted in this run (new or pending from earlier runs).</param>
/// <param name="AlertsPending">Alerts the webhook has not accepted yet (retried on the next run).</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record GoldRunResult(
    string RunId, string Dataset, string Kind, long SilverFromVersion, long SilverToVersion, IReadOnlyList<DateOnly> Dates,
    long RowsIn, long LateEvents, DateTimeOffset? Watermark, IReadOnlyList<GoldTableResult> Tables,
    long AlertsNew, long AlertsDelivered, long AlertsPending, TimeSpan Elapsed)
{
    /// <summary>
    /// The silver rows that were new to gold: those the silver commits it consumed in this run added (every row silver held, on a
    /// first run or when those commits are gone from the log). <see cref="RowsIn"/> counts the rows of the recomputed dates instead,
    /// old ones included.
    /// </summary>
    public long RowsNew { get; init; }

    /// <summary>Whether the run found nothing to do.</summary>
    public bool NothingNew => Dates.Count == 0 && Tables.All(t => t.Dates == 0);
}
