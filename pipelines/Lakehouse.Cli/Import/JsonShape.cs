using System.Text;

namespace Lakehouse.Cli.Import;

/// <summary>The kinds of JSON value a field holds, as flags.</summary>
[Flags]
internal enum JsonKinds : byte
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Integer = 4,
    Fraction = 8,
    String = 16,
    Object = 32,
    Array = 64,
}

/// <summary>Where a value is: the input's index in the import and its 1-based line.</summary>
internal readonly record struct SourceLocation(int File, long Line) : IComparable<SourceLocation>
{
    internal static readonly SourceLocation None = new(int.MaxValue, long.MaxValue);

    internal bool IsSet => File != int.MaxValue;

    public int CompareTo(SourceLocation other) => File != other.File ? File.CompareTo(other.File) : Line.CompareTo(other.Line);

    internal static SourceLocation Min(SourceLocation a, SourceLocation b) => a.CompareTo(b) <= 0 ? a : b;
}

/// <summary>
/// What the whole input holds at one place of the records (a column, a field of a nested object, the elements of an array):
/// every kind of value seen there with the first place it was seen, the keys of the objects seen there, and the facts
/// that decide a type without loss (integers beyond long or not exact in a double, strings that are all dates).
/// </summary>
internal sealed class JsonShape
{
    private static readonly JsonKinds[] KindOrder =
        [JsonKinds.Null, JsonKinds.Boolean, JsonKinds.Integer, JsonKinds.Fraction, JsonKinds.String, JsonKinds.Object, JsonKinds.Array];

    private readonly SourceLocation[] _first = [.. Enumerable.Repeat(SourceLocation.None, KindOrder.Length)];
    private readonly List<JsonShape> _children = [];
    private Dictionary<string, JsonShape>? _index;

    internal JsonShape(string name, byte[]? utf8Name = null)
    {
        Name = name;
        Utf8Name = utf8Name ?? Encoding.UTF8.GetBytes(name);
        Plain = utf8Name is not null && System.Array.IndexOf(utf8Name, (byte)'\\') < 0 && System.Array.IndexOf(utf8Name, (byte)'"') < 0 ? utf8Name : null;
    }

    /// <summary>The key's bytes when it is written without escapes (compared directly with the input), else null.</summary>
    internal byte[]? Plain { get; }

    /// <summary>The key (for object fields), "[]" for array elements, "" for the record.</summary>
    internal string Name { get; }

    /// <summary>The key as it appears in the input when it has no escapes.</summary>
    internal byte[] Utf8Name { get; }

    internal JsonKinds Kinds { get; private set; }

    /// <summary>The object fields seen here, in the order first seen.</summary>
    internal IReadOnlyList<JsonShape> Children => _children;

    /// <summary>The shape of the elements of the arrays seen here.</summary>
    internal JsonShape? Element { get; private set; }

    /// <summary>The first integer too large for long (19 digits or more that long cannot hold).</summary>
    internal SourceLocation BeyondLong { get; set; } = SourceLocation.None;

    /// <summary>The first integer that a double cannot hold exactly.</summary>
    internal SourceLocation InexactDouble { get; set; } = SourceLocation.None;

    /// <summary>The most digits of any integer seen here.</summary>
    internal int MaxIntegerDigits { get; set; }

    /// <summary>
    /// The most decimal places any number with a fraction or an exponent here needs to be held exactly (<c>1.50</c> needs 1,
    /// <c>1E-5</c> needs 5), and where it was first seen.
    /// </summary>
    internal (int Places, SourceLocation At) MostPlaces { get; set; } = (0, SourceLocation.None);

    /// <summary>
    /// The most digits before the decimal point (negative for leading zeros after it: 0.001 has -2) of any number with a fraction
    /// or an exponent here, and where it was first seen.
    /// </summary>
    internal (int Digits, SourceLocation At) MostWholeDigits { get; set; } = (int.MinValue, SourceLocation.None);

    /// <summary>False once a string that is not an ISO date (yyyy-mm-dd) was seen.</summary>
    internal bool AllDates { get; set; } = true;

    /// <summary>False once a string that is not an ISO timestamp (date, time to at most microseconds, optional offset) was seen.</summary>
    internal bool AllTimestamps { get; set; } = true;

    /// <summary>Two keys that differ only in case, which a Delta table cannot hold as two columns.</summary>
    internal (string First, string Second, SourceLocation At)? CaseClash { get; private set; }

    internal JsonShape ElementShape() => Element ??= new JsonShape("[]");

    internal SourceLocation First(JsonKinds kind) => _first[System.Numerics.BitOperations.TrailingZeroCount((uint)kind)];

