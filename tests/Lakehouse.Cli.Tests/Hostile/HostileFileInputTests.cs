using System.IO.Compression;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Hostile;

/// <summary>
/// Hostile landed files through <c>lakehouse bronze ingest --from &lt;folder&gt;</c> and <c>silver run</c>: every line lands raw in
/// bronze and reaches silver or the quarantine exactly once; a file that cannot be taken whole (a gzip bomb, a truncated gzip) is
/// refused by name with nothing of it landed, and the others are ingested.
/// </summary>
public sealed class HostileFileInputTests : IDisposable
{
    private readonly TempDirectory _temp = new("hostile-files");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    private string Landing => _temp.Combine("landing");

    private void Write(string name, byte[] content)
    {
        var path = Path.Combine(Landing, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
    }

    private static byte[] Gzip(Action<Stream> write)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) write(gzip);
        return output.ToArray();
    }

    [Fact]
    public async Task Ingest_HostileLinesAndOddFileNames_EachLineInBronzeRawThenInSilverOrQuarantinedOnce()
    {
        var payloads = HostileInput.Payloads(10 << 20).ToList();
        Write("hostile.ndjson", [.. payloads.SelectMany(p => p.Payload.Append((byte)'\n'))]);
        string[] oddNames = ["a'; DROP TABLE bronze.weblogs; --.ndjson", "new\nline.ndjson", "sp ace [x] \"q\" *-.ndjson", "ü¨ñí %2e%2e%2f.ndjson"];
        foreach (var (name, i) in oddNames.Select((n, i) => (n, i))) Write(name, HostileInput.Utf8(HostileInput.Web("name" + i) + "\r\n"));

        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);
        Assert.True(ingest.ExitCode == 0, ingest.Stderr);
        Assert.StartsWith($"bronze.weblogs: 5 files ingested ({payloads.Count + 4} events,", ingest.Stdout, StringComparison.Ordinal);
        var silver = await HostileInput.SilverRunAsync(Lake);

        // In bronze's source order: the file names sort "a'…" < "hostile…" < "new…" < "sp ace…" < "ü…".
        var clean = HostileInput.Payloads(0)[0];
        var expected = new List<HostilePayload> { clean with { Name = oddNames[0], Payload = HostileInput.Utf8(HostileInput.Web("name0")) } };
        expected.AddRange(payloads);
        expected.AddRange(oddNames.Skip(1).Select((n, i) => clean with { Name = n, Payload = HostileInput.Utf8(HostileInput.Web("name" + (i + 1))) }));
        HostileInput.AssertEachOnce(expected, await HostileInput.FatesAsync(Lake, "source, source_line"), silver);

        // The data that looks like SQL is data: kept intact in silver, and the table it names is still there.
        var rows = await CliRunner.RunAsync("sql", "--lake", Lake, "--format", "csv",
            "SELECT count(*) FILTER (WHERE event_id = $$" + HostileInput.EventIdWithSql + "$$ AND country IS NULL), count(*) FROM silver.weblogs");
        Assert.True(rows.ExitCode == 0, rows.Stderr);
        Assert.EndsWith("\n1,9\n", rows.Stdout, StringComparison.Ordinal);
        var names = await CliRunner.RunAsync("sql", "--lake", Lake, "--format", "jsonl", "SELECT DISTINCT parse_filename(source) AS f FROM bronze.weblogs ORDER BY f");
        Assert.Equal(["a'; DROP TABLE bronze.weblogs; --.ndjson", "hostile.ndjson", "new\nline.ndjson", "sp ace [x] \"q\" *-.ndjson", "ü¨ñí %2e%2e%2f.ndjson"],
            names.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("f").GetString()));
    }

    [Fact]
    public async Task Ingest_GzipBombLongLineAndTruncatedGzip_RefusedByNameNothingOfThemLandedOthersIngested()
    {
        // 40 MiB of one byte without a line break in 40 KB of gzip: one "event" past the 32 MiB limit, refused before it is all in memory.
        Write("bomb.ndjson.gz", Gzip(s =>
        {
            var block = Encoding.ASCII.GetBytes(new string('x', 1 << 20));
            for (var i = 0; i < 40; i++) s.Write(block);
        }));
        Write("bomb-array.json.gz", Gzip(s =>
        {
            s.Write("[{\"pad\":\""u8);
            var block = Encoding.ASCII.GetBytes(new string('y', 1 << 20));
            for (var i = 0; i < 40; i++) s.Write(block);
            s.Write("\"}]"u8);
        }));
        var whole = Gzip(s => s.Write(HostileInput.Utf8(HostileInput.Web("t1") + "\n" + HostileInput.Web("t2") + "\n")));
        Write("truncated.ndjson.gz", whole[..^6]);
        // The same 40 MiB line uncompressed, ended: read in blocks that hold it whole, it was ingested as one event.
        Write("long-line.ndjson", [.. Encoding.ASCII.GetBytes(new string('z', 40 << 20)), (byte)'\n']);
        Write("good.ndjson", HostileInput.Utf8(HostileInput.Web("g1") + "\n"));

        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);

        Assert.Equal(1, ingest.ExitCode);
        Assert.StartsWith("bronze.weblogs: 1 files ingested (1 events,", ingest.Stdout, StringComparison.Ordinal);
        Assert.Contains("4 landing file(s) were not ingested (the others were)", ingest.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(Landing, "long-line.ndjson")}: it has an event longer than 33554432 bytes (32 MiB) starting at byte 0 of its content", ingest.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(Landing, "bomb.ndjson.gz")}: it has an event longer than 33554432 bytes (32 MiB) starting at byte 0 of its content", ingest.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(Landing, "bomb-array.json.gz")}: it has an event longer than 33554432 bytes (32 MiB) starting at byte 1 of its content", ingest.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(Landing, "truncated.ndjson.gz")}: it cannot be read: the gzip data is cut short or damaged", ingest.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", ingest.Stderr, StringComparison.Ordinal);
        var silver = await HostileInput.SilverRunAsync(Lake);
        HostileInput.AssertEachOnce([HostileInput.Payloads(0)[0] with { Name = "good", Payload = HostileInput.Utf8(HostileInput.Web("g1")) }],
            await HostileInput.FatesAsync(Lake, "source, source_line"), silver);
    }

    [Fact]
    public async Task Ingest_LinksToItselfAndOutside_EachRealFileOnceNothingFromOutside()
    {
        Write("a.ndjson", HostileInput.Utf8(HostileInput.Web("a") + "\n"));
        Write(Path.Combine("sub", "b.ndjson"), HostileInput.Utf8(HostileInput.Web("b") + "\n"));
        var outside = _temp.Combine("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "secret.ndjson"), HostileInput.Web("secret") + "\n");
        File.SetLastWriteTimeUtc(Path.Combine(outside, "secret.ndjson"), DateTime.UtcNow.AddMinutes(-1));
        Directory.CreateSymbolicLink(Path.Combine(Landing, "loop"), ".");
        Directory.CreateSymbolicLink(Path.Combine(Landing, "sub", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(Landing, "elsewhere"), outside);
        // File links out of the landing folder (they were followed: /etc/passwd landed in bronze); one inside it is a file of it.
        File.CreateSymbolicLink(Path.Combine(Landing, "secret.ndjson"), Path.Combine(outside, "secret.ndjson"));
        File.CreateSymbolicLink(Path.Combine(Landing, "passwd.log"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(Landing, "sub", "a-again.ndjson"), Path.Combine("..", "a.ndjson"));

        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", Lake, "--dataset", "weblogs", "--from", Landing);

        Assert.True(ingest.ExitCode == 0, ingest.Stderr);
        Assert.StartsWith("bronze.weblogs: 3 files ingested (3 events,", ingest.Stdout, StringComparison.Ordinal);
        var sources = await CliRunner.RunAsync("sql", "--lake", Lake, "--format", "csv", "SELECT source FROM bronze.weblogs ORDER BY source");
        Assert.Equal($"source\n{Path.Combine(Landing, "a.ndjson")}\n{Path.Combine(Landing, "sub", "a-again.ndjson")}\n{Path.Combine(Landing, "sub", "b.ndjson")}\n", sources.Stdout);
    }
}
