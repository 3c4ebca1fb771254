using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>The storage contract on a container of a real Azurite, plus what only the Blob implementation has.</summary>
public sealed class AzureBlobLakeStorageTests(AzuriteServer azurite) : LakeStorageContractTests, IClassFixture<AzuriteServer>
{
    private AzuriteContainer? _container;

    private AzuriteContainer Container => _container ?? throw new InvalidOperationException("Not initialised.");

    protected override async Task<ILakeStorage> CreateStorageAsync()
    {
        _container = await azurite.CreateContainerAsync("contract");
        return _container.Open("lake", SmallBlockOptions());
    }

    protected override async Task DeleteStorageAsync()
    {
        if (_container is not null) await _container.DisposeAsync();
    }

    /// <summary>Options whose block threshold (4 MiB, 1 MiB blocks) puts <see cref="LakeStorageContractTests.LargeUploadSize"/> into blocks.</summary>
    private LakeStorageOptions SmallBlockOptions()
    {
        var options = azurite.CreateOptions();
        options.BlockUploadThreshold = 4 * 1024 * 1024;
        options.BlockSize = 1024 * 1024;
        options.CacheDirectory = Scratch.Combine("cache");
        return options;
    }

    [Fact]
    public void Location_RootFolder_IsTheAbfssUri()
    {
        Assert.Equal(Container.Location + "/lake", Storage.Location);
        Assert.Equal(Container.Location + "/lake/t/x", Storage.Scope("t/x/").Location);
        Assert.Null(Storage.LocalPathOrNull("a/b.parquet"));
    }

    [Fact]
    public async Task ListAsync_ContainerRoot_ReturnsPathsFromTheContainer()
    {
        await PutTextAsync("x.txt", "x");
        var root = Container.Open();
        await root.PutAsync("top.txt", "t"u8.ToArray());

        Assert.Equal(["lake/x.txt", "top.txt"], (await ListAsync(root, "")).Select(f => f.Path));
    }

    [Fact]
    public async Task ListAsync_ManyPages_ReturnsEveryFileOnce()
    {
        var options = SmallBlockOptions();
        options.ListPageSize = 2;
        var storage = Container.Open("paged", options);
        var names = Enumerable.Range(0, 7).Select(i => $"_delta_log/{i:D20}.json").ToArray();
        foreach (var name in names) await storage.PutAsync(name, "{}"u8.ToArray());

        Assert.Equal(names, (await ListAsync(storage, "_delta_log/")).Select(f => f.Path));
    }

    [Fact]
    public async Task PutAsync_NamesNeedingEscapes_RoundTrip()
    {
        string[] names = ["date=2024-01-01/a b%20c+d.parquet", "country=C%C3%B4te/x#y?z&w.json", "é/ü 中文.txt", "a;b,c@d$e!f'g(h)i*j~k.txt"];
        foreach (var name in names) await PutTextAsync(name, "content of " + name);

        Assert.Equal(names.Order(StringComparer.Ordinal), (await ListAsync("")).Select(f => f.Path));
        foreach (var name in names)
        {
            Assert.Equal("content of " + name, await ReadTextAsync(name));
            Assert.Equal(Encoding.UTF8.GetByteCount("content of " + name), (await Storage.GetInfoAsync(name))?.Size);
        }
    }

