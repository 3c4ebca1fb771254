using System.Globalization;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Preprocessing.Tests;

public sealed class TextCleaningTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    /// <summary>Input → what Clean returns (null for nothing left).</summary>
    public static TheoryData<string?, string?> Cases => new()
    {
        { null, null },
        { "", null },
        { " ", null },
        { "   \t\r\n  ", null },
        { "abc", "abc" },
        { "  abc  ", "abc" },
        { "\tabc\t", "abc" },
        { "\r\nabc\r\n", "abc" },
        { "abc\n", "abc" },
        { "\u00A0abc\u00A0", "abc" },          // no-break space
        { "\u2003abc\u2003", "abc" },          // em space
        { "\u3000abc\u3000", "abc" },          // ideographic space
        { "\u202Fabc\u205F", "abc" },          // narrow no-break space, medium mathematical space
        { "\u1680abc\u2028\u2029", "abc" },    // ogham space, line and paragraph separators
        { "\u200Babc\u200B", "abc" },          // zero-width space
        { "\uFEFFabc", "abc" },                // byte order mark
        { "\u200Cabc\u200D\u2060", "abc" },    // zero-width non-joiner, joiner, word joiner
        { "\u180Eabc", "abc" },                // Mongolian vowel separator
        { "\0abc\0", "abc" },                  // NUL
        { "\u0001\u001Fabc\u007F\u0085\u009F", "abc" }, // C0, DEL, NEL, C1
        { "\0", null },
        { "\u00A0\u2003\u200B\uFEFF\0", null },
        { "a b", "a b" },                      // inner whitespace kept
        { "  a \t b  ", "a \t b" },
        { "a\u00A0b", "a\u00A0b" },
        { "a\0b", "a\0b" },                    // inner NUL kept
        { "a\r\nb", "a\r\nb" },
        { " München ", "München" },
        { " 東京 ", "東京" },
        { "\u3000東京\u3000", "東京" },
        { " 😀 ", "😀" },                        // a surrogate pair is data
        { "e\u0301 ", "e\u0301" },             // a combining mark at the end is data
        { "\u00ADsoft\u00AD", "\u00ADsoft\u00AD" }, // soft hyphen: a format character, not trimmed
        { "x\u200D", "x" },
        { "'quoted'", "'quoted'" },
        { "\\ back \\", "\\ back \\" },
        { ".", "." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Clean_Table_ReturnsExpected(string? input, string? expected) => Assert.Equal(expected, TextCleaning.Clean(input));

    [Fact]
    public void Clean_NothingToTrim_ReturnsSameInstance()
    {
        var s = "already clean";
        Assert.Same(s, TextCleaning.Clean(s));
    }

    [Fact]
    public void Clean_HostileInput_NeverThrows()
    {
        Assert.Equal("\uD800", TextCleaning.Clean(" \uD800 "));        // a lone high surrogate is kept
        Assert.Equal("\uDC00x\uD800", TextCleaning.Clean("\uDC00x\uD800\0"));
        var big = new string(' ', 50_000) + "x" + new string('\0', 50_000);
        Assert.Equal("x", TextCleaning.Clean(big));
        Assert.Null(TextCleaning.Clean(new string('\u2003', 100_000)));
        var inner = "a" + new string(' ', 100_000) + "b";
        Assert.Same(inner, TextCleaning.Clean(inner));
    }

    [Fact]
    public void TrimmedCharacters_ListsTheDocumentedSet()
    {
        static IEnumerable<char> Range(int from, int to) => Enumerable.Range(from, to - from + 1).Select(c => (char)c);
        var expected = Range(0x00, 0x20).Concat(Range(0x7F, 0xA0)).Append('\u1680').Append('\u180E').Concat(Range(0x2000, 0x200D))
            .Concat(Range(0x2028, 0x2029)).Append('\u202F').Append('\u205F').Append('\u2060').Append('\u3000').Append('\uFEFF');
        Assert.Equal(string.Concat(expected), TextCleaning.TrimmedCharacters);
        Assert.Equal(90, TextCleaning.TrimmedCharacters.Length);
    }

    [Fact]
    public void SqlClean_WrapsExpression()
    {
        var sql = TextCleaning.SqlClean("\"country\"");
        Assert.StartsWith("nullif(CASE WHEN (\"country\") >= '!' AND (\"country\") < chr(127) AND substring((\"country\"), strlen((\"country\")), 1) BETWEEN '!' AND '~' THEN", sql, StringComparison.Ordinal);
        Assert.EndsWith(" ELSE (\"country\") END, '')", sql, StringComparison.Ordinal);
        Assert.All(sql, c => Assert.InRange(c, ' ', '~'));
        Assert.Throws<ArgumentException>(() => TextCleaning.SqlClean(" "));
    }

    [Fact]
    public void SqlClean_InDuckDb_MatchesCleanForEveryBmpCharacterAtBothEnds()
    {
        // Every code point of the Basic Multilingual Plane but the surrogates, alone and around a letter.
        var sql = $"SELECT i, {TextCleaning.SqlClean("a")}, {TextCleaning.SqlClean("b")} FROM (SELECT i, chr(i::INTEGER) AS a, chr(i::INTEGER) || 'x' || chr(i::INTEGER) AS b "
            + "FROM range(0, 65536) t(i) WHERE i NOT BETWEEN 55296 AND 57343) ORDER BY i";
        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query(sql);
        var seen = 0;
        var trimmed = 0;
        while (result.Read())
        {
            var c = (char)result.GetInt64(0);
            var alone = result.IsNull(1) ? null : result.GetString(1);
            var around = result.IsNull(2) ? null : result.GetString(2);
            Assert.True(TextCleaning.Clean(c.ToString()) == alone, $"U+{(int)c:X4} alone: DuckDB {Show(alone)}");
            Assert.True(TextCleaning.Clean(c + "x" + c) == around, $"U+{(int)c:X4} around x: DuckDB {Show(around)}");
            if (alone is null) trimmed++;
            seen++;
        }
        Assert.Equal(65536 - 2048, seen);
        Assert.Equal(TextCleaning.TrimmedCharacters.Length, trimmed);
    }

    [Fact]
    public void SqlClean_InDuckDb_MatchesCleanOnEveryCase()
    {
        var inputs = Cases.Select(row => (string?)row[0]).ToList();
        // Every trimmed character alone, before and after a letter, and between two.
        foreach (var c in TextCleaning.TrimmedCharacters)
            inputs.Add(c.ToString() + "x" + c.ToString() + "y" + c.ToString());
        Assert.True(inputs.Count >= 30);

        var values = string.Join(", ", inputs.Select((s, i) => $"({i.ToString(CultureInfo.InvariantCulture)}, {Literal(s)})"));
        var sql = $"SELECT i, {TextCleaning.SqlClean("s")} FROM (VALUES {values}) AS t(i, s) ORDER BY i";
        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query(sql);
        var seen = 0;
        while (result.Read())
        {
            var i = (int)result.GetInt64(0);
            var fromSql = result.IsNull(1) ? null : result.GetString(1);
            Assert.True(TextCleaning.Clean(inputs[i]) == fromSql, $"case {i} ({Show(inputs[i])}): C# {Show(TextCleaning.Clean(inputs[i]))}, DuckDB {Show(fromSql)}");
            seen++;
        }
        Assert.Equal(inputs.Count, seen);
    }

    /// <summary>A SQL literal for <paramref name="s"/> in printable ASCII: other characters go through chr().</summary>
    private static string Literal(string? s)
    {
        if (s is null) return "CAST(NULL AS VARCHAR)";
        if (s.Length == 0) return "''";
        var parts = new List<string>();
        var run = new StringBuilder();
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value is >= ' ' and <= '~')
            {
                run.Append(rune.Value == '\'' ? "''" : ((char)rune.Value).ToString());
                continue;
            }
            if (run.Length > 0) parts.Add("'" + run + "'");
            run.Clear();
            parts.Add("chr(" + rune.Value.ToString(CultureInfo.InvariantCulture) + ")");
        }
        if (run.Length > 0) parts.Add("'" + run + "'");
        return "(" + string.Join(" || ", parts) + ")";
    }

    private static string Show(string? s) =>
        s is null ? "null" : "\"" + string.Concat(s.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}")) + "\"";
}
