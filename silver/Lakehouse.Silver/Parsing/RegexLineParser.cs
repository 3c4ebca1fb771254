using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lakehouse.Core;
using Lakehouse.Datasets;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Lines parsed with a definition's regular expression (format <c>regex</c>): each named group fills the column of its name,
/// converted strictly to the column's type. The expression is compiled once, culture-invariant, with a match timeout so a
/// line that makes it backtrack without end costs at most that long (the line is refused: "regex timed out").
/// </summary>
/// <remarks>
/// A group that did not take part in the match is null, and so is an empty group of a column that is not a string. integer:
/// an optional sign and digits, 64-bit (<c>12x</c>, <c>1.0</c>, <c> 1</c> are errors); number: a decimal or exponent form,
/// finite (<c>1e999</c>, <c>NaN</c>, <c>Infinity</c> are errors; <c>-0</c> stays -0); boolean: <c>true</c> or <c>false</c> in any
/// case (not 1/0 or yes/no); timestamp: the definition's <c>timestamp_format</c> (see <see cref="TimestampFormat"/>), ISO-8601
/// by default, converted to UTC, a text without a zone being UTC; string[]: the group split at commas, each item trimmed of
/// spaces, empty items dropped; object: the group when it is valid JSON.
/// </remarks>
internal sealed class RegexLineParser : ITextLineParser
{
    /// <summary>How long one line may take to match: generous for any real pattern (a GC pause must not refuse a good line), short for a run.</summary>
    internal static readonly TimeSpan DefaultMatchTimeout = TimeSpan.FromSeconds(1);

    private const string Prefix = "regex: ";

    private readonly Regex _regex;
    private readonly DatasetColumn[] _columns;
    private readonly int[] _groups;
    private readonly TimestampFormat _timestamps;

