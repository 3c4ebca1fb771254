namespace Lakehouse.Storage;

/// <summary>A file in lake storage. <see cref="Path"/> is relative to the storage root, with '/' separators.</summary>
/// <param name="Path">Path relative to the storage root.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="LastModified">Last modification time.</param>
/// <param name="ETag">The service's entity tag, when it has one (Azure); null on local disk.</param>
public sealed record LakeFile(string Path, long Size, DateTimeOffset LastModified, string? ETag);

/// <summary>
/// The operations Delta tables need from a file store. Paths are relative to <see cref="Location"/>,
/// use '/' separators and may not escape the root ("..", absolute paths and backslashes are refused).
/// Failures are <see cref="Lakehouse.Core.LakehouseException"/> with reason NotFound, AlreadyExists,
/// PreconditionFailed or Storage (transient).
/// </summary>
public interface ILakeStorage
{
    /// <summary>Where the root is: an absolute local path, or an <c>abfss://container@account.dfs.core.windows.net/path</c> URI.</summary>
    string Location { get; }

    /// <summary>A storage rooted at a sub-folder of this one.</summary>
    ILakeStorage Scope(string relativePath);

    /// <summary>Lists every file whose relative path starts with <paramref name="prefix"/>, recursively, in ordinal path order.</summary>
    IAsyncEnumerable<LakeFile> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists like <see cref="ListAsync(string, CancellationToken)"/>, but only the files whose relative path sorts (ordinal) at or after
    /// <paramref name="startFrom"/>: a Delta reader lists its log from the newest checkpoint on. Local disk then reads the size and time of
    /// those files only; Azure lists the prefix and filters.
    /// </summary>
    IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, CancellationToken cancellationToken = default);

    /// <summary>Size, time and etag of one file, or null when it does not exist.</summary>
    Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Reads a whole file. Throws NotFound when it does not exist.</summary>
    Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> (fewer at the end of the file).</summary>
    Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default);

    /// <summary>Creates a file only if none exists at the path; throws AlreadyExists otherwise. Atomic on both stores.</summary>
    Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a file.</summary>
    Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a file with the content of a local file, streamed.</summary>
    Task UploadAsync(string path, string localFile, CancellationToken cancellationToken = default);

    /// <summary>Deletes a file; returns false when it did not exist.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// A local file path with the file's content, for engines that read files by path (DuckDB).
    /// Local storage returns the file itself; remote storage downloads it into a cache keyed by path, size and etag.
    /// </summary>
    Task<string> GetLocalCopyAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>The local folder behind a path when the store is a local disk (writers stage there directly); null for remote stores.</summary>
    string? LocalPathOrNull(string path);
}
