using System.Globalization;
using System.Text.RegularExpressions;
using Lakehouse.Core;
using Lakehouse.Storage;

namespace Lakehouse.Delta.Log;

/// <summary>The kinds of file in _delta_log that take part in reading a snapshot.</summary>
internal enum LogFileKind
{
    Commit,
    Checkpoint,
    MultiPartCheckpoint,
    V2Checkpoint,
    Compaction,
}

/// <summary>One file of _delta_log, classified by its name.</summary>
internal sealed record LogFile(LogFileKind Kind, long Version, LakeFile File, int Part = 0, int Parts = 1, long EndVersion = -1);

/// <summary>Names and classification of the files in a table's _delta_log folder.</summary>
internal static partial class LogFiles
{
    internal const string LogFolder = "_delta_log/";

    /// <summary>
    /// The error for a location that holds no table (no _delta_log, or one without a commit or checkpoint): one message for every
    /// reader of the log (table read and info said "no _delta_log folder with commits", history "_delta_log has no commit or
    /// checkpoint files", of the same empty folder).
    /// </summary>
    internal static LakehouseException NotATable(string location, string? more = null) =>
        new(LakehouseErrorReason.NotFound, $"'{location}' is not a Delta table: no _delta_log folder with commits or checkpoints." + (more is null ? "" : " " + more));

    [GeneratedRegex(@"^(\d{20})\.json$")]
    private static partial Regex CommitName();

    [GeneratedRegex(@"^(\d{20})\.checkpoint\.parquet$")]
    private static partial Regex CheckpointName();

    [GeneratedRegex(@"^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$")]
    private static partial Regex MultiPartName();

    [GeneratedRegex(@"^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$")]
    private static partial Regex V2Name();

    [GeneratedRegex(@"^(\d{20})\.(\d{20})\.compacted\.json$")]
    private static partial Regex CompactionName();

    /// <summary>The start of the names of every log file of <paramref name="version"/> (commit, checkpoints, compactions from it).</summary>
    internal static string VersionPrefix(long version) => LogFolder + version.ToString("D20", CultureInfo.InvariantCulture);

    internal static string CommitPath(long version) => LogFolder + version.ToString("D20", CultureInfo.InvariantCulture) + ".json";

    internal static string CheckpointPath(long version) => LogFolder + version.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.parquet";

    internal const string LastCheckpointPath = LogFolder + "_last_checkpoint";

    /// <summary>Classifies a listed file; null for files that are not part of the log (crc, tmp folders, _last_checkpoint).</summary>
    internal static LogFile? Classify(LakeFile file)
    {
        if (!file.Path.StartsWith(LogFolder, StringComparison.Ordinal)) return null;
        var name = file.Path[LogFolder.Length..];
        if (name.Contains('/', StringComparison.Ordinal)) return null; // .tmp/, _sidecars/, _commits/ are not log entries.
        Match m;
        if ((m = CommitName().Match(name)).Success) return new LogFile(LogFileKind.Commit, Parse(m.Groups[1].Value), file);
        if ((m = CheckpointName().Match(name)).Success) return new LogFile(LogFileKind.Checkpoint, Parse(m.Groups[1].Value), file);
        if ((m = MultiPartName().Match(name)).Success)
            return new LogFile(LogFileKind.MultiPartCheckpoint, Parse(m.Groups[1].Value), file, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
        if ((m = V2Name().Match(name)).Success) return new LogFile(LogFileKind.V2Checkpoint, Parse(m.Groups[1].Value), file);
        if ((m = CompactionName().Match(name)).Success)
            return new LogFile(LogFileKind.Compaction, Parse(m.Groups[1].Value), file, EndVersion: Parse(m.Groups[2].Value));
        return null;
    }

    /// <summary>
    /// The folder of a listed file when that folder sits in _delta_log and is named like a log file (e.g. <c>_delta_log/00000000000000000003.json/x</c>):
    /// a damaged log, since no commit or checkpoint of that name can exist then. Null for every other path.
    /// </summary>
    internal static string? FolderNamedLikeLogFile(string path)
    {
        if (!path.StartsWith(LogFolder, StringComparison.Ordinal)) return null;
        var name = path[LogFolder.Length..];
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0) return null;
        var folder = name[..slash];
        return CommitName().IsMatch(folder) || CheckpointName().IsMatch(folder) || MultiPartName().IsMatch(folder) || V2Name().IsMatch(folder) || CompactionName().IsMatch(folder)
            ? LogFolder + folder
            : null;
    }

    [GeneratedRegex(@"^\d+\.(json|checkpoint(\.\d+\.\d+)?\.parquet)$")]
    private static partial Regex LogLikeName();

    /// <summary>
    /// True for a name in _delta_log that has the shape of a commit, checkpoint or checksum file but not a version of 20 digits
    /// (<c>3.json</c>, <c>0000000000000000003.json</c>): no reader sees it, so whatever it holds is silently not part of the table.
    /// </summary>
    internal static bool MisnamedLogFile(string name) => LogLikeName().IsMatch(name) && !(name.Length > 20 && name[20] == '.' && name[..20].All(char.IsAsciiDigit));

    /// <summary>
    /// True for what a healthy _delta_log holds besides log files, all ignored by readers: version checksums (<c>N.crc</c>),
    /// <c>_last_vacuum_info</c>, hidden and temporary files that writers rename into place (<c>.N.json.uuid.tmp</c>, Hadoop's <c>.crc</c>
    /// side files), and the folders of the protocol and of writers (<c>_sidecars/</c>, <c>_commits/</c>, <c>_staged_commits/</c>, <c>.tmp/</c>).
    /// </summary>
    internal static bool IsHarmlessInLog(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal)) return true;
        if (name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.Ordinal) || name.EndsWith(".crc", StringComparison.Ordinal)) return true;
        return name is "_last_vacuum_info" or "_last_checkpoint";
    }

    private static long Parse(string digits) => long.Parse(digits, CultureInfo.InvariantCulture);
}
