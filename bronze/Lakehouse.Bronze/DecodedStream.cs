using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Lakehouse.Bronze;

/// <summary>
/// Compressed bytes — an HTTP body sent with <c>Content-Encoding: gzip</c>, <c>deflate</c> (zlib, as HTTP defines it) or <c>br</c>,
/// a landed <c>.gz</c> file — decoded as they are read and checked to be whole at their end (<see cref="Verify"/>). .NET's
/// decompressing streams return the decoded start of data that was cut short without an error, which would land a cut-off event:
/// gzip's trailer (CRC-32 and size) and zlib's (Adler-32) are checked against what was decoded, and Brotli data must reach the end of
/// its stream. Data that does not decode, data that ends early, and bytes after the end of the compressed data (so also a file of
/// several gzip members) all raise <see cref="InvalidDataException"/>. No bytes at all are no data, not a broken stream.
/// </summary>
public sealed class DecodedStream : Stream
{
    private readonly TailStream _raw;
    private readonly Stream? _decoder;
    private readonly string _coding;
    private readonly Crc32? _crc;
    private uint _adlerA = 1;
    private uint _adlerB;
    private long _length;

    // Brotli: the decoder over a buffer of raw bytes.
    private BrotliDecoder _brotli;
    private readonly byte[]? _input;
    private int _inputStart;
    private int _inputEnd;
    private bool _brotliDone;

    private DecodedStream(Stream raw, string coding)
    {
        _raw = new TailStream(raw);
        _coding = coding;
        switch (coding)
        {
            case "gzip":
                _decoder = new GZipStream(_raw, CompressionMode.Decompress, leaveOpen: true);
                _crc = new Crc32();
                break;
            case "deflate":
                _decoder = new ZLibStream(_raw, CompressionMode.Decompress, leaveOpen: true);
                break;
            default:
                _brotli = new BrotliDecoder();
                _input = ArrayPool<byte>.Shared.Rent(1 << 16);
                break;
        }
    }

    /// <summary>The codings this decodes (the Content-Encoding values, lower case).</summary>
    public static IReadOnlyList<string> Codings { get; } = ["gzip", "deflate", "br"];

    /// <summary>The decoded bytes of <paramref name="raw"/>, compressed with <paramref name="coding"/> (one of <see cref="Codings"/>); <paramref name="raw"/> is left open.</summary>
    public static DecodedStream Open(Stream raw, string coding)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!Codings.Contains(coding)) throw new ArgumentOutOfRangeException(nameof(coding), coding, "Not one of the codings this decodes.");
        return new(raw, coding);
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        if (_decoder is null) return await ReadBrotliAsync(buffer, cancellationToken).ConfigureAwait(false);
        int n;
        try
        {
            n = await _decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"it does not decode ({e.Message})", e); // .NET's decoder message, said as ours are
        }
        var span = buffer.Span[..n];
        _crc?.Append(span);
        if (_coding == "deflate") Adler(span);
        _length += n;
        return n;
    }

    /// <summary>
    /// Checks, once every decoded byte was read, that the data was whole: raises <see cref="InvalidDataException"/> when it was cut
    /// short, damaged, or had bytes after its end.
    /// </summary>
    public void Verify()
    {
        if (_raw.Total == 0) return; // no bytes at all: nothing was sent, not something broken
        switch (_coding)
        {
            case "gzip":
                var tail = _raw.Tail(8);
                if (tail.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(tail) != _crc!.GetCurrentHashAsUInt32()
                    || BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]) != (uint)_length)
                    throw new InvalidDataException("the gzip data is cut short or damaged: its trailer does not match what decodes from it (or bytes follow it, or it is several gzip members)");
                break;
            case "deflate":
                var adler = _raw.Tail(4);
                if (adler.Length < 4 || BinaryPrimitives.ReadUInt32BigEndian(adler) != ((_adlerB << 16) | _adlerA))
                    throw new InvalidDataException("the deflate (zlib) data is cut short or damaged: its Adler-32 checksum does not match what decodes from it (or bytes follow it)");
                break;
            default:
                if (!_brotliDone) throw new InvalidDataException("the Brotli data is cut short: it ends before the end of its stream");
                break;
        }
    }

    private async ValueTask<int> ReadBrotliAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_brotliDone)
            {
                if (_inputStart < _inputEnd || await _raw.ReadAsync(_input.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) > 0)
                    throw new InvalidDataException("bytes follow the end of the Brotli data");
                return 0;
            }
            var status = _brotli.Decompress(_input.AsSpan(_inputStart, _inputEnd - _inputStart), buffer.Span, out var consumed, out var written);
            _inputStart += consumed;
            _length += written;
            if (status == OperationStatus.InvalidData) throw new InvalidDataException("the body is not valid Brotli data");
            if (status == OperationStatus.Done) _brotliDone = true;
            if (written > 0) return written;
            if (status == OperationStatus.NeedMoreData)
            {
                _inputStart = 0;
                _inputEnd = await _raw.ReadAsync(_input, cancellationToken).ConfigureAwait(false);
                if (_inputEnd == 0) throw new InvalidDataException("the Brotli data is cut short: it ends before the end of its stream");
            }
        }
    }

    private void Adler(ReadOnlySpan<byte> bytes)
    {
        const uint mod = 65521;
        uint a = _adlerA, b = _adlerB;
        while (bytes.Length > 0)
        {
            // 5552 bytes is the most that cannot overflow 32 bits before the modulo (zlib's NMAX).
            var n = Math.Min(bytes.Length, 5552);
            foreach (var x in bytes[..n])
            {
                a += x;
                b += a;
            }
            a %= mod;
            b %= mod;
            bytes = bytes[n..];
        }
        (_adlerA, _adlerB) = (a, b);
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _decoder?.Dispose();
            if (_input is not null)
            {
                _brotli.Dispose();
                ArrayPool<byte>.Shared.Return(_input);
            }
        }
        base.Dispose(disposing);
    }

    /// <summary>The raw (compressed) body, keeping its last bytes for the trailer checks.</summary>
    private sealed class TailStream(Stream inner) : Stream
    {
        private readonly byte[] _tail = new byte[8];
        private int _kept;

        /// <summary>How many bytes were read.</summary>
        internal long Total { get; private set; }

        /// <summary>The last <paramref name="count"/> bytes read (fewer when fewer were read).</summary>
        internal ReadOnlySpan<byte> Tail(int count) => _tail.AsSpan(_kept - Math.Min(count, _kept), Math.Min(count, _kept));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Keep(buffer.Span[..n]);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Keep(buffer.AsSpan(offset, n));
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Keep(ReadOnlySpan<byte> read)
        {
            Total += read.Length;
            if (read.Length >= _tail.Length)
            {
                read[^_tail.Length..].CopyTo(_tail);
                _kept = _tail.Length;
                return;
            }
            var keep = Math.Min(_kept, _tail.Length - read.Length);
            _tail.AsSpan(_kept - keep, keep).CopyTo(_tail);
            read.CopyTo(_tail.AsSpan(keep));
            _kept = keep + read.Length;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
