using System.Globalization;
using Lakehouse.Storage;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// Which version of which file a landed file is, as recorded in bronze's Delta log (txn application ids, version 1):
/// <list type="bullet">
/// <item><c>file/&lt;location&gt;@&lt;etag or mtime&gt;/&lt;size&gt;</c>: the listing identity, known without reading the file, so a file
/// already ingested is skipped without being read again;</item>
/// <item><c>file/&lt;location&gt;#xxh128:&lt;hash&gt;/&lt;size&gt;</c>: the content identity (XxHash128 of the file's bytes as stored), so the
/// same file landed again (copied anew, uploaded again: a new mtime or etag, the same bytes) adds nothing either.</item>
/// </list>
/// <c>location</c> is the file's full location (absolute path, or the abfss:// URI), the rows' <c>source</c>.
/// </summary>
internal sealed record LandingFileIdentity(string Path, string Location, long Size, DateTimeOffset LastModified, string? ETag)
{
    /// <summary>The prefix of every landing-file application id.</summary>
    internal const string AppIdPrefix = "file/";

    internal static LandingFileIdentity Of(ILakeStorage landing, LakeFile file) =>
        new(file.Path, Join(landing.Location, file.Path), file.Size, file.LastModified, file.ETag);

    /// <summary>The etag (without quotes) where the store has one, else the modification time (UTC, 100 ns).</summary>
    internal string Version => ETag is { Length: > 0 } etag
        ? etag.Trim('"')
        : LastModified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The listing identity's application id.</summary>
    internal string AppId => string.Create(CultureInfo.InvariantCulture, $"{AppIdPrefix}{Location}@{Version}/{Size}");

    /// <summary>The content identity's application id for a file whose bytes hash to <paramref name="hash"/>.</summary>
    internal string ContentAppId(UInt128 hash) => string.Create(CultureInfo.InvariantCulture, $"{AppIdPrefix}{Location}#xxh128:{hash:x32}/{Size}");

    /// <summary>True when <paramref name="now"/> shows the same version (size, and etag or modification time).</summary>
    internal bool SameVersion(LakeFile? now) =>
        now is not null && now.Size == Size && string.Equals(now.ETag, ETag, StringComparison.Ordinal) && (ETag is not null || now.LastModified == LastModified);

    private static string Join(string root, string path) => root.EndsWith('/') ? root + path : root + "/" + path;
}
