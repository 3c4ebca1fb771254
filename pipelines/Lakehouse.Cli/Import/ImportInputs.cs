using System.IO.Compression;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Import;

/// <summary>The formats an import reads.</summary>
internal enum ImportFormat
{
    /// <summary>One JSON object per line.</summary>
    Ndjson,

    /// <summary>A JSON array of objects, or NDJSON: told by the first byte.</summary>
    Json,

    Csv,

    Parquet,
}

/// <summary>One input of an import: as the user named it, and the regular file DuckDB reads.</summary>
/// <param name="Display">The name in messages: the argument as given (a glob's matches by their path, stdin as "stdin").</param>
/// <param name="Path">The absolute path of a regular file: the input itself, or its spooled copy.</param>
/// <param name="Format">How to read it.</param>
internal sealed record ImportInput(string Display, string Path, ImportFormat Format);

/// <summary>
/// The files of an import, made regular: a glob is expanded; standard input (<c>-</c>), a FIFO, a device or any other input that
/// cannot be read twice is copied once into the engine's scratch folder, and so is a compressed file (decompressed), because
/// DuckDB opens an input more than once (to sniff, then to read) and the scan before it reads it too. Disposing deletes the copies.
/// </summary>
internal sealed class ImportInputs : IDisposable
{
    private readonly List<string> _spooled = [];

    private ImportInputs()
    {
    }

    internal List<ImportInput> Files { get; } = [];

