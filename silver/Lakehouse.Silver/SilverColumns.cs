using Lakehouse.Datasets;

namespace Lakehouse.Silver;

/// <summary>A column of a silver or quarantine table: its name and DuckDB type.</summary>
internal sealed record SilverColumn(string Name, string DuckType);

/// <summary>The DuckDB types of dataset columns, and the columns silver adds to every dataset.</summary>
internal static class SilverColumns
{
    /// <summary>The partition column of silver and quarantine tables: the event's UTC date.</summary>
    internal const string EventDate = "event_date";

    /// <summary>The event's UTC hour, 0–23.</summary>
    internal const string EventHour = "event_hour";

    /// <summary>When bronze landed the event (the copy silver kept).</summary>
    internal const string IngestTime = "ingest_time";

    /// <summary>Where the kept copy sits in bronze: <c>kind|source|partition|offset|line</c>, the id of datasets identified by position.</summary>
    internal const string BronzePosition = "bronze_position";

    internal static string DuckType(DatasetColumnType type) => type switch
    {
        DatasetColumnType.String => "VARCHAR",
        DatasetColumnType.Integer => "BIGINT",
        DatasetColumnType.Number => "DOUBLE",
        DatasetColumnType.Boolean => "BOOLEAN",
        DatasetColumnType.Timestamp => "TIMESTAMPTZ",
        DatasetColumnType.Object => "VARCHAR",
        DatasetColumnType.StringList => "VARCHAR[]",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
    };

    /// <summary>The columns of the id: the definition's, or <see cref="BronzePosition"/> for datasets identified by position.</summary>
    internal static IReadOnlyList<string> IdColumns(DatasetDefinition definition) =>
        definition.Id.IsSourcePosition ? [BronzePosition] : definition.Id.Columns;
}
