using System.IO.Compression;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Lakehouse.Bronze.Landing;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests.Landing;

/// <summary>A landing container on a real Azure Blob service (Azurite), read through the project's storage layer.</summary>
public sealed class AzureLandingTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>, IDisposable
{
    private readonly EngineFixture _engine = new();
    private readonly TempDirectory _temp = new("azure-landing");

    public void Dispose()
    {
        _engine.Dispose();
        _temp.Dispose();
    }

    private static BinaryData Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return BinaryData.FromBytes(output.ToArray());
    }

    [Fact]
    public async Task RunAsync_ContainerFolder_CommittedBlobsOnceUploadedAgainAddsNothing()
    {
        await using var container = await azurite.CreateContainerAsync("landing");
        var blobs = new BlobContainerClient(azurite.ConnectionString, container.Name);
        await blobs.UploadBlobAsync("in/a.ndjson", BinaryData.FromString("{\"a\":1}\n{\"a\":2}\n"));
        await blobs.UploadBlobAsync("in/sub/b.csv.gz", Gzip("k,v\nx,1\ny,2\nz,3\n"));
        await blobs.UploadBlobAsync("in/ns/hub/2/2018/12/07/10/22/49.avro", BinaryData.FromBytes(await File.ReadAllBytesAsync(Path.Combine(TestPaths.Shared, "conformance", "avro", "eventhubs-capture", "usql-EHC.avro"))));
        await blobs.UploadBlobAsync("in/_temporary/c.ndjson", BinaryData.FromString("{\"ignored\":1}\n"));
        // A block blob being uploaded: its blocks are staged, its block list not committed yet.
        var uploading = blobs.GetBlockBlobClient("in/uploading.ndjson");
        var block = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        await uploading.StageBlockAsync(block, new MemoryStream(Encoding.UTF8.GetBytes("{\"late\":1}\n")));

        var table = BronzeTable.Open(LakeStorage.Open(_temp.Combine("bronze")), _engine.Engine);
        var landing = container.Open("in");
        var options = new LandingIngestOptions { SettleTime = TimeSpan.Zero };
        var first = await new LandingIngestor(table, landing, options).RunAsync();

        Assert.Equal((3L, 2L + 3 + 677, 0L), (first.FilesIngested, first.Events, first.FilesFailed));
        var perSource = await BronzeRows.QueryAsync(table, _engine.Engine, "SELECT source, source_kind, any_value(source_partition), count(*) FROM bronze GROUP BY ALL ORDER BY 1");
        Assert.Equal(
            [
                [container.Location + "/in/a.ndjson", "file", null, 2L],
                [container.Location + "/in/ns/hub/2/2018/12/07/10/22/49.avro", "capture", "2", 677L],
                [container.Location + "/in/sub/b.csv.gz", "file", null, 3L],
            ],
            perSource);
        var identities = await table.PositionsAsync("file/" + container.Location + "/in/a.ndjson@");
        Assert.Matches("^file/abfss://.+/in/a\\.ndjson@0x[0-9A-F]+/16$", Assert.Single(identities).Key);

        // Run again, upload a.ndjson again with the same bytes (a new etag), then with new bytes, then commit the staged upload.
        var again = await new LandingIngestor(table, landing, options).RunAsync();
        await blobs.GetBlobClient("in/a.ndjson").UploadAsync(BinaryData.FromString("{\"a\":1}\n{\"a\":2}\n"), overwrite: true);
        var reuploaded = await new LandingIngestor(table, landing, options).RunAsync();
        await blobs.GetBlobClient("in/a.ndjson").UploadAsync(BinaryData.FromString("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"), overwrite: true);
        await uploading.CommitBlockListAsync([block]);
        var changed = await new LandingIngestor(table, landing, options).RunAsync();

        Assert.Equal((0L, 0L, 3L), (again.FilesIngested, again.Events, again.FilesSkipped));
        Assert.Equal((0L, 0L), (reuploaded.FilesIngested, reuploaded.Events));
        Assert.Equal((2L, 4L), (changed.FilesIngested, changed.Events));
        Assert.Equal(2L + 3 + 677 + 3 + 1, await BronzeRows.CountAsync(table, _engine.Engine));
    }
}
