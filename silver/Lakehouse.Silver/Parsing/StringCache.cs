using System.Text;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Recently made strings of one field, so a value that repeats (a user agent, a referrer, an asset's path) is one string
/// instead of one per line: less to allocate and collect. Direct-mapped by a hash of the bytes; an entry is used only when its
/// text equals the bytes, so a collision costs a miss, never a wrong value. Thread-safe: entries are immutable strings and a
/// slot is read or replaced whole (a race loses a cache entry, nothing else). ASCII only; other text is decoded each time.
/// </summary>
internal sealed class StringCache
{
    private const int MaxLength = 256;
    private readonly string?[] _slots;

    /// <summary>A cache of <paramref name="slots"/> strings (a power of two).</summary>
    internal StringCache(int slots = 512)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(slots), slots, "A power of two.");
        _slots = new string?[slots];
    }

    /// <summary>The string of <paramref name="utf8"/>: the cached one when it holds the same text.</summary>
    internal string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength || utf8.IsEmpty) return Encoding.UTF8.GetString(utf8);
        var hash = new HashCode();
        hash.AddBytes(utf8);
        ref var slot = ref _slots[hash.ToHashCode() & (_slots.Length - 1)];
        var cached = slot;
        if (cached is not null && Ascii.Equals(utf8, cached)) return cached;
        var made = Encoding.UTF8.GetString(utf8);
        slot = made;
        return made;
    }
}
