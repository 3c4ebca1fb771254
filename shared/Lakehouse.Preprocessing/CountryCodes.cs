using System.Collections.Frozen;
using System.Text;

namespace Lakehouse.Preprocessing;

/// <summary>
/// Country → ISO 3166-1 alpha-2 code, from an embedded table of all 249 assigned codes (InvariantGlobalization leaves no
/// RegionInfo data). A pure, thread-safe function of its input; never throws.
/// </summary>
/// <remarks>
/// <para>The text is trimmed as <see cref="TextCleaning.Clean"/> does, then matched in this order: an alpha-2 code in any case
/// (<c>us</c> → <c>US</c>); an alpha-3 code in any case (<c>DEU</c> → <c>DE</c>); the English short name or a common alias
/// (<c>Germany</c>, <c>United States of America</c>, <c>UK</c>, <c>U.S.A.</c>, <c>Great Britain</c>, <c>England</c>,
/// <c>Holland</c>, <c>South Korea</c>, <c>Korea, Republic of</c>, <c>Ivory Coast</c>, <c>Türkiye</c>, <c>Turkey</c>, …).
/// Names are compared on their letters and digits only, ignoring case, accents on Latin letters (<c>Cote d'Ivoire</c> =
/// <c>Côte d’Ivoire</c>), punctuation, spaces and a leading "the", with <c>&amp;</c> read as "and" (<c>U S</c> = <c>U.S.</c>,
/// <c>Trinidad &amp; Tobago</c> = <c>Trinidad and Tobago</c>).</para>
/// <para>Anything else is unknown and gives null, silver keeping the value as sent beside it: codes that are not assigned
/// (<c>XK</c> for Kosovo, <c>EU</c>, <c>EL</c>), numeric codes (<c>840</c>), names in other languages than the few aliases
/// (<c>Deutschland</c>, <c>España</c>, <c>Brasil</c>, … are aliases), and the long official forms ("Republic of Austria").</para>
/// </remarks>
public static class CountryCodes
{
    private static readonly System.Buffers.SearchValues<char> AsciiLetters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly Table Data = Load();

    /// <summary>The ISO 3166-1 alpha-2 code for <paramref name="country"/>, upper case; null when it is unknown, null or blank.</summary>
    public static string? Normalize(string? country)
    {
        var text = TextCleaning.Clean(country);
        if (text is null) return null;
        if (text.Length is 2 or 3 && !text.AsSpan().ContainsAnyExcept(AsciiLetters))
        {
            var code = text.ToUpperInvariant();
            if (text.Length == 2 && Data.Alpha2.TryGetValue(code, out var alpha2)) return alpha2;
            if (text.Length == 3 && Data.Alpha3.TryGetValue(code, out var fromAlpha3)) return fromAlpha3;
        }
        return Data.Names.GetValueOrDefault(NameKey(text));
    }

    /// <summary>Every assigned alpha-2 code with its alpha-3 code, in the table's order (by alpha-2).</summary>
    internal static IReadOnlyList<(string Alpha2, string Alpha3)> Codes => Data.Codes;

    /// <summary>A name's letters and digits, lower case, Latin accents folded, <c>&amp;</c> read as "and", a leading "the" dropped.</summary>
    internal static string NameKey(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (c == '&') sb.Append("and");
            if (!char.IsLetterOrDigit(c)) continue;
            var lower = char.ToLowerInvariant(c);
            sb.Append(lower < 0x80 ? lower.ToString() : Fold(lower));
        }
        if (sb.Length > 3 && sb[0] == 't' && sb[1] == 'h' && sb[2] == 'e') sb.Remove(0, 3);
        return sb.ToString();
    }

    private static string Fold(char c) => c switch
    {
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'ā' or 'ă' or 'ą' => "a",
        'ç' or 'ć' or 'č' => "c",
        'ď' or 'đ' => "d",
        'è' or 'é' or 'ê' or 'ë' or 'ē' or 'ę' or 'ě' => "e",
        'ğ' => "g",
        'ì' or 'í' or 'î' or 'ï' or 'ī' or 'ı' => "i",
        'ł' => "l",
        'ñ' or 'ń' or 'ň' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'ō' or 'ő' => "o",
        'ř' => "r",
        'ś' or 'š' or 'ş' or 'ș' => "s",
        'ť' or 'ţ' or 'ț' => "t",
        'ù' or 'ú' or 'û' or 'ü' or 'ū' or 'ů' or 'ű' => "u",
        'ý' or 'ÿ' => "y",
        'ź' or 'ż' or 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => c.ToString(),
    };

    private sealed record Table(IReadOnlyList<(string Alpha2, string Alpha3)> Codes, FrozenSet<string> Alpha2, FrozenDictionary<string, string> Alpha3, FrozenDictionary<string, string> Names);

    private static Table Load()
    {
        using var stream = typeof(CountryCodes).Assembly.GetManifestResourceStream("Lakehouse.Preprocessing.countries.csv")
            ?? throw new InvalidOperationException("The embedded ISO 3166-1 table is missing from the assembly.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var records = Csv.Read(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        var codes = new List<(string, string)>();
        var alpha2 = new List<string>();
        var alpha3 = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in records.Skip(1))
        {
            var (code2, code3) = (record.Fields[0], record.Fields[1]);
            codes.Add((code2, code3));
            alpha2.Add(code2);
            alpha3.Add(code3, code2);
            foreach (var name in record.Fields[3].Split('|', StringSplitOptions.RemoveEmptyEntries).Prepend(record.Fields[2]))
            {
                var key = NameKey(name);
                if (names.TryGetValue(key, out var other) && other != code2)
                    throw new InvalidOperationException($"The embedded ISO 3166-1 table gives '{name}' to both {other} and {code2}.");
                names[key] = code2;
            }
        }
        return new Table(codes, alpha2.ToFrozenSet(StringComparer.Ordinal), alpha3.ToFrozenDictionary(StringComparer.Ordinal), names.ToFrozenDictionary(StringComparer.Ordinal));
    }
}
