using Lakehouse.Bronze.Landing;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Xunit.Abstractions;
using static Lakehouse.Bronze.Tests.Landing.HostileCaptureFiles;

namespace Lakehouse.Bronze.Tests.Landing;

/// <summary>
/// Capture files whose container sizes lie (a block of 2^40 bytes, a negative one, one past the end of the file, a record count
/// no block holds, a Body of 2^40 bytes, a plain string or bytes field of 2^31 bytes or longer than its block, a block that
/// inflates to 1 GiB): each is refused naming what is wrong and where (record, block), before the reader
/// allocates what the file declares, and the other files of the landing still land.
/// </summary>
public sealed class CaptureHostileTests(EngineFixture fixture, ITestOutputHelper output) : IClassFixture<EngineFixture>, IDisposable
{
    /// <summary>The most a refused file may make the reader allocate.</summary>
    private const long AllocationBudget = 64L << 20;

    private readonly TempDirectory _temp = new("capture-hostile");

    public void Dispose() => _temp.Dispose();

    private static readonly Lazy<byte[]> DeflateBomb = new(() => DeflateZeros(1L << 30));
    private static readonly Lazy<byte[]> ZstdBomb = new(() => ZstdZeros(1L << 30));

    /// <summary>The hostile variants: the file's bytes and what its refusal must say.</summary>
    private static (byte[] File, string Refusal) Variant(string name)
    {
        var records = Records(3);
        var header = Header("null");
        var blockAt = header.Length;
        return name switch
        {
            "block size 2^40" => ([.. header, .. Block(3, 1L << 40, records)],
                $"it is damaged or truncated: block 1 (byte {blockAt}) declares {1L << 40} bytes, but only {records.Length} follow it before its 16-byte sync marker"),
            "block size 2^31-1" => ([.. header, .. Block(3, int.MaxValue, records)],
                $"it is damaged or truncated: block 1 (byte {blockAt}) declares {int.MaxValue} bytes, but only {records.Length} follow it before its 16-byte sync marker"),
            "block size 1 GiB" => ([.. header, .. Block(3, 1L << 30, records)],
                $"it is damaged or truncated: block 1 (byte {blockAt}) declares {1L << 30} bytes, but only {records.Length} follow it before its 16-byte sync marker"),
            "negative block size" => ([.. header, .. Block(3, -1, records)],
                $"it is damaged: block 1 (byte {blockAt}) declares a negative size (-1 bytes)"),
            "block size just past the end" => ([.. header, .. Block(3, records.Length + 1, records)],
                $"it is damaged or truncated: block 1 (byte {blockAt}) declares {records.Length + 1} bytes, but only {records.Length} follow it before its 16-byte sync marker"),
            "negative record count" => ([.. header, .. Block(-3, records.Length, records)],
                $"it is damaged: block 1 (byte {blockAt}) declares a negative record count (-3)"),
            "record count 2^40" => ([.. header, .. Block(1L << 40, records.Length, records)],
                $"it is damaged: block 1 (byte {blockAt}) declares {1L << 40} records in {records.Length} bytes"),
            "wrong sync marker" => ([.. header, .. Block(3, records.Length, records)[..^1], 0x00],
                $"it is damaged: block 1 (byte {blockAt}) does not end in the file's sync marker"),
            "second block past the end" => ([.. header, .. Block(3, records.Length, records), .. Block(3, records.Length * 2, records)],
                $"it is damaged or truncated: block 2 (byte {blockAt + Block(3, records.Length, records).Length}) declares {records.Length * 2} bytes, but only {records.Length} follow it before its 16-byte sync marker"),
            "Body of 2^40 bytes" => WithBody(1L << 40),
            "Body of 1 GiB" => WithBody(1L << 30),
            "negative Body length" => WithBody(-5),
            "Offset of negative length" => Plain(Record(2, "tiny"u8.ToArray(), offsetLength: -5), "its Offset declares a negative length (-5 bytes)"),
            "Offset longer than its block" => Plain(Record(2, "tiny"u8.ToArray(), offsetLength: 1 << 20), "its Offset declares 1048576 bytes, more than are left in its block"),
            "Offset of 2^31 bytes" => Plain(Record(2, "tiny"u8.ToArray(), offsetLength: 1L << 31), "its Offset declares 2147483648 bytes, more than the 33554432 bytes (32 MiB) an event may hold"),
            "Offset of 1 GiB" => Plain(Record(2, "tiny"u8.ToArray(), offsetLength: 1L << 30), "its Offset declares 1073741824 bytes, more than the 33554432 bytes (32 MiB) an event may hold"),
            "plain Body of 1 GiB" => PlainBody(1L << 30, "its Body declares 1073741824 bytes, more than the 33554432 bytes (32 MiB) an event may hold"),
            "SystemProperties key of 2^31 bytes" => Plain(Record(2, "tiny"u8.ToArray(), keyLength: 1L << 31), "its SystemProperties declares 2147483648 bytes, more than the 33554432 bytes (32 MiB) an event may hold"),
            "plain Body of negative length" => PlainBody(-5, "its Body declares a negative length (-5 bytes)"),
            "plain Body longer than its block" => PlainBody(1 << 20, "its Body declares 1048576 bytes, more than are left in its block"),
            "plain Body of 2^31 bytes" => PlainBody(1L << 31, "its Body declares 2147483648 bytes, more than the 33554432 bytes (32 MiB) an event may hold"),
            "array of 2^28 null items" => NullArray(1L << 28, "its Tags declares 268435456 items, more than the 33554432 an event may hold"),
            "array of 2^31-1 null items" => NullArray(int.MaxValue, "its Tags declares 2147483647 items, more than the 33554432 an event may hold"),
            "array of 2^40 null items" => NullArray(1L << 40, "its Tags declares 1099511627776 items, more than the 33554432 an event may hold"),
            "map of 2^40 entries" => Plain(Record(2, "tiny"u8.ToArray(), entries: 1L << 40), "its SystemProperties declares 1099511627776 entries, more than the 33554432 an event may hold"),
            "deflate block inflating to 1 GiB" => ([.. Header("deflate"), .. Block(3, DeflateBomb.Value.Length, DeflateBomb.Value)],
                $"record 1 (block 1, byte {Header("deflate").Length}) cannot be read: a deflate block decompresses to more than 67108864 bytes (64 MiB), the most a Capture block may hold"),
            "zstandard block inflating to 1 GiB" => ([.. Header("zstandard"), .. Block(3, ZstdBomb.Value.Length, ZstdBomb.Value)],
                $"record 1 (block 1, byte {Header("zstandard").Length}) cannot be read: a zstandard block decompresses to more than 67108864 bytes (64 MiB), the most a Capture block may hold"),
            "snappy block declaring 1 GiB" => ([.. Header("snappy"), .. Block(3, 9, [0x80, 0x80, 0x80, 0x80, 0x04, 0, 0, 0, 0])],
                $"record 1 (block 1, byte {Header("snappy").Length}) cannot be read: a snappy block states 1073741824 bytes decompressed, more than the 67108864 bytes (64 MiB) a Capture block may hold"),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such variant"),
        };

        // Record 2 of 3 is `hostile` (a plain string, Offset or a map key, declares a length); the block's size is honest.
        (byte[], string) Plain(byte[] hostile, string refusal)
        {
            byte[] data = [.. Record(1, "event 1"u8.ToArray()), .. hostile, .. Record(3, "event 3"u8.ToArray())];
            return ([.. header, .. Block(3, data.Length, data)], $"record 2 (block 1, byte {blockAt}) cannot be read: {refusal}");
        }

        // A file whose schema has a plain bytes Body: record 2 of 3 declares one of `length` bytes.
        (byte[], string) PlainBody(long length, string refusal)
        {
            var plainHeader = Header("null", PlainBodySchema);
            byte[] data = [.. Record(1, "event 1"u8.ToArray(), plainBody: true), .. Record(2, "tiny"u8.ToArray(), length, plainBody: true), .. Record(3, "event 3"u8.ToArray(), plainBody: true)];
            return ([.. plainHeader, .. Block(3, data.Length, data)], $"record 2 (block 1, byte {plainHeader.Length}) cannot be read: {refusal}");
        }

        // A file whose schema has an array of nulls: record 2 of 3 declares `items` of them.
        (byte[], string) NullArray(long items, string refusal)
        {
            var arrayHeader = Header("null", NullArraySchema);
            byte[] data = [.. Record(1, "event 1"u8.ToArray(), nullItems: 2), .. Record(2, "tiny"u8.ToArray(), nullItems: items), .. Record(3, "event 3"u8.ToArray(), nullItems: 0)];
            return ([.. arrayHeader, .. Block(3, data.Length, data)], $"record 2 (block 1, byte {arrayHeader.Length}) cannot be read: {refusal}");
        }

        // Record 2 of 3 declares a Body of `length` bytes; the block's size is honest.
        (byte[], string) WithBody(long length)
        {
            byte[] data = [.. Record(1, "event 1"u8.ToArray()), .. Record(2, "tiny"u8.ToArray(), length), .. Record(3, "event 3"u8.ToArray())];
            var refusal = length < 0
                ? $"record 2 (block 1, byte {blockAt}) cannot be read: its Body declares a negative length ({length} bytes)"
                : $"record 2 (block 1, byte {blockAt}) cannot be read: its Body declares {length} bytes, more than the 33554432 bytes (32 MiB) an event may hold";
            return ([.. header, .. Block(3, data.Length, data)], refusal);
        }
    }

