using System.IO.Compression;
using System.Text;
using Lakehouse.Bronze.Landing;
using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests.Landing;

public sealed class LandingIngestorTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("landing");

    public void Dispose() => _temp.Dispose();

    private string Landing => _temp.Combine("landing");

    private BronzeTable Table() => BronzeTable.Open(LakeStorage.Open(_temp.Combine("lake", "bronze", "events")), fixture.Engine);

    private Task<LandingIngestProgress> IngestAsync(LandingIngestOptions? options = null, string? landing = null)
    {
        options ??= new LandingIngestOptions();
        if (options.SettleTime == new LandingIngestOptions().SettleTime) options.SettleTime = TimeSpan.Zero;
        Directory.CreateDirectory(landing ?? Landing);
        return new LandingIngestor(Table(), LakeStorage.Open(landing ?? Landing), options).RunAsync();
    }

    private string Write(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(Landing, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        return path;
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(content);
        return output.ToArray();
    }

    private Task<long> CountAsync(string where = "true") => BronzeRows.CountAsync(Table(), fixture.Engine, where);

    /// <summary>Lines of a JSON shape this project has never seen (no weblogs/sensors field names), ~150 bytes each.</summary>
    private static byte[] NovelLines(int count, int seed)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"zq_key\":{seed * 1_000_000 + i},\"bärwert\":{i * 0.25},\"tags\":[\"t{i % 7}\",null],\"inner\":{{\"deep\":{{\"ok\":{(i % 2 == 0 ? "true" : "false")}}}}},\"note\":\"line {i} of {seed}\"}}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task RunAsync_UnseenJsonSchemaPlainAndGzip_EveryLineOneRowByteExact()
    {
        var plain = NovelLines(100_000, 1);
        var zipped = NovelLines(100_000, 2);
        Write("novel/plain.ndjson", plain);
        Write("novel/zipped.jsonl.gz", Gzip(zipped));

        var result = await IngestAsync();

        Assert.Equal((2L, 200_000L, 0L, 0L), (result.FilesIngested, result.Events, result.FilesSkipped, result.FilesFailed));
        Assert.Equal(plain.Length + zipped.Length - 200_000, result.PayloadBytes); // every byte but the line breaks
        var table = Table();
        var perFile = await BronzeRows.QueryAsync(table, fixture.Engine,
            "SELECT parse_filename(source), count(*), count(DISTINCT source_line), min(source_line), max(source_line), sum(octet_length(payload)), any_value(source_kind) FROM bronze GROUP BY ALL ORDER BY 1");
        Assert.Equal(
            [
                $"plain.ndjson 100000 100000 1 100000 {plain.Length - 100_000} file",
                $"zipped.jsonl.gz 100000 100000 1 100000 {zipped.Length - 100_000} file",
            ],
            perFile.Select(r => string.Join(' ', r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
        // Payloads and offsets are the files' bytes: line 77,777 of each file is found at its offset.
        foreach (var (name, bytes) in new[] { ("plain.ndjson", plain), ("zipped.jsonl.gz", zipped) })
        {
            var row = (await BronzeRows.QueryAsync(table, fixture.Engine, $"SELECT payload, source_offset FROM bronze WHERE parse_filename(source) = '{name}' AND source_line = 77777")).Single();
            var payload = (byte[])row[0]!;
            var offset = (long)row[1]!;
            Assert.Equal(bytes.AsSpan((int)offset, payload.Length).ToArray(), payload);
            Assert.Equal((byte)'\n', bytes[offset + payload.Length]);
            Assert.StartsWith("{\"zq_key\":", Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunAsync_RunAgain_AddsNothingAndCommitsNothing()
    {
        Write("a.ndjson", "{\"a\":1}\n{\"a\":2}\n");
        Write("b.log", "GET /\nGET /x\nGET /y\n");
        var first = await IngestAsync();
        var version = (await Table().Table.GetSnapshotAsync()).Version;

        var second = await IngestAsync();

        Assert.Equal((2L, 5L), (first.FilesIngested, first.Events));
        Assert.Equal((0L, 0L, 2L, 0L), (second.FilesIngested, second.Events, second.FilesSkipped, second.Commits));
        Assert.Equal(version, (await Table().Table.GetSnapshotAsync()).Version);
        Assert.Equal(5, await CountAsync());
    }

    [Fact]
    public async Task RunAsync_SameFilesLandedAgain_AddsNoRows()
    {
        var a = Write("a.ndjson", "{\"a\":1}\n{\"a\":2}\n");
        var b = Write("sub/b.csv", "x,y\n1,2\n");
        await IngestAsync();
        var contentA = await File.ReadAllBytesAsync(a);
        var contentB = await File.ReadAllBytesAsync(b);
        File.Delete(a);
        File.Delete(b);
        Write("a.ndjson", contentA); // landed again: same bytes, a new modification time
        Write("sub/b.csv", contentB);
        Assert.NotEqual(File.GetLastWriteTimeUtc(a), DateTime.MinValue);

        var again = await IngestAsync();
        var third = await IngestAsync();

        Assert.Equal((0L, 0L, 2L), (again.FilesIngested, again.Events, again.FilesSkipped));
        Assert.Equal(1, again.Commits); // the new listing identities only, so the next run does not read the files again
        Assert.Equal((0L, 0L), (third.Commits, third.Events));
        Assert.Equal(3, await CountAsync());
    }

    [Fact]
    public async Task RunAsync_ChangedFile_IngestedAgainAsANewFile()
    {
        Write("a.ndjson", "{\"a\":1}\n");
        await IngestAsync();
        Write("a.ndjson", "{\"a\":1}\n{\"a\":2}\n");

        var changed = await IngestAsync();

        Assert.Equal((1L, 2L), (changed.FilesIngested, changed.Events));
        Assert.Equal(3, await CountAsync());
        var positions = await Table().PositionsAsync("file/");
        Assert.Equal(5, positions.Count); // two versions, each with its listing and content identity, and the location's guard
        Assert.All(positions.Values, v => Assert.Equal(1, v)); // the guard moved twice: to 0, then to 1
        Assert.Equal(2, positions.Keys.Count(k => k.Contains("#xxh128:", StringComparison.Ordinal)));
        Assert.Contains(positions.Keys, k => k.StartsWith("file/" + Path.Combine(Landing, "a.ndjson") + "@", StringComparison.Ordinal) && k.EndsWith("/16", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_FileRewrittenUnderItsName_NextGenerationWhileAGrownFileKeepsItsOwn()
    {
        // Grown (an old version is a prefix of the new bytes): the repeated lines keep their positions, so silver takes them for copies.
        // Rewritten (a log truncated and written anew): other lines at the same offsets, so its rows are labelled with the next generation.
        string[] versions = ["{\"n\":1}\n{\"n\":2}\n", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n", "{\"n\":4}\n{\"n\":5}\n", "{\"n\":4}\n{\"n\":5}\n{\"n\":6}\n",
            "{\"n\":7}\n", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":8}\n"];
        foreach (var content in versions)
        {
            Write("a.ndjson", content);
            Assert.Equal(1L, (await IngestAsync()).FilesIngested);
        }

        var rows = await BronzeRows.QueryAsync(Table(), fixture.Engine,
            "SELECT coalesce(source_partition, '-') || ' ' || source_line || ' ' || decode(payload) FROM bronze ORDER BY ingest_time, source_line");
        Assert.Equal(
            [
                "- 1 {\"n\":1}", "- 2 {\"n\":2}",
                "- 1 {\"n\":1}", "- 2 {\"n\":2}", "- 3 {\"n\":3}",
                "v2 1 {\"n\":4}", "v2 2 {\"n\":5}",
                "v2 1 {\"n\":4}", "v2 2 {\"n\":5}", "v2 3 {\"n\":6}",
                "v3 1 {\"n\":7}",
                "- 1 {\"n\":1}", "- 2 {\"n\":2}", "- 3 {\"n\":3}", "- 4 {\"n\":8}",
            ],
            rows.Select(r => (string)r[0]!));
        var generations = (await Table().PositionsAsync("file/")).Where(p => p.Key.Contains("#xxh128:", StringComparison.Ordinal))
            .Select(p => (long.Parse(p.Key[(p.Key.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture), p.Value)).Order();
        Assert.Equal([(8L, 3L), (16L, 1L), (16L, 2L), (24L, 1L), (24L, 2L), (32L, 1L)], generations);
    }

    /// <summary>
    /// Two ingests that read two versions of one file at the same time took their generation from the same versions: both versions
    /// landed as generation 1, other lines at the same offsets, and silver kept one line of each position. The location's guard now
    /// refuses the second commit; its ingest looks again and lands the version as the next generation.
    /// </summary>
    [Fact]
    public async Task RunAsync_AnotherIngestLandsAnotherVersionMeanwhile_EachVersionItsOwnGeneration()
    {
        const string first = "{\"n\":1}\n{\"n\":2}\n", other = "{\"n\":3}\n{\"n\":4}\n";
        var path = Write("a.ndjson", first);
        var stamp = File.GetLastWriteTimeUtc(path);
        var landing = new OnFirstInfo(LakeStorage.Open(Landing), async () =>
        {
            // This ingest has read the first version. The file is rewritten, another ingest lands that, and the first version comes
            // back as it was (same size and time, so this ingest's read still stands).
            File.WriteAllText(path, other);
            File.SetLastWriteTimeUtc(path, stamp.AddSeconds(1));
            Assert.Equal(1L, (await IngestAsync()).FilesIngested);
            File.WriteAllText(path, first);
            File.SetLastWriteTimeUtc(path, stamp);
        });

        var result = await new LandingIngestor(Table(), landing, new LandingIngestOptions { SettleTime = TimeSpan.Zero }).RunAsync();

        Assert.Equal(1L, result.FilesIngested);
        var rows = await BronzeRows.QueryAsync(Table(), fixture.Engine,
            "SELECT coalesce(source_partition, '-') || ' ' || source_line || ' ' || decode(payload) FROM bronze ORDER BY ingest_time, source_line");
        Assert.Equal(["- 1 {\"n\":3}", "- 2 {\"n\":4}", "v2 1 {\"n\":1}", "v2 2 {\"n\":2}"], rows.Select(r => (string)r[0]!));
        Assert.Equal(1L, (await Table().PositionsAsync("file/"))["file/" + path + "#guard"]);
    }

    /// <summary>Runs an action at the first look at a file's details (an ingest makes it once it has read the file).</summary>
    private sealed class OnFirstInfo(ILakeStorage inner, Func<Task> action) : DelegatingStorage(inner)
    {
        private int _calls;

        public override async Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) == 1) await action();
            return await Inner.GetInfoAsync(path, cancellationToken);
        }
    }

    [Fact]
    public async Task RunAsync_JsonArraysCsvAndTsv_OneEventPerElementAndRecord()
    {
        Write("arrays/x.json", "[{\"id\": 1}, {\"id\": [2, \"]\"]}]");
        Write("arrays/forced.data", "[\"a\",\"b\"]");
        Write("table.csv", "id,city\n1,\"Paris, FR\"\n2,Oslo\n");
        Write("table.tsv.gz", Gzip(Encoding.UTF8.GetBytes("id\tcity\n3\tRome\n")));

        var byExtension = await IngestAsync();
        var forced = await IngestAsync(new LandingIngestOptions { Format = LandingFormat.JsonArray, File = "arrays/forced.data" });

        Assert.Equal((3L, 5L, 1L), (byExtension.FilesIngested, byExtension.Events, byExtension.FilesFailed));
        Assert.Equal((1L, 2L), (forced.FilesIngested, forced.Events));
        var rows = await BronzeRows.QueryAsync(Table(), fixture.Engine, "SELECT parse_filename(source), source_line, source_offset, decode(payload) FROM bronze ORDER BY ALL");
        Assert.Equal(
            [
                ["forced.data", 1L, 1L, "\"a\""],
                ["forced.data", 2L, 5L, "\"b\""],
                ["table.csv", 2L, 8L, "{\"id\":\"1\",\"city\":\"Paris, FR\"}"],
                ["table.csv", 3L, 22L, "{\"id\":\"2\",\"city\":\"Oslo\"}"],
                ["table.tsv.gz", 2L, 8L, "{\"id\":\"3\",\"city\":\"Rome\"}"],
                ["x.json", 1L, 1L, "{\"id\": 1}"],
                ["x.json", 2L, 12L, "{\"id\": [2, \"]\"]}"],
            ],
            rows);
    }

    [Fact]
    public async Task RunAsync_LinesThatAreNotUtf8_KeptByteExact()
    {
        byte[] latin1 = [0x7B, 0x22, 0x63, 0x22, 0x3A, 0x22, 0xE9, 0x74, 0xE9, 0x22, 0x7D]; // {"c":"été"} in ISO-8859-1
        byte[] junk = [0xFF, 0x00, 0xC3, 0x28, 0x0D];
        Write("mixed.ndjson", [.. "{\"ok\":1}\n"u8, .. latin1, (byte)'\n', .. junk, (byte)'\n']);
        Write("access.log.gz", Gzip([.. "127.0.0.1 - - \"GET /caf"u8, 0xE9, .. "\" 200\n"u8]));

        var result = await IngestAsync();

        Assert.Equal((2L, 4L), (result.FilesIngested, result.Events));
        var rows = await BronzeRows.QueryAsync(Table(), fixture.Engine, "SELECT payload FROM bronze WHERE parse_filename(source) = 'mixed.ndjson' ORDER BY source_line");
        Assert.Equal(["{\"ok\":1}"u8.ToArray(), latin1, junk[..4]], rows.Select(r => (byte[])r[0]!));
        var log = (await BronzeRows.QueryAsync(Table(), fixture.Engine, "SELECT payload FROM bronze WHERE parse_filename(source) = 'access.log.gz'")).Single();
        Assert.Equal([.. "127.0.0.1 - - \"GET /caf"u8, 0xE9, .. "\" 200"u8], (byte[])log[0]!);
    }

    [Fact]
    public async Task RunAsync_EmptyFiles_NoRowsButRecordedOnce()
    {
        Write("empty.ndjson", "");
        Write("blank.json", "\n  \n");
        Write("empty.csv.gz", Gzip([]));

        var first = await IngestAsync();
        var second = await IngestAsync();

        Assert.Empty(first.Problems);
        Assert.Equal((3L, 0L, 1L), (first.FilesIngested, first.Events, first.Commits));
        Assert.Equal((0L, 3L, 0L), (second.FilesIngested, second.FilesSkipped, second.Commits));
        Assert.Equal(0, await CountAsync());
        Assert.Equal(9, (await Table().PositionsAsync("file/")).Count); // each file's listing and content identity, and its location's guard
    }

    [Fact]
    public async Task RunAsync_FileModifiedWithinSettleTime_LeftForLaterAndTakenOnceSettled()
    {
        File.SetLastWriteTimeUtc(Write("old.ndjson", "{\"a\":1}\n"), DateTime.UtcNow.AddMinutes(-10));
        var fresh = Path.Combine(Landing, "fresh.ndjson");
        await File.WriteAllTextAsync(fresh, "{\"half\":");

        var first = await IngestAsync(new LandingIngestOptions { SettleTime = TimeSpan.FromMinutes(5), MaxSettleWait = TimeSpan.Zero });
        await File.AppendAllTextAsync(fresh, "true}\n");
        File.SetLastWriteTimeUtc(fresh, DateTime.UtcNow.AddMinutes(-10));
        var second = await IngestAsync(new LandingIngestOptions { SettleTime = TimeSpan.FromMinutes(5), MaxSettleWait = TimeSpan.Zero });

        Assert.Equal((1L, 1L, 1L), (first.FilesIngested, first.Events, first.FilesPending));
        Assert.Equal((1L, 1L, 0L), (second.FilesIngested, second.Events, second.FilesPending));
        var rows = await BronzeRows.QueryAsync(Table(), fixture.Engine, "SELECT decode(payload) FROM bronze ORDER BY 1");
        Assert.Equal(["{\"a\":1}", "{\"half\":true}"], rows.Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task RunAsync_OnceWithAFileStillSettling_WaitsForIt()
    {
        var path = Path.Combine(Landing, "soon.ndjson");
        Directory.CreateDirectory(Landing);
        await File.WriteAllTextAsync(path, "{\"a\":1}\n");
        // Settled already: ingested in the first pass, and not counted as skipped by the pass that waits for the other (it was).
        File.SetLastWriteTimeUtc(Write("settled.ndjson", "{\"b\":2}\n"), DateTime.UtcNow.AddMinutes(-10));

        var result = await IngestAsync(new LandingIngestOptions { SettleTime = TimeSpan.FromMilliseconds(300), MaxSettleWait = TimeSpan.FromSeconds(30) });

        Assert.Equal((2L, 0L, 2L, 0L), (result.FilesIngested, result.FilesSkipped, result.Events, result.FilesPending));
    }

    [Fact]
    public async Task RunAsync_FileGrowingWhileRead_NotHalfIngested()
    {
        var path = Path.Combine(Landing, "growing.log");
        Directory.CreateDirectory(Landing);
        await File.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a line of a log that is being written\n", 200_000))));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1)); // looks settled when listed
        using var stop = new CancellationTokenSource();
        var lines = 200_000;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await File.AppendAllTextAsync(path, "a line of a log that is being written\n");
                Interlocked.Increment(ref lines);
                await Task.Delay(1);
            }
        });

        var during = await IngestAsync(new LandingIngestOptions { MaxSettleWait = TimeSpan.Zero });
        await stop.CancelAsync();
        await writer;
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        var after = await IngestAsync();

        Assert.Equal((0L, 0L, 1L), (during.FilesIngested, during.Events, during.FilesPending));
        Assert.Equal((1L, (long)lines), (after.FilesIngested, after.Events));
        Assert.Equal(lines, await CountAsync());
    }

    [Fact]
    public async Task RunAsync_IgnoredNamesUnknownExtensionAndDamagedFile_OthersIngestedProblemsNamed()
    {
        Write("good.ndjson", "{\"a\":1}\n");
        Write(".hidden.ndjson", "{\"h\":1}\n");
        Write("_SUCCESS", "");
        Write("_temporary/part-0.ndjson", "{\"t\":1}\n");
        Write("upload.ndjson.tmp", "{\"t\":2}\n");
        Write("notes.xyz", "what is this");
        Write("broken.ndjson.gz", [0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02]);

        var result = await IngestAsync();

        Assert.Equal((1L, 1L, 2L), (result.FilesIngested, result.Events, result.FilesFailed));
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.StartsWith(Path.Combine(Landing, "notes.xyz") + ": its extension is not one of the landing formats", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(Landing, "broken.ndjson.gz") + ": it cannot be read: the gzip data is cut short or damaged: its trailer does not match what decodes from it " +
            "(or bytes follow it, or it is several gzip members)", Assert.Single(result.Problems, p => p.Contains("broken", StringComparison.Ordinal)));
        Assert.Equal(1, await CountAsync());
        var forced = await IngestAsync(new LandingIngestOptions { Format = LandingFormat.Text, File = "notes.xyz" });
        Assert.Equal((1L, 1L), (forced.FilesIngested, forced.Events));
        var named = await IngestAsync(new LandingIngestOptions { File = "_temporary/part-0.ndjson" }); // named on its own: taken
        Assert.Equal((1L, 1L), (named.FilesIngested, named.Events));
    }

    [Fact]
    public async Task RunAsync_TruncatedGzip_RefusedNotHalfIngested()
    {
        var whole = Gzip(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 50_000).Select(i => $"{{\"n\":{i},\"id\":\"{Guid.NewGuid()}\"}}\n"))));
        Write("cut.ndjson.gz", whole[..(whole.Length / 2)]);
        Write("whole.ndjson.gz", whole);

        var result = await IngestAsync();

        Assert.Equal((1L, 50_000L, 1L), (result.FilesIngested, result.Events, result.FilesFailed));
        Assert.Equal(Path.Combine(Landing, "cut.ndjson.gz") + ": it cannot be read: the gzip data is cut short or damaged: its trailer does not match what decodes from it " +
            "(or bytes follow it, or it is several gzip members)", Assert.Single(result.Problems));
        Assert.Equal(0, await CountAsync("parse_filename(source) = 'cut.ndjson.gz'"));
    }

    [Fact]
    public async Task RunAsync_ZstdFileAndTruncatedZstd_WholeFileOrRefused()
    {
        var lines = NovelLines(20_000, 3);
        using var compressor = new ZstdSharp.Compressor();
        var zst = compressor.Wrap(lines).ToArray();
        Write("whole.ndjson.zst", zst);
        Write("cut.ndjson.zst", zst[..(zst.Length / 2)]);
        Write("named.ndjson.zst", "{\"not\":\"compressed\"}\n"u8.ToArray());

        var result = await IngestAsync();

        Assert.Equal((1L, 20_000L, 2L), (result.FilesIngested, result.Events, result.FilesFailed));
        var problems = result.Problems.Order(StringComparer.Ordinal).ToList();
        Assert.StartsWith(Path.Combine(Landing, "cut.ndjson.zst") + ": it cannot be read", problems[0], StringComparison.Ordinal);
        Assert.Equal(Path.Combine(Landing, "named.ndjson.zst") + ": it cannot be read: it is not zstd data, or zstd data that is damaged (Unknown frame descriptor)", problems[1]);
        Assert.Equal(lines.Length - 20_000, result.PayloadBytes);
    }

    [Fact]
    public async Task RunAsync_ManySmallFiles_SeveralFilesPerCommit()
    {
        for (var i = 0; i < 25; i++) Write($"f{i:D2}.ndjson", $"{{\"n\":{i}}}\n{{\"n\":{i}}}\n");

        var result = await IngestAsync(new LandingIngestOptions { MaxBatchFiles = 10 });

        Assert.Equal((25L, 50L, 3L), (result.FilesIngested, result.Events, result.Commits));
        Assert.Equal(50, await CountAsync());
    }

    [Fact]
    public async Task RunAsync_TwoIngestsAtOnce_EachFileOnce()
    {
        for (var i = 0; i < 40; i++) Write($"f{i:D2}.ndjson", string.Concat(Enumerable.Range(0, 500).Select(n => $"{{\"f\":{i},\"n\":{n}}}\n")));
        var options = new LandingIngestOptions { MaxBatchFiles = 3, SettleTime = TimeSpan.Zero };

        var results = await Task.WhenAll(
            new LandingIngestor(Table(), LakeStorage.Open(Landing), options).RunAsync(),
            new LandingIngestor(Table(), LakeStorage.Open(Landing), options).RunAsync());

        Assert.Equal(20_000, await CountAsync());
        Assert.Equal(20_000, results.Sum(r => r.Events));
        Assert.Equal(40, results.Sum(r => r.FilesIngested));
        Assert.Equal(20_000L, (await BronzeRows.QueryAsync(Table(), fixture.Engine, "SELECT count(DISTINCT (source, source_line)) FROM bronze"))[0][0]);
    }

    [Fact]
    public async Task RunAsync_SingleFileThatDoesNotExist_NotFound()
    {
        var error = await Assert.ThrowsAsync<LakehouseException>(() => IngestAsync(new LandingIngestOptions { File = "missing.ndjson" }));
        Assert.Equal(LakehouseErrorReason.NotFound, error.Reason);
        Assert.Contains("missing.ndjson", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_OutOfRange_RefusedWhenSet()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LandingIngestOptions { PollInterval = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LandingIngestOptions { SettleTime = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new LandingIngestOptions { MaxBatchFiles = 0 });
        Assert.Throws<ArgumentException>(() => new LandingIngestOptions { File = " " });
    }
}
