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

    /// <summary>
    /// The deleted row positions (0-based, ascending) of the deletion vector of <paramref name="dataFile"/> (named in every error).
    /// A vector that does not decode to exactly <c>sizeInBytes</c> bytes and <c>cardinality</c> distinct rows is corruption.
    /// </summary>
    internal static async Task<long[]> ReadAsync(DeletionVectorDescriptor dv, string dataFile, ILakeStorage storage, CancellationToken cancellationToken)
    {
        byte[] bitmap;
        switch (dv.StorageType)
        {
            case "i":
                bitmap = InlineBitmap(dv, dataFile);
                break;
            case "u":
            case "p":
                string path;
                try
                {
                    path = dv.StorageType == "u" ? RelativePath(dv.PathOrInlineDv) : DeltaPaths.ToTableRelative(dv.PathOrInlineDv, storage);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.CorruptLog)
                {
                    throw Corrupt(dataFile, e.Message, e);
                }
                var offset = dv.Offset ?? 1;
                byte[] block;
                try
                {
                    block = await storage.ReadRangeAsync(path, offset, dv.SizeInBytes + 4, cancellationToken).ConfigureAwait(false);
                }
                catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
                {
                    throw Corrupt(dataFile, $"its file '{path}' is missing", e);
                }
                if (block.Length < dv.SizeInBytes + 4)
                    throw Corrupt(dataFile, $"its file '{path}' is shorter than the descriptor says ({block.Length} bytes at offset {offset}, expected {dv.SizeInBytes + 4})");
                var size = BinaryPrimitives.ReadInt32BigEndian(block);
                if (size != dv.SizeInBytes)
                    throw Corrupt(dataFile, $"the vector in '{path}' at offset {offset} has size {size}, the log says {dv.SizeInBytes}");
                bitmap = block[4..];
                break;
            default:
                throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                    $"The deletion vector of data file '{dataFile}' has storage type '{dv.StorageType}', which this reader does not know.");
        }
        long[] rows;
        try
        {
            rows = ParseRoaringArray(bitmap, dv.Cardinality);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.CorruptLog)
        {
            throw Corrupt(dataFile, e.Message, e);
        }
        if (rows.Length != dv.Cardinality)
            throw Corrupt(dataFile, $"it holds {rows.Length} rows, the log says {dv.Cardinality} (cardinality)");
        return rows;
    }

    /// <summary>
    /// Checks that no deleted row of <paramref name="dataFile"/> is at or past its row count (a vector of another file, or damaged);
    /// <paramref name="rows"/> are ascending.
    /// </summary>
    internal static void CheckBounds(long[] rows, long fileRows, string dataFile)
    {
        if (rows.Length > 0 && rows[^1] >= fileRows)
            throw Corrupt(dataFile, $"it deletes row {rows[^1]}, but the file has {fileRows} rows");
    }

    private static LakehouseException Corrupt(string dataFile, string why, Exception? inner = null) =>
        new(LakehouseErrorReason.CorruptLog, $"The deletion vector of data file '{dataFile}' is damaged: {why}. The file's rows cannot be read exactly.", inner);

    /// <summary>
    /// The serialized bitmap of an inline vector. Writers pad the last Z85 group differently: Spark encodes whole groups of four bytes
    /// (zero bytes added), so the text decodes to up to three bytes more than <c>sizeInBytes</c>, all zero; delta-rs and kernel-rs
    /// encode the last one to three bytes alone and mark the bytes missing with leading '#' characters. Both decode to exactly
    /// <c>sizeInBytes</c> bytes, anything else is corruption.
    /// </summary>
    private static byte[] InlineBitmap(DeletionVectorDescriptor dv, string dataFile)
    {
        byte[] bytes;
        try
        {
            bytes = Z85DecodeBytes(dv.PathOrInlineDv);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.CorruptLog)
        {
            throw Corrupt(dataFile, e.Message, e);
        }
        if (bytes.Length == dv.SizeInBytes) return bytes;
        if (bytes.Length > dv.SizeInBytes && bytes.Length - dv.SizeInBytes < 4 && bytes.AsSpan(dv.SizeInBytes).IndexOfAnyExcept((byte)0) < 0)
            return bytes[..dv.SizeInBytes];
        throw Corrupt(dataFile, $"the inline vector decodes to {bytes.Length} bytes, the log says {dv.SizeInBytes} (sizeInBytes)");
    }

    /// <summary>The table-relative path of an on-disk vector's file ('u' and 'p'); null for inline vectors or a path that cannot be resolved.</summary>
    internal static string? FilePath(DeletionVectorDescriptor dv, ILakeStorage storage)
    {
        try
        {
            return dv.StorageType switch
            {
                "u" => RelativePath(dv.PathOrInlineDv),
                "p" => DeltaPaths.ToTableRelative(dv.PathOrInlineDv, storage),
                _ => null,
            };
        }
        catch (LakehouseException)
        {
            return null;
        }
    }

    /// <summary>The table-relative path of a 'u' deletion vector: optional prefix folder, then deletion_vector_&lt;uuid&gt;.bin.</summary>
    internal static string RelativePath(string pathOrInlineDv)
    {
        if (pathOrInlineDv.Length < 20) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its id '{pathOrInlineDv}' is too short");
        var prefix = pathOrInlineDv[..^20];
        var uuidBytes = Z85DecodeBytes(pathOrInlineDv[^20..]);
        var hex = Convert.ToHexString(uuidBytes).ToLowerInvariant();
        var uuid = $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
        var file = $"deletion_vector_{uuid}.bin";
        return LakePath.Normalize(prefix.Length == 0 ? file : prefix + "/" + file);
    }

    /// <summary>
    /// Decodes Z85 text (groups of five characters, each four bytes big-endian). A last group starting with one to three '#'
    /// characters holds only 4 - n bytes (the padding of delta-rs's and kernel-rs's z85 encoder: '#' cannot start a full group,
    /// whose value would pass 2^32).
    /// </summary>
    internal static byte[] Z85DecodeBytes(string text)
    {
        if (text.Length % 5 != 0) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its Z85 text has {text.Length} characters, not a multiple of 5");
        var groups = text.Length / 5;
        var missing = 0;
        if (groups > 0)
        {
            var last = text.AsSpan(text.Length - 5);
            while (missing < 5 && last[missing] == '#') missing++;
            if (missing > 3) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its last Z85 group '{last}' is not valid");
        }
        var result = new byte[(groups * 4) - missing];
        Span<byte> four = stackalloc byte[4];
        for (var g = 0; g < groups; g++)
        {
            ulong value = 0;
            var tail = g == groups - 1 ? missing : 0;
            for (var j = 0; j < 5; j++)
            {
                var c = text[(g * 5) + j];
                var d = j < tail ? 0 : c < 128 ? Z85Decode[c] : (sbyte)-1;
                if (d < 0) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"'{c}' at position {(g * 5) + j} is not a Z85 character");
                value = (value * 85) + (ulong)d;
            }
            if (value > (tail == 0 ? uint.MaxValue : (1UL << (8 * (4 - tail))) - 1))
                throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"Z85 group '{text.AsSpan(g * 5, 5)}' is out of range");
            BinaryPrimitives.WriteUInt32BigEndian(four, (uint)value);
            four[tail..].CopyTo(result.AsSpan(g * 4));
        }
        return result;
    }

    /// <summary>
    /// Parses Delta's RoaringBitmapArray: magic, count of 32-bit bitmaps, then (high key, portable 32-bit roaring bitmap) pairs.
    /// Fails (CorruptLog, a reason without the file) on a cut-off or malformed bitmap, on rows that are not strictly ascending,
    /// and as soon as it holds more than <paramref name="maxRows"/> rows.
    /// </summary>
    internal static long[] ParseRoaringArray(ReadOnlySpan<byte> data, long maxRows = long.MaxValue)
    {
        if (data.Length < 12 || BinaryPrimitives.ReadInt32LittleEndian(data) != RoaringArrayMagic)
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, "it does not start with the RoaringBitmapArray magic number");
        var rows = new List<long>();
        try
        {
            var count = BinaryPrimitives.ReadInt64LittleEndian(data[4..]);
            if (count < 0 || count > data.Length) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"it claims {count} bitmaps");
            var pos = 12;
            for (long b = 0; b < count; b++)
            {
                long high = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
                pos += 4;
                pos += ParsePortable32(data[pos..], high << 32, rows, maxRows);
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, "its bitmap is cut off or malformed", e);
        }
        for (var i = 1; i < rows.Count; i++)
        {
            if (rows[i] <= rows[i - 1]) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its rows are not in ascending order (row {rows[i]} after {rows[i - 1]})");
        }
        return [.. rows];
    }

    private static void Add(List<long> rows, long row, long maxRows)
    {
        if (rows.Count >= maxRows) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"it holds more than {maxRows} rows");
        rows.Add(row);
    }

    private static int ParsePortable32(ReadOnlySpan<byte> data, long highBits, List<long> rows, long maxRows)
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
            if (size < 0 || size > 65536) throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its bitmap claims {size} containers");
        }
        else
        {
            throw new LakehouseException(LakehouseErrorReason.CorruptLog, $"its bitmap has an unknown roaring cookie {cookie}");
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
                    for (var v = 0; v <= length; v++) Add(rows, baseValue + start + v, maxRows);
                }
            }
            else if (cards[i] <= 4096)
            {
                for (var j = 0; j < cards[i]; j++) Add(rows, baseValue + BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + (2 * j))..]), maxRows);
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
                        Add(rows, baseValue + (w * 64) + bit, maxRows);
                        word &= word - 1;
                    }
                }
                pos += 8192;
            }
        }
        return pos;
    }
}
