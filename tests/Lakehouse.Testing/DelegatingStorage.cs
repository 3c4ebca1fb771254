using Lakehouse.Storage;

namespace Lakehouse.Testing;

/// <summary>
/// A storage that passes every call to <paramref name="inner"/>: tests derive from it and override the one or two calls they
/// record or make fail.
/// </summary>
public abstract class DelegatingStorage(ILakeStorage inner) : ILakeStorage
{
    /// <summary>The storage every call goes to.</summary>
    protected ILakeStorage Inner => inner;

    /// <inheritdoc/>
    public virtual string Location => inner.Location;

    /// <inheritdoc/>
    public virtual ILakeStorage Scope(string relativePath) => inner.Scope(relativePath);

    /// <inheritdoc/>
    public virtual IAsyncEnumerable<LakeFile> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    /// <inheritdoc/>
    public virtual IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, startFrom, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default) => inner.GetInfoAsync(path, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default) => inner.ReadAsync(path, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default) =>
        inner.ReadRangeAsync(path, offset, length, cancellationToken);

    /// <inheritdoc/>
    public virtual Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        inner.PutIfAbsentAsync(path, content, cancellationToken);

    /// <inheritdoc/>
    public virtual Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(path, content, cancellationToken);

    /// <inheritdoc/>
    public virtual Task UploadAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.UploadAsync(path, localFile, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);

    /// <inheritdoc/>
    public virtual Task<string> GetLocalCopyAsync(string path, CancellationToken cancellationToken = default) => inner.GetLocalCopyAsync(path, cancellationToken);

    /// <inheritdoc/>
    public virtual string? LocalPathOrNull(string path) => inner.LocalPathOrNull(path);
}
