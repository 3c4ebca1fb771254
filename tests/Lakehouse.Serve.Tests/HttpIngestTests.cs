using System.Net;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>POST /ingest/{dataset} through a real HttpClient against the real server: what lands, and every status.</summary>
public sealed class HttpIngestTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    /// <summary>A small valid definition of a dataset named clicks.</summary>
    private const string ClicksDefinition = """
        { "name": "clicks", "payload": "json", "columns": [{ "name": "at", "type": "timestamp" }], "event_time": "at", "id": "source_position" }
        """;

    [Fact]
    public async Task Post_NdjsonWithMalformedBlankCrlfAndNonUtf8Lines_202AfterCommitAndEveryLineLandedByteForByte()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        byte[] body = [.. "{\"event_id\": \"e1\", \"tti_ms\": 12}\r\nnot json {\n\n"u8, 0xff, 0xfe, 0x00, (byte)'x', (byte)'\n', .. "  \n{\"event_id\": \"ü\"}"u8];

        var before = DateTimeOffset.UtcNow;
        using var response = await scope.PostAsync("weblogs", body);
        var after = DateTimeOffset.UtcNow;

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answer = await ServerScope.JsonAsync(response);
        var requestId = answer.GetProperty("requestId").GetString()!;
        Assert.Equal(requestId, response.Headers.GetValues("X-Request-Id").Single());
        Assert.Matches("^[0-9a-f]{32}$", requestId);
        Assert.Equal(("weblogs", "bronze.weblogs", 4, 0L, false),
            (answer.GetProperty("dataset").GetString(), answer.GetProperty("table").GetString(), answer.GetProperty("accepted").GetInt32(),
             answer.GetProperty("bronzeVersion").GetInt64(), answer.GetProperty("duplicate").GetBoolean()));
        var rows = await scope.BronzeAsync("weblogs", version: 0); // the version the answer names holds the events
        Assert.Equal(
            [
                (Convert.ToHexString("{\"event_id\": \"e1\", \"tti_ms\": 12}"u8), 0L, 1L),
                (Convert.ToHexString("not json {"u8), 34L, 2L),
                ("FFFE0078", 46L, 4L),
                (Convert.ToHexString("{\"event_id\": \"ü\"}"u8), 54L, 6L),
            ],
            rows.Select(r => (Convert.ToHexString(r.Payload), r.Offset!.Value, r.Line!.Value)).ToList());
        Assert.All(rows, r => Assert.Equal(("http", requestId, (string?)null, (string?)null, false), (r.Kind, r.Source, r.Partition, r.Key, r.HasEnqueuedTime)));
        Assert.Single(rows.Select(r => r.IngestTimeMs).Distinct()); // one commit, one ingest time
        Assert.InRange(rows[0].IngestTimeMs, before.ToUnixTimeMilliseconds(), after.ToUnixTimeMilliseconds());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(rows[0].IngestTimeMs).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), rows[0].IngestDate);
        Assert.All(Directory.GetDirectories(Path.Combine(scope.Lake, "bronze", "weblogs"), "ingest_date=*"), d => Assert.EndsWith("ingest_date=" + rows[0].IngestDate, d, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_JsonArray_EachElementLandedWithItsRawBytesIndexAndOffset()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        const string body = "[ {\"sensor_id\" : \"s1\",  \"value\": 71.5} ,\n 42, \"text\", null, {\"nested\": [1, {\"x\": \"\\u00fc\"}]} ]";

        using var response = await scope.PostAsync("sensors", body, "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(5, (await ServerScope.JsonAsync(response)).GetProperty("accepted").GetInt32());
        var rows = await scope.BronzeAsync("sensors");
        Assert.Equal(
            [
                ("{\"sensor_id\" : \"s1\",  \"value\": 71.5}", 2L, 1L),
                ("42", 42L, 2L),
                ("\"text\"", 46L, 3L),
                ("null", 54L, 4L),
                ("{\"nested\": [1, {\"x\": \"\\u00fc\"}]}", 60L, 5L),
            ],
            rows.Select(r => (Encoding.UTF8.GetString(r.Payload), r.Offset!.Value, r.Line!.Value)).ToList());
    }

    [Theory]
    [InlineData("application/json", "{\"event_id\": \"only\"}", "{\"event_id\": \"only\"}")]
    [InlineData("text/plain", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n", "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326")]
    [InlineData("application/jsonl", "{\"a\":1}", "{\"a\":1}")]
    [InlineData("application/cloudevents-batch+json", "[{\"a\":1}]", "{\"a\":1}")]
    [InlineData("application/x-ndjson; charset=\"utf-8\"", "{\"a\":1}\n", "{\"a\":1}")] // a quoted parameter value (RFC 9110 5.6.6) was refused 415
    [InlineData("text/plain; charset=\"US-ASCII\"", "a b c\n", "a b c")]
    public async Task Post_OtherAcceptedMediaTypes_OneEventLanded(string contentType, string body, string landed)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync("accesslogs", body, contentType);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([landed], (await scope.BronzeAsync("accesslogs")).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Theory]
    [InlineData("", "application/x-ndjson")]
    [InlineData("\n \n", "application/x-ndjson")]
    [InlineData("[]", "application/json")]
    public async Task Post_NoEvents_202WithNothingCommitted(string body, string contentType)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync("weblogs", body, contentType);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var answer = await ServerScope.JsonAsync(response);
        Assert.Equal(0, answer.GetProperty("accepted").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, answer.GetProperty("bronzeVersion").ValueKind);
        Assert.False(Directory.Exists(Path.Combine(scope.Lake, "bronze", "weblogs")));
    }

    [Theory]
    [InlineData("[{\"a\":1},", "The body is not valid JSON at line 1, byte 9 of that line")]
    [InlineData("{\"a\":1}\n{\"a\":2}\n", "More JSON follows the first value at byte 8 (one event per line is Content-Type application/x-ndjson)")]
    [InlineData("17", "The body is a single JSON number")]
    [InlineData("", "The body is empty")]
    public async Task Post_JsonBodyThatDoesNotParse_400ProblemAndNothingLanded(string body, string detail)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync("weblogs", body, "application/json");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "Malformed body", detail);
        Assert.Empty(await scope.BronzeAsync("weblogs"));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("web.logs")]
    [InlineData("x y")]
    [InlineData("WEBLOGS")]
    public async Task Post_UnknownDataset_404ProblemAndNothingLanded(string dataset)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync(Uri.EscapeDataString(dataset), "{\"a\":1}\n");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "Unknown dataset", $"There is no dataset '{dataset}'");
        Assert.False(Directory.Exists(Path.Combine(scope.Lake, "bronze")));
    }

    [Fact]
    public async Task Post_DatasetDefinedByAFileInTheLake_Landed()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using (var before = await scope.PostAsync("clicks", "{\"a\":1}\n")) Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        Directory.CreateDirectory(Path.Combine(scope.Lake, "_lakehouse", "datasets"));
        await File.WriteAllTextAsync(Path.Combine(scope.Lake, "_lakehouse", "datasets", "clicks.json"), ClicksDefinition);
        using var after = await scope.PostAsync("clicks", "{\"a\":1}\n");
        Assert.Equal(HttpStatusCode.Accepted, after.StatusCode);
        Assert.Single(await scope.BronzeAsync("clicks"));
    }

    [Fact]
    public async Task Post_DefinitionBrokenWhileRunning_OtherDatasetsStillLandAndItsName404WithoutThePath()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var folder = Path.Combine(scope.Lake, "_lakehouse", "datasets");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "orders.json"), ClicksDefinition.Replace("clicks", "orders", StringComparison.Ordinal).Replace("\"json\"", "\"xml\"", StringComparison.Ordinal));

        using (var weblogs = await scope.PostAsync("weblogs", "{\"a\":1}\n")) Assert.Equal(HttpStatusCode.Accepted, weblogs.StatusCode);
        using (var orders = await scope.PostAsync("orders", "{\"a\":1}\n"))
        {
            await AssertProblemAsync(orders, HttpStatusCode.NotFound, "Unknown dataset", "There is no dataset 'orders': the lake's dataset definitions are not valid");
            Assert.DoesNotContain(scope.Lake, await orders.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Fixed: taken at once.
        await File.WriteAllTextAsync(Path.Combine(folder, "orders.json"), ClicksDefinition.Replace("clicks", "orders", StringComparison.Ordinal));
        using (var fixedOrders = await scope.PostAsync("orders", "{\"a\":1}\n")) Assert.Equal(HttpStatusCode.Accepted, fixedOrders.StatusCode);
        Assert.Single(await scope.BronzeAsync("orders"));
        Assert.Single(await scope.BronzeAsync("weblogs"));
    }

    [Fact]
    public async Task Start_LakeWithABrokenDefinition_RefusedNamingTheFile()
    {
        using var lake = new TempDirectory("serve-broken");
        Directory.CreateDirectory(lake.Combine("_lakehouse", "datasets"));
        File.WriteAllText(lake.Combine("_lakehouse", "datasets", "clicks.json"), "{\"name\": \"clicks\"}");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => ServerScope.StartAsync(fixture.Engine, lake: lake));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"Dataset definition '{lake.Combine("_lakehouse", "datasets", "clicks.json")}', field 'payload': is missing.", e.Message);
    }

    [Fact]
    public async Task Post_CatalogGivenByTheCaller_OnlyItsDatasetsTaken()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Ingest.IsKnownDataset = name => name == "orders");
        using (var orders = await scope.PostAsync("orders", "{\"a\":1}\n")) Assert.Equal(HttpStatusCode.Accepted, orders.StatusCode);
        using (var weblogs = await scope.PostAsync("weblogs", "{\"a\":1}\n")) Assert.Equal(HttpStatusCode.NotFound, weblogs.StatusCode);
    }

    [Theory]
    [InlineData("text/csv", "Content-Type 'text/csv' is not taken")]
    [InlineData("application/octet-stream", "Content-Type 'application/octet-stream' is not taken")]
    [InlineData("application/json; charset=utf-16", "Charset 'utf-16' is not taken")]
    [InlineData(null, "The request has no Content-Type")]
    public async Task Post_UnsupportedMediaType_415ProblemWithAcceptPostAndNothingLanded(string? contentType, string detail)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var content = new ByteArrayContent("{\"a\":1}\n"u8.ToArray());
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await scope.Client.PostAsync("/ingest/weblogs", content);
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "Unsupported media type", detail);
        Assert.Equal("application/x-ndjson, application/json, text/plain", response.Headers.GetValues("Accept-Post").Single());
        Assert.Empty(await scope.BronzeAsync("weblogs"));
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_413WithContentLengthOrChunkedAndNothingLanded_AtTheLimit202()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Ingest.MaxBodyBytes = 1000);
        var line = Encoding.UTF8.GetBytes(new string('x', 99) + "\n");
        var exactly = Enumerable.Repeat(line, 10).SelectMany(l => l).ToArray();
        var over = Enumerable.Repeat(line, 11).SelectMany(l => l).ToArray();

        using (var declared = await scope.PostAsync("weblogs", over))
            await AssertProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge, "Body too large", "A body may have at most 1000 bytes");
        using (var chunked = await scope.Client.PostAsync("/ingest/weblogs", Chunked(over)))
            await AssertProblemAsync(chunked, HttpStatusCode.RequestEntityTooLarge, "Body too large", "A body may have at most 1000 bytes");
        Assert.Empty(await scope.BronzeAsync("weblogs"));

        using (var atLimit = await scope.PostAsync("weblogs", exactly)) Assert.Equal(HttpStatusCode.Accepted, atLimit.StatusCode);
        using (var chunkedAtLimit = await scope.Client.PostAsync("/ingest/weblogs", Chunked(exactly))) Assert.Equal(HttpStatusCode.Accepted, chunkedAtLimit.StatusCode);
        Assert.Equal(20, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Fact]
    public async Task Post_ChunkedBodyOfManySegmentsExactlyAtTheLimit_EveryLineLandedWithItsBytesAndOffset()
    {
        // Lines of varying length cross the body's segment boundaries (64 KiB doubling to 1 MiB); the limit is the body's exact,
        // odd length, so its last segment is cut short and the read that finds the end is the one past the limit.
        var lines = Enumerable.Range(0, 30_000).Select(i => $"{{\"n\":{i},\"pad\":\"{new string((char)('a' + i % 26), i % 173)}\"}}\n").ToArray();
        var body = Encoding.UTF8.GetBytes(string.Concat(lines));
        Assert.InRange(body.Length, 3_000_000, 4_000_000);
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Ingest.MaxBodyBytes = body.Length);

        using (var response = await scope.Client.PostAsync("/ingest/weblogs", Chunked(body))) Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using (var over = await scope.Client.PostAsync("/ingest/weblogs", Chunked([.. body, .. "{}\n"u8.ToArray()])))
            await AssertProblemAsync(over, HttpStatusCode.RequestEntityTooLarge, "Body too large", "A body may have at most");

        var rows = await scope.BronzeAsync("weblogs");
        Assert.Equal(lines.Length, rows.Count);
        var offset = 0L;
        for (var i = 0; i < lines.Length; i++)
        {
            Assert.Equal(lines[i][..^1], Encoding.UTF8.GetString(rows[i].Payload));
            Assert.Equal(offset, rows[i].Offset);
            offset += Encoding.UTF8.GetByteCount(lines[i]);
        }
    }

    [Fact]
    public async Task Post_GzipBody_LandedDecompressedAndTheLimitAppliesToDecompressedBytes()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.Ingest.MaxBodyBytes = 5000);
        var body = string.Concat(Enumerable.Range(0, 40).Select(i => $"{{\"event_id\": \"g{i}\", \"pad\": \"{new string('x', 80)}\"}}\n"));
        using (var small = await scope.Client.PostAsync("/ingest/weblogs", Gzip(body, "gzip")))
            Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
        Assert.Equal(body.Split('\n', StringSplitOptions.RemoveEmptyEntries), (await scope.BronzeAsync("weblogs")).Select(r => Encoding.UTF8.GetString(r.Payload)));

        var big = string.Concat(Enumerable.Repeat(body, 2)); // 8,000 bytes decompressed, far fewer sent
        using (var tooBig = await scope.Client.PostAsync("/ingest/weblogs", Gzip(big, "gzip")))
            await AssertProblemAsync(tooBig, HttpStatusCode.RequestEntityTooLarge, "Body too large", "A body may have at most 5000 bytes");
        using (var unknown = await scope.Client.PostAsync("/ingest/weblogs", Gzip(body, "zstd")))
            await AssertProblemAsync(unknown, HttpStatusCode.UnsupportedMediaType, "Unsupported content encoding", "Content-Encoding 'zstd' is not taken");
        Assert.Equal(40, (await scope.BronzeAsync("weblogs")).Count);
    }

    /// <summary>
    /// A compressed body that is cut short, has bytes after its end, or is not the coding it says is refused with 400 and lands
    /// nothing; whole, each coding lands every event. Before, .NET's decoders returned the start of a cut body without an error:
    /// 202 and a cut-off event in bronze (and a body that did not decode was a 500).
    /// </summary>
    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Post_CompressedBodyCutShortOrWithBytesAfterIt_400AndNothingLanded(string coding)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var text = string.Concat(Enumerable.Range(0, 200).Select(i => $"{{\"event_id\": \"c{i}\", \"n\": {i}}}\n"));
        var whole = Compress(Encoding.UTF8.GetBytes(text), coding);
        byte[][] broken = [whole[..(whole.Length / 2)], whole[..^1], [.. whole, (byte)'x'], "{\"event_id\": \"plain\"}\n"u8.ToArray()];

        foreach (var body in broken)
        {
            var content = ServerScope.Body(body, "application/x-ndjson");
            content.Headers.ContentEncoding.Add(coding);
            using var response = await scope.Client.PostAsync("/ingest/weblogs", content);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "Body does not decode", $"The body was sent with Content-Encoding '{coding}', but ");
        }
        Assert.Empty(await scope.BronzeAsync("weblogs"));

        var good = ServerScope.Body(whole, "application/x-ndjson");
        good.Headers.ContentEncoding.Add(coding);
        using (var accepted = await scope.Client.PostAsync("/ingest/weblogs", good))
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), (await scope.BronzeAsync("weblogs")).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    private static byte[] Compress(byte[] data, string coding)
    {
        using var buffer = new MemoryStream();
        using (Stream c = coding switch
        {
            "gzip" => new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true),
            "deflate" => new System.IO.Compression.ZLibStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true),
            _ => new System.IO.Compression.BrotliStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true),
        })
        {
            c.Write(data);
        }
        return buffer.ToArray();
    }

    /// <summary>A gzip-compressed NDJSON body labelled with <paramref name="coding"/>.</summary>
    private static ByteArrayContent Gzip(string text, string coding)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(text));
        var content = ServerScope.Body(buffer.ToArray(), "application/x-ndjson");
        content.Headers.ContentEncoding.Add(coding);
        return content;
    }

    [Fact]
    public async Task Get_IngestRoute_405WithAllowPost()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.Client.GetAsync("/ingest/weblogs");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Stop_ThenPost_ConnectionRefusedAndTheCommittedEventsStay()
    {
        var lake = new TempDirectory("serve-stop");
        try
        {
            Uri address;
            await using (var scope = await ServerScope.StartAsync(fixture.Engine, lake: lake))
            {
                using var response = await scope.PostAsync("weblogs", "{\"a\":1}\n{\"a\":2}\n");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                address = scope.BaseAddress;
            }
            using var client = new HttpClient { BaseAddress = address };
            await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("/ingest/weblogs", ServerScope.Body("{}"u8.ToArray(), "application/x-ndjson")));
            await using var again = await ServerScope.StartAsync(fixture.Engine, lake: lake);
            Assert.Equal(2, (await again.BronzeAsync("weblogs")).Count);
        }
        finally
        {
            lake.Dispose();
        }
    }

    /// <summary>A body without Content-Length: HttpClient sends it chunked.</summary>
    internal static StreamContent Chunked(byte[] body)
    {
        var content = new StreamContent(new UnseekableStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
        return content;
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title, string detailStart)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await ServerScope.JsonAsync(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.StartsWith(detailStart, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.GetProperty("requestId").GetString());
    }

    /// <summary>A stream whose length is unknown, so HttpClient cannot send a Content-Length.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
