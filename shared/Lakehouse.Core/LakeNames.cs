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