    private static readonly string[] VariantNames =
    [
        "block size 2^40", "block size 2^31-1", "block size 1 GiB", "negative block size", "block size just past the end",
        "negative record count", "record count 2^40", "wrong sync marker", "second block past the end",
        "Body of 2^40 bytes", "Body of 1 GiB", "negative Body length",
        "Offset of negative length", "Offset longer than its block", "Offset of 2^31 bytes", "Offset of 1 GiB", "plain Body of 1 GiB", "SystemProperties key of 2^31 bytes",
        "plain Body of negative length", "plain Body longer than its block", "plain Body of 2^31 bytes",
        "array of 2^28 null items", "array of 2^31-1 null items", "array of 2^40 null items", "map of 2^40 entries",
        "deflate block inflating to 1 GiB", "zstandard block inflating to 1 GiB", "snappy block declaring 1 GiB",
    ];

    public static TheoryData<string> Variants => [.. VariantNames];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Read_HostileSizes_RefusedNamingTheProblemWithoutAllocatingIt(string variant)
    {
        var (file, refusal) = Variant(variant);
        var path = _temp.Combine("hostile.avro");
        File.WriteAllBytes(path, file);
        var events = 0;
        Exception? error = null;
        long allocated;
        using (var stream = File.OpenRead(path))
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                CaptureReader.Read(stream, (_, _, _, _, _) => events++, CancellationToken.None);
            }
            catch (Exception e)
            {
                error = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        output.WriteLine($"{variant}: {error?.GetType().Name ?? "no exception"} after {events} events, {allocated:N0} bytes allocated: {error?.Message}");
        var refused = Assert.IsType<InvalidDataException>(error);
        Assert.Equal(refusal, refused.Message.Split('\n')[0]);
        Assert.InRange(allocated, 0, AllocationBudget);
    }

