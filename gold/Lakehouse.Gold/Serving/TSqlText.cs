using System.Globalization;
using System.Text;
using Lakehouse.Core;

namespace Lakehouse.Gold.Serving;

/// <summary>
/// T-SQL text built from names and values that come from outside (table and column names from Delta logs, the database name
/// and storage URL from the command line): identifiers quoted as QUOTENAME does (<c>[a]]b]</c>), values as Unicode literals
/// (<c>N'it''s'</c>). Inside brackets and quotes <c>--</c>, <c>/*</c>, <c>*/</c> and <c>;</c> are plain characters, so a quoted
/// name or value cannot end its token early. What quoting cannot make safe is refused, naming the problem: control
/// characters (a line break would let a line <c>GO</c> split the batch: sqlcmd finds its batch separator anywhere), <c>$(</c>
/// (sqlcmd replaces <c>$(name)</c> with a scripting variable everywhere, inside quoted literals and bracketed names too), names over
/// 128 characters, names with white space at either end (SQL Server drops trailing spaces, so the object would get another name
/// than the one written) and lone UTF-16 surrogates.
/// </summary>
internal static class TSqlText
{
    /// <summary>The longest identifier SQL Server and Synapse accept (sysname).</summary>
    internal const int MaxNameLength = 128;

    /// <summary>Why <paramref name="name"/> cannot be a T-SQL identifier, or null when it can.</summary>
    internal static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) return "is empty";
        if (name.Length > MaxNameLength)
            return string.Create(CultureInfo.InvariantCulture, $"is {name.Length} characters long; SQL names have at most {MaxNameLength}");
        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
            return "begins or ends with white space (SQL Server drops trailing spaces from names, so the object would get another name)";
        return TextProblem(name);
    }

    /// <summary>Why <paramref name="value"/> cannot be put into a string literal of the script, or null when it can.</summary>
    internal static string? TextProblem(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
                return string.Create(CultureInfo.InvariantCulture, $"contains the control character U+{(int)c:X4} at position {i + 1} (line breaks, tabs and other control characters are refused)");
            if (c == '$' && i + 1 < value.Length && value[i + 1] == '(')
                return string.Create(CultureInfo.InvariantCulture, $"contains '$(' at position {i + 1}, which sqlcmd replaces with a scripting variable even inside quotes and brackets");
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                return string.Create(CultureInfo.InvariantCulture, $"contains a lone UTF-16 surrogate at position {i + 1}");
        }
        return null;
    }

    /// <summary><paramref name="name"/> quoted as an identifier: <c>[name]</c> with every <c>]</c> doubled.</summary>
    /// <exception cref="LakehouseException">The name cannot be an identifier (reason InvalidInput); the message says why.</exception>
    internal static string Identifier(string name, string what = "The name")
    {
        if (NameProblem(name) is { } problem) throw Invalid(what, name, problem);
        return "[" + name.Replace("]", "]]", StringComparison.Ordinal) + "]";
    }

    /// <summary><paramref name="value"/> as a Unicode string literal: <c>N'value'</c> with every <c>'</c> doubled.</summary>
    /// <exception cref="LakehouseException">The value holds a control character or a lone surrogate (reason InvalidInput).</exception>
    internal static string Literal(string value, string what = "The value")
    {
        if (TextProblem(value) is { } problem) throw Invalid(what, value, problem);
        return "N'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>The exception for a name or value that cannot go into the script.</summary>
    internal static LakehouseException Invalid(string what, string text, string problem) =>
        new(LakehouseErrorReason.InvalidInput, $"{what} '{Printable(text)}' cannot be used in the Synapse script: it {problem}.");

    /// <summary><paramref name="text"/> for an error message: control characters as <c>\uXXXX</c>, at most 200 characters.</summary>
    internal static string Printable(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, 200) + 8);
        foreach (var c in text.Length > 200 ? text[..200] : text)
        {
            if (char.IsControl(c)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else sb.Append(c);
        }
        if (text.Length > 200) sb.Append('…');
        return sb.ToString();
    }
}
