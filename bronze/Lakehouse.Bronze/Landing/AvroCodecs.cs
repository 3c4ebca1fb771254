using System.Buffers.Binary;
using System.IO.Hashing;
using Avro.File;
using Snappier;
using ZstdSharp;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// The Avro block codecs Apache.Avro does not bring itself: <c>snappy</c> (Snappier; each block ends in the big-endian CRC-32 of
/// its uncompressed bytes, which is checked) and <c>zstandard</c> (ZstdSharp). <c>null</c> and <c>deflate</c> are built in.
/// </summary>
/// <remarks>
/// Apache.Avro finds codecs through a process-wide resolver list (<see cref="Codec.RegisterResolver"/>), the only hook it has: it is
/// registered once per process, the first time a Capture file is read, and answers only for these two names.
/// </remarks>
internal static class AvroCodecs
{
    private static readonly Lazy<bool> Registered = new(() =>
    {
        Codec.RegisterResolver(Resolve);
        return true;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Registers the resolver (once per process).</summary>
    internal static void EnsureRegistered() => _ = Registered.Value;

    private static Codec? Resolve(string name) => name switch
    {
        SnappyCodec.Name => new SnappyCodec(),
        ZstandardCodec.Name => new ZstandardCodec(),
        _ => null,
    };

    /// <summary>Avro's snappy codec: a raw snappy block followed by the 4-byte big-endian CRC-32 (IEEE) of the uncompressed bytes.</summary>
    internal sealed class SnappyCodec : Codec
    {
        internal const string Name = "snappy";

        public override byte[] Compress(byte[] uncompressedData)
        {
            ArgumentNullException.ThrowIfNull(uncompressedData);
            var compressed = Snappy.CompressToArray(uncompressedData);
            var result = new byte[compressed.Length + 4];
            compressed.CopyTo(result, 0);
            BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(compressed.Length), Crc32.HashToUInt32(uncompressedData));
            return result;
        }

        public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
        {
            ArgumentNullException.ThrowIfNull(inputStream);
            ArgumentNullException.ThrowIfNull(outputStream);
            var compressed = Compress(inputStream.ToArray());
            outputStream.SetLength(0);
            outputStream.Write(compressed, 0, compressed.Length);
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            ArgumentNullException.ThrowIfNull(compressedData);
            if (length < 4 || length > compressedData.Length)
                throw new InvalidDataException($"A snappy block of {length} bytes is too short to hold its 4-byte checksum.");
            var block = compressedData.AsSpan(0, length - 4);
            byte[] data;
            try
            {
                data = Snappy.DecompressToArray(block);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"A snappy block does not decompress: {e.Message}", e);
            }
            var expected = BinaryPrimitives.ReadUInt32BigEndian(compressedData.AsSpan(length - 4, 4));
            var actual = Crc32.HashToUInt32(data);
            if (expected != actual)
                throw new InvalidDataException($"A snappy block's checksum does not match its content (CRC-32 {actual:x8}, the block says {expected:x8}): the file is damaged.");
            return data;
        }

        public override string GetName() => Name;

        public override bool Equals(object? other) => other is SnappyCodec;

        public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
    }

    /// <summary>Avro's zstandard codec: each block is one zstd frame.</summary>
    internal sealed class ZstandardCodec : Codec
    {
        internal const string Name = "zstandard";

        public override byte[] Compress(byte[] uncompressedData)
        {
            ArgumentNullException.ThrowIfNull(uncompressedData);
            using var compressor = new Compressor();
            return compressor.Wrap(uncompressedData).ToArray();
        }

        public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
        {
            ArgumentNullException.ThrowIfNull(inputStream);
            ArgumentNullException.ThrowIfNull(outputStream);
            var compressed = Compress(inputStream.ToArray());
            outputStream.SetLength(0);
            outputStream.Write(compressed, 0, compressed.Length);
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            ArgumentNullException.ThrowIfNull(compressedData);
            // Streamed: a frame need not state its decompressed size.
            try
            {
                using var input = new MemoryStream(compressedData, 0, length, writable: false);
                using var zstd = new DecompressionStream(input);
                using var output = new MemoryStream();
                zstd.CopyTo(output);
                return output.ToArray();
            }
            catch (ZstdException e)
            {
                throw new InvalidDataException($"A zstandard block does not decompress: {e.Message}", e);
            }
        }

        public override string GetName() => Name;

        public override bool Equals(object? other) => other is ZstandardCodec;

        public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
    }
}
