using System.Globalization;
using Lakehouse.Core;

namespace Lakehouse.Sql;

/// <summary>
/// A lake table as SQL names it: <c>layer.name</c>, optionally at a version (<c>name@v3</c>) or at a point in time
/// (<c>name@2026-11-01T12:00:00Z</c>, the latest version committed at or before it). The time-travel forms need quotes in SQL,
/// because '@' is not part of a plain identifier: <c>SELECT * FROM silver."weblogs@v3"</c>.
/// </summary>
public sealed record LakeTableName(string Layer, string Name, long? Version, DateTimeOffset? Timestamp)
{
    /// <summary>The folder of the table under the lake root: <c>layer/name</c>.</summary>
    public string Folder => Layer + "/" + Name;

    private readonly string? _written;

    /// <summary>
    /// The name as the query writes it, which is what the view is called: <c>name</c>, <c>name@v3</c> or <c>name@&lt;time&gt;</c>
    /// (as written: <c>name@v03</c> or a time with an offset name the version they parse to, under their own text).
    /// </summary>
    public string SqlName
    {
        get => _written ?? (Version is { } v ? string.Create(CultureInfo.InvariantCulture, $"{Name}@v{v}")
            : Timestamp is { } t ? Name + "@" + t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
            : Name);
        init => _written = value;
    }

    /// <summary>
    /// Parses a reference found in a query; null when <paramref name="schema"/> is not a layer (a CTE, a DuckDB catalog table).
    /// </summary>
    /// <exception cref="LakehouseException">The layer is right but the name or its time-travel suffix is not (reason InvalidInput).</exception>
    public static LakeTableName? TryParse(string schema, string table)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(table);
        var layer = LakeNames.Layers.FirstOrDefault(l => string.Equals(l, schema, StringComparison.OrdinalIgnoreCase));
        if (layer is null) return null;
        var at = table.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? table : table[..at];
        if (!LakeNames.IsTableName(name))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"'{layer}.{table}' is not a lake table name: a name is {LakeNames.TableNameRule} (time travel: {layer}.\"name@v3\" or {layer}.\"name@2026-11-01T00:00:00Z\").");
        if (LakeNames.IsReserved(layer, name))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{layer}.{table}' is not a lake table name: {LakeNames.ReservedRule}.");
        if (at < 0) return new LakeTableName(layer, name, null, null);
        var suffix = table[(at + 1)..];
        if (suffix.Length > 1 && suffix[0] is 'v' or 'V' && long.TryParse(suffix.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            return new LakeTableName(layer, name, version, null) { SqlName = table };
        // ISO 8601 only (a date first): the invariant culture would also read 5/6/2024, month first.
        if (suffix.Length >= 10 && char.IsAsciiDigit(suffix[0]) && suffix[4] == '-' && suffix[7] == '-'
            && DateTimeOffset.TryParse(suffix, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return new LakeTableName(layer, name, null, time) { SqlName = table };
        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"'{layer}.\"{table}\"': after '@' comes a version (v3) or a time (2026-11-01T00:00:00Z), not '{suffix}'.");
    }

    /// <inheritdoc />
    public override string ToString() => Layer + "." + SqlName;
}
