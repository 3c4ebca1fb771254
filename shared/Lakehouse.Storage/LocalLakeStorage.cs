using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>Lake storage on a local folder. Put-if-absent uses create-new, which the file system makes atomic.</summary>
internal sealed class LocalLakeStorage : ILakeStorage
{
    private readonly string _root;

    /// <summary>The folder the first storage was opened on (the lake); every scope of it keeps it, to tell links that lead out.</summary>
    private readonly string _lakeRoot;

    /// <summary>Folders below the lake root checked to be no link that leads out of it (<see cref="CheckNoLinkOut"/>).</summary>
    private readonly ConcurrentDictionary<string, bool> _checkedFolders;

    internal LocalLakeStorage(string root)
    {
        _root = Path.GetFullPath(root);
        _lakeRoot = _root;
        _checkedFolders = new(StringComparer.Ordinal);
    }

    private LocalLakeStorage(string root, LocalLakeStorage lake)
    {
        _root = root;
        _lakeRoot = lake._lakeRoot;
        _checkedFolders = lake._checkedFolders;
    }

    public string Location => _root;

    public ILakeStorage Scope(string relativePath) => new LocalLakeStorage(Full(relativePath), this);

    private string Full(string path)
    {
        var relative = LakePath.Normalize(path);
        return relative.Length == 0 ? _root : Path.Combine(_root, relative);
    }

    public string? LocalPathOrNull(string path) => Full(path);

    public IAsyncEnumerable<LakeFile> ListAsync(string prefix, CancellationToken cancellationToken = default) => ListAsync(prefix, "", cancellationToken);

    /// <summary>Whether <paramref name="path"/> (a link's target) lies under the root, whose own links are resolved first.</summary>
    private bool Inside(string? path) => Under(path, _root);