    [Fact]
    public async Task GetLocalCopyAsync_Unchanged_ReusesTheCachedFile()
    {
        await PutTextAsync("c/f.parquet", "abc");
        var first = await Storage.GetLocalCopyAsync("c/f.parquet");
        var written = File.GetLastWriteTimeUtc(first);

        var second = await Storage.GetLocalCopyAsync("c/f.parquet");

        Assert.Equal(first, second);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second));
        Assert.EndsWith(".parquet", first, StringComparison.Ordinal);
        Assert.StartsWith(Scratch.Combine("cache"), first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetLocalCopyAsync_AfterOverwrite_DropsTheOldCopy()
    {
        await PutTextAsync("c/f.json", "one");
        var first = await Storage.GetLocalCopyAsync("c/f.json");
        await PutTextAsync("c/f.json", "two");

        var second = await Storage.GetLocalCopyAsync("c/f.json");

        Assert.NotEqual(first, second);
        Assert.False(File.Exists(first));
        Assert.Equal("two", await File.ReadAllTextAsync(second));
    }

    [Fact]
    public async Task GetLocalCopyAsync_OverSizeLimit_EvictsTheLeastRecentlyUsedCopy()
    {
        using var logs = new CapturingLoggerFactory();
        var options = SmallBlockOptions();
        options.CacheDirectory = Scratch.Combine("bounded");
        options.CacheSizeLimit = 1024 * 1024;
        options.CacheInUseWindow = TimeSpan.Zero;
        options.LoggerFactory = logs;
        var storage = Container.Open("lake", options);
        foreach (var name in new[] { "a", "b", "c" }) await storage.PutAsync($"e/{name}.parquet", Bytes(400 * 1024, seed: name[0]));

        var a = await storage.GetLocalCopyAsync("e/a.parquet");
        var b = await storage.GetLocalCopyAsync("e/b.parquet");
        Assert.Equal(a, await storage.GetLocalCopyAsync("e/a.parquet")); // A hit: a is now used more recently than b.
        var c = await storage.GetLocalCopyAsync("e/c.parquet");

        var left = Directory.GetFiles(options.CacheDirectory).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { a, c }.Order(StringComparer.Ordinal), left);
        Assert.False(File.Exists(b));
        Assert.Equal(800 * 1024, left.Sum(f => new FileInfo(f).Length));
        Assert.Equal(Bytes(400 * 1024, seed: 'a'), await File.ReadAllBytesAsync(a));
        var evicted = Assert.Single(logs.Events, l => l.Id.Id == 2001);
        Assert.Equal("BlobCacheEvicted", evicted.Id.Name);
        Assert.Equal(1, evicted.Values["Files"]);
        Assert.Equal(400L * 1024, evicted.Values["Bytes"]);
        Assert.Equal(800L * 1024, evicted.Values["RemainingBytes"]);
    }

    [Fact]
    public async Task GetLocalCopyAsync_BlobLargerThanTheLimit_KeepsTheCopyJustReturnedUntilTheNextDownload()
    {
        var options = SmallBlockOptions();
        options.CacheDirectory = Scratch.Combine("tiny");
        options.CacheSizeLimit = 1024 * 1024;
        options.CacheInUseWindow = TimeSpan.Zero;
        var storage = Container.Open("lake", options);
        await storage.PutAsync("e/big.parquet", Bytes(1536 * 1024, seed: 1));
        await storage.PutAsync("e/small.parquet", Bytes(1000, seed: 2));

        var big = await storage.GetLocalCopyAsync("e/big.parquet");
        Assert.Equal([big], Directory.GetFiles(options.CacheDirectory));
        Assert.Equal(1536 * 1024, new FileInfo(big).Length);

        var small = await storage.GetLocalCopyAsync("e/small.parquet");
        Assert.Equal([small], Directory.GetFiles(options.CacheDirectory));
        Assert.Equal(Bytes(1000, seed: 2), await File.ReadAllBytesAsync(small));
    }

    [Fact]
    public async Task GetLocalCopyAsync_OverSizeLimitWithEveryCopyInUse_EvictsNothing()
    {
        // The default window: copies a scan fetched a moment ago are about to be read by the engine, whatever the limit.
        var options = SmallBlockOptions();
        options.CacheDirectory = Scratch.Combine("in-use");
        options.CacheSizeLimit = 1024 * 1024;
        var storage = Container.Open("lake", options);
        foreach (var name in new[] { "a", "b", "c" }) await storage.PutAsync($"e/{name}.parquet", Bytes(400 * 1024, seed: name[0]));

        var copies = new List<string>();
        foreach (var name in new[] { "a", "b", "c" }) copies.Add(await storage.GetLocalCopyAsync($"e/{name}.parquet"));

        Assert.Equal(copies.Order(StringComparer.Ordinal), Directory.GetFiles(options.CacheDirectory).Order(StringComparer.Ordinal));
        Assert.Equal(1200 * 1024, copies.Sum(f => new FileInfo(f).Length));
    }

    [Fact]
    public async Task ListAsync_AdlsDirectoryMarker_IsNotAFile()
    {
        await PutTextAsync("d/sub/x.json", "x");
        var client = new BlobContainerClient(azurite.ConnectionString, Container.Name);
        await client.GetBlobClient("lake/d/sub").UploadAsync(BinaryData.FromBytes([]), new Azure.Storage.Blobs.Models.BlobUploadOptions
        {
            Metadata = new Dictionary<string, string> { ["hdi_isfolder"] = "true" },
        });

        Assert.Equal(["d/sub/x.json"], (await ListAsync("d/")).Select(f => f.Path));
        Assert.Null(await Storage.GetInfoAsync("d/sub"));
    }

    [Fact]
    public async Task AnyOperation_MissingContainer_ThrowsNotFoundNamingTheContainer()
    {
        var storage = LakeStorage.Open($"abfss://no-such-container@{AzuriteServer.AccountName}.dfs.core.windows.net/lake", azurite.CreateOptions());

        var list = await Assert.ThrowsAsync<LakehouseException>(async () => await ListAsync(storage, ""));
        var put = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutAsync("x", "x"u8.ToArray()));
        var info = await Assert.ThrowsAsync<LakehouseException>(() => storage.GetInfoAsync("x"));

        Assert.All([list, put, info], e => Assert.Equal(LakehouseErrorReason.NotFound, e.Reason));
        Assert.All([list, put, info], e => Assert.Contains("no-such-container", e.Message, StringComparison.Ordinal));
        Assert.Contains("ContainerNotFound", put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutIfAbsentAsync_FirstResponseLost_RetrySucceedsInsteadOfAlreadyExists()
    {
        var transport = new LoseFirstConditionalResponseTransport();
        var options = SmallBlockOptions();
        options.Transport = transport;
        var storage = Container.Open("lake", options);

        await storage.PutIfAbsentAsync("_delta_log/00000000000000000003.json", "mine"u8.ToArray());

        Assert.Equal(1, transport.Lost);
        Assert.Equal("mine", await ReadTextAsync("_delta_log/00000000000000000003.json"));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => storage.PutIfAbsentAsync("_delta_log/00000000000000000003.json", "again"u8.ToArray()));
        Assert.Equal(LakehouseErrorReason.AlreadyExists, e.Reason);
    }

    [Fact]
    public async Task UploadAsync_MissingLocalFile_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Storage.UploadAsync("u/x", Scratch.Combine("nope.bin")));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
    }

    /// <summary>Delivers the first conditional Put Blob to the server, then loses its response, as a dropped connection would.</summary>
    private sealed class LoseFirstConditionalResponseTransport : HttpPipelineTransport
    {
        private readonly HttpClientTransport _inner = new();
        private int _lost;

        public int Lost => _lost;

        public override Request CreateRequest() => _inner.CreateRequest();

        public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message)
        {
            await _inner.ProcessAsync(message);
            if (message.Request.Headers.Contains("If-None-Match") && Interlocked.CompareExchange(ref _lost, 1, 0) == 0)
                throw new IOException("Connection reset after the request was delivered (simulated).");
        }
    }
}
