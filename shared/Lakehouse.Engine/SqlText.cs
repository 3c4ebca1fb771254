namespace Lakehouse.Engine;

/// <summary>Quoting for SQL text built by the project: every identifier and literal goes through here.</summary>
public static class SqlText
{
    /// <summary>Quotes an identifier: <c>"a""b"</c>.</summary>
    public static string Identifier(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException("Identifiers cannot contain NUL.", nameof(name));
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>Quotes a string literal: <c>'it''s'</c>.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException("Literals cannot contain NUL.", nameof(value));
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>A list literal of strings: <c>['a', 'b']</c>.</summary>
    public static string LiteralList(IEnumerable<string> values) => "[" + string.Join(", ", values.Select(Literal)) + "]";
}
