using System.Buffers.Binary;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Storage;

namespace Lakehouse.Delta.Scan;

/// <summary>
/// Reads deletion vectors (PROTOCOL.md "Deletion Vectors"): inline (Z85) or in a file ('u' relative UUID path,
/// 'p' absolute path), holding a RoaringBitmapArray of deleted row positions.
/// </summary>
internal static class DeletionVectors
{
    private const int RoaringArrayMagic = 1681511377;
    private const string Z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    private static readonly sbyte[] Z85Decode = BuildZ85Table();

    private static sbyte[] BuildZ85Table()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (var i = 0; i < Z85Alphabet.Length; i++) table[Z85Alphabet[i]] = (sbyte)i;
        return table;
    }

    /// <summary>The deleted row positions (0-based, ascending) of a file's deletion vector.</summary>
    internal static async Task<long[]> ReadAsync(DeletionVectorDescriptor dv, ILakeStorage storage, CancellationToken cancellationToken)
    {
        byte[] bitmap;
        switch (dv.StorageType)
        {
            case "i":
                bitmap = Z85DecodeBytes(dv.PathOrInlineDv);
                if (bitmap.Length > dv.SizeInBytes) bitmap = bitmap[..dv.SizeInBytes];
                break;
            case "u":
            case "p":
                var path = dv.StorageType == "u" ? RelativePath(dv.PathOrInlineDv) : DeltaPaths.ToTableRelative(dv.PathOrInlineDv, storage);
                var offset = dv.Offset ?? 1;
                byte[] block;
                try
                {
                    block = await storage.ReadRangeAsync(path, offset, dv.SizeInBytes + 4, cancellationToken).ConfigureAwait(false);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
                {
                    throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector file '{path}' referenced by the log is missing.", e);
                }
                if (block.Length < dv.SizeInBytes + 4)
                    throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector file '{path}' is shorter than its descriptor says.");
                var size = BinaryPrimitives.ReadInt32BigEndian(block);
                if (size != dv.SizeInBytes)
                    throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector in '{path}' at offset {offset} has size {size}, the log says {dv.SizeInBytes}.");
                bitmap = block[4..];
                break;
            default:
                throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Unknown deletion vector storage type '{dv.StorageType}'.");
        }
        var rows = ParseRoaringArray(bitmap);
        if (rows.Length != dv.Cardinality)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector holds {rows.Length} rows, the log says {dv.Cardinality}.");
        return rows;
    }

    /// <summary>The table-relative path of a 'u' deletion vector: optional prefix folder, then deletion_vector_&lt;uuid&gt;.bin.</summary>
    internal static string RelativePath(string pathOrInlineDv)
    {
        if (pathOrInlineDv.Length < 20) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector id '{pathOrInlineDv}' is too short.");
        var prefix = pathOrInlineDv[..^20];
        var uuidBytes = Z85DecodeBytes(pathOrInlineDv[^20..]);
        var hex = Convert.ToHexString(uuidBytes).ToLowerInvariant();
        var uuid = $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
        var file = $"deletion_vector_{uuid}.bin";
        return LakePath.Normalize(prefix.Length == 0 ? file : prefix + "/" + file);
    }

    internal static byte[] Z85DecodeBytes(string text)
    {
        if (text.Length % 5 != 0) throw new LakehouseException(LakehouseErrorReason.CorruptLog, "Z85 text length is not a multiple of 5.");
        var result = new byte[text.Length / 5 * 4];
        for (int i = 0, o = 0; i < text.Length; i += 5, o += 4)
        {
            uint value = 0;
            for (var j = 0; j < 5; j++)
            {
                var c = text[i + j];
                var d = c < 128 ? Z85Decode[c] : (sbyte)-1;
                if (d < 0) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"'{c}' is not a Z85 character.");
                value = unchecked((value * 85) + (uint)d);
            }
            BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(o), value);
        }
        return result;
    }

    /// <summary>Parses Delta's RoaringBitmapArray: magic, count of 32-bit bitmaps, then (high key, portable 32-bit roaring bitmap) pairs.</summary>
    internal static long[] ParseRoaringArray(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12 || BinaryPrimitives.ReadInt32LittleEndian(data) != RoaringArrayMagic)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, "Deletion vector does not start with the RoaringBitmapArray magic number.");
        var count = BinaryPrimitives.ReadInt64LittleEndian(data[4..]);
        var pos = 12;
        var rows = new List<long>();
        for (long b = 0; b < count; b++)
        {
            long high = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
            pos += 4;
            pos += ParsePortable32(data[pos..], high << 32, rows);
        }
        return [.. rows];
    }

    private static int ParsePortable32(ReadOnlySpan<byte> data, long highBits, List<long> rows)
    {
        const int SerialCookieNoRun = 12346, SerialCookie = 12347, NoOffsetThreshold = 4;
        var pos = 0;
        var cookie = BinaryPrimitives.ReadUInt32LittleEndian(data);
        pos += 4;
        int size;
        ReadOnlySpan<byte> runFlags = default;
        var hasRuns = (cookie & 0xFFFF) == SerialCookie;
        if (hasRuns)
        {
            size = (int)(cookie >> 16) + 1;
            var flagBytes = (size + 7) / 8;
            runFlags = data.Slice(pos, flagBytes);
            pos += flagBytes;
        }
        else if (cookie == SerialCookieNoRun)
        {
            size = (int)BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
            pos += 4;
        }
        else
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Deletion vector has an unknown roaring cookie {cookie}.");
        }
        var keys = new int[size];
        var cards = new int[size];
        for (var i = 0; i < size; i++)
        {
            keys[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]);
            cards[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 2)..]) + 1;
            pos += 4;
        }
        if (!hasRuns || size >= NoOffsetThreshold) pos += 4 * size;
        for (var i = 0; i < size; i++)
        {
            var baseValue = highBits | ((long)keys[i] << 16);
            var isRun = hasRuns && (runFlags[i / 8] & (1 << (i % 8))) != 0;
            if (isRun)
            {
                var runs = BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]);
                pos += 2;
                for (var r = 0; r < runs; r++)
                {
                    var start = BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]);
                    var length = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 2)..]);
                    pos += 4;
                    for (var v = 0; v <= length; v++) rows.Add(baseValue + start + v);
                }
            }
            else if (cards[i] <= 4096)
            {
                for (var j = 0; j < cards[i]; j++) rows.Add(baseValue + BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + (2 * j))..]));
                pos += 2 * cards[i];
            }
            else
            {
                for (var w = 0; w < 1024; w++)
                {
                    var word = BinaryPrimitives.ReadUInt64LittleEndian(data[(pos + (8 * w))..]);
                    while (word != 0)
                    {
                        var bit = System.Numerics.BitOperations.TrailingZeroCount(word);
                        rows.Add(baseValue + (w * 64) + bit);
                        word &= word - 1;
                    }
                }
                pos += 8192;
            }
        }
        return pos;
    }
}
