using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Lakehouse.Serve.Dashboard;

/// <summary>
/// The query string of one API request, checked: only the names the endpoint takes, each at most once, each value of its
/// kind and range. Every problem is collected with a message that names the parameter, what it takes and what was given
/// (shortened, control characters replaced); any problem makes the answer 400.
/// </summary>
internal sealed class QueryParameters
{
    /// <summary>The most a <c>limit</c> takes: one answer stays small enough for a page to draw.</summary>
    internal const int MaxLimit = 1000;

    private readonly IQueryCollection _query;
    private readonly List<string> _problems = [];

    private QueryParameters(IQueryCollection query) => _query = query;

    /// <summary>What was wrong, in the order found; empty when every parameter is right.</summary>
    internal IReadOnlyList<string> Problems => _problems;

    /// <summary>Checks that <paramref name="query"/> names only <paramref name="allowed"/>, each once.</summary>
    internal static QueryParameters Check(IQueryCollection query, params string[] allowed)
    {
        var parameters = new QueryParameters(query);
        foreach (var (name, values) in query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
                parameters._problems.Add(allowed.Length == 0
                    ? $"Unknown parameter '{Shown(name)}': this endpoint takes none."
                    : $"Unknown parameter '{Shown(name)}': this endpoint takes {string.Join(", ", allowed)}.");
            else if (values.Count > 1)
                parameters._problems.Add($"{name}: given {values.Count} times; give it once.");
        }
        return parameters;
    }

    /// <summary>A whole number from 1 to <paramref name="max"/>; <paramref name="fallback"/> when absent.</summary>
    internal int WholeNumber(string name, int fallback, int max)
    {
        if (Value(name) is not { } text) return fallback;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max) return n;
        _problems.Add($"{name}: '{Shown(text)}' is not a whole number from 1 to {max}.");
        return fallback;
    }

    /// <summary>A day written yyyy-MM-dd; null when absent.</summary>
    internal DateOnly? Day(string name)
    {
        if (Value(name) is not { } text) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) return day;
        _problems.Add($"{name}: '{Shown(text)}' is not a day written yyyy-MM-dd (e.g. 2026-11-01).");
        return null;
    }

    /// <summary>One of <paramref name="choices"/>; <paramref name="fallback"/> when absent.</summary>
    internal string? OneOf(string name, IReadOnlyList<string> choices, string? fallback = null)
    {
        if (Value(name) is not { } text) return fallback;
        if (choices.Contains(text, StringComparer.Ordinal)) return text;
        _problems.Add($"{name}: '{Shown(text)}' is not one of {string.Join(", ", choices)}.");
        return fallback;
    }

    /// <summary>A text of 1 to <paramref name="maxLength"/> characters without control characters; null when absent.</summary>
    internal string? Text(string name, int maxLength)
    {
        if (Value(name) is not { } text) return null;
        if (text.Length is > 0 && text.Length <= maxLength && !text.Any(char.IsControl)) return text;
        _problems.Add($"{name}: give 1 to {maxLength} characters without control characters (got {text.Length} characters).");
        return null;
    }

    private string? Value(string name) => _query.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

    /// <summary>A given value as a message may quote it: at most 64 characters, control characters as '?'.</summary>
    private static string Shown(string? text)
    {
        text ??= "";
        var cut = text.Length > 64 ? text[..64] + "…" : text;
        return new string([.. cut.Select(c => char.IsControl(c) ? '?' : c)]);
    }
}