    [Fact]
    public void Read_HonestArraysAndMaps_EveryRecordWithItsBody()
    {
        byte[] data = [.. Record(1, "event 1"u8.ToArray(), nullItems: 2, entries: 1), .. Record(2, "event 2"u8.ToArray(), nullItems: 0), .. Record(3, "event 3"u8.ToArray(), nullItems: 5)];
        var path = _temp.Combine("arrays.avro");
        File.WriteAllBytes(path, [.. Header("null", NullArraySchema), .. Block(3, data.Length, data)]);
        var bodies = new List<string>();
        using (var stream = File.OpenRead(path))
            Assert.Equal(3, CaptureReader.Read(stream, (body, sequence, _, _, _) => bodies.Add($"{sequence}:{System.Text.Encoding.UTF8.GetString(body)}"), CancellationToken.None));
        Assert.Equal(["1:event 1", "2:event 2", "3:event 3"], bodies);
    }

    /// <summary>A Body declared as a string (or a union with a string): refused naming its type. Before, each event landed as no bytes, exit 0.</summary>
    [Theory]
    [InlineData("""["null","string"]""", """it is an Avro file but not an Event Hubs Capture file: its Body is ["null","string"], not bytes (or null and bytes)""")]
    [InlineData("""["null","bytes","string"]""", """it is an Avro file but not an Event Hubs Capture file: its Body is ["null","bytes","string"], not bytes (or null and bytes)""")]
    [InlineData("\"string\"", "it is an Avro file but not an Event Hubs Capture file: its Body is {\"type\":\"string\"}, not bytes (or null and bytes)")]
    public void Read_BodyOfAnotherType_RefusedNamingItNotLandedEmpty(string bodyType, string refusal)
    {
        var schema = HostileCaptureFiles.Schema.Replace("""{"name":"Body","type":["null","bytes"]}""", $$"""{"name":"Body","type":{{bodyType}}}""", StringComparison.Ordinal);
        // The records hold the string's branch (index 1, or none for a plain string) and its text, as such a writer wrote them.
        var data = Record(1, System.Text.Encoding.UTF8.GetBytes("{\"event_id\":\"e1\"}"), plainBody: bodyType == "\"string\"");
        var path = _temp.Combine("string-body.avro");
        File.WriteAllBytes(path, [.. Header("null", schema), .. Block(1, data.Length, data)]);
        var bodies = new List<byte[]>();
        using var stream = File.OpenRead(path);
        var error = Assert.Throws<InvalidDataException>(() => CaptureReader.Read(stream, (body, _, _, _, _) => bodies.Add(body.ToArray()), CancellationToken.None));
        Assert.Equal(refusal, error.Message);
        Assert.Empty(bodies);
    }

