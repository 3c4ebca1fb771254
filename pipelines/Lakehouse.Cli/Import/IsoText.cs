namespace Lakehouse.Cli.Import;

/// <summary>
/// Recognizes the ISO 8601 texts that an import turns into dates and timestamps: <c>yyyy-mm-dd</c>, and that date with
/// <c>T</c> or a space, <c>hh:mm[:ss[.ffffff]]</c> and an optional <c>Z</c> or <c>±hh[:mm]</c> offset. Each field must be in
/// range (month 1–12, a day of that month, hours below 24), so DuckDB's cast accepts every text recognized here; more than 6
/// digits of seconds (beyond a Delta timestamp's microseconds) is not recognized, and such a column stays a string.
/// </summary>
internal static class IsoText
{
    /// <summary>The longest text that <see cref="IsTimestamp"/> accepts.</summary>
    internal const int MaxLength = 32;

    internal static bool IsDate(ReadOnlySpan<byte> s) => s.Length == 10 && Date(s);

    internal static bool IsTimestamp(ReadOnlySpan<byte> s)
    {
        if (s.Length < 16 || s.Length > MaxLength || !Date(s) || s[10] is not ((byte)'T' or (byte)' ')) return false;
        if (!Two(s, 11, 23) || s[13] != (byte)':' || !Two(s, 14, 59)) return false;
        var i = 16;
        if (i < s.Length && s[i] == (byte)':')
        {
            if (!Two(s, i + 1, 59)) return false;
            i += 3;
            if (i < s.Length && s[i] == (byte)'.')
            {
                var digits = 0;
                for (i++; i < s.Length && (uint)(s[i] - '0') <= 9; i++) digits++;
                if (digits is 0 or > 6) return false;
            }
        }
        if (i == s.Length) return true;
        if (s[i] is (byte)'Z' or (byte)'z') return i + 1 == s.Length;
        if (s[i] is not ((byte)'+' or (byte)'-') || !Two(s, i + 1, 15)) return false;
        i += 3;
        if (i == s.Length) return true;
        if (s[i] == (byte)':') i++;
        return i + 2 == s.Length && Two(s, i, 59);
    }

    private static bool Date(ReadOnlySpan<byte> s)
    {
        if (s.Length < 10 || s[4] != (byte)'-' || s[7] != (byte)'-') return false;
        var year = 0;
        for (var i = 0; i < 4; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9) return false;
            year = (year * 10) + d;
        }
        if (year == 0 || !Two(s, 5, 12) || !Two(s, 8, 31)) return false;
        var month = ((s[5] - '0') * 10) + s[6] - '0';
        var day = ((s[8] - '0') * 10) + s[9] - '0';
        return month >= 1 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    /// <summary>Two digits at <paramref name="at"/> forming a number no larger than <paramref name="max"/>.</summary>
    private static bool Two(ReadOnlySpan<byte> s, int at, int max)
    {
        if (at + 2 > s.Length) return false;
        var a = s[at] - '0';
        var b = s[at + 1] - '0';
        return (uint)a <= 9 && (uint)b <= 9 && (a * 10) + b <= max;
    }
}
