using System.Globalization;

namespace Lakehouse.Core;

/// <summary>
/// Reading the small files a user names on the command line (a query, a dataset definition, a pipeline): at most a limit of bytes,
/// so <c>/dev/zero</c> or an endless pipe is refused instead of filling memory, and with messages that say what is wrong
/// (a folder, a missing file, a file too large) instead of .NET's.
/// </summary>
public static class UserFiles
{
    /// <summary>
    /// The bytes of the file at <paramref name="path"/>, described in messages as <paramref name="subject"/> (e.g.
    /// <c>the query file 'q.sql'</c>); refused when it is a folder, does not exist or holds more than <paramref name="maxBytes"/>
    /// (<paramref name="kind"/> names what may not be larger, e.g. <c>a query</c>).
    /// </summary>
    public static byte[] Read(string path, long maxBytes, string subject, string kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Cannot read {subject}: it is a folder.");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            return Read(stream, maxBytes, subject, kind);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Cannot read {subject}: it does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Cannot read {subject}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The text of the file at <paramref name="path"/> (see <see cref="Read(string, long, string, string)"/>), as UTF-8 without a
    /// leading byte order mark, which editors on Windows write and which is not part of a query or a JSON document.
    /// </summary>
    public static string ReadText(string path, long maxBytes, string subject, string kind) => Text(Read(path, maxBytes, subject, kind));

    /// <summary>The text of <paramref name="stream"/> (see <see cref="ReadText(string, long, string, string)"/>).</summary>
    public static string ReadText(Stream stream, long maxBytes, string subject, string kind) => Text(Read(stream, maxBytes, subject, kind));

    private static string Text(byte[] bytes)
    {
        var bom = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        return System.Text.Encoding.UTF8.GetString(bytes, bom, bytes.Length - bom);
    }

    /// <summary>The bytes of <paramref name="stream"/> up to its end, refused once past <paramref name="maxBytes"/> (see the overload on a path); a small file is read at once, so the reads are synchronous.</summary>
    public static byte[] Read(Stream stream, long maxBytes, string subject, string kind)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var content = new MemoryStream();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (content.Length + read > maxBytes)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Cannot read {subject}: it holds more than {maxBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, the most {kind} may have.");
            content.Write(buffer, 0, read);
        }
        return content.ToArray();
    }
}
