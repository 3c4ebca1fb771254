namespace Lakehouse.Cli;

/// <summary>Local paths as the file system resolves them.</summary>
internal static class CliPaths
{
    /// <summary>
    /// <paramref name="path"/> made absolute, with the symbolic links of every part resolved as far as the parts exist (at most 40
    /// links in a chain, as the kernel follows), as realpath(3) gives it: one folder reached through a link or directly is one
    /// location (a landing folder's files are named by it; an --out file must not be a data file read through a linked folder).
    /// </summary>
    internal static string RealPath(string path) => RealPath(path, 0);

    private static string RealPath(string path, int links)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Path.GetDirectoryName(full) is not { } parent) return full;
        var candidate = Path.Combine(RealPath(parent, links), Path.GetFileName(full));
        if (links >= 40 || new FileInfo(candidate).LinkTarget is not { } target) return candidate;
        return RealPath(Path.Combine(Path.GetDirectoryName(candidate)!, target), links + 1);
    }
}
