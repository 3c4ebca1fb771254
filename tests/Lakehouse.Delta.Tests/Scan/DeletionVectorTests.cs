using System.Buffers.Binary;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Scan;

/// <summary>
/// Deletion vectors are applied exactly or the read fails. The corpus holds no inline vector, so these tests put one on the first
/// file of dat/v0.0.2/basic_append (rows a, b, c; version 1 adds d, e), encoded the way each writer pads its last Z85 group.
/// </summary>
public sealed class DeletionVectorTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private const string DataFile = "part-00000-ef42f28f-e8e8-4d54-b51f-c3af96c72a44-c000.snappy.parquet";
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    private readonly DuckEngine _engine = fixture.Engine;
    private readonly TempDirectory _temp = new("dv");

    public void Dispose() => _temp.Dispose();

    /// <summary>Delta's RoaringBitmapArray of <paramref name="rows"/> (below 65536): one 32-bit bitmap, one array container.</summary>
    internal static byte[] Bitmap(params ushort[] rows)
    {
        var b = new List<byte>();
        void I32(int v) { var x = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(x, v); b.AddRange(x); }
        void U16(ushort v) { var x = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(x, v); b.AddRange(x); }
        I32(1681511377);
        var count = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, 1);
        b.AddRange(count);
        I32(0); // high 32 bits
        I32(12346); // no-run cookie
        I32(1); // one container
        U16(0); // its key
        U16((ushort)(rows.Length - 1)); // its cardinality - 1
        I32(16); // its offset
        foreach (var r in rows) U16(r);
        return [.. b];
    }

    /// <summary>Z85 as Spark writes it: the data padded with zero bytes to whole groups of four.</summary>
    internal static string Z85ZeroPadded(byte[] data)
    {
        var padded = new byte[(data.Length + 3) / 4 * 4];
        data.CopyTo(padded, 0);
        var sb = new StringBuilder();
        for (var i = 0; i < padded.Length; i += 4) sb.Append(Group(BinaryPrimitives.ReadUInt32BigEndian(padded.AsSpan(i))));
        return sb.ToString();
    }

    /// <summary>Z85 as delta-rs and kernel-rs (the z85 crate) write it: a short last group is its bytes' value, marked with one '#' per missing byte.</summary>
    internal static string Z85HashPadded(byte[] data)
    {
        var whole = data.Length / 4 * 4;
        var sb = new StringBuilder(Z85ZeroPadded(data[..whole]));
        var tail = data.Length - whole;
        if (tail > 0)
        {
            uint value = 0;
            foreach (var x in data[whole..]) value = (value << 8) | x;
            var group = Group(value).ToCharArray();
            for (var i = 0; i < 4 - tail; i++) group[i] = '#';
            sb.Append(group);
        }
        return sb.ToString();
    }

    private static string Group(uint value)
    {
        var chars = new char[5];
        for (var j = 4; j >= 0; j--)
        {
            chars[j] = Alphabet[(int)(value % 85)];
            value /= 85;
        }
        return new string(chars);
    }

    /// <summary>A copy of basic_append whose version 2 puts an inline deletion vector on the first file.</summary>
    private async Task<string> WithInlineVectorAsync(string inline, int sizeInBytes, long cardinality, bool keepStats = true)
    {
        var root = _temp.Combine(Guid.NewGuid().ToString("N"));
        TestFiles.CopyTree(ConformanceCorpus.Root("dat/v0.0.2/basic_append"), root);
        var add = File.ReadLines(Path.Combine(root, "_delta_log", "00000000000000000000.json")).Single(l => l.StartsWith("{\"add\"", StringComparison.Ordinal));
        var remove = add.Replace("{\"add\":", "{\"remove\":", StringComparison.Ordinal);
        var withDv = add.Replace("\"dataChange\":true",
            $"\"dataChange\":true,\"deletionVector\":{{\"storageType\":\"i\",\"pathOrInlineDv\":\"{inline}\",\"sizeInBytes\":{sizeInBytes},\"cardinality\":{cardinality}}}",
            StringComparison.Ordinal);
        if (!keepStats) withDv = System.Text.RegularExpressions.Regex.Replace(withDv, ",\"stats\":\"(?:[^\"\\\\]|\\\\.)*\"", "");
        await File.WriteAllTextAsync(Path.Combine(root, "_delta_log", "00000000000000000002.json"),
            "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n" + remove + "\n" + withDv + "\n");
        return root;
    }

    private async Task<List<string>> LettersAsync(string root)
    {
        var table = DeltaTable.Open(LakeStorage.Open(root), _engine);
        var snapshot = await table.GetSnapshotAsync();
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var r = lease.Connection.Query($"SELECT CAST(letter AS VARCHAR) FROM ({scan.Sql}) ORDER BY 1");
        var result = new List<string>();
        while (r.Read()) result.Add(r.GetString(0));
        return result;
    }

    [Theory]
    [InlineData("hash", new ushort[] { 1 })] // 34 bytes: a two-byte last group, "###" + value in kernel-rs style
    [InlineData("zero", new ushort[] { 1 })]
    [InlineData("hash", new ushort[] { 0, 1, 2 })] // 38 bytes
    [InlineData("zero", new ushort[] { 0, 1, 2 })]
    [InlineData("hash", new ushort[] { 0, 2 })] // 36 bytes: no short group at all
    public async Task Read_InlineVectorInEitherPaddingStyle_DeletesExactlyTheMarkedRows(string style, ushort[] rows)
    {
        var bitmap = Bitmap(rows);
        var inline = style == "hash" ? Z85HashPadded(bitmap) : Z85ZeroPadded(bitmap);
        if (style == "hash" && bitmap.Length % 4 != 0) Assert.Contains('#', inline);
        var root = await WithInlineVectorAsync(inline, bitmap.Length, rows.Length);

        var expected = new[] { "a", "b", "c" }.Where((_, i) => !rows.Contains((ushort)i)).Concat(["d", "e"]).ToList();
        Assert.Equal(expected, await LettersAsync(root));
    }

    [Fact]
    public async Task Read_VectorNamingARowPastTheFile_RefusedNamingTheDataFile()
    {
        var bitmap = Bitmap(7); // the file has 3 rows
        var root = await WithInlineVectorAsync(Z85HashPadded(bitmap), bitmap.Length, 1);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"data file '{DataFile}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("deletes row 7, but the file has 3 rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_VectorNamingARowPastTheFileWithoutStats_RowCountFromTheFooterRefusesIt()
    {
        var bitmap = Bitmap(3);
        var root = await WithInlineVectorAsync(Z85ZeroPadded(bitmap), bitmap.Length, 1, keepStats: false);
        var snapshot = await DeltaTable.Open(LakeStorage.Open(root), _engine).GetSnapshotAsync();
        Assert.Null(snapshot.Files.Single(f => f.DeletionVector is not null).Stats);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Contains($"data file '{DataFile}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("deletes row 3, but the file has 3 rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_VectorWithMoreRowsThanItsCardinality_Refused()
    {
        var bitmap = Bitmap(0, 2);
        var root = await WithInlineVectorAsync(Z85HashPadded(bitmap), bitmap.Length, 1);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"data file '{DataFile}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("more than 1 rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_VectorWithFewerRowsThanItsCardinality_Refused()
    {
        var bitmap = Bitmap(0, 2);
        var root = await WithInlineVectorAsync(Z85HashPadded(bitmap), bitmap.Length, 3);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Contains("holds 2 rows, the log says 3 (cardinality)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_InlineVectorWhoseDecodedSizeDiffersFromSizeInBytes_Refused()
    {
        var bitmap = Bitmap(1); // 34 bytes
        var root = await WithInlineVectorAsync(Z85HashPadded(bitmap), 30, 1);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => LettersAsync(root));
        Assert.Contains($"data file '{DataFile}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("decodes to 34 bytes, the log says 30 (sizeInBytes)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Z85DecodeBytes_BothPaddingStyles_GiveTheSameBytes()
    {
        Assert.Equal(Convert.FromHexString("864FD26FB559F75B"), DeletionVectors.Z85DecodeBytes("HelloWorld"));
        for (var length = 1; length <= 9; length++)
        {
            var data = Enumerable.Range(0, length).Select(i => (byte)(0xF0 - (i * 7))).ToArray();
            Assert.Equal(data, DeletionVectors.Z85DecodeBytes(Z85HashPadded(data)));
            var zero = DeletionVectors.Z85DecodeBytes(Z85ZeroPadded(data));
            Assert.Equal(data, zero[..length]);
        }
        var e = Assert.Throws<LakehouseException>(() => DeletionVectors.Z85DecodeBytes("#####"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Throws<LakehouseException>(() => DeletionVectors.Z85DecodeBytes("#0000HelloWorld")); // '#' starts only a last group
    }
}