    /// <summary>Whether <paramref name="path"/> lies under <paramref name="folder"/> (as written, or with its own links resolved).</summary>
    private static bool Under(string? path, string folder)
    {
        if (path is null) return false;
        var resolved = Directory.ResolveLinkTarget(folder, returnFinalTarget: true)?.FullName ?? folder;
        var real = Path.TrimEndingDirectorySeparator(resolved) + Path.DirectorySeparatorChar;
        return path.StartsWith(real, StringComparison.Ordinal) || path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>
    /// Refuses <paramref name="full"/> (a file under the lake root) when it, or a folder between it and the lake root, is a symbolic
    /// link whose target lies outside the lake: a file read from the lake (a data file its log names, handed to DuckDB) must be the
    /// lake's own, not whatever a link dropped into a table folder points at. Folders found clean are remembered.
    /// </summary>
    private void CheckNoLinkOut(string full, string path)
    {
        CheckFoldersNoLinkOut(Path.GetDirectoryName(full), path);
        CheckNotLinkOut(new FileInfo(full), path);
    }

    /// <summary>
    /// <see cref="CheckNoLinkOut"/> for the folders from <paramref name="folder"/> up to the lake root only (a listing): one lookup
    /// once they are known.
    /// </summary>
    private void CheckFoldersNoLinkOut(string? folder, string path)
    {
        if (folder is null || !folder.StartsWith(Path.TrimEndingDirectorySeparator(_lakeRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return;
        var folders = new List<string>();
        while (folder is not null && folder.Length > _lakeRoot.Length && !_checkedFolders.ContainsKey(folder))
        {
            folders.Add(folder);
            folder = Path.GetDirectoryName(folder);
        }
        foreach (var f in folders) CheckNotLinkOut(new DirectoryInfo(f), path);
        foreach (var f in folders) _checkedFolders.TryAdd(f, true);
    }

    private void CheckNotLinkOut(FileSystemInfo info, string path)
    {
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true)?.FullName is var target && !Under(target, _lakeRoot))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"'{LakePath.Normalize(path)}' in {_root} is reached through a symbolic link to {target ?? "nothing"}, outside the lake {_lakeRoot}: the lake reads only its own files.");
    }

    public async IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startFrom);
        prefix = prefix.Length == 0 ? "" : LakePath.Normalize(prefix);
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(folder)) yield break;
        CheckFoldersNoLinkOut(folder, prefix);
        var rootLength = Path.EndsInDirectorySeparator(_root) ? _root.Length : _root.Length + 1;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None };
        var entries = new FileSystemEnumerable<LakeFile?>(folder, (ref FileSystemEntry entry) =>
        {
            try
            {
                var info = (FileInfo)entry.ToFileSystemInfo();
                // A FIFO, device or socket is not a file of the lake or of a landing zone: reading one blocks or never ends. Each
                // reports size 0, so only an empty file, or a link (whose size is its own), costs the call that tells them apart.
                if ((info.Length == 0 || (info.Attributes & FileAttributes.ReparsePoint) != 0) && !LocalFileType.IsRegularOrUnknown(info.FullName)) return null;
                // A link to a file outside the root is not a file of it: a link dropped into a landing zone must not bring /etc/passwd in.
                if ((info.Attributes & FileAttributes.ReparsePoint) != 0 && !Inside(File.ResolveLinkTarget(info.FullName, returnFinalTarget: true)?.FullName)) return null;
                return new LakeFile(Relative(ref entry, rootLength), info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), null);
            }
            catch (FileNotFoundException)
            {
                return null; // Renamed or deleted by a concurrent writer (a temporary file) between enumeration and stat: not there.
            }
        }, options)
        {
            // A symbolic link to a folder is not followed: a link to '.' would list the same files again at every depth (each
            // ingested again), and one to another folder would reach out of the root.
            ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
            // Decided by name alone: a file is stat-ed only when it is listed, so a long log costs little before startFrom.
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
            {
                if (entry.IsDirectory) return false;
                var relative = Relative(ref entry, rootLength);
                return relative.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(relative, startFrom) >= 0;
            },
        };
        var files = new List<LakeFile>();
        foreach (var file in entries)
        {
            if (file is not null) files.Add(file);
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var f in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return f;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>An enumerated file's path relative to the root, with '/' separators.</summary>
    private static string Relative(ref FileSystemEntry entry, int rootLength)
    {
        var directory = entry.Directory.Length > rootLength ? entry.Directory[rootLength..] : [];
        var relative = directory.IsEmpty ? entry.FileName.ToString() : string.Concat(directory, "/", entry.FileName);
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    public Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(Full(path));
        return Task.FromResult(info.Exists
            ? new LakeFile(LakePath.Normalize(path), info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), null)
            : null);
    }

    /// <summary>
    /// Read on the calling thread: on Linux an asynchronous file read is the same blocking read on a pool thread, plus the hop there
    /// and back, which a short command pays cold on every log file it reads.
    /// </summary>
    public Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var full = Full(path);
            CheckNoLinkOut(full, path);
            return Task.FromResult(File.ReadAllBytes(full));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(path, e);
        }
    }

    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        try
        {
            var full = Full(path);
            CheckNoLinkOut(full, path);
            using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
            var size = RandomAccess.GetLength(handle);
            var n = (int)Math.Max(0, Math.Min(length, size - offset));
            var buffer = new byte[n];
            var read = 0;
            while (read < n)
            {
                var got = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read), offset + read, cancellationToken).ConfigureAwait(false);
                if (got == 0) break;
                read += got;
            }
            return read == n ? buffer : buffer[..read];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(path, e);
        }
    }

    public async Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (!OperatingSystem.IsWindows())
        {
            // Write the whole content aside, then hard-link it into place: link(2) claims the name atomically (EEXIST when
            // taken) and readers never see an empty or half-written file. Opening the target with CreateNew + FileShare.None
            // instead lets a reader's shared lock, taken between create and lock, fail the create and leave an empty file.
            var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
            await File.WriteAllBytesAsync(temp, content.ToArray(), cancellationToken).ConfigureAwait(false);
            try
            {
                var errno = Native.PosixLink.Link(temp, full);
                if (errno == 0) return;
                if (errno == Native.PosixLink.AlreadyExists)
                    throw new LakehouseException(LakehouseErrorReason.AlreadyExists, $"'{LakePath.Normalize(path)}' already exists in {_root}.");
                if (!Native.PosixLink.Unsupported(errno))
                    throw new LakehouseException(LakehouseErrorReason.Storage, $"Creating '{LakePath.Normalize(path)}' in {_root} failed: {Marshal.GetPInvokeErrorMessage(errno)}.");
            }
            finally
            {
                File.Delete(temp);
            }
        }
        FileStream stream;
        try
        {
            stream = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        }
        catch (IOException e) when (File.Exists(full))
        {
            throw new LakehouseException(LakehouseErrorReason.AlreadyExists, $"'{LakePath.Normalize(path)}' already exists in {_root}.", e);
        }
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        // Write aside and rename, so readers never see a half-written file.
        var full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temp, content.ToArray(), cancellationToken).ConfigureAwait(false);
        File.Move(temp, full, overwrite: true);
    }

    public Task UploadAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        var full = Full(path);
        if (string.Equals(Path.GetFullPath(localFile), full, StringComparison.Ordinal)) return Task.CompletedTask;
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.Copy(localFile, temp);
        File.Move(temp, full, overwrite: true);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Full(path);
        if (!File.Exists(full)) return Task.FromResult(false);
        try
        {
            File.Delete(full);
        }
        catch (DirectoryNotFoundException)
        {
            // Its folder went meanwhile (a writer that finished removes its empty staging folders): the file is gone too.
            return Task.FromResult(false);
        }
        return Task.FromResult(true);
    }

    public Task<string> GetLocalCopyAsync(string path, CancellationToken cancellationToken = default)
    {
        var full = Full(path);
        if (!File.Exists(full)) throw NotFound(path, null);
        CheckNoLinkOut(full, path);
        return Task.FromResult(full);
    }

    private LakehouseException NotFound(string path, Exception? inner) =>
        new(LakehouseErrorReason.NotFound, $"'{LakePath.Normalize(path)}' does not exist in {_root}.", inner);
}
