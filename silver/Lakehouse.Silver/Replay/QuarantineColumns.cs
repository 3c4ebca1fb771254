using Lakehouse.Delta.Schema;

namespace Lakehouse.Silver.Replay;

/// <summary>
/// The columns a quarantine row carries about replays (<c>lakehouse silver replay</c>), beside why it was quarantined
/// (<c>rule</c>, <c>message</c>), where it came from (<c>bronze_position</c> and the source columns) and by which run
/// (<c>run_id</c>, <c>quarantined_at</c>). All null until a replay looks at the row.
/// </summary>
internal static class QuarantineColumns
{
    /// <summary>
    /// What the last replay that looked at the row did with it: <see cref="Silver"/>, <see cref="Duplicate"/>, or
    /// <see cref="Quarantined"/>; null when no replay has.
    /// </summary>
    internal const string Outcome = "replay_outcome";

    /// <summary>When that replay committed (UTC).</summary>
    internal const string ReplayedAt = "replayed_at";

    /// <summary>That replay's run id (also in <c>silver._quality</c>, mode <c>replay</c>).</summary>
    internal const string ReplayRunId = "replay_run_id";

    /// <summary>For a row that passed: the bronze position of the silver row that holds its event (its own when it moved).</summary>
    internal const string SilverPosition = "replay_silver_position";

    /// <summary>For a row that passed: the event date (silver partition) of that silver row.</summary>
    internal const string SilverEventDate = "replay_silver_event_date";

    /// <summary>The row passed today's rules and is now in silver (the silver row has the same <c>bronze_position</c>).</summary>
    internal const string Silver = "silver";

    /// <summary>The row passed, but silver already held its event (another copy, at <see cref="SilverPosition"/>).</summary>
    internal const string Duplicate = "duplicate";

    /// <summary>The row still fails; <c>rule</c> and <c>message</c> are today's reasons.</summary>
    internal const string Quarantined = "quarantined";

    /// <summary>The columns, as added to a quarantine table written before replays existed.</summary>
    internal static IReadOnlyList<StructField> Fields { get; } =
    [
        new(Outcome, PrimitiveType.String, true),
        new(ReplayedAt, PrimitiveType.Timestamp, true),
        new(ReplayRunId, PrimitiveType.String, true),
        new(SilverPosition, PrimitiveType.String, true),
        new(SilverEventDate, PrimitiveType.Date, true),
    ];

    /// <summary>The columns as nulls of their types, for the SELECT of newly quarantined rows.</summary>
    internal static string NullReplayColumns { get; } =
        $"CAST(NULL AS VARCHAR) AS {Outcome}, CAST(NULL AS TIMESTAMPTZ) AS {ReplayedAt}, CAST(NULL AS VARCHAR) AS {ReplayRunId}, " +
        $"CAST(NULL AS VARCHAR) AS {SilverPosition}, CAST(NULL AS DATE) AS {SilverEventDate}";
}
