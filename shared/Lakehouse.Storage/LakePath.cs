using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>Validation and joining of lake-relative paths: nothing from data may escape the root.</summary>
public static class LakePath
{
    /// <summary>Checks a relative path and returns it normalised (no leading '/', no empty segments).</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\\', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Lake path '{path}' contains a backslash or NUL.");
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var s in segments)
        {
            if (s is "." or "..")
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Lake path '{path}' tries to leave the lake root.");
        }
        return string.Join('/', segments) + (path.EndsWith('/') && segments.Length > 0 ? "/" : "");
    }

    /// <summary>Joins relative segments with '/', validating the result.</summary>
    public static string Combine(params string[] parts) =>
        Normalize(string.Join('/', parts.Where(p => !string.IsNullOrEmpty(p)).Select(p => p.Trim('/'))));
}
