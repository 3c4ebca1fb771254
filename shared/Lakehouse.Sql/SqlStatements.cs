namespace Lakehouse.Sql;

/// <summary>
/// The statements of a SQL text as the user wrote them, cut at each ';' that DuckDB's scanner reads as the end of a statement:
/// not one in a string ('…' with '' inside, E'…' with backslash escapes), a quoted name ("…"), a dollar-quoted text
/// ($$…$$, $tag$…$tag$) or a comment (-- to the line's end, /* … */ nested). DuckDB's own count is not the user's: it parses one
/// PIVOT without IN into two statements. Used only to word a refusal; the text that runs is always DuckDB's to parse.
/// </summary>
internal static class SqlStatements
{
    /// <summary>The statements of <paramref name="text"/>, each without its ';'; pieces of only blanks and comments are left out.</summary>
    internal static List<string> Split(string text)
    {
        var statements = new List<string>();
        var (start, i, code) = (0, 0, false);
        while (i < text.Length)
        {
            var c = text[i];
            if (c == ';')
            {
                if (code) statements.Add(text[start..i]);
                (start, i, code) = (i + 1, i + 1, false);
                continue;
            }
            if (c == '-' && At(text, i + 1, '-'))
            {
                var end = text.IndexOf('\n', i);
                i = end < 0 ? text.Length : end + 1;
                continue;
            }
            if (c == '/' && At(text, i + 1, '*'))
            {
                i = CommentEnd(text, i);
                continue;
            }
            code |= !char.IsWhiteSpace(c);
            i = c switch
            {
                '\'' => QuoteEnd(text, i, backslashEscapes: i > 0 && text[i - 1] is 'e' or 'E' && (i < 2 || !IsNameChar(text[i - 2]))),
                '"' => QuoteEnd(text, i, backslashEscapes: false),
                '$' when (i == 0 || !IsNameChar(text[i - 1])) && DollarTag(text, i) is { } tag => DollarEnd(text, i, tag),
                _ => i + 1,
            };
        }
        if (code) statements.Add(text[start..]);
        return statements;
    }

    private static bool At(string text, int i, char c) => i < text.Length && text[i] == c;

    /// <summary>A character that continues a name (a '$' does too: <c>a$b</c> is one name).</summary>
    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '$' || c >= '\u0080';

    /// <summary>Past the quote that ends the string or name opened at <paramref name="open"/>; a doubled quote is one quote inside it.</summary>
    private static int QuoteEnd(string text, int open, bool backslashEscapes)
    {
        var quote = text[open];
        for (var i = open + 1; i < text.Length; i++)
        {
            if (backslashEscapes && text[i] == '\\') i++;
            else if (text[i] == quote)
            {
                if (!At(text, i + 1, quote)) return i + 1;
                i++;
            }
        }
        return text.Length;
    }

    /// <summary>Past the <c>*/</c> that closes the comment opened at <paramref name="open"/>, comments inside it counted.</summary>
    private static int CommentEnd(string text, int open)
    {
        var depth = 0;
        for (var i = open; i < text.Length - 1; i++)
        {
            if (text[i] == '/' && text[i + 1] == '*')
            {
                depth++;
                i++;
            }
            else if (text[i] == '*' && text[i + 1] == '/')
            {
                i++;
                if (--depth == 0) return i + 1;
            }
        }
        return text.Length;
    }

    /// <summary>The <c>$tag$</c> (or <c>$$</c>) that opens a dollar-quoted text at <paramref name="open"/>, or null (<c>$1</c>, <c>$name</c> are parameters).</summary>
    private static string? DollarTag(string text, int open)
    {
        var i = open + 1;
        if (i < text.Length && (char.IsLetter(text[i]) || text[i] is '_' || text[i] >= '\u0080'))
            while (i < text.Length && IsNameChar(text[i]) && text[i] != '$') i++;
        return At(text, i, '$') ? text[open..(i + 1)] : null;
    }

    private static int DollarEnd(string text, int open, string tag)
    {
        var end = text.IndexOf(tag, open + tag.Length, StringComparison.Ordinal);
        return end < 0 ? text.Length : end + tag.Length;
    }
}
