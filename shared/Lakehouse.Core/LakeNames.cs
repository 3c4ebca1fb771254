namespace Lakehouse.Core;

/// <summary>
/// The names of a lake's tables, one rule for every part that takes them (the CLI's <c>layer.name</c>, SQL's
/// <c>bronze.x</c>, HTTP ingest's <c>/ingest/{dataset}</c>): a table is <c>&lt;lake&gt;/&lt;layer&gt;/&lt;name&gt;</c>.
/// </summary>
public static class LakeNames
{
    /// <summary>
    /// The longest table name: 128, the longest identifier SQL Server and Synapse take (a gold or silver table becomes a view
    /// of that name).
    /// </summary>
    public const int MaxTableNameLength = 128;

    /// <summary>The rule of <see cref="IsTableName"/> in words, for error messages.</summary>
    public const string TableNameRule = "1 to 128 letters, digits, '_' and '-'";

    /// <summary>The layers of a lake, in the order data flows through them.</summary>
    public static IReadOnlyList<string> Layers { get; } = ["bronze", "silver", "gold"];

    /// <summary>
    /// The tables the lake keeps for itself (<c>layer.name</c>): silver's quality counts, gold's runs and alert deliveries. They are
    /// the only table names starting with '_' the CLI and SQL take (<see cref="IsReserved"/>); <c>table list</c> shows them.
    /// </summary>
    public static IReadOnlyList<string> OwnTables { get; } = ["silver._quality", "gold._runs", "gold._alert_deliveries"];

    /// <summary>Why <see cref="IsReserved"/> refuses a name, for error messages.</summary>
    public const string ReservedRule =
        "table names cannot start with '_' (those are reserved for Delta's log and the lake's own folders and tables: silver._quality, gold._runs, gold._alert_deliveries)";

    /// <summary>
    /// True when <paramref name="name"/> under <paramref name="layer"/> starts with '_' and is not one of <see cref="OwnTables"/>:
    /// such names are Delta's (<c>_delta_log</c>) and the lake's (<c>_lakehouse</c>, <c>_lakehouse_staging</c>), never a table of
    /// their own (an import to <c>bronze._delta_log</c> made a table inside a folder named like a log, which <c>table list</c> showed).
    /// </summary>
    public static bool IsReserved(string layer, string name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(name);
        return name.StartsWith('_') && !OwnTables.Contains(layer + "." + name, StringComparer.Ordinal);
    }

    /// <summary>
    /// True when <paramref name="name"/> is a table name: 1 to <see cref="MaxTableNameLength"/> ASCII letters, digits, '_' and
    /// '-' (so it is one folder under its layer, never a path that leaves it).
    /// </summary>
    public static bool IsTableName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxTableNameLength) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-')) return false;
        }
        return true;
    }
}
