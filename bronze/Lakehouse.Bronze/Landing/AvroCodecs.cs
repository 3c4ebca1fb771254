using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using Avro.File;
using Snappier;
using ZstdSharp;

namespace Lakehouse.Bronze.Landing;

/// <summary>
/// The Avro block codecs: <c>snappy</c> (Snappier; each block ends in the big-endian CRC-32 of its uncompressed bytes, which is
/// checked), <c>zstandard</c> (ZstdSharp) and <c>deflate</c> (in place of Apache.Avro's own, which inflates a block whatever its
/// size). Each refuses a block that decompresses to more than <see cref="CaptureContainer.MaxBlockBytes"/> (64 MiB) before holding
/// it: snappy from the length it states, deflate and zstandard by inflating it once without keeping it. <c>null</c> is built in.
/// </summary>
/// <remarks>
/// Apache.Avro finds codecs through a process-wide resolver list (<see cref="Codec.RegisterResolver"/>), the only hook it has: it is
/// registered once per process, the first time a Capture file is read, and answers for these three names (resolvers are asked
/// before the built-in codecs), leaves <c>null</c> to the built-in one and refuses any other by name.
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
        DeflateCodec.Name => new DeflateCodec(),
        "null" => null,
        // Apache.Avro would look for its optional codec assemblies (xz, bzip2) and fail with an assembly-loading error.
        _ => throw new InvalidDataException($"its codec '{name}' is not one Capture files are read with here (null, deflate, snappy, zstandard)"),
    };

    /// <summary>The refusal of a <paramref name="codec"/> block that decompresses to more than the limit.</summary>
    private static InvalidDataException TooLarge(string codec) => new(string.Create(CultureInfo.InvariantCulture,
        $"a {codec} block decompresses to more than {CaptureContainer.MaxBlockBytes} bytes (64 MiB), the most a Capture block may hold"));

    /// <summary>
    /// Decompresses a block of unknown decompressed size into an array of exactly that size: a first pass counts the bytes
    /// without keeping them and refuses past the limit, the second fills the array.
    /// </summary>
    private static byte[] Inflate(Func<Stream> open, string codec)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        long total = 0;
        try
        {
            using (var counting = open())
            {
                for (int read; (read = counting.Read(buffer)) > 0;)
                {
                    total += read;
                    if (total > CaptureContainer.MaxBlockBytes) throw TooLarge(codec);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var data = new byte[total];
        using var filling = open();
        filling.ReadExactly(data);
        return data;
    }

    /// <summary>
    /// What the three codecs share: the stream overload compresses the whole block through the array one, and two codecs are
    /// equal when they have the same name.
    /// </summary>
    internal abstract class BlockCodec : Codec
    {
        public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
        {
            ArgumentNullException.ThrowIfNull(inputStream);
            ArgumentNullException.ThrowIfNull(outputStream);
            var compressed = Compress(inputStream.ToArray());
            outputStream.SetLength(0);
            outputStream.Write(compressed, 0, compressed.Length);
        }

        public override bool Equals(object? other) => other is Codec codec && codec.GetName() == GetName();

        public override int GetHashCode() => GetName().GetHashCode(StringComparison.Ordinal);
    }

    /// <summary>Avro's snappy codec: a raw snappy block followed by the 4-byte big-endian CRC-32 (IEEE) of the uncompressed bytes.</summary>
    internal sealed class SnappyCodec : BlockCodec
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

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            ArgumentNullException.ThrowIfNull(compressedData);
            if (length < 4 || length > compressedData.Length)
                throw new InvalidDataException($"A snappy block of {length} bytes is too short to hold its 4-byte checksum.");
            var block = compressedData.AsSpan(0, length - 4);
            byte[] data;
            try
            {
                var stated = Snappy.GetUncompressedLength(block);
                if (stated > CaptureContainer.MaxBlockBytes)
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"a snappy block states {stated} bytes decompressed, more than the {CaptureContainer.MaxBlockBytes} bytes (64 MiB) a Capture block may hold"));
                data = Snappy.DecompressToArray(block);
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith("a snappy block", StringComparison.Ordinal))
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
    }

    /// <summary>Avro's zstandard codec: each block is one zstd frame.</summary>
    internal sealed class ZstandardCodec : BlockCodec
    {
        internal const string Name = "zstandard";

        public override byte[] Compress(byte[] uncompressedData)
        {
            ArgumentNullException.ThrowIfNull(uncompressedData);
            using var compressor = new Compressor();
            return compressor.Wrap(uncompressedData).ToArray();
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            ArgumentNullException.ThrowIfNull(compressedData);
            // Streamed: a frame need not state its decompressed size.
            try
            {
                return Inflate(() => new DecompressionStream(new MemoryStream(compressedData, 0, length, writable: false)), Name);
            }
            catch (ZstdException e)
            {
                throw new InvalidDataException($"A zstandard block does not decompress: {e.Message}", e);
            }
        }

        public override string GetName() => Name;
    }

    /// <summary>Avro's deflate codec: each block is raw deflate (RFC 1951, no zlib header), as Apache.Avro's own writes it.</summary>
    internal sealed class DeflateCodec : BlockCodec
    {
        internal const string Name = "deflate";

        public override byte[] Compress(byte[] uncompressedData)
        {
            ArgumentNullException.ThrowIfNull(uncompressedData);
            using var output = new MemoryStream();
            using (var deflate = new DeflateStream(output, CompressionLevel.Optimal)) deflate.Write(uncompressedData);
            return output.ToArray();
        }

        public override byte[] Decompress(byte[] compressedData, int length)
        {
            ArgumentNullException.ThrowIfNull(compressedData);
            try
            {
                return Inflate(() => new DeflateStream(new MemoryStream(compressedData, 0, length, writable: false), CompressionMode.Decompress), Name);
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("A deflate block does not decompress the same twice: the file is damaged.", e);
            }
        }

        public override string GetName() => Name;
    }
}
