using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Datasets.Tests;

/// <summary>
/// The refreshing lookup that the server and bronze ingest use: definitions added, changed, removed or broken while it runs,
/// and how often it looks at the lake.
/// </summary>
public sealed class DatasetLookupTests : IDisposable
{
    private readonly TempDirectory _temp = new("dataset-lookup");

    public void Dispose() => _temp.Dispose();

    private string Folder => _temp.Combine("lake", "_lakehouse", "datasets");

    private ILakeStorage Lake => LakeStorage.Open(_temp.Combine("lake"));

    private static string Definition(string name, string description = "d") => $$"""
        { "name": "{{name}}", "description": "{{description}}", "payload": "json", "columns": [{ "name": "at", "type": "timestamp" }], "event_time": "at", "id": "source_position" }
        """;

    private string Write(string name, string json, bool settled = false)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, name + ".json");
        File.WriteAllText(path, json);
        if (settled) File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
        return path;
    }

    [Fact]
    public async Task GetAsync_DefinitionWrittenAfterAMiss_FoundAtOnce()
    {
        var lookup = DatasetCatalog.Lookup(Lake, TimeSpan.FromHours(1));
        Assert.Equal("weblogs", (await lookup.GetAsync("weblogs")).Name);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => lookup.GetAsync("clicks").AsTask());
        Assert.StartsWith("Unknown dataset 'clicks'. The datasets are accesslogs, sensors and weblogs. To add one, write its definition as ", e.Message, StringComparison.Ordinal);
        Assert.Null(await lookup.FindAsync("clicks"));

        var file = Write("clicks", Definition("clicks"));

        var clicks = await lookup.GetAsync("clicks");
        Assert.Equal(("clicks", file), (clicks.Name, clicks.Source));
        Assert.Equal(["accesslogs", "clicks", "sensors", "weblogs"], (await lookup.CatalogAsync()).Names);
    }

    [Fact]
    public async Task GetAsync_KnownNameWithinMaxAge_AnsweredWithoutListing()
    {
        var lookup = DatasetCatalog.Lookup(Lake, TimeSpan.FromHours(1));
        await lookup.GetAsync("weblogs");
        Assert.Equal(1, lookup.Listings);

        for (var i = 0; i < 1000; i++) Assert.Equal("sensors", (await lookup.GetAsync("sensors")).Name);

        Assert.Equal(1, lookup.Listings);
    }

    [Fact]
    public async Task GetAsync_AfterMaxAge_ChangedDefinitionSeenAndUnchangedListingNotReadAgain()
    {
        Write("clicks", Definition("clicks", "first"), settled: true);
        var lookup = DatasetCatalog.Lookup(Lake, TimeSpan.Zero);
        Assert.Equal("first", (await lookup.GetAsync("clicks")).Description);
        Assert.Equal("first", (await lookup.GetAsync("clicks")).Description);
        Assert.Equal((2L, 1L), (lookup.Listings, lookup.Reads)); // listed twice, read once: the listing had not changed

        Write("clicks", Definition("clicks", "the second one"));

        Assert.Equal("the second one", (await lookup.GetAsync("clicks")).Description);
        Assert.Equal((3L, 2L), (lookup.Listings, lookup.Reads));
    }

    [Fact]
    public async Task GetAsync_DefinitionRemovedAfterMaxAge_Unknown()
    {
        var file = Write("clicks", Definition("clicks"));
        var lookup = DatasetCatalog.Lookup(Lake, TimeSpan.Zero);
        Assert.NotNull(await lookup.FindAsync("clicks"));

        File.Delete(file);

        Assert.Null(await lookup.FindAsync("clicks"));
        Assert.Equal(["accesslogs", "sensors", "weblogs"], (await lookup.CatalogAsync()).Names);
    }

    [Fact]
    public async Task GetAsync_NewLookupOnALakeWithABrokenDefinition_EveryNameRefusedWithTheProblem()
    {
        var file = Write("clicks", "{\"name\": \"clicks\"}", settled: true);
        var lookup = DatasetCatalog.Lookup(Lake);
        var expected = $"Dataset definition '{file}', field 'payload': is missing.";

        Assert.Equal(expected, (await Assert.ThrowsAsync<LakehouseException>(() => lookup.GetAsync("weblogs").AsTask())).Message);
        Assert.Equal(expected, (await Assert.ThrowsAsync<LakehouseException>(() => lookup.FindAsync("nope").AsTask())).Message);
        Assert.Equal(expected, (await Assert.ThrowsAsync<LakehouseException>(() => lookup.CatalogAsync().AsTask())).Message);
        Assert.Equal(1, lookup.Reads); // the broken file is not read again while it stays as it was listed
    }

    [Fact]
    public async Task GetAsync_DefinitionBrokenWhileRunning_KnownNamesStillAnsweredNewOnesRefusedUntilFixed()
    {
        Write("clicks", Definition("clicks"));
        var lookup = DatasetCatalog.Lookup(Lake, TimeSpan.Zero);
        Assert.NotNull(await lookup.FindAsync("clicks"));

        var orders = Write("orders", Definition("orders").Replace("\"json\"", "\"xml\"", StringComparison.Ordinal));
        Write("carts", Definition("carts"));

        Assert.Equal("clicks", (await lookup.GetAsync("clicks")).Name);
        Assert.Equal("weblogs", (await lookup.GetAsync("weblogs")).Name);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => lookup.FindAsync("carts").AsTask());
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith($"Dataset definition '{orders}', field 'payload': 'xml' is not a payload kind", e.Message, StringComparison.Ordinal);
        Assert.Equal(["accesslogs", "clicks", "sensors", "weblogs"], (await lookup.CatalogAsync()).Names);

        Write("orders", Definition("orders"));

        Assert.Equal("carts", (await lookup.GetAsync("carts")).Name);
        Assert.Equal("orders", (await lookup.GetAsync("orders")).Name);
    }

    [Fact]
    public async Task FindAsync_ManyConcurrentMisses_ShareTheListings()
    {
        var lookup = DatasetCatalog.Lookup(Lake);
        var misses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => lookup.FindAsync("nope" + i).AsTask()));
        Assert.All(misses, Assert.Null);
        Assert.InRange(lookup.Listings, 1, 5);
    }

    [Fact]
    public void Lookup_NegativeMaxAge_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetCatalog.Lookup(Lake, TimeSpan.FromSeconds(-1)));
}
