using System.Globalization;

namespace Lakehouse.Cli.Import;

/// <summary>How <c>lakehouse table import</c> reads its files.</summary>
internal sealed class ImportOptions
{
    /// <summary>DuckDB's default maximum_object_size: 16 MiB.</summary>
    internal const long DefaultMaxObjectSize = 16L << 20;

    /// <summary>The largest limit accepted: 1 GiB (a record is held in memory whole, several times over).</summary>
    internal const long LargestMaxObjectSize = 1L << 30;

    private long _maxObjectSize = DefaultMaxObjectSize;

    /// <summary>--format: ndjson, json (an array or NDJSON, told by the first byte), csv or parquet; null to tell by extension.</summary>
    internal string? Format { get; init; }

    /// <summary>--max-object-size: the largest JSON record (one line of NDJSON, one element of an array) read; 16 MiB by default.</summary>
    internal long MaxObjectSize
    {
        get => _maxObjectSize;
        init => _maxObjectSize = value is >= 1024 and <= LargestMaxObjectSize
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"The maximum object size must be between 1 KiB and {FormatSize(LargestMaxObjectSize)}.");
    }

    /// <summary>Parses a size such as <c>64MB</c>, <c>64MiB</c>, <c>1g</c> or <c>1048576</c> (bytes); MB and MiB both mean 2^20 bytes.</summary>
    internal static long? ParseSize(string text)
    {
        var t = text.Trim();
        var split = t.Length;
        while (split > 0 && char.IsLetter(t[split - 1])) split--;
        if (!double.TryParse(t[..split].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0) return null;
        var unit = t[split..].ToUpperInvariant();
        long scale = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => -1,
        };
        if (scale < 0 || number * scale > long.MaxValue / 2) return null;
        return (long)Math.Round(number * scale);
    }

    /// <summary>A size for a message: <c>16MiB</c>, <c>512KiB</c>, <c>1GiB</c>, or bytes.</summary>
    internal static string FormatSize(long bytes) => bytes switch
    {
        _ when bytes >= 1L << 30 && bytes % (1L << 30) == 0 => $"{bytes >> 30}GiB",
        _ when bytes >= 1L << 20 && bytes % (1L << 20) == 0 => $"{bytes >> 20}MiB",
        _ when bytes >= 1L << 10 && bytes % (1L << 10) == 0 => $"{bytes >> 10}KiB",
        _ => $"{bytes} bytes",
    };
}
