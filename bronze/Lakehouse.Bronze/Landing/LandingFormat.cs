using Lakehouse.Core;

namespace Lakehouse.Bronze.Landing;

/// <summary>What a landing-zone file holds, and so how it is cut into events (see <see cref="LandingKinds"/> for the extensions).</summary>
public enum LandingFormat
{
    /// <summary>JSON lines: one event per line that is not blank, the line's bytes as written.</summary>
    Ndjson,

    /// <summary>
    /// A <c>.json</c> file: a JSON array when its first byte that is not blank is '[' (one event per element); otherwise JSON lines
    /// when its first line is a complete JSON value; otherwise one JSON document over several lines (one event).
    /// </summary>
    Json,

    /// <summary>A JSON array: one event per element, the element's bytes as written.</summary>
    JsonArray,

    /// <summary>Comma-separated values with a header record: one event per data record, a JSON object of strings (see the README).</summary>
    Csv,

    /// <summary>Tab-separated values with a header record, as <see cref="Csv"/>.</summary>
    Tsv,

    /// <summary>Text lines (access logs and other logs): one event per line that is not blank.</summary>
    Text,

    /// <summary>An Event Hubs Capture Avro file: one event per record, its Body, with partition and sequence number.</summary>
    Capture,
}

/// <summary>How a landing-zone file is compressed as a whole.</summary>
public enum LandingCompression
{
    /// <summary>Not compressed.</summary>
    None,

    /// <summary>gzip (<c>.gz</c>), one or more members.</summary>
    Gzip,

    /// <summary>Zstandard (<c>.zst</c>).</summary>
    Zstd,
}

/// <summary>The format and compression of one file.</summary>
/// <param name="Format">How it is cut into events.</param>
/// <param name="Compression">How it is compressed.</param>
public sealed record LandingKind(LandingFormat Format, LandingCompression Compression);

/// <summary>
/// Which files are which: the kind of a file is decided by its extension (or forced with <c>--format</c>), never guessed from its
/// content; a file whose extension is not in <see cref="Extensions"/> is an error that names it.
/// </summary>
public static class LandingKinds
{
    /// <summary>The extensions of each format (case-insensitive). Each may be followed by <c>.gz</c> or <c>.zst</c>, except <c>.avro</c>.</summary>
    public static IReadOnlyList<(string Extension, LandingFormat Format)> Extensions { get; } =
    [
        (".ndjson", LandingFormat.Ndjson),
        (".jsonl", LandingFormat.Ndjson),
        (".ldjson", LandingFormat.Ndjson),
        (".json", LandingFormat.Json),
        (".csv", LandingFormat.Csv),
        (".tsv", LandingFormat.Tsv),
        (".log", LandingFormat.Text),
        (".txt", LandingFormat.Text),
        (".avro", LandingFormat.Capture),
    ];

    /// <summary>The <c>--format</c> names.</summary>
    public static IReadOnlyList<(string Name, LandingFormat Format)> Names { get; } =
    [
        ("ndjson", LandingFormat.Ndjson),
        ("json", LandingFormat.Json),
        ("json-array", LandingFormat.JsonArray),
        ("csv", LandingFormat.Csv),
        ("tsv", LandingFormat.Tsv),
        ("text", LandingFormat.Text),
        ("capture", LandingFormat.Capture),
    ];

    /// <summary>The format a <c>--format</c> name stands for.</summary>
    /// <exception cref="LakehouseException">An unknown name (InvalidInput), listing the known ones.</exception>
    public static LandingFormat ParseFormat(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (n, f) in Names)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return f;
        }
        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"'{name}' is not a landing format: use one of {string.Join(", ", Names.Select(n => n.Name))}.");
    }

    /// <summary>
    /// The kind of the file at <paramref name="path"/>: its compression from a <c>.gz</c> or <c>.zst</c> suffix, its format from the
    /// extension before it, or <paramref name="forced"/> when given. Null when the extension is not a known one.
    /// </summary>
    public static LandingKind? Of(string path, LandingFormat? forced = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = path[(path.LastIndexOf('/') + 1)..];
        var compression = LandingCompression.None;
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            compression = LandingCompression.Gzip;
            name = name[..^3];
        }
        else if (name.EndsWith(".zst", StringComparison.OrdinalIgnoreCase))
        {
            compression = LandingCompression.Zstd;
            name = name[..^4];
        }
        if (forced is { } f) return new LandingKind(f, compression);
        foreach (var (extension, format) in Extensions)
        {
            if (!name.EndsWith(extension, StringComparison.OrdinalIgnoreCase) || name.Length == extension.Length) continue;
            if (format == LandingFormat.Capture && compression != LandingCompression.None) return null; // Avro compresses its blocks itself.
            return new LandingKind(format, compression);
        }
        return null;
    }

    /// <summary>
    /// True for names that are not landed data: any folder or file name starting with '.' or '_' (hidden files, <c>_SUCCESS</c>,
    /// <c>_temporary/</c>), and names ending in <c>.tmp</c>, <c>.temp</c>, <c>.part</c>, <c>.partial</c>, <c>.crdownload</c> or
    /// <c>.filepart</c> (files still being written by tools that rename them when done).
    /// </summary>
    public static bool IsIgnored(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment[0] is '.' or '_') return true;
        }
        return IgnoredSuffixes.Any(s => path.EndsWith(s, StringComparison.OrdinalIgnoreCase));
    }

    private static readonly string[] IgnoredSuffixes = [".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart"];
}
