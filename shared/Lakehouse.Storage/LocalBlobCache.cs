using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Storage;

/// <summary>
/// The folder of downloaded blob copies behind <see cref="ILakeStorage.GetLocalCopyAsync"/>, bounded by a size limit with
/// least-recently-used eviction. A copy is named by a hash of the blob's identity, its size and a hash of its etag, so a
/// changed blob gets a new name. Copies are written aside and renamed into place (readers only ever see whole files); the
/// time of last use is the file's access time, set on every hit. Copies used within <paramref name="inUseWindow"/> are never
/// evicted (a scan returns all its paths before the engine opens them). Several processes may share the folder: each trims
/// it after its own downloads, and a file deleted while another process reads it stays readable to that reader (POSIX).
/// </summary>
internal sealed class LocalBlobCache(string folder, long sizeLimit, TimeSpan inUseWindow, ILogger logger)
{
    /// <summary>A temporary file younger than this may be another process's download in progress; older ones are leftovers.</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    /// <summary>Where the copy of a blob version lives: identity hash, size, version hash, and the blob's extension.</summary>
    public string PathFor(string identity, long size, string version, string extension) =>
        Path.Combine(folder, $"{Hash(identity)}-{size}-{Hash(version)[..16]}{extension}");

    /// <summary>True when the copy is there and whole; then marks it used now.</summary>
    public static bool TryUse(string file, long size)
    {
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists || info.Length != size) return false;
            info.LastAccessTimeUtc = DateTime.UtcNow;
            return true;
        }
        catch (IOException)
        {
            return false; // Evicted by another process just now: download it again.
        }
    }

    /// <summary>A fresh temporary name beside <paramref name="file"/> to download into (the folder is created).</summary>
    public string TempFor(string file)
    {
        Directory.CreateDirectory(folder);
        return file + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
    }

    /// <summary>Renames a complete download into place, marks it used, and trims the folder (never deleting <paramref name="file"/>).</summary>
    public void Add(string temp, string file)
    {
        File.Move(temp, file, overwrite: true); // Concurrent downloads of the same version write the same bytes.
        File.SetLastAccessTimeUtc(file, DateTime.UtcNow);
        Trim(file);
    }

    /// <summary>
    /// Deletes older versions of <paramref name="keep"/>'s blob, then the least recently used copies until the folder fits the
    /// limit or the next copy is in use.
    /// </summary>
    private void Trim(string keep)
    {
        var blob = Path.GetFileName(keep)[..33]; // The identity hash and its '-'.
        var now = DateTime.UtcNow;
        var copies = new List<FileInfo>();
        long total = 0;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
        {
            if (string.Equals(file.FullName, keep, StringComparison.Ordinal))
                total += file.Length;
            else if (file.Name.EndsWith(".tmp", StringComparison.Ordinal))
                total += now - file.LastWriteTimeUtc > AbandonedAfter && TryDelete(file) ? 0 : file.Length;
            else if (file.Name.StartsWith(blob, StringComparison.Ordinal))
                total += TryDelete(file) ? 0 : file.Length; // An earlier version of the same blob.
            else
            {
                copies.Add(file);
                total += file.Length;
            }
        }
        if (total <= sizeLimit) return;

        var (evicted, bytes) = (0, 0L);
        foreach (var copy in copies.OrderBy(c => c.LastAccessTimeUtc))
        {
            if (total <= sizeLimit || now - copy.LastAccessTimeUtc < inUseWindow) break;
            var length = copy.Length;
            if (!TryDelete(copy)) continue;
            total -= length;
            bytes += length;
            evicted++;
        }
        if (evicted > 0) Log.CacheEvicted(logger, folder, sizeLimit, evicted, bytes, total);
    }

    private static bool TryDelete(FileInfo file)
    {
        try
        {
            file.Delete();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // In use elsewhere (Windows) or not ours; the next trim tries again.
        }
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];
}
