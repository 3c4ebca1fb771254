using System.Buffers.Binary;
using System.IO.Hashing;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// Passes a gzip file's decompressed bytes through while computing their CRC-32 and length, so that the file's trailer can be
/// checked at the end: .NET's GZipStream returns a truncated file's bytes without an error, and a half-written or damaged
/// file must not pass for a complete one. Files of several gzip members (<c>cat a.gz b.gz</c>) fail the check and are refused.
/// </summary>
internal sealed class GzipCheck(Stream decompressed) : Stream
{
    private readonly Crc32 _crc = new();
    private long _length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = decompressed.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await decompressed.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Checks the decompressed bytes read so far (all of them: call it at the end) against the trailer of <paramref name="file"/>,
    /// the compressed file; throws <see cref="InvalidDataException"/> when they do not match.
    /// </summary>
    internal void Verify(FileStream file)
    {
        var trailer = new byte[8];
        var size = file.Length;
        if (size == 0) return; // An empty file: no events, like an empty plain file.
        if (size < 18) throw new InvalidDataException($"it is not a complete gzip file ({size} bytes, fewer than a gzip header and trailer take)");
        RandomAccess.Read(file.SafeFileHandle, trailer, size - 8);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4));
        if (crc != _crc.GetCurrentHashAsUInt32() || length != (uint)_length)
            throw new InvalidDataException(
                "it is a truncated or damaged gzip file: its trailer does not match the content that decompresses from it (a file of several gzip members is not supported either: decompress it)");
    }

    private void Account(ReadOnlySpan<byte> bytes)
    {
        _crc.Append(bytes);
        _length += bytes.Length;
    }

    public override void Flush()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) decompressed.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await decompressed.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
