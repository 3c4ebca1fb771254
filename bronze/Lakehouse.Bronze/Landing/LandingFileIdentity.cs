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

/// <summary>
/// The versions of each landed file that bronze holds, from their content identities, and what a new version of a location is:
/// the same file grown (a version bronze holds is a prefix of its bytes: its lines keep their positions, so silver takes the repeated
/// ones for the copies they are), or a rewrite (a log truncated and written anew, an export overwriting its file: other lines at the
/// same offsets). A rewrite is the location's next generation, recorded as its content identity's txn version and in its rows'
/// <c>source_partition</c> (<c>v2</c>, <c>v3</c>, …; null for the first), so its lines get positions of their own.
/// </summary>
internal sealed class LandingVersions
{
    private const string HashTag = "#xxh128:";
    private const int HashDigits = 32;
    private readonly Dictionary<string, List<(UInt128 Hash, long Size, long Generation)>> _byLocation = new(StringComparer.Ordinal);

    /// <summary>The versions named by the content identities among <paramref name="identities"/> (txn application id, version).</summary>
    internal LandingVersions(IEnumerable<KeyValuePair<string, long>> identities)
    {
        foreach (var (appId, generation) in identities)
        {
            var slash = appId.LastIndexOf('/');
            var tag = slash - HashDigits - HashTag.Length;
            if (!appId.StartsWith(LandingFileIdentity.AppIdPrefix, StringComparison.Ordinal) || tag < LandingFileIdentity.AppIdPrefix.Length ||
                string.CompareOrdinal(appId, tag, HashTag, 0, HashTag.Length) != 0 ||
                !UInt128.TryParse(appId.AsSpan(tag + HashTag.Length, HashDigits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hash) ||
                !long.TryParse(appId.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                continue;
            var location = appId[LandingFileIdentity.AppIdPrefix.Length..tag];
            if (!_byLocation.TryGetValue(location, out var versions)) _byLocation.Add(location, versions = []);
            versions.Add((hash, size, generation));
        }
    }

    /// <summary>The sizes of the versions of <paramref name="location"/> that bronze holds, ascending: the prefixes whose hash tells a grown file.</summary>
    internal IReadOnlyList<long> PrefixSizes(string location) =>
        _byLocation.TryGetValue(location, out var versions) ? [.. versions.Select(v => v.Size).Distinct().Order()] : [];

    /// <summary>
    /// The generation of a new version of <paramref name="location"/>, given the hashes of its first bytes at each of
    /// <see cref="PrefixSizes"/> (those within its size): that of the largest version it grew from, else one more than the newest.
    /// </summary>
    internal long Generation(string location, IReadOnlyDictionary<long, UInt128> prefixHashes)
    {
        if (!_byLocation.TryGetValue(location, out var versions)) return 1;
        var grownFrom = versions.Where(v => prefixHashes.TryGetValue(v.Size, out var h) && h == v.Hash).OrderByDescending(v => v.Size).ThenByDescending(v => v.Generation);
        return grownFrom.Select(v => v.Generation).FirstOrDefault(versions.Max(v => v.Generation) + 1);
    }

    /// <summary>
    /// The application id of <paramref name="location"/>'s guard: a counter every commit of a new version of the location moves by
    /// one, so that two ingests landing two versions read at the same time (a file rewritten or grown between their reads) cannot
    /// both commit the generation they took from the same versions; the second is refused and looks again.
    /// </summary>
    internal static string GuardId(string location) => LandingFileIdentity.AppIdPrefix + location + "#guard";

    /// <summary>The rows' <c>source_partition</c> for a file of <paramref name="generation"/>: null for the first.</summary>
    internal static string? Partition(long generation) => generation > 1 ? string.Create(CultureInfo.InvariantCulture, $"v{generation}") : null;
}