    /// <summary>Compiles <paramref name="pattern"/> for <paramref name="columns"/>.</summary>
    /// <exception cref="LakehouseException">
    /// (InvalidInput) The pattern is not a regular expression, a column has no group of its name, or the timestamp format has an
    /// unknown directive.
    /// </exception>
    internal RegexLineParser(string dataset, IReadOnlyList<DatasetColumn> columns, string pattern, string? timestampFormat, TimeSpan? matchTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(pattern);
        MatchTimeout = matchTimeout ?? DefaultMatchTimeout;
        try
        {
            _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset '{dataset}': parse.pattern is not a valid regular expression: {e.Message.TrimEnd('.')}.", e);
        }
        _columns = [.. columns];
        _groups = new int[_columns.Length];
        for (var i = 0; i < _columns.Length; i++)
        {
            _groups[i] = _regex.GroupNumberFromName(_columns[i].Name);
            if (_groups[i] < 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset '{dataset}': column '{_columns[i].Name}' has no named group (?<{_columns[i].Name}>…) in parse.pattern.");
        }
        if (timestampFormat is null) _timestamps = TimestampFormat.Iso8601;
        else if (TimestampFormat.TryCompile(timestampFormat, out var compiled, out var problem)) _timestamps = compiled!;
        else throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Dataset '{dataset}': parse.timestamp_format {problem}.");
    }

    /// <summary>The longest one line may take to match.</summary>
    internal TimeSpan MatchTimeout { get; }

    /// <inheritdoc/>
    public bool TryParse(ReadOnlySpan<byte> line, object?[] values, out string? error)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != _columns.Length)
            throw new ArgumentException($"{values.Length} value slots for {_columns.Length} columns.", nameof(values));
        line = TextLine.TrimEnd(line);
        error = TextLine.Check(line) is { } bad ? Prefix + bad : Parse(line, values);
        if (error is null) return true;
        Array.Clear(values);
        return false;
    }

    private string? Parse(ReadOnlySpan<byte> line, object?[] values)
    {
        var text = Encoding.UTF8.GetString(line);
        Match match;
        try
        {
            match = _regex.Match(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return $"regex timed out: the pattern took more than {MatchTimeout.TotalMilliseconds:0} ms on this {line.Length}-byte line";
        }
        if (!match.Success) return $"{Prefix}the line does not match parse.pattern";
        for (var i = 0; i < _columns.Length; i++)
        {
            var group = match.Groups[_groups[i]];
            if (!group.Success)
            {
                values[i] = null;
                continue;
            }
            var column = _columns[i];
            if (!TryConvert(group.ValueSpan, column.Type, _timestamps, out values[i], out var problem))
            {
                var at = Encoding.UTF8.GetByteCount(text.AsSpan(0, group.Index));
                return $"{Prefix}column '{column.Name}' ({column.TypeName}): {problem} (byte {at})";
            }
        }
        return null;
    }

    /// <summary>
    /// The value of <paramref name="text"/> as <paramref name="type"/> (null for an empty text of a type other than string);
    /// false with the problem, e.g. <c>'12x' is not an integer</c>.
    /// </summary>
    internal static bool TryConvert(ReadOnlySpan<char> text, DatasetColumnType type, TimestampFormat timestamps, out object? value, out string? problem)
    {
        value = null;
        problem = null;
        if (type == DatasetColumnType.String)
        {
            value = text.ToString();
            return true;
        }
        if (text.IsEmpty) return true;
        switch (type)
        {
            case DatasetColumnType.Integer:
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    value = integer;
                    return true;
                }
                problem = IsInteger(text) ? $"'{TextLine.Quote(text)}' is out of range for a 64-bit integer" : $"'{TextLine.Quote(text)}' is not an integer";
                return false;
            case DatasetColumnType.Number:
                if (IsDecimal(text) && double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                        CultureInfo.InvariantCulture, out var number))
                {
                    if (double.IsFinite(number))
                    {
                        value = number;
                        return true;
                    }
                    problem = $"'{TextLine.Quote(text)}' is too large for a 64-bit number";
                    return false;
                }
                problem = $"'{TextLine.Quote(text)}' is not a number";
                return false;
            case DatasetColumnType.Boolean:
                if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) value = true;
                else if (text.Equals("false", StringComparison.OrdinalIgnoreCase)) value = false;
                else problem = $"'{TextLine.Quote(text)}' is not true or false";
                return problem is null;
            case DatasetColumnType.Timestamp:
                if (timestamps.TryParse(text, out var utc, out problem)) value = utc;
                return problem is null;
            case DatasetColumnType.StringList:
                var items = new List<string>();
                foreach (var range in text.Split(','))
                {
                    var item = text[range].Trim(' ');
                    if (!item.IsEmpty) items.Add(item.ToString());
                }
                value = items.ToArray();
                return true;
            case DatasetColumnType.Object:
                var json = text.ToString();
                try
                {
                    using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
                }
                catch (JsonException e)
                {
                    problem = $"'{TextLine.Quote(text)}' is not JSON: {e.Message}";
                    return false;
                }
                value = json;
                return true;
            default:
                problem = $"the type {DatasetColumnTypes.NameOf(type)} is not supported";
                return false;
        }
    }

    private static bool IsInteger(ReadOnlySpan<char> s)
    {
        if (s.Length > 0 && s[0] is '-' or '+') s = s[1..];
        return !s.IsEmpty && s.IndexOfAnyExceptInRange('0', '9') < 0;
    }

    /// <summary>[sign] digits [. digits] [e [sign] digits], with a digit before or after the point: what a log writes, not 'NaN' or '∞'.</summary>
    private static bool IsDecimal(ReadOnlySpan<char> s)
    {
        var i = 0;
        if (i < s.Length && s[i] is '-' or '+') i++;
        var digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; digits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; digits++; }
        }
        if (digits == 0) return false;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '-' or '+') i++;
            var exponent = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; exponent++; }
            if (exponent == 0) return false;
        }
        return i == s.Length;
    }
}
