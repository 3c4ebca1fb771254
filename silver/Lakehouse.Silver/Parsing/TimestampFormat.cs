using System.Globalization;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// How the text of a timestamp becomes a UTC instant: ISO-8601 by default, or a strptime-style format (a definition's
/// <c>parse.timestamp_format</c>). The rule for a timestamp without a zone (no <c>%z</c>/<c>%Z</c> in the format, or an
/// ISO-8601 text without <c>Z</c> or an offset): it is UTC. Immutable; thread-safe.
/// </summary>
/// <remarks>
/// Directives: <c>%Y</c> year (4 digits), <c>%y</c> year (2 digits: 69–99 are 19xx, 00–68 20xx), <c>%m</c> month, <c>%d</c>
/// day, <c>%e</c> day (may start with a space), <c>%H</c> hour (00–23), <c>%M</c> minute, <c>%S</c> second (1 or 2 digits
/// each), <c>%f</c> fraction of a second (1–9 digits, kept to 100 ns), <c>%z</c> offset (<c>Z</c>, <c>±hh</c>, <c>±hhmm</c>,
/// <c>±hh:mm</c>), <c>%Z</c> zone name (only <c>UTC</c>, <c>GMT</c>, <c>Z</c>: other names are ambiguous), <c>%b</c>/<c>%h</c>/<c>%B</c>
/// month name (English, abbreviated or full, any case), <c>%a</c>/<c>%A</c> weekday name (checked to be one, not against the
/// date), <c>%s</c> seconds since 1970-01-01 UTC, <c>%T</c> = <c>%H:%M:%S</c>, <c>%F</c> = <c>%Y-%m-%d</c>, <c>%%</c> a '%'.
/// Whitespace in the format matches any run of whitespace (also none), as in strptime; every other character matches itself.
/// The whole text must be consumed. A format needs a year, month and day, or <c>%s</c>.
/// </remarks>
internal sealed class TimestampFormat
{
    private static readonly string[] MonthNames = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    private static readonly string[] DayNames = CultureInfo.InvariantCulture.DateTimeFormat.DayNames;

    private readonly Step[] _steps; // empty for ISO-8601

    private TimestampFormat(string? text, Step[] steps)
    {
        Text = text;
        _steps = steps;
    }

    /// <summary>The default: ISO-8601 (<c>2024-05-01T12:00:00Z</c>, <c>2024-05-01 12:00:00.123+02:00</c>, <c>2024-05-01</c>).</summary>
    internal static TimestampFormat Iso8601 { get; } = new(null, []);

    /// <summary>The format as written; null for ISO-8601.</summary>
    internal string? Text { get; }

    private enum Kind : byte
    {
        Literal, Whitespace, Year4, Year2, Month, Day, DaySpace, Hour, Minute, Second, Fraction, Offset, ZoneName, MonthName, DayName, Epoch,
    }

    private readonly record struct Step(Kind Kind, char Literal = '\0');

