using System.Text;
using System.Text.Json.Nodes;
using Avro;
using Avro.File;
using Avro.Generic;
using Lakehouse.Bronze.Landing;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests.Landing;

/// <summary>
/// Avro decoding checked against files written by other implementations (../shared/conformance/avro): Apache's own files in
/// every codec, and a real Event Hubs Capture file, each with its expected records read from the corpus at test time.
/// </summary>
public sealed class CaptureTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private static readonly string Corpus = Path.Combine(TestPaths.Shared, "conformance", "avro");
    private static readonly string CaptureFile = Path.Combine(Corpus, "eventhubs-capture", "usql-EHC.avro");

    private readonly TempDirectory _temp = new("capture");

    public void Dispose() => _temp.Dispose();

    private static string Expected(string origin, string relative) =>
        Path.Combine(Corpus, "expected", origin + "_" + relative.Replace('/', '_') + ".jsonl");

    public static TheoryData<string, string> ApacheFiles => new()
    {
        { "weather.avro", "apache-avro_share-test-data_weather.avro.jsonl" },
        { "weather-deflate.avro", "apache-avro_share-test-data_weather-deflate.avro.jsonl" },
        { "weather-snappy.avro", "apache-avro_share-test-data_weather-snappy.avro.jsonl" },
        { "weather-zstd.avro", "apache-avro_share-test-data_weather-zstd.avro.jsonl" },
        { "weather-sorted.avro", "apache-avro_share-test-data_weather-sorted.avro.jsonl" },
        { "schemas/simple/data.avro", "apache-avro_share-test-data_schemas_simple_data.avro.jsonl" },
        { "schemas/withUnion/data.avro", "apache-avro_share-test-data_schemas_withUnion_data.avro.jsonl" },
    };

    [Theory]
    [MemberData(nameof(ApacheFiles))]
    public void Decode_ApacheFilesInEveryCodec_RecordsAsExpected(string file, string expected)
    {
        var lines = File.ReadAllLines(Path.Combine(Corpus, "expected", expected));
        var header = JsonNode.Parse(lines[0])!;
        AvroCodecs.EnsureRegistered();
        using var reader = DataFileReader<GenericRecord>.OpenReader(Path.Combine(Corpus, "apache-avro", file));
        var codec = reader.GetMetaKeys().Contains("avro.codec") ? reader.GetMetaString("avro.codec") : "null(absent)";
        var records = reader.NextEntries.Select(r => AvroJson.Encode(r.Schema, r)!.ToJsonString()).ToList();

        Assert.Equal(header["codec"]!.GetValue<string>(), codec);
        Assert.Equal(header["records"]!.GetValue<int>(), records.Count);
        Assert.Equal(lines.Skip(1).Select(l => JsonNode.Parse(l)!.ToJsonString()), records);
    }

    [Fact]
    public async Task Decode_SnappyBlockWithWrongChecksum_RefusedAsDamaged()
    {
        var damaged = _temp.Combine("weather-snappy.avro");
        var bytes = await File.ReadAllBytesAsync(Path.Combine(Corpus, "apache-avro", "weather-snappy.avro"));
        bytes[^17] ^= 0x01; // the last byte of the block's CRC-32, just before the 16-byte sync marker
        await File.WriteAllBytesAsync(damaged, bytes);
        AvroCodecs.EnsureRegistered();

        using var reader = DataFileReader<GenericRecord>.OpenReader(damaged);
        var error = Assert.ThrowsAny<Exception>(() => reader.NextEntries.ToList());
        Assert.Contains("snappy block's checksum does not match its content", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apache-avro/test.avro12")]
    [InlineData("apache-avro/messageV1/test_message.bin")]
    public void Read_NotAnObjectContainerFile_RefusedClearly(string file)
    {
        using var stream = File.OpenRead(Path.Combine(Corpus, file));
        var error = Assert.Throws<InvalidDataException>(() => CaptureReader.Read(stream, (_, _, _, _, _) => { }, CancellationToken.None));
        Assert.StartsWith("it is not an Avro object container file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AvroFileThatIsNotCapture_RefusedNamingTheMissingField()
    {
        using var stream = File.OpenRead(Path.Combine(Corpus, "apache-avro", "weather.avro"));
        var error = Assert.Throws<InvalidDataException>(() => CaptureReader.Read(stream, (_, _, _, _, _) => { }, CancellationToken.None));
        Assert.Equal("it is an Avro file but not an Event Hubs Capture file: its records have no SequenceNumber field", error.Message);
    }

    [Fact]
    public void Read_RealCaptureFile_EveryRecordWithBodyAndPosition()
    {
        var expected = ExpectedCapture();
        var seen = new List<(byte[] Body, long Sequence, long Record, DateTimeOffset? Enqueued)>();
        using var stream = File.OpenRead(CaptureFile);

        var count = CaptureReader.Read(stream, (body, sequence, record, enqueued, _) => seen.Add((body.ToArray(), sequence, record, enqueued)), CancellationToken.None);

        Assert.Equal(677, count);
        Assert.Equal(expected.Select(e => e.Body), seen.Select(s => s.Body));
        Assert.Equal(expected.Select(e => e.Sequence), seen.Select(s => s.Sequence));
        Assert.Equal(expected.Select(e => e.Enqueued), seen.Select(s => s.Enqueued));
        Assert.Equal(Enumerable.Range(1, 677).Select(i => (long)i), seen.Select(s => s.Record));
        Assert.Equal(Enumerable.Range(4141, 677).Select(i => (long)i), seen.Select(s => s.Sequence));
        Assert.Equal("Message 1", Encoding.UTF8.GetString(seen[0].Body));
        Assert.Equal(new DateTimeOffset(2018, 12, 7, 10, 22, 49, TimeSpan.Zero), seen[0].Enqueued);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    [InlineData("zstandard")]
    public async Task Ingest_CaptureFileInEachCodec_BronzeHoldsEveryEventWithPartitionAndSequence(string codec)
    {
        var landing = _temp.Combine("landing");
        var path = Path.Combine(landing, "myns", "myhub", "3", "2018", "12", "07", "10", "22", "49.avro");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Recode(CaptureFile, path, codec);
        var table = BronzeTable.Open(LakeStorage.Open(_temp.Combine("lake", "bronze", "hub")), fixture.Engine);

        var result = await new LandingIngestor(table, LakeStorage.Open(landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero }).RunAsync();
        var again = await new LandingIngestor(table, LakeStorage.Open(landing), new LandingIngestOptions { SettleTime = TimeSpan.Zero }).RunAsync();

        Assert.Equal((1L, 677L, 0L), (result.FilesIngested, result.Events, result.FilesFailed));
        Assert.Equal((0L, 1L), (again.Events, again.FilesSkipped));
        var rows = await BronzeRows.QueryAsync(table, fixture.Engine,
            "SELECT payload, source_kind, source, source_partition, source_offset, source_line, epoch_ms(enqueued_time), source_key FROM bronze ORDER BY source_line");
        var expected = ExpectedCapture();
        Assert.Equal(expected.Select(e => e.Body), rows.Select(r => (byte[])r[0]!));
        Assert.All(rows, r => Assert.Equal(("capture", path, "3"), ((string)r[1]!, (string)r[2]!, (string)r[3]!)));
        Assert.Equal(expected.Select(e => e.Sequence), rows.Select(r => (long)r[4]!));
        Assert.Equal(Enumerable.Range(1, 677).Select(i => (long)i), rows.Select(r => (long)r[5]!));
        Assert.Equal(expected.Select(e => e.Enqueued!.Value.ToUnixTimeMilliseconds()), rows.Select(r => (long)r[6]!));
        Assert.All(rows, r => Assert.Null(r[7]));
    }

    [Fact]
    public void PartitionOf_CapturePathAndRenamedFile_PartitionOrNull()
    {
        Assert.Equal("12", CaptureReader.PartitionOf("ns/hub/12/2024/01/31/23/59/07.avro"));
        Assert.Equal("0", CaptureReader.PartitionOf("landing/ns/hub/0/2024/1/3/4/5/6"));
        Assert.Null(CaptureReader.PartitionOf("capture/usql-EHC.avro"));
    }

    /// <summary>The Capture file's expected records (the corpus's jsonl): body bytes, sequence number and enqueued time.</summary>
    private static List<(byte[] Body, long Sequence, DateTimeOffset? Enqueued)> ExpectedCapture() =>
        [.. File.ReadLines(Expected("eventhubs-capture", "usql-EHC.avro")).Skip(1).Select(l => JsonNode.Parse(l)!).Select(n => (
            Convert.FromBase64String(n["Body"]!["bytes"]!["base64"]!.GetValue<string>()),
            n["SequenceNumber"]!.GetValue<long>(),
            CaptureReader.EnqueuedTime(n["EnqueuedTimeUtc"]!.GetValue<string>())))];

    /// <summary>Writes <paramref name="source"/>'s records again with <paramref name="codec"/> (Apache.Avro's writer, the codecs under test).</summary>
    private static void Recode(string source, string target, string codec)
    {
        AvroCodecs.EnsureRegistered();
        using var reader = DataFileReader<GenericRecord>.OpenReader(source);
        var schema = reader.GetSchema();
        using var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), target, Codec.CreateCodecFromString(codec));
        foreach (var record in reader.NextEntries) writer.Append(record);
    }

    /// <summary>Avro's JSON encoding of a datum (unions as {"branch": value}, bytes as {"base64": …}), the corpus's expected form.</summary>
    private static class AvroJson
    {
        internal static JsonNode? Encode(Schema schema, object? value) => schema switch
        {
            UnionSchema union => value is null ? null : Branch(union, value),
            RecordSchema record => new JsonObject(record.Fields.Select(f => KeyValuePair.Create(f.Name, Encode(f.Schema, ((GenericRecord)value!)[f.Name])))),
            MapSchema map => new JsonObject(((IDictionary<string, object>)value!).Select(kv => KeyValuePair.Create(kv.Key, Encode(map.ValueSchema, kv.Value)))),
            ArraySchema array => new JsonArray([.. ((System.Collections.IEnumerable)value!).Cast<object?>().Select(v => Encode(array.ItemSchema, v))]),
            PrimitiveSchema { Tag: Schema.Type.Bytes } => new JsonObject { ["base64"] = Convert.ToBase64String((byte[])value!) },
            PrimitiveSchema { Tag: Schema.Type.Null } => null,
            _ => JsonValue.Create(value),
        };

        private static JsonObject Branch(UnionSchema union, object value)
        {
            var branch = union.Schemas.First(s => s.Tag != Schema.Type.Null && Matches(s, value));
            var name = branch is NamedSchema named ? named.Name : branch.Tag.ToString().ToLowerInvariant();
            return new JsonObject { [name] = Encode(branch, value) };
        }

        private static bool Matches(Schema schema, object value) => schema.Tag switch
        {
            Schema.Type.String => value is string,
            Schema.Type.Int => value is int,
            Schema.Type.Long => value is long,
            Schema.Type.Double => value is double,
            Schema.Type.Float => value is float,
            Schema.Type.Boolean => value is bool,
            Schema.Type.Bytes => value is byte[],
            Schema.Type.Record => value is GenericRecord r && r.Schema.Fullname == ((RecordSchema)schema).Fullname,
            _ => false,
        };
    }
}
