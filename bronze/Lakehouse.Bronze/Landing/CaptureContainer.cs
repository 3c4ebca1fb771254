using System.Globalization;
using System.Text;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// Checks the structure of an Avro object container file before Apache.Avro reads it, which allocates whatever a block or a
/// value declares: the header (magic <c>Obj\x01</c>, the metadata map, the 16-byte sync marker), then every block's record
/// count, byte size and closing sync marker against the file's length and <see cref="MaxBlockBytes"/>. Nothing is read into
/// memory but the header's values; block contents are skipped over.
/// </summary>
internal static class CaptureContainer
{
    /// <summary>
    /// The most a block may hold, compressed or decompressed: 64 MiB, twice the largest event bronze lands
    /// (<see cref="RawEvents.MaxEventBytes"/>, 32 MiB), so a block always holds one largest event. Capture writes events of at
    /// most 1 MB (Event Hubs' limit) in blocks far smaller than this.
    /// </summary>
    internal const int MaxBlockBytes = 64 << 20;

    private const int SyncSize = 16;

    /// <summary>
    /// Walks <paramref name="stream"/> (seekable, from its start) block by block and leaves it at its start. Throws
    /// <see cref="InvalidDataException"/> naming the block and what it declares when a block's size is negative, runs past the end of
    /// the file or over <see cref="MaxBlockBytes"/>, its record count is negative or more than its bytes can hold, or it does not
    /// end in the file's sync marker. Returns the blocks, in file order, so a record's refusal can name its block.
    /// </summary>
    internal static IReadOnlyList<CaptureBlock> Check(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("A Capture file is read from a seekable stream.", nameof(stream));
        var length = stream.Length;
        stream.Position = 0;
        var reader = new Reader(stream, length);
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || !magic.SequenceEqual("Obj\u0001"u8))
            throw new InvalidDataException("it is not an Avro object container file (it does not start with 'Obj' and byte 1)");
        var codec = ReadHeader(reader);
        var sync = new byte[SyncSize];
        if (!reader.TryRead(sync)) throw new InvalidDataException("it is not an Avro object container file (its header ends before its sync marker)");
        var block = 0L;
        var blocks = new List<CaptureBlock>();
        var records = 0L;
        var marker = new byte[SyncSize];
        while (stream.Position < length)
        {
            block++;
            var at = stream.Position;
            var count = reader.Long(() => Damaged(block, at, "ends inside its record count"));
            var size = reader.Long(() => Damaged(block, at, "ends inside its size"));
            if (count < 0) throw Damaged(block, at, $"declares a negative record count ({count})");
            if (size < 0) throw Damaged(block, at, $"declares a negative size ({size} bytes)");
            var follow = length - stream.Position;
            if (size > follow - SyncSize)
                throw new InvalidDataException(Invariant($"it is damaged or truncated: block {block} (byte {at}) declares {size} bytes, but only {Math.Max(0, follow - SyncSize)} follow it before its 16-byte sync marker"));
            if (size > MaxBlockBytes)
                throw new InvalidDataException(Invariant($"it has a block over the limit: block {block} (byte {at}) declares {size} bytes, more than the {MaxBlockBytes} bytes (64 MiB) a Capture block may hold"));
            // A Capture record takes at least one byte (its SequenceNumber), decompressed at most MaxBlockBytes.
            if (count > (codec is "null" ? size : MaxBlockBytes)) throw Damaged(block, at, $"declares {count} records in {size} bytes");
            stream.Position += size;
            if (!reader.TryRead(marker) || !marker.AsSpan().SequenceEqual(sync)) throw Damaged(block, at, "does not end in the file's sync marker");
            // Apache.Avro stops at a block of no records: the blocks after it would be dropped unread.
            if (count == 0 && stream.Position < length) throw Damaged(block, at, "declares no records, and blocks follow it");
            records += count;
            blocks.Add(new CaptureBlock(block, at, records - count + 1, size));
        }
        stream.Position = 0;
        return blocks;
    }

    /// <summary>The block that holds record <paramref name="record"/> (1-based), or null when none does.</summary>
    internal static CaptureBlock? BlockOf(IReadOnlyList<CaptureBlock> blocks, long record)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        CaptureBlock? found = null;
        foreach (var b in blocks)
        {
            if (b.FirstRecord > record) break;
            found = b;
        }
        return found;
    }

    /// <summary>Reads the metadata map (bytes values keyed by strings), each length checked against the file; returns avro.codec.</summary>
    private static string ReadHeader(Reader reader)
    {
        var codec = "null";
        while (true)
        {
            var entries = reader.Long(HeaderEnds);
            if (entries == 0) return codec;
            if (entries < 0)
            {
                entries = entries == long.MinValue ? throw HeaderDamaged($"its metadata declares {entries} entries") : -entries;
                _ = reader.Long(HeaderEnds); // the block's byte size, which a negative count brings
            }
            for (var i = 0L; i < entries; i++)
            {
                var key = Encoding.UTF8.GetString(reader.Bytes("a metadata key"));
                var value = reader.Bytes($"metadata '{key}'");
                if (key == "avro.codec") codec = Encoding.UTF8.GetString(value);
            }
        }
    }

    private static InvalidDataException HeaderEnds() => HeaderDamaged("its header ends before its sync marker");

    private static InvalidDataException HeaderDamaged(string what) => new($"it is not an Avro object container file ({what})");

    private static InvalidDataException Damaged(long block, long at, string what) =>
        new(Invariant($"it is damaged: block {block} (byte {at}) {what}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Avro's binary primitives over the stream, each length checked against what is left of the file.</summary>
    private sealed class Reader(Stream stream, long length)
    {
        /// <summary>A zig-zag varint long; <paramref name="ends"/> is the refusal when the file ends inside it or it is longer than 10 bytes.</summary>
        internal long Long(Func<InvalidDataException> ends)
        {
            ulong n = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw ends();
                n |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return (long)(n >> 1) ^ -(long)(n & 1);
            }
            throw ends();
        }

        /// <summary>A length-prefixed byte string of the header.</summary>
        internal byte[] Bytes(string what)
        {
            var size = Long(HeaderEnds);
            if (size < 0 || size > length - stream.Position)
                throw HeaderDamaged(Invariant($"{what} declares {size} bytes, and {length - stream.Position} follow"));
            var bytes = new byte[size];
            stream.ReadExactly(bytes);
            return bytes;
        }

        internal bool TryRead(byte[] buffer) => stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
    }
}

/// <summary>One block of a Capture file, as <see cref="CaptureContainer.Check"/> found it.</summary>
/// <param name="Number">The block's 1-based number in the file.</param>
/// <param name="At">The byte of the file where the block starts (its record count).</param>
/// <param name="FirstRecord">The 1-based number in the file of the block's first record.</param>
/// <param name="Size">The block's size in the file (compressed, with a codec).</param>
internal sealed record CaptureBlock(long Number, long At, long FirstRecord, long Size);