    /// <summary>Compiles a strptime-style <paramref name="format"/>; false with the problem for an unknown directive or a format that cannot fix a date.</summary>
    internal static bool TryCompile(string format, out TimestampFormat? compiled, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(format);
        compiled = null;
        var steps = new List<Step>();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (char.IsWhiteSpace(c))
            {
                if (steps.Count == 0 || steps[^1].Kind != Kind.Whitespace) steps.Add(new Step(Kind.Whitespace));
                continue;
            }
            if (c != '%')
            {
                steps.Add(new Step(Kind.Literal, c));
                continue;
            }
            if (++i == format.Length)
            {
                problem = $"'{format}' ends with a lone '%' (use %% for a percent sign)";
                return false;
            }
            switch (format[i])
            {
                case 'Y': steps.Add(new Step(Kind.Year4)); break;
                case 'y': steps.Add(new Step(Kind.Year2)); break;
                case 'm': steps.Add(new Step(Kind.Month)); break;
                case 'd': steps.Add(new Step(Kind.Day)); break;
                case 'e': steps.Add(new Step(Kind.DaySpace)); break;
                case 'H': steps.Add(new Step(Kind.Hour)); break;
                case 'M': steps.Add(new Step(Kind.Minute)); break;
                case 'S': steps.Add(new Step(Kind.Second)); break;
                case 'f': steps.Add(new Step(Kind.Fraction)); break;
                case 'z': steps.Add(new Step(Kind.Offset)); break;
                case 'Z': steps.Add(new Step(Kind.ZoneName)); break;
                case 'b' or 'h' or 'B': steps.Add(new Step(Kind.MonthName)); break;
                case 'a' or 'A': steps.Add(new Step(Kind.DayName)); break;
                case 's': steps.Add(new Step(Kind.Epoch)); break;
                case 'T': steps.AddRange([new(Kind.Hour), new(Kind.Literal, ':'), new(Kind.Minute), new(Kind.Literal, ':'), new(Kind.Second)]); break;
                case 'F': steps.AddRange([new(Kind.Year4), new(Kind.Literal, '-'), new(Kind.Month), new(Kind.Literal, '-'), new(Kind.Day)]); break;
                case '%': steps.Add(new Step(Kind.Literal, '%')); break;
                default:
                    problem = $"'{format}' has the directive %{format[i]}, which is not supported (use %Y %y %m %d %e %H %M %S %f %z %Z %b %B %a %s %T %F %%)";
                    return false;
            }
        }
        bool Has(params Kind[] kinds) => steps.Any(s => kinds.Contains(s.Kind));
        if (!Has(Kind.Epoch) && !(Has(Kind.Year4, Kind.Year2) && Has(Kind.Month, Kind.MonthName) && Has(Kind.Day, Kind.DaySpace)))
        {
            problem = $"'{format}' does not fix a date: it needs a year (%Y or %y), a month (%m or %b) and a day (%d or %e), or %s";
            return false;
        }
        compiled = new TimestampFormat(format, [.. steps]);
        problem = null;
        return true;
    }

    /// <summary>Parses <paramref name="text"/> to a UTC instant (Kind Utc); false with the problem and its character position.</summary>
    internal bool TryParse(ReadOnlySpan<char> text, out DateTime utc, out string? problem) =>
        Text is null ? TryParseIso8601(text, out utc, out problem) : TryParseFormat(text, out utc, out problem);

    /// <summary>
    /// ISO-8601 as logs write it: <c>YYYY-MM-DD</c>, then optionally <c>T</c> (or a space) and <c>hh:mm[:ss[.f…]]</c>, then
    /// optionally <c>Z</c> or an offset <c>±hh:mm</c>, <c>±hhmm</c>, <c>±hh</c> (a space before the offset is allowed). A date
    /// alone is midnight; a time without a zone is UTC. The minus of an offset may be U+2212 unless <paramref name="asciiMinus"/>.
    /// </summary>
    internal static bool TryParseIso8601(ReadOnlySpan<char> text, out DateTime utc, out string? problem, bool asciiMinus = false)
    {
        utc = default;
        var p = new Cursor(text) { AsciiMinus = asciiMinus };
        if (!p.Digits(4, 4, out var year) || !p.Char('-') || !p.Digits(2, 2, out var month) || !p.Char('-') || !p.Digits(2, 2, out var day))
            return p.Fail("ISO-8601", "YYYY-MM-DD", out problem);
        int hour = 0, minute = 0, second = 0;
        long fraction = 0;
        var offset = 0;
        if (!p.AtEnd)
        {
            if (!p.Char('T') && !p.Char('t') && !p.Char(' ')) return p.Fail("ISO-8601", "'T' before the time", out problem);
            if (!p.Digits(2, 2, out hour) || !p.Char(':') || !p.Digits(2, 2, out minute)) return p.Fail("ISO-8601", "hh:mm", out problem);
            if (p.Char(':'))
            {
                if (!p.Digits(2, 2, out second)) return p.Fail("ISO-8601", "two digits of seconds", out problem);
                if ((p.Char('.') || p.Char(',')) && !p.Fraction(int.MaxValue, out fraction)) return p.Fail("ISO-8601", "digits of a fraction", out problem);
            }
            if (!p.AtEnd)
            {
                p.Char(' ');
                if (!p.Char('Z') && !p.Char('z') && !p.Offset(out offset)) return p.Fail("ISO-8601", "Z or an offset ±hh:mm", out problem);
            }
        }
        if (!p.AtEnd) return p.Fail("ISO-8601", "the end of the timestamp", out problem);
        return Combine(text, year, month, day, hour, minute, second, fraction, offset, out utc, out problem);
    }

    private bool TryParseFormat(ReadOnlySpan<char> text, out DateTime utc, out string? problem)
    {
        utc = default;
        var p = new Cursor(text);
        int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, offset = 0;
        long fraction = 0;
        long? epoch = null;
        var what = $"'{Text}'";
        foreach (var step in _steps)
        {
            switch (step.Kind)
            {
                case Kind.Literal:
                    if (!p.Char(step.Literal)) return p.Fail(what, $"'{step.Literal}'", out problem);
                    break;
                case Kind.Whitespace:
                    p.Whitespace();
                    break;
                case Kind.Year4:
                    if (!p.Digits(4, 4, out year)) return p.Fail(what, "a 4-digit year (%Y)", out problem);
                    break;
                case Kind.Year2:
                    if (!p.Digits(2, 2, out year)) return p.Fail(what, "a 2-digit year (%y)", out problem);
                    year += year >= 69 ? 1900 : 2000;
                    break;
                case Kind.Month:
                    if (!p.Digits(1, 2, out month)) return p.Fail(what, "a month (%m)", out problem);
                    break;
                case Kind.DaySpace:
                    p.Char(' ');
                    if (!p.Digits(1, 2, out day)) return p.Fail(what, "a day (%e)", out problem);
                    break;
                case Kind.Day:
                    if (!p.Digits(1, 2, out day)) return p.Fail(what, "a day (%d)", out problem);
                    break;
                case Kind.Hour:
                    if (!p.Digits(1, 2, out hour)) return p.Fail(what, "an hour (%H)", out problem);
                    break;
                case Kind.Minute:
                    if (!p.Digits(1, 2, out minute)) return p.Fail(what, "minutes (%M)", out problem);
                    break;
                case Kind.Second:
                    if (!p.Digits(1, 2, out second)) return p.Fail(what, "seconds (%S)", out problem);
                    break;
                case Kind.Fraction:
                    if (!p.Fraction(9, out fraction)) return p.Fail(what, "1 to 9 digits of a fraction (%f)", out problem);
                    break;
                case Kind.Offset:
                    if (!p.Char('Z') && !p.Char('z') && !p.Offset(out offset)) return p.Fail(what, "an offset such as +0200 or Z (%z)", out problem);
                    break;
                case Kind.ZoneName:
                    if (!p.Word(["UTC", "GMT", "Z"], out _)) return p.Fail(what, "the zone name UTC, GMT or Z (%Z; for other zones log an offset and use %z)", out problem);
                    break;
                case Kind.MonthName:
                    if (!p.Word(MonthNames, out var m)) return p.Fail(what, "an English month name (%b)", out problem);
                    month = m + 1;
                    break;
                case Kind.DayName:
                    if (!p.Word(DayNames, out _)) return p.Fail(what, "an English weekday name (%a)", out problem);
                    break;
                case Kind.Epoch:
                    var negative = p.Char('-');
                    if (!p.LongDigits(1, 12, out var seconds)) return p.Fail(what, "seconds since 1970 (%s)", out problem);
                    epoch = negative ? -seconds : seconds;
                    break;
            }
        }
        if (!p.AtEnd) return p.Fail(what, "the end of the timestamp", out problem);
        if (epoch is { } e)
        {
            // %s is an instant: a zone, if any, does not move it. Range: what DateTime holds.
            var ticks = e is >= -62_135_596_800L and <= 253_402_300_799L ? DateTime.UnixEpoch.Ticks + (e * TimeSpan.TicksPerSecond) + fraction : -1;
            if (ticks < 0 || ticks > DateTime.MaxValue.Ticks)
            {
                problem = $"'{TextLine.Quote(text)}' is outside the years 1 to 9999";
                return false;
            }
            utc = new DateTime(ticks, DateTimeKind.Utc);
            problem = null;
            return true;
        }
        return Combine(text, year, month, day, hour, minute, second, fraction, offset, out utc, out problem);
    }

    /// <summary>The UTC instant of a local date and time at <paramref name="offsetMinutes"/>; false when a part is out of range.</summary>
    private static bool Combine(ReadOnlySpan<char> text, int year, int month, int day, int hour, int minute, int second, long fractionTicks,
        int offsetMinutes, out DateTime utc, out string? problem)
    {
        var bad = ToUtc(year, month, day, hour, minute, second, fractionTicks, offsetMinutes, out utc);
        problem = bad is null ? null : $"'{TextLine.Quote(text)}' {bad}";
        return bad is null;
    }

    /// <summary>
    /// The UTC instant of a local date and time at <paramref name="offsetMinutes"/> east of UTC; null, or what is wrong (to follow
    /// the quoted timestamp in a message): <c>has day 31 of 2000-02, which does not exist</c>.
    /// </summary>
    internal static string? ToUtc(int year, int month, int day, int hour, int minute, int second, long fractionTicks, int offsetMinutes, out DateTime utc)
    {
        utc = default;
        var bad = year is < 1 or > 9999 ? $"year {year}"
            : month is < 1 or > 12 ? $"month {month}"
            : day < 1 || day > DateTime.DaysInMonth(year, month) ? $"day {day} of {year:D4}-{month:D2}"
            : hour > 23 ? $"hour {hour}"
            : minute > 59 ? $"minute {minute}"
            : second > 59 ? $"second {second}"
            : null;
        if (bad is not null) return $"has {bad}, which does not exist";
        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + fractionTicks - (offsetMinutes * TimeSpan.TicksPerMinute);
        if (ticks < 0 || ticks > DateTime.MaxValue.Ticks) return "is outside the years 1 to 9999 in UTC";
        utc = new DateTime(ticks, DateTimeKind.Utc);
        return null;
    }

    /// <summary>Reads a timestamp's text left to right.</summary>
    private ref struct Cursor(ReadOnlySpan<char> text)
    {
        private readonly ReadOnlySpan<char> _text = text;

        internal int Position { get; private set; }

        /// <summary>True when an offset's minus is '-' only, not also U+2212 (MINUS SIGN).</summary>
        internal bool AsciiMinus { get; init; }

        internal readonly bool AtEnd => Position == _text.Length;

        internal bool Char(char c)
        {
            if (Position < _text.Length && _text[Position] == c)
            {
                Position++;
                return true;
            }
            return false;
        }

        internal void Whitespace()
        {
            while (Position < _text.Length && char.IsWhiteSpace(_text[Position])) Position++;
        }

        internal bool Digits(int min, int max, out int value)
        {
            var ok = LongDigits(min, max, out var v);
            value = (int)v;
            return ok;
        }

        internal bool LongDigits(int min, int max, out long value)
        {
            value = 0;
            var n = 0;
            while (n < max && Position + n < _text.Length && char.IsAsciiDigit(_text[Position + n]))
            {
                value = (value * 10) + (_text[Position + n] - '0');
                n++;
            }
            if (n < min) return false;
            Position += n;
            return true;
        }

        /// <summary>1 to <paramref name="max"/> digits after the point, as ticks (digits past the seventh are dropped).</summary>
        internal bool Fraction(int max, out long ticks)
        {
            ticks = 0;
            var n = 0;
            while (n < max && Position < _text.Length && char.IsAsciiDigit(_text[Position]))
            {
                if (n < 7) ticks = (ticks * 10) + (_text[Position] - '0');
                n++;
                Position++;
            }
            for (var k = n; k < 7; k++) ticks *= 10;
            return n > 0;
        }

        /// <summary>±hh, ±hhmm or ±hh:mm (hours up to 23, minutes up to 59) in minutes east of UTC.</summary>
        internal bool Offset(out int minutes)
        {
            minutes = 0;
            var start = Position;
            if (!Char('+') && !Char('-') && (AsciiMinus || !Char('\u2212'))) return false;
            var sign = _text[start] == '+' ? 1 : -1;
            if (!Digits(2, 2, out int hh) || hh > 23)
            {
                Position = start;
                return false;
            }
            var mm = 0;
            var colon = Char(':');
            if ((colon || (Position < _text.Length && char.IsAsciiDigit(_text[Position]))) && (!Digits(2, 2, out mm) || mm > 59))
            {
                Position = start;
                return false;
            }
            minutes = sign * ((hh * 60) + mm);
            return true;
        }

        /// <summary>One of <paramref name="words"/> (any case) or its first three letters, the longest that matches.</summary>
        internal bool Word(string[] words, out int index)
        {
            var rest = _text[Position..];
            for (index = 0; index < words.Length; index++)
            {
                if (rest.StartsWith(words[index], StringComparison.OrdinalIgnoreCase))
                {
                    Position += words[index].Length;
                    return true;
                }
            }
            for (index = 0; index < words.Length; index++)
            {
                if (words[index].Length > 3 && rest.StartsWith(words[index].AsSpan(0, 3), StringComparison.OrdinalIgnoreCase))
                {
                    Position += 3;
                    return true;
                }
            }
            return false;
        }

        internal readonly bool Fail(string format, string expected, out string problem)
        {
            var found = AtEnd ? "the end" : $"'{TextLine.Quote(_text[Position..])}'";
            problem = $"'{TextLine.Quote(_text)}' does not match {format}: expected {expected} at character {Position}, found {found}";
            return false;
        }
    }

    /// <summary>The format as written, or ISO-8601.</summary>
    public override string ToString() => Text ?? "ISO-8601";
}
