using System.Globalization;
using System.Text;

namespace Lakehouse.Preprocessing;

/// <summary>
/// The string trimming rule: strips leading and trailing whitespace, control and invisible format characters, keeps everything
/// inside, and turns an empty result into null. <see cref="Clean"/> applies it in C#; <see cref="SqlClean"/> writes the same rule
/// as a DuckDB SQL expression, so silver can apply it row by row in the engine with exactly the same result.
/// </summary>
/// <remarks>
/// The characters trimmed (<see cref="TrimmedCharacters"/>): every control character (U+0000–U+001F, U+007F–U+009F, so NUL,
/// tab, CR and LF), every Unicode white space (U+0020, U+00A0 no-break space, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
/// U+205F, U+3000) and the invisible format characters that arrive at the edges of copied text: U+180E, zero-width space,
/// non-joiner and joiner (U+200B–U+200D), word joiner (U+2060) and the byte order mark (U+FEFF). Characters inside the text are
/// never touched (a tab or NBSP between two words stays). A lone surrogate is not trimmed: it is data, kept as sent.
/// </remarks>
public static class TextCleaning
{
    private static readonly string Trimmed = BuildTrimmed();
    private static readonly System.Buffers.SearchValues<char> TrimmedSet = System.Buffers.SearchValues.Create(Trimmed);
    private static readonly string SqlCharacters = BuildSqlCharacters();

    /// <summary>The characters trimmed from both ends, in code point order.</summary>
    public static string TrimmedCharacters => Trimmed;

    /// <summary>
    /// Trims leading and trailing whitespace, control and invisible format characters (<see cref="TrimmedCharacters"/>).
    /// Returns null for null or when nothing is left; the same instance when there was nothing to trim. Never throws.
    /// </summary>
    public static string? Clean(string? s)
    {
        if (s is null) return null;
        var span = s.AsSpan();
        var start = span.IndexOfAnyExcept(TrimmedSet);
        if (start < 0) return null;
        var end = span.LastIndexOfAnyExcept(TrimmedSet);
        return start == 0 && end == s.Length - 1 ? s : s.Substring(start, end - start + 1);
    }

    /// <summary>True for a character <see cref="Clean"/> trims from the ends (whitespace, control, invisible format).</summary>
    internal static bool IsTrimmed(char c) => TrimmedSet.Contains(c);

    /// <summary>
    /// The DuckDB SQL expression that applies <see cref="Clean"/> to the VARCHAR <paramref name="sqlExpression"/> (a column
    /// reference or any expression; it is wrapped in parentheses): <c>nullif(trim((expr), characters), '')</c>, where the
    /// characters are written with <c>chr()</c> so the SQL text stays printable ASCII. NULL stays NULL.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="sqlExpression"/> is null or blank.</exception>
    public static string SqlClean(string sqlExpression)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sqlExpression);
        return "nullif(trim((" + sqlExpression + "), " + SqlCharacters + "), '')";
    }

    private static string BuildTrimmed()
    {
        var sb = new StringBuilder();
        for (var c = 0; c <= 0xFFFF; c++)
        {
            var ch = (char)c;
            if (char.IsControl(ch) || char.IsWhiteSpace(ch) || ch is '\u180E' or '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF')
                sb.Append(ch);
        }
        return sb.ToString();
    }

    private static string BuildSqlCharacters() =>
        "(" + string.Join(" || ", Trimmed.Select(c => "chr(" + ((int)c).ToString(CultureInfo.InvariantCulture) + ")")) + ")";
}