    internal static ImportInputs Resolve(DuckEngine engine, IReadOnlyList<string> arguments, ImportOptions options, CancellationToken cancellationToken)
    {
        if (arguments.Count == 0) throw CommandLine.Usage("import needs at least one file (or - for standard input)");
        var given = options.Format is null ? (ImportFormat?)null : ParseFormat(options.Format);
        // Formats told by name are checked before any file is opened, so a mix is a usage error whatever the files hold.
        var named = arguments.Where(a => a != "-").Select(a => given ?? NamedFormat(a)).OfType<ImportFormat>()
            .Select(f => f is ImportFormat.Json ? "ndjson" : f.ToString().ToLowerInvariant()).Distinct().ToList();
        if (named.Count > 1)
            throw CommandLine.Usage($"the files mix formats ({string.Join(", ", named)}); import one format at a time or pass --format");
        var result = new ImportInputs();
        try
        {
            foreach (var argument in arguments)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (argument == "-")
                {
                    result.Add(engine, "stdin", null, Console.OpenStandardInput(), given, "", cancellationToken);
                    continue;
                }
                if (argument.IndexOfAny(['*', '?', '[']) >= 0 && !File.Exists(argument))
                {
                    var matches = Glob(engine, argument);
                    if (matches.Count == 0) throw new LakehouseException(LakehouseErrorReason.NotFound, $"No file matches '{argument}'.");
                    foreach (var m in matches) result.AddPath(engine, m, m, given, cancellationToken);
                    continue;
                }
                if (Directory.Exists(argument))
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{argument}' is a folder; name its files (for example '{Path.Combine(argument, "*.ndjson")}').");
                if (!File.Exists(argument)) throw new LakehouseException(LakehouseErrorReason.NotFound, $"No file '{argument}' to import.");
                result.AddPath(engine, argument, argument, given, cancellationToken);
            }
            var families = result.Files.Select(f => f.Format is ImportFormat.Json ? "ndjson" : f.Format.ToString().ToLowerInvariant()).Distinct().ToList();
            if (families.Count > 1)
                throw CommandLine.Usage($"the files mix formats ({string.Join(", ", families)}); import one format at a time or pass --format");
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private void AddPath(DuckEngine engine, string display, string path, ImportFormat? given, CancellationToken cancellationToken)
    {
        var (format, compression) = FormatOf(path, given);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        if (stream.CanSeek && !Storage.LocalFileType.IsRegularOrUnknown(path))
        {
            // A device that seeks (/dev/zero, a disk) has no size and may never end: neither read as a file nor copied.
            stream.Dispose();
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{display}' is a device, not a file: nothing was imported.");
        }
        // A UTF-8 BOM, which the scan skips, fails DuckDB's NDJSON reader: such a file is read from a copy without it.
        if (stream.CanSeek && compression is null && !(format is not (ImportFormat.Csv or ImportFormat.Parquet) && StartsWithBom(stream)))
        {
            stream.Dispose();
            Files.Add(new ImportInput(display, Path.GetFullPath(path), format ?? ImportFormat.Json));
            return;
        }
        Add(engine, display, format, stream, given, compression ?? "", cancellationToken);
    }

    /// <summary>Copies <paramref name="stream"/> (read once, decompressed) into the scratch folder and adds the copy.</summary>
    private void Add(DuckEngine engine, string display, ImportFormat? format, Stream stream, ImportFormat? given, string compression, CancellationToken cancellationToken)
    {
        var folder = engine.ScratchDirectory("import");
        var spool = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".spool");
        _spooled.Add(spool);
        using (stream)
        {
            using var source = compression switch
            {
                ".gz" => new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true),
                ".zst" => new ZstdSharp.DecompressionStream(stream, leaveOpen: true),
                _ => stream,
            };
            using var target = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            try
            {
                // The copy drops a leading UTF-8 BOM (as bronze ingest does): DuckDB's NDJSON reader refuses one.
                Span<byte> head = stackalloc byte[3];
                var n = source.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
                if (!head[..n].SequenceEqual(Encoding.UTF8.Preamble)) target.Write(head[..n]);
                source.CopyTo(target, 1 << 20);
            }
            catch (InvalidDataException e)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{display}' is not valid {compression[1..]} data: {e.Message}", e);
            }
            cancellationToken.ThrowIfCancellationRequested();
        }
        format ??= given ?? Sniff(spool) ?? throw CommandLine.Usage($"cannot tell the format of '{display}'; pass --format ndjson|json|csv|parquet");
        Files.Add(new ImportInput(display, spool, format.Value));
    }

    /// <summary>
    /// Replaces the file DuckDB reads for input <paramref name="index"/> by a copy that <paramref name="write"/> makes in the
    /// scratch folder (deleted with the spooled copies); the input keeps its name in messages.
    /// </summary>
    internal void ReplaceWithCopy(DuckEngine engine, int index, Action<string> write)
    {
        var copy = Path.Combine(engine.ScratchDirectory("import"), Guid.NewGuid().ToString("N") + ".json");
        _spooled.Add(copy);
        write(copy);
        Files[index] = Files[index] with { Path = copy };
    }

    /// <summary>Whether a seekable <paramref name="stream"/> starts with a UTF-8 BOM; it is left at its start.</summary>
    private static bool StartsWithBom(Stream stream)
    {
        Span<byte> head = stackalloc byte[3];
        var n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        return head[..n].SequenceEqual(Encoding.UTF8.Preamble);
    }

    /// <summary>The format of a spooled input without a telling name: JSON by its first byte, Parquet by its magic bytes.</summary>
    private static ImportFormat? Sniff(string path)
    {
        using var s = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4096];
        var n = s.Read(head);
        if (n >= 4 && head[..4].SequenceEqual("PAR1"u8)) return ImportFormat.Parquet;
        foreach (var b in head[..n])
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b is (byte)'{' or (byte)'[' ? ImportFormat.Json : null;
        }
        return null;
    }

    private static List<string> Glob(DuckEngine engine, string pattern)
    {
        using var lease = engine.Lease();
        using var r = lease.Connection.Query($"SELECT file FROM glob({SqlText.Literal(Path.GetFullPath(pattern))}) ORDER BY file");
        var files = new List<string>();
        while (r.Read()) files.Add(r.GetString(0));
        return files;
    }

    internal static ImportFormat ParseFormat(string format) => format switch
    {
        "ndjson" or "jsonl" => ImportFormat.Ndjson,
        "json" => ImportFormat.Json,
        "csv" => ImportFormat.Csv,
        "parquet" => ImportFormat.Parquet,
        _ => throw CommandLine.Usage($"--format must be ndjson, json, csv or parquet, not '{format}'"),
    };

    private static ImportFormat? NamedFormat(string file)
    {
        var name = file.ToLowerInvariant();
        foreach (var c in new[] { ".gz", ".zst" })
            if (name.EndsWith(c, StringComparison.Ordinal)) name = name[..^c.Length];
        return Path.GetExtension(name) switch
        {
            ".json" => ImportFormat.Json,
            ".ndjson" or ".jsonl" => ImportFormat.Ndjson,
            ".csv" or ".tsv" => ImportFormat.Csv,
            ".parquet" => ImportFormat.Parquet,
            _ => null,
        };
    }

    /// <summary>The format told by the name (after a .gz or .zst suffix, which is returned as the compression).</summary>
    private static (ImportFormat? Format, string? Compression) FormatOf(string file, ImportFormat? given)
    {
        var name = file.ToLowerInvariant();
        string? compression = null;
        foreach (var c in new[] { ".gz", ".zst" })
        {
            if (!name.EndsWith(c, StringComparison.Ordinal)) continue;
            name = name[..^c.Length];
            compression = c;
        }
        if (given is not null) return (given, compression);
        ImportFormat? format = Path.GetExtension(name) switch
        {
            ".json" => ImportFormat.Json,
            ".ndjson" or ".jsonl" => ImportFormat.Ndjson,
            ".csv" or ".tsv" => ImportFormat.Csv,
            ".parquet" => ImportFormat.Parquet,
            _ => null,
        };
        if (format is null && File.Exists(file) && new FileInfo(file).Length > 0 && IsRegular(file))
            throw CommandLine.Usage($"cannot tell the format of '{file}' from its extension; pass --format ndjson|json|csv|parquet");
        return (format, compression);
    }

    private static bool IsRegular(string file)
    {
        try
        {
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            return s.CanSeek;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        foreach (var f in _spooled)
        {
            try
            {
                File.Delete(f);
            }
            catch (IOException)
            {
                // The engine's scratch folder is removed with the process's temp folder.
            }
        }
    }
}