    /// <summary>Codecs Apache.Avro knows but this reader does not: refused naming the codec. Before: an assembly-loading error for xz and bzip2.</summary>
    [Theory]
    [InlineData("xz")]
    [InlineData("bzip2")]
    [InlineData("lzma")]
    public void Read_CodecNotSupported_RefusedNamingIt(string codec)
    {
        var data = Records(1);
        var path = _temp.Combine(codec + ".avro");
        File.WriteAllBytes(path, [.. Header(codec), .. Block(1, data.Length, data)]);
        using var stream = File.OpenRead(path);
        var error = Assert.Throws<InvalidDataException>(() => CaptureReader.Read(stream, (_, _, _, _, _) => { }, CancellationToken.None));
        Assert.Equal($"its codec '{codec}' is not one Capture files are read with here (null, deflate, snappy, zstandard)", error.Message);
    }

    [Fact]
    public void Read_BlockOverTheLimitWithAllItsBytes_RefusedBeforeReadingIt()
    {
        var header = Header("null");
        var data = new byte[(64 << 20) + 1];
        var path = _temp.Combine("big.avro");
        File.WriteAllBytes(path, [.. header, .. Block(3, data.Length, data)]);
        using var stream = File.OpenRead(path);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => CaptureReader.Read(stream, (_, _, _, _, _) => { }, CancellationToken.None));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal($"it has a block over the limit: block 1 (byte {header.Length}) declares {data.Length} bytes, more than the 67108864 bytes (64 MiB) a Capture block may hold", error.Message);
        Assert.InRange(allocated, 0, 1L << 20);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    [InlineData("zstandard")]
    public void Read_HonestFileOfManyBlocksWithLargestEvent_EveryRecord(string codec)
    {
        var body = new byte[(32 << 20) - 1];
        Random.Shared.NextBytes(body.AsSpan(0, 4096));
        byte[] small = Records(2, 1), large = Record(3, body), more = Records(100, 4);
        byte[] file = [.. Header(codec), .. BlockOf(codec, 2, small), .. BlockOf(codec, 1, large), .. BlockOf(codec, 100, more)];
        var path = _temp.Combine($"honest-{codec}.avro");
        File.WriteAllBytes(path, file);
        var seen = new List<(int Length, long Sequence, long Record)>();
        using var stream = File.OpenRead(path);

        var count = CaptureReader.Read(stream, (b, sequence, record, _, _) => seen.Add((b.Length, sequence, record)), CancellationToken.None);

        Assert.Equal(103, count);
        Assert.Equal(Enumerable.Range(1, 103).Select(i => (long)i), seen.Select(s => s.Sequence));
        Assert.Equal(Enumerable.Range(1, 103).Select(i => (long)i), seen.Select(s => s.Record));
        Assert.Equal(body.Length, seen[2].Length);
        Assert.Equal("event 104".Length, seen[^1].Length);

        static byte[] BlockOf(string codec, long count, byte[] records)
        {
            var data = Compress(codec, records);
            return Block(count, data.Length, data);
        }
    }

    [Fact]
    public async Task Ingest_HostileCaptureFiles_EachRefusedByNameNothingOfItLandedTheGoodFileIngested()
    {
        var landing = _temp.Combine("landing");
        var names = VariantNames;
        var paths = new Dictionary<string, (string Path, string Refusal)>();
        for (var i = 0; i < names.Length; i++)
        {
            var (file, refusal) = Variant(names[i]);
            paths[names[i]] = (WriteCapture(landing, i, file), refusal);
        }
        var good = WriteCapture(landing, names.Length, Honest("deflate", 5, 1000));
        var table = BronzeTable.Open(LakeStorage.Open(_temp.Combine("lake", "bronze", "hub")), fixture.Engine);

        var result = await new LandingIngestor(table, LakeStorage.Open(landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero }).RunAsync();

        Assert.Equal((1L, 5L, names.Length), (result.FilesIngested, result.Events, result.FilesFailed));
        Assert.Equal(names.Length, result.Problems.Count);
        foreach (var (name, (path, refusal)) in paths)
            Assert.True(result.Problems.Any(p => p.StartsWith(path + ": " + refusal, StringComparison.Ordinal)), $"{name}: {string.Join('\n', result.Problems)}");
        var rows = await BronzeRows.QueryAsync(table, fixture.Engine, "SELECT source, source_offset FROM bronze ORDER BY source_offset");
        Assert.All(rows, r => Assert.Equal(good, (string)r[0]!));
        Assert.Equal(Enumerable.Range(1000, 5).Select(i => (long)i), rows.Select(r => (long)r[1]!));
    }

    /// <summary>Writes a Capture file where Capture would, in partition <paramref name="partition"/>; returns its path.</summary>
    private static string WriteCapture(string landing, int partition, byte[] content)
    {
        var path = Path.Combine(landing, "ns", "hub", partition.ToString(System.Globalization.CultureInfo.InvariantCulture), "2024", "01", "31", "23", "59", "07.avro");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        return path;
    }
}
