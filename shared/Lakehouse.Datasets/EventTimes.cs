namespace Lakehouse.Datasets;

/// <summary>
/// The event times a lake takes (UTC dates, both included): silver quarantines others as out_of_range, and reruns and the
/// simulator refuse dates outside them. Gold computes the days around each event's date (the day before and after, weeks of
/// baseline), which the edges of the calendar do not have.
/// </summary>
public static class EventTimes
{
    /// <summary>The first date an event time may fall on.</summary>
    public static readonly DateOnly First = new(1000, 1, 1);

    /// <summary>The last date an event time may fall on.</summary>
    public static readonly DateOnly Last = new(8999, 12, 31);
}
