using Lakehouse.Core.Webhooks;
using Lakehouse.Gold.Alerts;
using Lakehouse.Gold.Windows;

namespace Lakehouse.Gold;

/// <summary>What a gold run does. Validated when the run starts.</summary>
public sealed class GoldRunOptions
{
    /// <summary>
    /// Rebuild the event dates from <see cref="From"/> to <see cref="To"/> (inclusive) of every gold table of the dataset from the
    /// silver version gold has consumed (after catching up incrementally), instead of only the dates new silver data touched. Both or neither.
    /// </summary>
    public DateOnly? From { get; set; }

    /// <inheritdoc cref="From"/>
    public DateOnly? To { get; set; }

    /// <summary>The watermark's delay behind the newest event time (default 10 s) and the pause that ends a session window (default 10 minutes).</summary>
    public WindowSettings Windows { get; set; } = WindowSettings.Default;

    /// <summary>The alert rules' thresholds.</summary>
    public AlertSettings Alerts { get; set; } = AlertSettings.Default;

    /// <summary>Where new alerts are posted (null: kept in gold/alerts only). Delivery failures never fail the run.</summary>
    public WebhookOptions? Webhook { get; set; }

    /// <summary>The run's id in <c>gold/_runs</c> (default: a new one from the UTC time and a random suffix).</summary>
    public string? RunId { get; set; }

    /// <summary>
    /// How many event dates one group stages and computes at once (default 1): the run's memory follows a group, not the number of
    /// dates it recomputes. Tests set it above the number of dates to compute everything at once.
    /// </summary>
    internal int DaysPerGroup { get; set; } = 1;

    /// <summary>
    /// Outputs with a slice key (the page windows, whose staged parts hold every TTI in a list, and page sessions) compute a day of
    /// more silver rows than this in slices of about this many rows (default 2,500,000), and of fewer when DuckDB's memory limit is
    /// small (<see cref="GoldStage.RowsPerSlice"/>). Each slice filters the whole day and pays a fixed cost, and the aggregates cost
    /// less per row on more rows: on a day of 10M events, 4 slices instead of 10 computed it in
    /// 15.0 s / 10.2 s (shuffled / stream order) instead of 16.0 s / 12.1 s, for some 500 MiB more peak memory.
    /// </summary>
    internal long RowsPerSlice { get; set; } = 2_500_000;

    /// <summary>
    /// Whether a group's rows are staged as an in-memory table (true) or read from the Parquet files by each output (false); null
    /// (the default): a table when they take at most a quarter of DuckDB's memory limit (<see cref="GoldStage.LoadAsync"/>).
    /// </summary>
    internal bool? StageInMemory { get; set; }

    internal bool IsRerun => From is not null;

    internal void Validate()
    {
        if ((From is null) != (To is null)) throw new ArgumentException("A rerun needs both From and To.");
        if (From > To) throw new ArgumentException($"From ({From:yyyy-MM-dd}) is after To ({To:yyyy-MM-dd}).");
        if (From < Datasets.EventTimes.First || To > Datasets.EventTimes.Last)
            throw new ArgumentException($"The dates of a rerun are from {Datasets.EventTimes.First:yyyy-MM-dd} to {Datasets.EventTimes.Last:yyyy-MM-dd} (silver takes no event time outside them).");
        if (RowsPerSlice < 1) throw new ArgumentOutOfRangeException(nameof(RowsPerSlice), RowsPerSlice, "A slice holds at least one row.");
        if (DaysPerGroup < 1) throw new ArgumentOutOfRangeException(nameof(DaysPerGroup), DaysPerGroup, "A group holds at least one date.");
        ArgumentNullException.ThrowIfNull(Windows);
        ArgumentNullException.ThrowIfNull(Alerts);
        Alerts.Validate();
    }
}