    /// <summary>Records a value of <paramref name="kind"/> at <paramref name="at"/> (only the first of each kind is kept).</summary>
    internal void Saw(JsonKinds kind, SourceLocation at)
    {
        if ((Kinds & kind) != 0) return;
        Kinds |= kind;
        _first[System.Numerics.BitOperations.TrailingZeroCount((uint)kind)] = at;
    }

    /// <summary>The child for <paramref name="name"/>, created when new.</summary>
    internal JsonShape Child(string name, byte[]? utf8Name, SourceLocation at)
    {
        var existing = Find(name);
        if (existing is not null) return existing;
        var child = new JsonShape(name, utf8Name);
        if (CaseClash is null)
        {
            var clash = _children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (clash is not null) CaseClash = (clash.Name, name, at);
        }
        _children.Add(child);
        if (_index is not null) _index[name] = child;
        else if (_children.Count > 8) _index = _children.ToDictionary(c => c.Name, StringComparer.Ordinal);
        return child;
    }

    internal JsonShape? Find(string name)
    {
        if (_index is not null) return _index.GetValueOrDefault(name);
        foreach (var c in _children)
            if (c.Name == name) return c;
        return null;
    }

    /// <summary>The child whose UTF-8 key is <paramref name="key"/>, trying <paramref name="hint"/> first (keys usually come in the same order).</summary>
    internal JsonShape? FindUtf8(ReadOnlySpan<byte> key, ref int hint)
    {
        var children = _children;
        if ((uint)hint < (uint)children.Count && key.SequenceEqual(children[hint].Utf8Name)) return children[hint++];
        for (var i = 0; i < children.Count; i++)
        {
            if (key.SequenceEqual(children[i].Utf8Name))
            {
                hint = i + 1;
                return children[i];
            }
        }
        return null;
    }

    /// <summary>Adds what <paramref name="other"/> (the same place in a later input) saw.</summary>
    internal void Merge(JsonShape other)
    {
        for (var k = 0; k < KindOrder.Length; k++)
        {
            if ((other.Kinds & KindOrder[k]) == 0) continue;
            Kinds |= KindOrder[k];
            _first[k] = SourceLocation.Min(_first[k], other._first[k]);
        }
        BeyondLong = SourceLocation.Min(BeyondLong, other.BeyondLong);
        InexactDouble = SourceLocation.Min(InexactDouble, other.InexactDouble);
        MaxIntegerDigits = Math.Max(MaxIntegerDigits, other.MaxIntegerDigits);
        if (other.MostPlaces.Places > MostPlaces.Places || (other.MostPlaces.Places == MostPlaces.Places && other.MostPlaces.At.CompareTo(MostPlaces.At) < 0))
            MostPlaces = other.MostPlaces;
        if (other.MostWholeDigits.Digits > MostWholeDigits.Digits || (other.MostWholeDigits.Digits == MostWholeDigits.Digits && other.MostWholeDigits.At.CompareTo(MostWholeDigits.At) < 0))
            MostWholeDigits = other.MostWholeDigits;
        AllDates &= other.AllDates;
        AllTimestamps &= other.AllTimestamps;
        if (other.CaseClash is { } clash && (CaseClash is null || clash.At.CompareTo(CaseClash.Value.At) < 0)) CaseClash = clash;
        foreach (var oc in other._children)
        {
            var mine = Find(oc.Name);
            if (mine is null)
            {
                var clash2 = _children.FirstOrDefault(c => string.Equals(c.Name, oc.Name, StringComparison.OrdinalIgnoreCase));
                if (clash2 is not null && CaseClash is null) CaseClash = (clash2.Name, oc.Name, oc.FirstSeen);
                mine = new JsonShape(oc.Name, oc.Plain);
                _children.Add(mine);
                if (_index is not null) _index[mine.Name] = mine;
            }
            mine.Merge(oc);
        }
        if (other.Element is not null) ElementShape().Merge(other.Element);
    }

    /// <summary>Where any value was first seen here.</summary>
    internal SourceLocation FirstSeen => _first.Aggregate(SourceLocation.None, SourceLocation.Min);

    /// <summary>The kinds seen here other than null, each with where it was first seen, earliest first.</summary>
    internal List<(JsonKinds Kind, SourceLocation At)> KindsSeen() =>
        [.. KindOrder.Where(k => k != JsonKinds.Null && (Kinds & k) != 0).Select(k => (k, First(k))).OrderBy(p => p.Item2)];

    internal static string Describe(JsonKinds kind) => kind switch
    {
        JsonKinds.Null => "null",
        JsonKinds.Boolean => "a boolean",
        JsonKinds.Integer => "a whole number",
        JsonKinds.Fraction => "a fraction",
        JsonKinds.String => "a string",
        JsonKinds.Object => "an object",
        JsonKinds.Array => "an array",
        _ => kind.ToString(),
    };
}
