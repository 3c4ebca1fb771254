namespace Lakehouse.Datasets.Simulation;

/// <summary>
/// The simulator's random numbers: xoshiro256** seeded through SplitMix64, so a seed gives the same sequence on every run and
/// every .NET version (System.Random's seeded algorithm is an implementation detail). Not for anything secret.
/// </summary>
internal sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    /// <summary>A generator for <paramref name="seed"/>; <paramref name="stream"/> picks an independent sequence for one purpose.</summary>
    internal SimRandom(long seed, ulong stream = 0)
    {
        var x = unchecked((ulong)seed ^ (stream * 0x9E3779B97F4A7C15UL));
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        unchecked
        {
            var z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    internal ulong NextUInt64()
    {
        unchecked
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }

    /// <summary>Uniform in [0, 1).</summary>
    internal double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>).</summary>
    internal int Next(int maxExclusive) => (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    internal int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    internal double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>True with probability <paramref name="p"/>.</summary>
    internal bool Chance(double p) => NextDouble() < p;

    /// <summary>A standard normal deviate (Box–Muller; the second value of each pair is kept for the next call).</summary>
    internal double Normal()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Log-normal with the given median and log-space standard deviation: a heavy right tail.</summary>
    internal double LogNormal(double median, double sigma) => median * Math.Exp(sigma * Normal());

    /// <summary>A geometric count ≥ 1 with mean <paramref name="mean"/>.</summary>
    internal int Geometric(double mean)
    {
        var p = 1.0 / mean;
        var n = 1;
        while (n < 1000 && !Chance(p)) n++;
        return n;
    }

    internal T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Lower-case hexadecimal of <paramref name="bytes"/> random bytes.</summary>
    internal string Hex(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        for (var i = 0; i < bytes; i += 8)
        {
            var v = NextUInt64();
            for (var j = 0; j < 8 && i + j < bytes; j++) buffer[i + j] = (byte)(v >> (8 * j));
        }
        return Convert.ToHexStringLower(buffer);
    }

    /// <summary>A version-4 UUID in its usual text form.</summary>
    internal string Uuid()
    {
        const string hex = "0123456789abcdef";
        Span<char> text = stackalloc char[36];
        var hi = NextUInt64();
        var lo = NextUInt64();
        var at = 0;
        for (var i = 0; i < 32; i++)
        {
            if (i is 8 or 12 or 16 or 20) text[at++] = '-';
            var nibble = (int)((i < 16 ? hi >> (60 - (4 * i)) : lo >> (60 - (4 * (i - 16)))) & 0xF);
            if (i == 12) nibble = 4;                   // version 4
            else if (i == 16) nibble = 8 | (nibble & 3); // variant 10xx
            text[at++] = hex[nibble];
        }
        return new string(text);
    }
}

/// <summary>Picks items by weight in O(log n): cumulative weights and a binary search.</summary>
internal sealed class WeightedChoice<T>
{
    private readonly T[] _items;
    private readonly double[] _cumulative;

    internal WeightedChoice(IEnumerable<(T Item, double Weight)> items)
    {
        var list = items.ToList();
        _items = [.. list.Select(i => i.Item)];
        _cumulative = new double[list.Count];
        var total = 0.0;
        for (var i = 0; i < list.Count; i++)
        {
            total += list[i].Weight;
            _cumulative[i] = total;
        }
        for (var i = 0; i < _cumulative.Length; i++) _cumulative[i] /= total;
    }

    internal T Pick(SimRandom random)
    {
        var u = random.NextDouble();
        var i = Array.BinarySearch(_cumulative, u);
        if (i < 0) i = ~i;
        return _items[Math.Min(i, _items.Length - 1)];
    }
}
