using Lakehouse.Core;
using Lakehouse.Storage;

namespace Lakehouse.Delta;

/// <summary>Turns paths from the log (URL-encoded, relative or absolute URIs) into safe table-relative paths.</summary>
internal static class DeltaPaths
{
    /// <summary>
    /// A table-relative path for a path found in the log. Relative paths are URL-decoded once (PROTOCOL.md);
    /// absolute URIs must point inside the table, or the path is refused: data never escapes the lake root.
    /// </summary>
    internal static string ToTableRelative(string logPath, ILakeStorage storage)
    {
        if ((logPath.Contains("://", StringComparison.Ordinal) || logPath.StartsWith("file:/", StringComparison.Ordinal))
            && Uri.TryCreate(logPath, UriKind.Absolute, out var uri))
        {
            var absolute = uri.Scheme == "file" ? uri.LocalPath : Uri.UnescapeDataString(uri.GetLeftPart(UriPartial.Path));
            var root = storage.Location.TrimEnd('/') + "/";
            if (absolute.StartsWith(root, StringComparison.Ordinal)) return LakePath.Normalize(absolute[root.Length..]);
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"The log refers to a data file outside the table ('{logPath}'); files outside the table root are not read.");
        }
        if (logPath.StartsWith('/'))
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"The log refers to an absolute path ('{logPath}'); files outside the table root are not read.");
        return LakePath.Normalize(Uri.UnescapeDataString(logPath));
    }

    /// <summary>Encodes a table-relative path for the log: every byte outside [A-Za-z0-9-._~=] of each segment is %XX-escaped.</summary>
    internal static string ToLogPath(string relative)
    {
        var sb = new System.Text.StringBuilder(relative.Length + 16);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(relative))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '=' or '/') sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
