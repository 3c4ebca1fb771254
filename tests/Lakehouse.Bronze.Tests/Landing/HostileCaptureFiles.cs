using System.IO.Compression;
using System.Text;
using Lakehouse.Bronze.Landing;

namespace Lakehouse.Bronze.Tests.Landing;

/// <summary>
/// Builds Event Hubs Capture files byte by byte (the Avro object container layout: magic, metadata map, sync marker, then blocks
/// of count, size, data, sync), honest ones and ones whose sizes lie, so a test can say exactly which varint is hostile.
/// </summary>
internal static class HostileCaptureFiles
{
    /// <summary>Capture's record schema, as Event Hubs writes it.</summary>
    internal const string Schema = """{"type":"record","name":"EventData","namespace":"Microsoft.ServiceBus.Messaging","fields":[{"name":"SequenceNumber","type":"long"},{"name":"Offset","type":"string"},{"name":"EnqueuedTimeUtc","type":"string"},{"name":"SystemProperties","type":{"type":"map","values":["long","double","string","bytes"]}},{"name":"Properties","type":{"type":"map","values":["long","double","string","bytes","null"]}},{"name":"Body","type":["null","bytes"]}]}""";

    /// <summary>Capture's schema with a plain (not union) bytes Body, as another writer may declare it.</summary>
    internal static readonly string PlainBodySchema = Schema.Replace("""{"name":"Body","type":["null","bytes"]}""", """{"name":"Body","type":"bytes"}""", StringComparison.Ordinal);

    /// <summary>Capture's schema with an array of nulls before Body (items that take no bytes), as another writer may add a field.</summary>
    internal static readonly string NullArraySchema = Schema.Replace("""{"name":"Body",""", """{"name":"Tags","type":{"type":"array","items":"null"}},{"name":"Body",""", StringComparison.Ordinal);

    internal static readonly byte[] Sync = [.. Enumerable.Range(0, 16).Select(i => (byte)(0xA0 + i))];

    /// <summary>A zig-zag varint long, as Avro writes every int and long.</summary>
    internal static byte[] Long(long value)
    {
        var n = (ulong)((value << 1) ^ (value >> 63));
        var bytes = new List<byte>();
        while (n >= 0x80)
        {
            bytes.Add((byte)(n | 0x80));
            n >>= 7;
        }
        bytes.Add((byte)n);
        return [.. bytes];
    }

    /// <summary>The container header: magic, the metadata map (schema and codec), the sync marker.</summary>
    internal static byte[] Header(string codec, string schema = Schema)
    {
        var header = new List<byte>("Obj\u0001"u8.ToArray());
        header.AddRange(Long(2));
        foreach (var (key, value) in new[] { ("avro.schema", schema), ("avro.codec", codec) })
        {
            header.AddRange(Long(key.Length));
            header.AddRange(Encoding.UTF8.GetBytes(key));
            header.AddRange(Long(Encoding.UTF8.GetByteCount(value)));
            header.AddRange(Encoding.UTF8.GetBytes(value));
        }
        header.AddRange(Long(0));
        header.AddRange(Sync);
        return [.. header];
    }

    /// <summary>One record whose Body declares <paramref name="declaredLength"/> bytes and holds <paramref name="body"/>;
    /// <paramref name="offsetLength"/> is the length the plain string Offset declares (it holds "4096"); <paramref name="keyLength"/>,
    /// when given, makes SystemProperties one entry whose key declares that length (and holds "k"); <paramref name="plainBody"/>
    /// writes Body as a plain bytes field (<see cref="PlainBodySchema"/>), without a union branch; <paramref name="nullItems"/>, when
    /// given, writes the array of <see cref="NullArraySchema"/> as one block declaring that many items (nulls take no bytes).
    /// <paramref name="entries"/>, when given, is the entry count SystemProperties declares, followed by one entry only.</summary>
    internal static byte[] Record(long sequence, byte[] body, long? declaredLength = null, long? offsetLength = null, long? keyLength = null, bool plainBody = false,
        long? nullItems = null, long? entries = null)
    {
        var record = new List<byte>(Long(sequence));
        record.AddRange(Long(offsetLength ?? 4));
        record.AddRange("4096"u8.ToArray());
        const string Enqueued = "12/7/2018 10:22:49 AM";
        record.AddRange(Long(Enqueued.Length));
        record.AddRange(Encoding.ASCII.GetBytes(Enqueued));
        if (keyLength is { } k)
        {
            record.AddRange([.. Long(1), .. Long(k), (byte)'k', .. Long(0), .. Long(7), .. Long(0)]); // SystemProperties: one entry, a long 7; then the end
        }
        else if (entries is { } e) record.AddRange([.. Long(e), .. Long(1), (byte)'k', .. Long(0), .. Long(7), .. Long(0)]);
        else record.AddRange(Long(0)); // SystemProperties: empty map
        record.AddRange(Long(0)); // Properties: empty map
        if (nullItems is { } items) record.AddRange(items == 0 ? Long(0) : [.. Long(items), .. Long(0)]);
        if (!plainBody) record.AddRange(Long(1)); // Body: the bytes branch
        record.AddRange(Long(declaredLength ?? body.Length));
        record.AddRange(body);
        return [.. record];
    }

    /// <summary>Records <paramref name="first"/>.. of body "event {n}".</summary>
    internal static byte[] Records(int count, long first = 1) =>
        [.. Enumerable.Range(0, count).SelectMany(i => Record(first + i, Encoding.UTF8.GetBytes($"event {first + i}")))];

    /// <summary>A block: record count, byte size, the bytes, the sync marker.</summary>
    internal static byte[] Block(long count, long size, byte[] data) => [.. Long(count), .. Long(size), .. data, .. Sync];

    /// <summary>An honest Capture file of <paramref name="count"/> records in one block.</summary>
    internal static byte[] Honest(string codec, int count, long first = 1)
    {
        var data = Compress(codec, Records(count, first));
        return [.. Header(codec), .. Block(count, data.Length, data)];
    }

    /// <summary>A block's bytes in <paramref name="codec"/>.</summary>
    internal static byte[] Compress(string codec, byte[] data) => codec switch
    {
        "null" => data,
        "deflate" => Deflate(data),
        "snappy" => new AvroCodecs.SnappyCodec().Compress(data),
        "zstandard" => new AvroCodecs.ZstandardCodec().Compress(data),
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "not a codec"),
    };

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal)) deflate.Write(data);
        return output.ToArray();
    }

    /// <summary>A deflate stream of <paramref name="length"/> zero bytes, written without holding them (a decompression bomb).</summary>
    internal static byte[] DeflateZeros(long length)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal)) WriteZeros(deflate, length);
        return output.ToArray();
    }

    /// <summary>A zstd frame of <paramref name="length"/> zero bytes that does not state its size (streamed), a decompression bomb.</summary>
    internal static byte[] ZstdZeros(long length)
    {
        using var output = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(output, 3)) WriteZeros(zstd, length);
        return output.ToArray();
    }

    private static void WriteZeros(Stream stream, long length)
    {
        var zeros = new byte[1 << 20];
        for (var left = length; left > 0; left -= zeros.Length) stream.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
    }
}
